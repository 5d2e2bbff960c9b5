"""Test data for the dashboard: a real SQLite store with a register, weekly observations and forecasts.

``build_store`` writes a small register of its own (two initiatives, three benefits) whose
numbers the tests know by heart; ``build_demo_store`` loads ``config/portfolio.yaml`` instead,
with observations that follow each benefit's planned profile. No Prophet: forecast paths are
straight-line extrapolations with a widening 80% band.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from benefits import realisation
from benefits.register import Benefit, Measure, Register, load_register
from benefits.store import migrate, models, repository
from benefits.store.db import make_engine, session_factory

AS_OF = dt.date(2025, 7, 7)  # a Monday, 26 weeks after the baselines
BASELINE = dt.date(2025, 1, 6)
LAST_WEEK = dt.date(2025, 6, 30)
WEEKS = 25  # observations from 2025-01-13 to 2025-06-30
CONFIG = Path(__file__).resolve().parents[1] / "config"

REGISTER_YAML = """\
name: Dashboard fixture portfolio
currency: GBP
programmes:
  - key: operations
    name: Operations transformation
  - key: growth
    name: Growth
initiatives:
  - key: cloud-platform
    name: Cloud & data platform
    programme: operations
    tactic: scalable_architecture
    owner: Priya Shah
    investment: 250000
    benefits:
      - key: it-opex
        name: Lower IT running cost
        category: cost_reduction
        metric: ledger.it_opex
        unit: GBP
        direction: decrease
        measure: level
        baseline: {value: 500000, date: 2025-01-06}
        target: {value: 400000, date: 2026-01-05}
        owner: Finance operations
        cash_releasing: true
      - key: handle-time
        name: Faster ticket handling
        category: operational_efficiency
        metric: ticketing.avg_handle_minutes
        unit: minutes
        direction: decrease
        measure: level
        baseline: {value: 30, date: 2025-01-06}
        target: {value: 20, date: 2026-01-05}
        owner: Service desk
        value_per_unit: 3000
        attribution: 0.5
  - key: digital-sales
    name: Digital sales
    programme: growth
    tactic: customer_experience
    owner: Tom Reed
    benefits:
      - key: upsell-revenue
        name: Upsell revenue
        category: revenue
        metric: crm.upsell_revenue
        unit: GBP
        direction: increase
        measure: cumulative
        baseline: {value: 0, date: 2025-01-06}
        target: {value: 520000, date: 2026-01-05}
        owner: Sales
"""

# What the tests expect at AS_OF (planned is half the target improvement: 182 of 364 days).
EXPECTED = {
    "it-opex": {
        "q": 462_500.0,
        "planned": 50_000.0,
        "realised": 37_500.0,
        "planned_value": 50_000.0,
        "realised_value": 37_500.0,
        "status": "at_risk",
        "p_on_time": 0.27,
    },
    "handle-time": {
        "q": 25.0,
        "planned": 5.0,
        "realised": 5.0,
        "planned_value": 7_500.0,
        "realised_value": 7_500.0,
        "status": "on_track",
        "p_on_time": 0.58,
    },
    "upsell-revenue": {
        "q": 200_000.0,
        "planned": 260_000.0,
        "realised": 200_000.0,
        "planned_value": 260_000.0,
        "realised_value": 200_000.0,
        "status": "off_track",
        "p_on_time": 0.08,
    },
}


def write_register(directory: Path, text: str = REGISTER_YAML) -> Path:
    """Write ``portfolio.yaml`` into ``directory`` and return the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "portfolio.yaml").write_text(text, encoding="utf-8")
    return directory


