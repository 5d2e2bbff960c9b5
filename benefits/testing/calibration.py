"""The calibration harness: can the probability of landing and the 80% interval be trusted on
portfolios the forecast was not built around?

Each set of benefits with known outcomes (a generator of :mod:`benefits.testing.generators` at one
seed, or the real set of ``bench/real_series.py``) is loaded into a fresh SQLite store and forecast
by the product itself (``benefits.forecast.runner.forecast_all`` at the set's as-of date: what
``benefits forecast`` and ``status --format json`` give a user, portfolio-level calibration
included). The stored forecasts are scored per generator: Brier score, reliability table, AUC,
coverage of the 80% interval at the target date by the true Q; and, on the same benefits, the
baselines: a constant equal to the true landing rate, plain default Prophet (``Prophet()`` on the
observations since the baseline), a straight line through the last quarter and "on plan today".

``bench/calibration.py`` is its command line; the tests score a small set with it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from benefits import realisation
from benefits.forecast import ForecastSettings, calibration, scores
from benefits.forecast.probability import meets
from benefits.testing.generators import Item
from benefits.testing.synthetic import load_store

TRAINING_SEEDS = (1, 2, 3)
#: The next untouched family. Spent, each run once at the end of a method's work (docs/forecasting.md):
#: 7001-7003 (commit fc424dd), 9001-9003 (method 4, 15b600c), 9101-9103 (method 5, 5f8bcaf),
#: 9201-9203 (method 6, 4118e89), 9301-9303 (method 7, cc79c49), 9401-9403 (method 7 again, a28c3ca),
#: 9501-9503 (method 8, 7142ca5), 9601-9603 (method 8 again, 87918b6, the first with three real sets),
#: 9701-9703 (method 9's flow rates alone, c5fffb1; the damped flow trend came after a look at it),
#: 9801-9803 (method 9, b6dca70), 9901-9903 (method 10, 7b5a1d0), 10001-10003 (method 10 again,
#: 9e9f181, before method 11), 10101-10103 (method 11, ecaa8fd), 10201-10203 (method 12, 379be2a),
#: 10301-10303 (method 13, bcd0dae; method 12 then run on it too, for comparison), 10401-10403
#: (method 14, 781581f; method 13 then run on it too), 10501-10503 (method 15, 7467d39; method 14
#: then run on it too), 10601-10603 (method 16, 88022c5; method 15 then run on it too), 10701-10703
#: (method 17, 1f31802; method 16 then run on it too), 10801-10803 (method 18, 9c619d3; method 17
#: then run on it too); 1001-1003 were smoke-run once while the harness was built.
HOLDOUT_SEEDS = (10901, 10902, 10903)
REAL = "real"
POOLED = "all synthetic"
BRIER_GOAL = 0.20
COVERAGE_GOAL = (0.75, 0.85)
AUC_GOAL = 0.7


@dataclasses.dataclass(frozen=True)
class Row:
    """One benefit of a set: the product's stored forecast, the baselines and the known outcome."""

    key: str
    regime: str
    landed: bool
    status: str
    message: str
    p: float | None
    """The stored p_on_time (None when the product gave none: no data, too few points, failed)."""
    p_model: float | None
    """The model's own probability, before the lean on the reference class."""
    lean: float | None
    """The weight of the reference class in ``p``."""
    lower: float | None
    upper: float | None
    q_true: float | None
    """The true tracked quantity Q at the target date."""
    p_prophet: float | None
    p_straight: float
    p_on_plan: float


