"""Calibration of the forecast: normalised conformal errors, the reference class, level benefits,
seasonality from history before the baseline and monthly backtests (real Prophet fits on small
seeded sets; the full measurement is bench/calibration.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from benefits import register
from benefits.forecast import conformal, forecast_benefit, series
from benefits.forecast.backtest import backtest, origin_dates
from benefits.forecast.reference import PRIOR_RATE, PRIOR_SPREAD, ReferenceClass, margins, weight
from benefits.forecast.settings import ForecastSettings

BASE = dt.date(2025, 1, 6)
WEEK = dt.timedelta(days=7)


def level(**overrides: object) -> register.Benefit:
    fields: dict[str, object] = {
        "key": "handling",
        "name": "Handling time",
        "category": "operational_efficiency",
        "metric": "ops.minutes",
        "unit": "minutes",
        "direction": "decrease",
        "measure": "level",
        "owner": "Ops",
        "baseline": {"value": 12, "date": BASE},
        "target": {"value": 10, "date": BASE + 78 * WEEK},
    }
    fields.update(overrides)
    return register.Benefit(**fields)


def weekly(values: np.ndarray, first: dt.date) -> pd.DataFrame:
    return pd.DataFrame({"period": [first + i * WEEK for i in range(len(values))], "value": np.asarray(values, float)})


def test_a_normalised_error_is_within_one_exactly_when_the_raw_interval_held() -> None:
    actual = np.array([10.0, 12.0, 7.0, 13.5, 6.0])
    r = conformal.normalised_errors(actual, np.full(5, 10.0), np.full(5, 7.0), np.full(5, 12.0))
    assert r.tolist() == pytest.approx([0.0, 1.0, -1.0, 1.75, -4 / 3])
    assert ((np.abs(r) <= 1) == ((actual >= 7) & (actual <= 12))).all()


def test_calibration_learns_the_spread_of_past_errors_and_blends_the_prior_when_few() -> None:
    rng = np.random.default_rng(3)
    many = conformal.calibrate([("level", 30.0, r, 400.0, 7.0) for r in rng.normal(0.0, 0.5, 4_000)], benefits=50)
    band = many.band("level", 30)
    # N(0, 0.5): the 10th and 90th percentiles are -/+0.64; 4,000 errors outweigh the prior's 40
    assert band.quantile(np.array([0.1, 0.9])) == pytest.approx([-0.64, 0.64], abs=0.06)
    assert band.share_at_least(0.0) == pytest.approx(0.5, abs=0.03)
    # a group with no errors of its own borrows the nearest shorter band's of its stage, else the
    # other stage's; none at all: the prior
    assert many.band("level", 30, delivering_days=10).errors == 4_000  # young borrows established
    assert many.band("level", 300).errors == 4_000
    assert many.band("cumulative", 30).errors == 0
    prior = conformal.PRIOR.band("cumulative", 30).quantile(np.array([0.1, 0.9]))
    assert prior[1] == pytest.approx(conformal.PRIOR_SCALE * 1.638, rel=0.05)  # Student-t(3)'s 90th percentile
    # the compact stored form (400 quantiles a band) gives the same calibration
    stored = conformal.Calibration.from_json(many.to_json()).band("level", 30)
    assert stored.errors == 4_000
    assert stored.quantile(np.array([0.1, 0.5, 0.9])) == pytest.approx(
        band.quantile(np.array([0.1, 0.5, 0.9])), abs=0.01
    )


def test_errors_weigh_the_time_between_readings_not_how_many_there_are() -> None:
    """A daily metric gives thirty backtested errors where a monthly one gives one: 300 small
    errors of a daily metric and 10 large ones of a monthly metric over the same months weigh
    alike, so the band's 90th percentile is the monthly metric's error (counted alike, the daily
    metric's 0.2 set it and the monthly metric's interval held 3% of its outcomes)."""
    daily = [("level", 30.0, 0.2, 400.0, 1.0)] * 300
    monthly = [("level", 30.0, 3.0, 400.0, 30.0)] * 10
    band = conformal.calibrate(daily + monthly).band("level", 30)
    assert band.errors == 310
    assert band.quantile(np.array([0.5, 0.9])).tolist() == pytest.approx([0.2, 3.0])
    assert float(band.quantile(0.4)) == pytest.approx(0.2)
    assert band.share_at_least(3.0) == pytest.approx(0.5, abs=0.07)  # half of it, less the prior's share
    same = conformal.calibrate([("level", 30.0, 0.2, 400.0, 7.0)] * 300 + [("level", 30.0, 3.0, 400.0, 7.0)] * 10)
    assert float(same.band("level", 30).quantile(0.9)) == pytest.approx(0.2)  # one cadence: counted alike
    # the stored form keeps the weighting
    stored = conformal.Calibration.from_json(conformal.calibrate(daily + monthly).to_json()).band("level", 30)
    assert stored.quantile(np.array([0.5, 0.9])).tolist() == pytest.approx([0.2, 3.0])


def test_applying_a_calibration_widens_the_raw_interval_by_the_learned_quantiles() -> None:
    cal = conformal.calibrate([("cumulative", 10.0, r, 100.0, 7.0) for r in np.linspace(-2, 2, 2_001)])
    out = conformal.apply(
        [cal.band("cumulative", 10)], np.array([100.0]), np.array([90.0]), np.array([120.0]), np.zeros(1), 0.8
    )
    # errors uniform on [-2, 2] (blended with the prior): the 10th/90th percentiles are about -/+1.6
    assert out.lower[0] == pytest.approx(100 - 1.6 * 10, abs=1.0)
    assert out.upper[0] == pytest.approx(100 + 1.6 * 20, abs=2.0)
    assert out.median[0] == pytest.approx(100.0, abs=0.5)


def test_errors_are_oriented_by_the_benefit_so_a_shared_bias_is_learned_not_cancelled() -> None:
    # a rising and a falling benefit whose forecasts both fell short of what they delivered by one
    # half-width: in value terms +1 and -1 (a wide, centred spread); oriented, both +1
    rising = conformal.normalised_errors(11.0, 10.0, 8.0, 12.0, orientation=1)
    falling = conformal.normalised_errors(9.0, 10.0, 8.0, 12.0, orientation=-1)
    assert float(rising) == pytest.approx(0.5) and float(falling) == pytest.approx(0.5)
    cal = conformal.calibrate([("level", 30.0, r, 400.0, 7.0) for r in np.linspace(0.0, 1.0, 1_001)])
    band = [cal.band("level", 30)]
    up = conformal.apply(band, np.array([10.0]), np.array([8.0]), np.array([12.0]), np.zeros(1), 0.8, orientation=1)
    down = conformal.apply(band, np.array([10.0]), np.array([8.0]), np.array([12.0]), np.zeros(1), 0.8, orientation=-1)
    # the learned bias moves each median towards its own target: mirror images of each other
    assert up.median[0] > 10.5 and down.median[0] < 9.5
    assert (up.median[0] - 10, up.upper[0] - 10, up.lower[0] - 10) == pytest.approx(
        (10 - down.median[0], 10 - down.lower[0], 10 - down.upper[0])
    )
    # P(Q >= value) of the falling benefit is the mirror of the rising one's P(Q <= mirrored value)
    for value in (8.5, 10.0, 10.7, 12.5):
        above_down = conformal.probability_at_least(band[0], 10.0, 8.0, 12.0, 0.0, value, orientation=-1)
        above_up = conformal.probability_at_least(band[0], 10.0, 8.0, 12.0, 0.0, 20.0 - value, orientation=1)
        assert above_down == pytest.approx(1.0 - above_up, abs=0.01)


def test_a_side_of_no_width_holds_only_the_median() -> None:
    """Whole payments can put every sampled path at the median on one side (lower = median): the
    probability of a value on that side is 0 beyond the median, not a division by zero (which
    stopped a whole forecast run while it scored its backtests)."""
    band = conformal.PRIOR.band("cumulative", 30.0)
    assert conformal.probability_at_least(band, 100.0, 100.0, 120.0, 0.0, 90.0) == 1.0
    assert conformal.probability_at_least(band, 100.0, 80.0, 100.0, 0.0, 110.0) == 0.0
    assert conformal.probability_at_least(band, 100.0, 100.0, 100.0, 0.0, 100.0) == pytest.approx(
        band.share_at_least(0.0)
    )
    assert 0.0 < conformal.probability_at_least(band, 100.0, 100.0, 120.0, 0.0, 110.0) < 1.0


def test_errors_from_before_a_benefit_started_are_kept_apart() -> None:
    # a benefit moves once it starts: origins before its start miss by much more, in its favour
    before = [("level", 30.0, r, 0.0, 7.0) for r in np.linspace(1.0, 5.0, 500)]
    after = [("level", 30.0, r, 400.0, 7.0) for r in np.linspace(-1.0, 1.0, 500)]
    cal = conformal.calibrate(before + after)
    assert conformal.stage(30, 0) == "pending" and conformal.stage(30, 10) == "young"
    assert cal.band("level", 30, delivering_days=400).quantile(0.5) == pytest.approx(0.0, abs=0.05)
    assert cal.band("level", 30, delivering_days=0).quantile(0.5) == pytest.approx(3.0, abs=0.2)  # with the prior
    # a young benefit with no errors of its own borrows the established ones, not the pending ones
    assert cal.band("level", 30, delivering_days=10).quantile(0.5) == pytest.approx(0.0, abs=0.05)


def test_the_80_percent_interval_covers_a_known_noise_series_about_80_percent_of_the_time() -> None:
    """A level that stays put with Gaussian noise: the truth at the target date is one more draw."""
    covered, probabilities = [], []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        sigma = rng.uniform(0.2, 1.0)
        history = 12.0 + rng.normal(0.0, sigma, 104)
        obs = weekly(history, BASE - 52 * WEEK)
        as_of = obs["period"].iloc[-1]
        b = level(target={"value": 12.0 - 0.5 * sigma, "date": as_of + 26 * WEEK})
        f = forecast_benefit(b, BASE, obs, as_of)
        truth = 12.0 + rng.normal(0.0, sigma)
        covered.append(f.lower_at_target_date <= truth <= f.upper_at_target_date)
        probabilities.append(f.p_on_time)
    # with no backtests the documented prior widens the interval: honest or a little wide, never narrow
    assert 0.75 <= np.mean(covered) <= 1.0
    # P(truth <= 12 - 0.5 sigma) is 0.31 for every series: the probabilities hover around it
    assert 0.15 < np.mean(probabilities) < 0.5


def test_a_level_that_reached_its_target_today_but_drifts_back_is_not_achieved() -> None:
    rng = np.random.default_rng(4)
    values = np.concatenate([12 - 0.05 * np.arange(45), 9.75 + 0.08 * np.arange(15)]) + rng.normal(0, 0.05, 60)
    values[-1] = 9.9  # under the 10-minute target today, on a rising trend
    obs = weekly(values, BASE + WEEK)
    f = forecast_benefit(level(), BASE, obs, obs["period"].iloc[-1])
    assert f.status != "achieved" and f.p_on_time < 0.5
    assert f.message.startswith("target reached on ")
    held = weekly(12 - 0.05 * np.arange(60) + rng.normal(0, 0.05, 60), BASE + WEEK)
    g = forecast_benefit(level(), BASE, held, held["period"].iloc[-1])
    assert g.status == "achieved" and g.p_on_time >= 0.7


def test_history_before_the_baseline_teaches_the_model_the_season() -> None:
    """Three years of a yearly cycle before the baseline: the forecast follows the season."""
    rng = np.random.default_rng(5)
    first = BASE - 156 * WEEK
    t = np.arange(200)
    values = 100 + 20 * np.sin(2 * np.pi * t / 52.18) + rng.normal(0, 1, 200)
    obs = weekly(values, first)
    as_of = obs["period"].iloc[-1]
    target_date = as_of + 26 * WEEK
    truth = 100 + 20 * np.sin(2 * np.pi * (200 + 25) / 52.18)
    b = level(direction="increase", baseline={"value": 100, "date": BASE}, target={"value": 130, "date": target_date})
    with_history = forecast_benefit(b, BASE, obs, as_of)
    since_baseline = forecast_benefit(b, BASE, obs, as_of, ForecastSettings(history_weeks=int((as_of - BASE).days / 7)))
    assert abs(with_history.forecast_at_target_date - truth) < 5
    assert abs(with_history.forecast_at_target_date - truth) < abs(since_baseline.forecast_at_target_date - truth)


def test_a_monthly_metric_is_forecast_by_the_month_and_backtested() -> None:
    periods = pd.date_range("2022-01-31", periods=48, freq="ME")
    rng = np.random.default_rng(6)
    obs = pd.DataFrame({"period": periods, "value": 40_000 + rng.normal(0, 3_000, 48)})
    b = register.Benefit(
        key="savings",
        name="Savings",
        category="cost_reduction",
        metric="ledger.savings",
        unit="GBP",
        direction="increase",
        measure="cumulative",
        owner="Finance",
        baseline={"value": 0, "date": dt.date(2024, 12, 31)},
        target={"value": 600_000, "date": dt.date(2026, 6, 30)},
    )
    as_of = periods[-1].date()
    assert series.cadence(series.history(b, obs, as_of, ForecastSettings())) == 1
    f = forecast_benefit(b, b.baseline.date, obs, as_of)
    assert [p["period"] for p in f.path[:2]] == ["2026-01-31", "2026-02-28"]
    # 12 months of ~40k so far plus 6 more by the target date: ~720k, a monthly flow not a weekly one
    assert f.forecast_at_target_date == pytest.approx(
        12 * 40_000 + 6 * 40_000 + obs["value"].iloc[36:].sum() - 12 * 40_000, rel=0.1
    )
    test = backtest(b, obs, as_of, origins=3)
    assert len(test.points) >= 12 and test.coverage is not None
    assert {p.origin for p in test.points} == set(origin_dates(as_of, 3))


def test_the_reference_class_weighs_more_when_history_is_short_against_the_horizon() -> None:
    assert ReferenceClass("revenue", "cumulative").rate == PRIOR_RATE
    assert ReferenceClass("revenue", "cumulative", decided=16, landed=4).rate == pytest.approx((4 + 2) / 20)
    today = dt.date(2026, 1, 5)
    far, near = today + 52 * WEEK, today + 13 * WEEK
    assert weight(0.5, today, far, 26 * 7) == pytest.approx(0.5 * 52 / (52 + 52))
    assert weight(0.5, today, near, 104 * 7) < 0.03 < weight(0.5, today, far, 26 * 7)
    assert weight(0.5, today, today, 7) == 0.0


def test_competing_hypotheses_of_a_cumulative_flow() -> None:
    """Beside the fitted trend a cumulative benefit weighs a flow that levels off and one that
    stalls: a steady flow levels off into itself; an accelerating one keeps flowing at its next
    rate (below the fitted trend, above the stall); a stall banks less and less."""
    from benefits.forecast.probability import damped_paths, levelling_flow

    settings = ForecastSettings()
    days = np.arange(1, 53) * 7.0
    steady = 100.0 + 10.0 * np.arange(1, 53)  # 10 a week on 100 banked
    assert np.allclose(levelling_flow(steady, 100.0, days, settings), steady)
    rising = 100.0 + np.cumsum(10.0 + 0.5 * np.arange(52))  # the flow grows half a unit a week
    levelled = levelling_flow(rising, 100.0, days, settings)
    (w_level, levels), (w_stall, stall) = damped_paths(
        level(measure="cumulative", direction="increase", target={"value": 900, "date": BASE + 78 * WEEK}),
        rising,
        100.0,
        days,
        settings,
    )
    assert (w_level, w_stall) == (0.5, 0.5)
    assert np.allclose(levels, levelled)
    assert (np.diff(levelled) >= 10.0 - 1e-9).all()  # never below the next period's flow
    assert (levelled[1:] < rising[1:]).all() and (stall[1:] < levelled[1:]).all()


def test_a_backtest_origin_with_no_spread_gives_no_points_instead_of_errors_of_no_scale() -> None:
    from benefits.forecast.backtest import RawPath, points

    benefit = level(
        measure="cumulative",
        direction="increase",
        unit="GBP",
        baseline={"value": 0, "date": BASE},
        target={"value": 1_000_000, "date": BASE + 78 * WEEK},
    )
    # flows all zero until the origin (no variation: the model's interval has no width), then large
    flows = np.concatenate([np.zeros(20), np.full(20, 20_000.0)])
    seen = weekly(flows, BASE + WEEK)
    origin = BASE + 20 * WEEK
    flat = [
        {"period": (origin + i * WEEK).isoformat(), "yhat": 0.0, "lower": -1e-8, "upper": 1e-8} for i in range(1, 21)
    ]
    assert points(benefit, seen, RawPath(origin, "f", 1e-9, flat), BASE) == []
    # the same origin with a real spread gives every later reading, each with its error
    spread = [dict(p, lower=-5_000.0 * i, upper=5_000.0 * i) for i, p in enumerate(flat, start=1)]
    found = points(benefit, seen, RawPath(origin, "f", 1_000.0, spread), BASE)
    assert len(found) == 20 and max(abs(p.error) for p in found) < 10


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 0.8])
def test_the_reference_class_margins_land_at_its_rate(rate: float) -> None:
    """A reference class's margins at the target date (Q less the target, in target improvements)
    are 0 or more, a landing, as often as the class lands, spread by the documented prior."""
    m = margins(rate, 2_001)
    assert (m >= 0).mean() == pytest.approx(rate, abs=1e-3)
    assert np.quantile(m, 0.9) - np.quantile(m, 0.1) == pytest.approx(2 * 1.2816 * PRIOR_SPREAD, rel=0.01)


def test_a_linear_pool_weighs_each_distribution_by_its_weight() -> None:
    """Pooling a distribution with another at each date: the share beyond any value is the
    weighted sum of the two shares, date by date."""
    grid = (np.arange(101) + 0.5) / 101
    own = conformal.Predictive(np.tile(grid, (2, 1)), np.tile(np.cumsum(np.full(101, 1 / 101)), (2, 1)))
    other = np.tile(10.0 + grid, (2, 1))
    pooled = own.mixed(other, np.array([0.0, 0.3]))
    assert pooled.share_at_least(0, 0.5) == pytest.approx(own.share_at_least(0, 0.5), abs=1e-9)
    assert pooled.share_at_least(1, 0.5) == pytest.approx(0.7 * own.share_at_least(1, 0.5) + 0.3, abs=1e-9)
    assert pooled.share_at_least(1, 10.5) == pytest.approx(0.3 * 0.5, abs=0.01)


def test_a_band_whose_errors_fall_on_one_side_puts_both_bounds_there_as_the_forecast_does() -> None:
    """Errors all above the median (a forecast that always fell short) are in upper half-widths:
    the backtests' calibrated interval (``apply``) is then the forecasts' (``predictive``), not a
    lower bound measured in the lower half-width."""
    cal = conformal.calibrate([("cumulative", 10.0, r, 100.0, 7.0) for r in np.linspace(0.5, 1.5, 1_001)])
    band = [cal.band("cumulative", 10)]
    median, lower, upper = np.array([100.0]), np.array([99.0]), np.array([110.0])  # half-widths 1 and 10
    for orientation in (1, -1):
        out = conformal.apply(band, median, lower, upper, np.zeros(1), 0.8, orientation)
        dist = conformal.predictive(band, [(1.0, median)], median - lower, upper - median, orientation)
        q = dist.quantiles([0.1, 0.5, 0.9])[:, 0]
        assert (out.lower[0], out.median[0], out.upper[0]) == pytest.approx(tuple(q), abs=0.15)
    assert conformal.apply(band, median, lower, upper, np.zeros(1), 0.8).lower[0] > 100.0