def build_store(directory: Path, register_text: str = REGISTER_YAML, url: str | None = None) -> str:
    """A migrated store holding the fixture register and its data (SQLite in ``directory`` unless
    ``url`` names another, empty database); its URL."""
    register = load_register(write_register(directory / "config", register_text))
    observations = {
        # level, falling 1,500 a week with a wiggle; one row before the baseline and one after AS_OF
        "ledger.it_opex": [(BASELINE - dt.timedelta(weeks=1), 501_000.0)]
        + [(_week(n), 500_000 - 1_500 * n + _wiggle(n, 2_000)) for n in range(1, WEEKS + 1)]
        + [(AS_OF + dt.timedelta(weeks=1), 455_000.0)],
        "ticketing.avg_handle_minutes": [(_week(n), 30 - 0.2 * n + _wiggle(n, 0.3)) for n in range(1, WEEKS + 1)],
        # cumulative: 8,000 a week, alternating +/-1,500 (the 24 wiggles cancel)
        "crm.upsell_revenue": [
            (_week(n), 8_000 + (1_500 * (-1) ** n if n < WEEKS else 0)) for n in range(1, WEEKS + 1)
        ],
    }
    forecasts = {
        "it-opex": (
            "at_risk",
            0.27,
            None,
            "forecast reaches about £426,000 by 2026-01-05, short of the £400,000 target",
        ),
        "handle-time": ("on_track", 0.58, dt.date(2025, 12, 29), "on course to reach 20 minutes by 2026-01-05"),
        "upsell-revenue": (
            "off_track",
            0.08,
            None,
            "forecast reaches about £421,000 by 2026-01-05, short of the £520,000 target",
        ),
    }
    previous = {"it-opex": "on_track", "handle-time": "on_track", "upsell-revenue": "off_track"}
    return _build(url or f"sqlite:///{directory / 'store.db'}", register, observations, forecasts, previous)


def build_demo_store(directory: Path, as_of: dt.date) -> str:
    """A store holding ``config/portfolio.yaml`` with observations at 90% of plan up to ``as_of``."""
    register = load_register(CONFIG)
    observations: dict[str, list[tuple[dt.date, float]]] = {}
    forecasts = {}
    for initiative, benefit in register.benefits():
        start = register.benefit_start(initiative, benefit)
        periods = pd.date_range(benefit.baseline.date + dt.timedelta(days=7), as_of, freq="7D").date
        sign = realisation.sign(benefit)
        q = [benefit.baseline.value + 0.9 * sign * realisation.planned_to_date(benefit, start, p) for p in periods]
        if benefit.measure is Measure.cumulative:
            values = [b - a for a, b in itertools.pairwise([benefit.baseline.value, *q])]
        else:
            values = q
        observations.setdefault(benefit.metric, list(zip(periods, values, strict=True)))
        forecasts[benefit.key] = ("at_risk", 0.5, None, "demo forecast")
    return _build(f"sqlite:///{directory / 'demo.db'}", register, observations, forecasts, {}, as_of=as_of)


def _build(
    url: str,
    register: Register,
    observations: dict[str, list[tuple[dt.date, float]]],
    forecasts: dict[str, tuple[str, float, dt.date | None, str]],
    previous: dict[str, str],
    as_of: dt.date = AS_OF,
) -> str:
    engine = make_engine(url)
    migrate.upgrade(engine)
    units = {b.metric: b.unit for _, b in register.benefits()}
    with session_factory(engine)() as session:
        repository.save_register(session, register)
        sync = models.SyncRun(
            connector="fixture",
            connector_type="csv",
            status="succeeded",
            finished_at=dt.datetime(2025, 7, 7, 6, 0, tzinfo=dt.UTC),
        )
        session.add(sync)
        session.flush()
        count = 0
        for metric, rows in observations.items():
            for period, value in rows:
                session.add(
                    models.Observation(
                        metric=metric,
                        period=period,
                        value=float(value),
                        unit=units[metric],
                        source="fixture",
                        sync_run_id=sync.id,
                    )
                )
                count += 1
        sync.rows_read = sync.rows_accepted = count
        _second_sync(session, sync.id)
        if previous:
            _forecast_run(
                session,
                register,
                observations,
                as_of - dt.timedelta(weeks=1),
                {k: (s, 0.5, None, "") for k, s in previous.items()},
            )
        _forecast_run(session, register, observations, as_of, forecasts)
        session.commit()
    engine.dispose()
    return url


VALIDATION = {  # statistics per expectation, as benefits.validation stores them on a sync run
    "expect_column_values_to_not_be_null(value_text)": {
        "expectation": "expect_column_values_to_not_be_null",
        "column": "value_text",
        "severity": "critical",
        "success": False,
        "unexpected_count": 1,
    },
    "expect_column_values_to_be_between(value)": {
        "expectation": "expect_column_values_to_be_between",
        "column": "value",
        "severity": "critical",
        "success": False,
        "unexpected_count": 1,
    },
    "expect_column_values_to_match_regex(metric)": {
        "expectation": "expect_column_values_to_match_regex",
        "column": "metric",
        "severity": "critical",
        "success": True,
        "unexpected_count": 0,
    },
}