@dataclasses.dataclass(frozen=True)
class SetResult:
    """The rows of one forecast set, and the portfolio's own backtest coverage when asked for."""

    name: str
    rows: list[Row]
    backtest_points: int = 0
    backtest_covered: int = 0
    trust_bands: tuple[tuple[int, float], ...] = ()
    """Per horizon band (:data:`benefits.forecast.track_record.BAND_LABELS`), the (points, held)
    of the run's cross-fitted backtests: outcomes judged with the calibration learned from the
    other half of the benefits, and how many the calibrated 80% interval held."""

    @property
    def trust_points(self) -> int:
        """Backtested outcomes the run judged with its cross-fitted calibration (its *forecast trust* line)."""
        return sum(points for points, _ in self.trust_bands)

    @property
    def trust_held(self) -> float:
        """How many of them the calibrated 80% interval held."""
        return sum(held for _, held in self.trust_bands)


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


# --- forecasting a set through the product ----------------------------------------------------


def forecast_set(
    items: Sequence[Item], as_of: dt.date, settings: ForecastSettings, workers: int, backtest: bool = False
) -> tuple[dict[str, dict], tuple[int, int], tuple[tuple[int, float], ...]]:
    """Store ``items`` in a fresh SQLite file, run the product's forecast at ``as_of`` and read back
    each benefit's stored forecast, and per horizon band the (points, held) of the run's own
    cross-fitted backtests (what its *forecast trust* line says); with ``backtest``, also the
    portfolio's rolling-origin backtest of ``benefits backtest`` (points, covered)."""
    from benefits.forecast.runner import forecast_all
    from benefits.store import db, models, repository

    with tempfile.TemporaryDirectory(prefix="benefits-calibration-") as folder:
        url = f"sqlite:///{folder}/bench.db"
        load_store(url, items)
        engine = db.make_engine(url)
        sessions = db.session_factory(engine)
        report = forecast_all(sessions, as_of, settings, workers=workers)
        with sessions() as session:
            run = session.get(models.ForecastRun, report.run_id)
            stored = {
                key: {
                    "status": f.status,
                    "message": f.message,
                    "p": f.p_on_time,
                    "p_model": f.p_model,
                    "lean": f.reference_weight,
                    "lower": f.lower_at_target_date,
                    "upper": f.upper_at_target_date,
                }
                for key, f in repository.forecasts_of(session, run).items()
            }
            tested = _backtest(session, as_of, settings) if backtest else (0, 0)
        engine.dispose()
    return stored, tested, report.backtested_by_band


def _backtest(session: Session, as_of: dt.date, settings: ForecastSettings) -> tuple[int, int]:
    """(points, covered) of the portfolio's own rolling-origin backtest (``benefits backtest``)."""
    from benefits.forecast.backtest import backtest_portfolio

    points = covered = 0
    for _, result in backtest_portfolio(session, as_of, settings):
        if result.coverage is not None:
            points += len(result.points)
            covered += round(result.coverage * len(result.points))
    return points, covered


# --- baselines --------------------------------------------------------------------------------


def target_period(item: Item) -> pd.Timestamp:
    """The last true period on or before the target date (where the outcome is read)."""
    periods = pd.to_datetime(item.truth["period"])
    before = periods[periods <= pd.Timestamp(item.benefit.target.date)]
    return before.max() if len(before) else pd.Timestamp(item.benefit.target.date)


def default_prophet(item: Item, samples: int = 1000) -> float | None:
    """Plain default Prophet: ``Prophet()`` fitted on Q since the baseline, the share of its
    predictive samples at the target date that meet the target (None below two observations)."""
    from prophet import Prophet

    from benefits.forecast import quiet_prophet

    quiet_prophet()
    b = item.benefit
    periods = pd.to_datetime(item.observations["period"])
    since = item.observations[(periods > pd.Timestamp(b.baseline.date)) & (periods <= pd.Timestamp(item.as_of))]
    if len(since) < 2:
        return None
    values = since["value"].to_numpy(dtype=float)
    q = b.baseline.value + np.cumsum(values) if b.measure.value == "cumulative" else values
    model = Prophet(uncertainty_samples=samples)
    model.fit(pd.DataFrame({"ds": pd.to_datetime(since["period"]).to_numpy(), "y": q}))
    paths = model.predictive_samples(pd.DataFrame({"ds": [target_period(item)]}))["yhat"][0]
    improvement = realisation.sign(b) * (paths - b.baseline.value)
    big_t = realisation.target_improvement(b)
    return float(np.mean([meets(b, float(x), big_t) for x in improvement]))


