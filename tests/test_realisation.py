"""Realisation maths: planned-to-date from each profile, realised-to-date for both measures, value."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import pytest

from benefits import realisation as r
from benefits.register import Benefit

D = dt.date


def benefit(**overrides: Any) -> Benefit:
    spec: dict[str, Any] = {
        "key": "b",
        "name": "B",
        "category": "cost_reduction",
        "metric": "m",
        "unit": "GBP",
        "direction": "increase",
        "measure": "cumulative",
        "owner": "o",
        "baseline": {"value": 0, "date": "2026-01-05"},
        "target": {"value": 1000, "date": "2026-12-28"},
    }
    spec.update(overrides)
    return Benefit.model_validate(spec)


def obs(*rows: tuple[dt.date, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["period", "value"])


def test_linear_profile_is_proportional_to_elapsed_time() -> None:
    b = benefit()
    start = b.baseline.date
    assert r.planned_to_date(b, start, D(2025, 12, 1)) == 0
    assert r.planned_to_date(b, start, D(2027, 6, 1)) == 1000
    halfway = start + (b.target.date - start) / 2
    assert r.planned_to_date(b, start, halfway) == pytest.approx(500, abs=2)


def test_s_curve_is_slow_then_fast_then_slow() -> None:
    b = benefit(profile="s_curve")
    start = b.baseline.date
    span = (b.target.date - start).days
    at = [r.planned_to_date(b, start, start + dt.timedelta(days=round(span * x))) for x in (0.1, 0.5, 0.9)]
    assert at[0] < 100 and at[2] > 900
    assert at[1] == pytest.approx(500, abs=15)


def test_explicit_profile_interpolates_between_points() -> None:
    b = benefit(profile={"points": [{"date": "2026-03-02", "value": 600}]})
    start = b.baseline.date
    assert r.planned_to_date(b, start, D(2026, 3, 2)) == pytest.approx(600)
    assert r.planned_to_date(b, start, D(2026, 2, 2)) == pytest.approx(600 * 28 / 56)
    assert 600 < r.planned_to_date(b, start, D(2026, 8, 1)) < 1000


def test_decreasing_level_benefit_counts_a_fall_as_positive() -> None:
    b = benefit(
        direction="decrease",
        measure="level",
        unit="minutes",
        baseline={"value": 12, "date": "2026-01-05"},
        target={"value": 8, "date": "2026-12-28"},
    )
    assert r.target_improvement(b) == 4
    assert r.planned_to_date(b, b.baseline.date, D(2027, 1, 4)) == 4
    series = obs((D(2026, 2, 2), 11.5), (D(2026, 3, 2), 10.0), (D(2026, 4, 6), 13.0))
    assert r.realised_to_date(b, series, D(2026, 3, 9)) == pytest.approx(2.0)
    assert r.realised_to_date(b, series, D(2026, 4, 6)) == pytest.approx(-1.0)
    assert r.percent_realised(b, 2.0) == pytest.approx(50.0)


def test_cumulative_realised_sums_values_since_baseline_only() -> None:
    b = benefit()
    series = obs(
        (D(2025, 12, 29), 999.0),
        (D(2026, 1, 5), 999.0),
        (D(2026, 1, 12), 100.0),
        (D(2026, 1, 19), 50.0),
        (D(2026, 2, 2), 25.0),
    )
    assert r.realised_to_date(b, series, D(2026, 1, 31)) == pytest.approx(150.0)
    assert r.realised_to_date(b, series, D(2026, 2, 2)) == pytest.approx(175.0)
    assert r.realised_to_date(b, obs(), D(2026, 2, 2)) is None


def test_level_realised_uses_latest_value_whatever_the_row_order() -> None:
    b = benefit(
        measure="level", baseline={"value": 20, "date": "2026-01-05"}, target={"value": 60, "date": "2026-12-28"}
    )
    series = obs((D(2026, 3, 2), 30.0), (D(2026, 2, 2), 25.0))
    assert r.realised_to_date(b, series, D(2026, 3, 31)) == pytest.approx(10.0)


@pytest.mark.parametrize(
    "profile", ["linear", "s_curve", {"points": [{"date": "2026-03-02", "value": 600}]}], ids=["linear", "s", "points"]
)
def test_planned_values_at_many_dates_are_planned_value_at_each(profile: Any) -> None:
    b = benefit(
        profile=profile,
        direction="decrease",
        baseline={"value": 100, "date": "2026-01-05"},
        target={"value": 40, "date": "2026-12-28"},
    )
    start = D(2026, 2, 2)  # after the baseline: the plan holds the baseline until then
    dates = [
        D(2025, 12, 29),
        b.baseline.date,
        start,
        *(start + dt.timedelta(weeks=w) for w in range(1, 48)),
        D(2027, 3, 1),
    ]
    assert r.planned_values(b, start, dates) == [r.planned_value(b, start, at) for at in dates]
    assert r.planned_values(b, start, []) == []


def test_a_start_after_the_target_date_plans_the_baseline_until_it() -> None:
    """A go-live that slipped past the target date: one planned value per date, the baseline
    up to the start (the target date included), the target after it."""
    b = benefit(baseline={"value": 100, "date": "2026-01-05"}, target={"value": 40, "date": "2026-06-29"})
    start = D(2026, 9, 7)
    dates = [D(2026, 3, 2), D(2026, 6, 29), D(2026, 8, 3), start, D(2026, 12, 28)]
    assert r.planned_values(b, start, dates) == [100, 100, 100, 100, 40]
    assert r.planned_values(b, start, dates) == [r.planned_value(b, start, at) for at in dates]


def test_nothing_planned_before_the_start_is_zero_not_negative_zero() -> None:
    b = benefit(
        direction="decrease", baseline={"value": 14.2, "date": "2025-09-01"}, target={"value": 11, "date": "2027-03-29"}
    )
    planned = r.planned_to_date(b, D(2027, 1, 15), D(2026, 12, 2))
    assert planned == 0.0 and math.copysign(1.0, planned) == 1.0


def test_money_value_applies_rate_and_attribution_and_dis_benefits_count_against() -> None:
    good = benefit(value_per_unit=2.0, attribution=0.5)
    bad = benefit(key="d", dis_benefit=True)
    assert r.money_value(good, 100.0) == pytest.approx(100.0)
    assert r.money_value(bad, 40.0) == pytest.approx(-40.0)
    assert r.money_value(good, None) == 0.0
    assert r.net_value([r.money_value(good, 100.0), r.money_value(bad, 40.0)]) == pytest.approx(60.0)


def test_planned_ramp_starts_at_milestone() -> None:
    b = benefit()
    milestone = D(2026, 7, 6)
    assert r.planned_to_date(b, milestone, D(2026, 7, 1)) == 0
    assert r.planned_to_date(b, milestone, D(2026, 10, 1)) == pytest.approx(1000 * 87 / 175, rel=0.01)


def test_tracked_runs_the_cumulative_total_from_the_baseline_and_keeps_level_values() -> None:
    flows = [100.0, 50.0, 25.0]
    assert r.tracked(benefit(baseline={"value": 10, "date": "2026-01-05"}), flows).tolist() == [110.0, 160.0, 185.0]
    assert r.tracked(benefit(measure="level"), flows).tolist() == flows
    assert r.tracked(benefit(), []).tolist() == []


def test_quantity_from_a_window_total_is_the_last_running_value() -> None:
    flows = [100.0, 50.0, 25.0]
    for b in (benefit(baseline={"value": 10, "date": "2026-01-05"}), benefit(measure="level")):
        assert r.quantity(b, flows[-1], sum(flows)) == r.tracked(b, flows)[-1]


def test_tracked_series_has_q_at_every_period_since_the_baseline_in_period_order() -> None:
    b = benefit()
    series = obs((D(2026, 1, 19), 50.0), (D(2026, 1, 5), 999.0), (D(2026, 1, 12), 100.0), (D(2026, 2, 2), 25.0))
    frame = r.tracked_series(b, series, D(2026, 1, 31))
    assert frame["period"].tolist() == [D(2026, 1, 12), D(2026, 1, 19)]
    assert frame["q"].tolist() == [100.0, 150.0]
    assert r.tracked_series(b, obs(), D(2026, 1, 31)).empty
    at_periods = [r.tracked_value(b, series, p) for p in r.tracked_series(b, series, D(2026, 3, 1))["period"]]
    assert at_periods == [100.0, 150.0, 175.0]


def test_periods_with_a_time_of_day_count_on_their_date() -> None:
    series = pd.DataFrame({"period": pd.to_datetime(["2026-01-12 09:30", "2026-01-19 18:00"]), "value": [1.0, 2.0]})
    assert r.tracked_value(benefit(), series, D(2026, 1, 19)) == 3.0


def test_first_reached_is_the_first_period_at_or_past_the_target() -> None:
    b = benefit(target={"value": 120, "date": "2026-12-28"})
    series = obs((D(2026, 1, 12), 100.0), (D(2026, 1, 19), 30.0), (D(2026, 1, 26), 5.0))
    assert r.first_reached(b, series, D(2026, 12, 1)) == D(2026, 1, 19)
    assert r.first_reached(b, series, D(2026, 1, 12)) is None
    falling = benefit(
        direction="decrease",
        measure="level",
        baseline={"value": 12, "date": "2026-01-05"},
        target={"value": 8, "date": "2026-12-28"},
    )
    assert r.first_reached(
        falling, obs((D(2026, 2, 2), 9.0), (D(2026, 3, 2), 7.5), (D(2026, 4, 6), 9.5)), D(2026, 5, 1)
    ) == D(2026, 3, 2)