def _second_sync(session: Session, first_run: int) -> None:
    """A later sync of the same connector: one restated value and two quarantined rows."""
    run = models.SyncRun(
        connector="fixture",
        connector_type="csv",
        status="succeeded",
        rows_read=3,
        rows_accepted=1,
        rows_quarantined=2,
        rows_restated=1,
        validation=VALIDATION,
        finished_at=dt.datetime(2025, 7, 7, 6, 5, tzinfo=dt.UTC),
    )
    session.add(run)
    session.flush()
    session.add(
        models.ObservationRevision(
            metric="ledger.it_opex",
            period=_week(3),
            source="fixture",
            value=499_000.0,
            unit="GBP",
            sync_run_id=first_run,
            replaced_by_sync_run_id=run.id,
        )
    )
    session.add_all(
        [
            models.QuarantinedRow(
                sync_run_id=run.id,
                source="fixture",
                row_number=2,
                record={"metric": "ledger.it_opex", "period": "2025-06-30", "value": None},
                reasons=["value: missing"],
            ),
            models.QuarantinedRow(
                sync_run_id=run.id,
                source="fixture",
                row_number=3,
                record={"metric": "crm.upsell_revenue", "period": "2025-06-30", "value": -5},
                reasons=["value: -5 is outside [0, None]"],
            ),
        ]
    )


def _forecast_run(
    session: Session,
    register: Register,
    observations: dict[str, list[tuple[dt.date, float]]],
    as_of: dt.date,
    forecasts: dict[str, tuple[str, float, dt.date | None, str]],
) -> None:
    run = models.ForecastRun(
        as_of=as_of, finished_at=dt.datetime.combine(as_of, dt.time(7), dt.UTC), benefits_count=len(forecasts)
    )
    session.add(run)
    for _, benefit in register.benefits():
        if benefit.key not in forecasts:
            continue
        status, p_on_time, landing, message = forecasts[benefit.key]
        frame = pd.DataFrame(observations.get(benefit.metric, []), columns=["period", "value"])
        actual = _tracked(benefit, frame, as_of)
        path = _path(actual, as_of, benefit.target.date, abs(benefit.target.value - benefit.baseline.value))
        at_target = path[-1] if path else {}
        run.forecasts.append(
            models.Forecast(
                benefit_key=benefit.key,
                status=status,
                message=message,
                points=len(actual),
                p_on_time=p_on_time,
                expected_landing=landing,
                forecast_at_target_date=at_target.get("yhat"),
                lower_at_target_date=at_target.get("lower"),
                upper_at_target_date=at_target.get("upper"),
                path=path,
            )
        )


def _tracked(benefit: Benefit, frame: pd.DataFrame, as_of: dt.date) -> list[float]:
    return realisation.tracked_series(benefit, frame, as_of)["q"].to_list()


def _path(actual: list[float], as_of: dt.date, target_date: dt.date, scale: float) -> list[dict[str, object]]:
    """Weekly points from ``as_of`` to the target date on the recent trend, band widening with time."""
    if len(actual) < 2 or target_date <= as_of:
        return []
    recent = actual[-9:]
    slope = (recent[-1] - recent[0]) / (len(recent) - 1)
    points = []
    for k, period in enumerate(pd.date_range(as_of, target_date, freq="7D").date, start=1):
        yhat = actual[-1] + slope * k
        half = 0.015 * scale * math.sqrt(k)
        points.append(
            {
                "period": period.isoformat(),
                "yhat": round(yhat, 4),
                "lower": round(yhat - half, 4),
                "upper": round(yhat + half, 4),
            }
        )
    return points


def _week(n: int) -> dt.date:
    return BASELINE + dt.timedelta(weeks=n)


def _wiggle(n: int, amplitude: float) -> float:
    """Deterministic noise, zero in the last week so that the latest level is exact."""
    return 0.0 if n == WEEKS else amplitude * math.sin(1.7 * n)