def prophet_all(items: Sequence[Item], workers: int) -> list[float | None]:
    """:func:`default_prophet` of every item in ``workers`` processes (a failed fit gives None)."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_safe_prophet, items, chunksize=4))


def _safe_prophet(item: Item) -> float | None:
    try:
        return default_prophet(item)
    except Exception:  # noqa: BLE001 - a baseline that cannot fit falls back to the constant
        return None


def score_set(
    name: str, items: Sequence[Item], settings: ForecastSettings, workers: int, prophet: bool, backtest: bool
) -> SetResult:
    """Forecast one set through the product and put each benefit's forecast next to its baselines."""
    as_of = items[0].as_of
    if any(item.as_of != as_of for item in items):
        raise ValueError(f"{name}: the benefits of one set must share one as-of date")
    started = time.perf_counter()
    stored, (points, covered), trust = forecast_set(items, as_of, settings, workers, backtest)
    log(f"  {name}: forecast {len(items)} benefits in {time.perf_counter() - started:.0f} s")
    if prophet:
        started = time.perf_counter()
        p_prophet = prophet_all(items, workers)
        log(f"  {name}: default Prophet on {len(items)} benefits in {time.perf_counter() - started:.0f} s")
    else:
        p_prophet = [None] * len(items)
    rows = []
    for item, p_default in zip(items, p_prophet, strict=True):
        b, f = item.benefit, stored[item.benefit.key]
        rows.append(
            Row(
                key=b.key,
                regime=item.regime,
                landed=item.landed,
                status=f["status"],
                message=f["message"],
                p=f["p"],
                p_model=f["p_model"],
                lean=f["lean"],
                lower=f["lower"],
                upper=f["upper"],
                q_true=item.q_at_target(),
                p_prophet=p_default,
                p_straight=calibration.straight_line(b, item.start, item.observations, as_of),
                p_on_plan=calibration.on_plan(b, item.start, item.observations, as_of),
            )
        )
    return SetResult(name, rows, points, covered, trust)


# --- scoring ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Summary:
    """The scores of one generator (all its seeds) on the benefits the product gave a probability."""

    benefits: int
    scored: int
    landing_rate: float | None
    brier: float | None
    brier_constant: float | None
    brier_prophet: float | None
    prophet_fallbacks: int
    brier_straight: float | None
    brier_on_plan: float | None
    auc: float | None
    auc_prophet: float | None
    coverage: float | None
    with_interval: int
    backtest_coverage: float | None
    backtest_points: int
    trust_bands: tuple[tuple[int, float], ...] = ()
    """(points, held) of the runs' cross-fitted backtested outcomes per horizon band."""

    @property
    def trust_points(self) -> int:
        """The runs' cross-fitted backtested outcomes."""
        return sum(points for points, _ in self.trust_bands)

    @property
    def trust_coverage(self) -> float | None:
        """Share of them that the calibrated 80% interval held (None without any)."""
        points = self.trust_points
        return sum(held for _, held in self.trust_bands) / points if points else None

    def passes(self, real: bool) -> list[str]:
        """The goals this summary misses (empty when it meets them all)."""
        missed = []
        if self.brier is None:
            return ["no probabilities"]
        if real:
            if self.brier_constant is not None and not self.brier < self.brier_constant:
                missed.append("Brier not below constant")
            if self.auc is None or self.auc < AUC_GOAL:
                missed.append(f"AUC < {AUC_GOAL}")
        else:
            if self.brier > BRIER_GOAL:
                missed.append(f"Brier > {BRIER_GOAL}")
            if self.brier_prophet is not None and not self.brier < self.brier_prophet:
                missed.append("Brier not below default Prophet")
        if self.coverage is None or not COVERAGE_GOAL[0] <= self.coverage <= COVERAGE_GOAL[1]:
            missed.append("coverage outside 75-85%")
        if self.trust_coverage is not None and not COVERAGE_GOAL[0] <= self.trust_coverage <= COVERAGE_GOAL[1]:
            missed.append("backtest coverage outside 75-85%")
        return missed


def summarise(
    rows: Sequence[Row], backtest: tuple[int, int] = (0, 0), trust: Sequence[tuple[int, float]] = ()
) -> Summary:
    """Scores of ``rows``: every method on the benefits with a stored probability; ``backtest`` is
    the (points, held) of the sets' rolling-origin backtests and ``trust`` the (points, held) per
    horizon band of the runs' cross-fitted ones (:class:`SetResult`)."""
    scored = [r for r in rows if r.p is not None]
    p_scored = [r.p for r in scored if r.p is not None]  # the same rows' probabilities, typed as floats
    landed = [r.landed for r in scored]
    rate = float(np.mean(landed)) if scored else None
    intervals = [
        (r.q_true, r.lower, r.upper)
        for r in rows
        if r.q_true is not None and r.lower is not None and r.upper is not None
    ]

    def brier(p: Sequence[float]) -> float | None:
        return calibration.brier(p, landed) if scored else None

    fallback = rate if rate is not None else 0.5
    p_prophet = [r.p_prophet if r.p_prophet is not None else fallback for r in scored]
    has_prophet = any(r.p_prophet is not None for r in scored)
    return Summary(
        benefits=len(rows),
        scored=len(scored),
        landing_rate=rate,
        brier=brier(p_scored),
        brier_constant=brier([fallback] * len(scored)),
        brier_prophet=brier(p_prophet) if has_prophet else None,
        prophet_fallbacks=sum(r.p_prophet is None for r in scored) if has_prophet else 0,
        brier_straight=brier([r.p_straight for r in scored]),
        brier_on_plan=brier([r.p_on_plan for r in scored]),
        auc=scores.auc(p_scored, landed) if scored else None,
        auc_prophet=scores.auc(p_prophet, landed) if has_prophet else None,
        coverage=scores.coverage(
            [q for q, _, _ in intervals], [low for _, low, _ in intervals], [high for _, _, high in intervals]
        ),
        with_interval=len(intervals),
        backtest_coverage=backtest[1] / backtest[0] if backtest[0] else None,
        backtest_points=backtest[0],
        trust_bands=tuple(trust),
    )


def _f(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def block(name: str, results: Sequence[SetResult], seeds: str) -> tuple[str, Summary]:
    """The Markdown block of one generator (all its seeds) and its summary."""
    rows = [r for result in results for r in result.rows]
    backtest = (sum(r.backtest_points for r in results), sum(r.backtest_covered for r in results))
    s = summarise(rows, backtest, pooled_bands(results))
    statuses: dict[str, int] = {}
    for r in rows:
        label = "failed" if r.message.startswith("forecast failed") else r.status
        statuses[label] = statuses.get(label, 0) + 1
    lines = [
        f"### {name} (seeds {seeds})",
        "",
        f"{s.benefits} benefits, {s.scored} with a probability; landing rate {_pct(s.landing_rate)}. "
        f"Statuses: {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}.",
        "",
        "| method | Brier | AUC |",
        "|---|---|---|",
        f"| forecast (stored p_on_time) | {_f(s.brier)} | {_f(s.auc, 2)} |",
        f"| constant = true landing rate | {_f(s.brier_constant)} | 0.50 |",
        f"| default Prophet | {_f(s.brier_prophet)}"
        f"{f' ({s.prophet_fallbacks} could not fit: constant)' if s.prophet_fallbacks else ''} "
        f"| {_f(s.auc_prophet, 2)} |",
        f"| straight line through the last quarter | {_f(s.brier_straight)} | - |",
        f"| on plan today | {_f(s.brier_on_plan)} | - |",
        "",
        f"80% interval at the target date held the true Q for {_pct(s.coverage)} of {s.with_interval} benefits "
        "with an interval."
        + (
            f" The runs' own cross-fitted backtests (their forecast trust line): {_pct(s.trust_coverage)} of "
            f"{s.trust_points:,} backtested outcomes; by horizon: {by_horizon(s)}."
            if s.trust_points
            else ""
        )
        + (
            f" Portfolio's own rolling-origin backtest: {_pct(s.backtest_coverage)} of {s.backtest_points} points."
            if s.backtest_points
            else ""
        ),
    ]
    scored = [r for r in rows if r.p is not None]
    if scored:
        lines += ["", reliability_table(rows)]
        lines += ["", "| regime | benefits | landed | mean p | Brier | interval held |", "|---|---|---|---|---|---|"]
        for regime in dict.fromkeys(r.regime for r in rows):
            group = [r for r in rows if r.regime == regime]
            g = summarise(group)
            mean_p = float(np.mean([r.p for r in group if r.p is not None])) if g.scored else None
            lines.append(
                f"| {regime} | {len(group)} | {_pct(float(np.mean([r.landed for r in group])))} "
                f"| {_f(mean_p, 2)} | {_f(g.brier)} | {_pct(g.coverage)} |"
            )
    return "\n".join(lines) + "\n", s


def pooled_bands(results: Sequence[SetResult]) -> tuple[tuple[int, float], ...]:
    """The (points, held) per horizon band of the results' cross-fitted backtests, summed (a run without
    backtests has no bands)."""
    runs = [r.trust_bands for r in results if r.trust_bands]
    return tuple((sum(n for n, _ in band), sum(h for _, h in band)) for band in zip(*runs, strict=True))


def by_horizon(s: Summary) -> str:
    """``"up to 8 weeks 87% (13,214), …"``: the cross-fitted backtests' coverage per horizon band."""
    from benefits.forecast.track_record import BAND_LABELS

    return ", ".join(
        f"{label} {_pct(held / points)} ({points:,})"
        for label, (points, held) in zip(BAND_LABELS, s.trust_bands, strict=False)
        if points
    )


def reliability_table(rows: Sequence[Row]) -> str:
    """The reliability table of ``rows``' probabilities (five bins: benefits, mean p, share landed)."""
    scored = [r for r in rows if r.p is not None]
    lines = ["| p_on_time | benefits | mean p | share landed |", "|---|---|---|---|"]
    table = calibration.reliability([r.p for r in scored if r.p is not None], [r.landed for r in scored], bins=5)
    for b in table:
        lines.append(f"| {b.lower:.1f}-{b.upper:.1f} | {b.count} | {_f(b.mean_p, 2)} | {_f(b.observed, 2)} |")
    return "\n".join(lines)


def summary_table(summaries: dict[str, Summary]) -> str:
    """The closing table: one row per generator (then all synthetic pooled, and the real set) against the goals."""
    lines = [
        "| set | benefits | with p | landing rate | Brier forecast | Brier constant | Brier default Prophet "
        "| AUC | coverage 80% | backtests held | goals |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summaries.items():
        missed = s.passes(real=name == REAL)
        verdict = "pass" if not missed else "FAIL: " + "; ".join(missed)
        if name != REAL and s.brier_prophet is None:
            verdict += " (default Prophet not run)"
        lines.append(
            f"| {name} | {s.benefits} | {s.scored} | {_pct(s.landing_rate)} | {_f(s.brier)} | {_f(s.brier_constant)} "
            f"| {_f(s.brier_prophet)} | {_f(s.auc, 2)} | {_pct(s.coverage)} | {_pct(s.trust_coverage)} | {verdict} |"
        )
    return "\n".join(lines) + "\n"
