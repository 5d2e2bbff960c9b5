"""How far the portfolio's forecasts can be trusted: the track record the latest forecast run
learned (``forecast_runs.calibration``, written by ``benefits.forecast.track_record``), as plain
data and sentences for the trust page and the steering pack.

Two checks, both on backtests (forecasts made from past dates, compared with what was observed
since): how often the 80% interval held the outcome, by how far ahead it looked, before and after
calibration; and how often benefits were on plan when a forecast gave them a given chance of being
so (the reliability table). The reference classes say how comparable benefits fared.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from benefits.dashboards.queries import reading
from benefits.store import models

COVERAGE_COLUMNS = ["band", "points", "raw", "calibrated"]
RELIABILITY_COLUMNS = ["lower", "upper", "count", "mean_p", "observed"]
CLASS_COLUMNS = ["category", "measure", "decided", "landed", "rate"]
GOAL = 0.8  # the interval's nominal coverage
CONFIDENT = 0.8  # forecasts giving at least this chance are the "confident" ones the headline checks
RUNS_SEARCHED = 52  # a year of weekly runs: older runs without a track record are not looked at


@dataclass(frozen=True)
class TrackRecord:
    """What one forecast run learned from backtesting the portfolio's own history."""

    run_id: int
    as_of: dt.date  # the forecast run's date
    benefits: int  # benefits whose backtests gave outcomes
    points: int  # backtested outcomes (forecast value against what was observed later)
    events: int  # backtested chances of being on plan, with whether the benefit was
    brier: float | None
    coverage: pd.DataFrame  # COVERAGE_COLUMNS, one row per horizon band (shortest first)
    reliability: pd.DataFrame  # RELIABILITY_COLUMNS, one row per probability bin (lowest first)
    classes: pd.DataFrame  # CLASS_COLUMNS, one row per reference class
    latest: bool  # the latest finished forecast run (else an older one: the latest has none)

    @property
    def calibrated_coverage(self) -> float | None:
        """The share of all backtested outcomes inside the calibrated 80% interval."""
        return _held(self.coverage, "calibrated")

    @property
    def raw_coverage(self) -> float | None:
        """The same for the model's own interval, before calibration."""
        return _held(self.coverage, "raw")

    @property
    def confident(self) -> tuple[int, float | None]:
        """How many backtested chances were at least :data:`CONFIDENT`, and the share on plan."""
        rows = self.reliability[(self.reliability["lower"] >= CONFIDENT - 1e-9) & (self.reliability["count"] > 0)]
        count = int(rows["count"].sum())
        if not count:
            return 0, None
        return count, float((rows["observed"] * rows["count"]).sum() / count)


def track_record(session: Session) -> TrackRecord | None:
    """The track record of the latest finished forecast run that has one (None when none has)."""
    run = models.ForecastRun
    query = select(run).where(run.finished_at.is_not(None)).order_by(run.id.desc()).limit(RUNS_SEARCHED)
    with reading():
        for n, found in enumerate(session.scalars(query)):
            if isinstance(found.calibration, dict):
                return from_summary(found.id, found.as_of, found.calibration, latest=n == 0)
    return None


def from_summary(run_id: int, as_of: dt.date, summary: dict[str, Any], latest: bool = True) -> TrackRecord:
    """A run's stored summary (``forecast_runs.calibration``) as a :class:`TrackRecord`."""
    return TrackRecord(
        run_id=run_id,
        as_of=as_of,
        benefits=int(summary.get("benefits") or 0),
        points=int(summary.get("points") or 0),
        events=int(summary.get("events") or 0),
        brier=summary.get("brier"),
        coverage=_frame(summary.get("coverage"), COVERAGE_COLUMNS),
        reliability=_frame(summary.get("reliability"), RELIABILITY_COLUMNS),
        classes=_frame(summary.get("classes"), CLASS_COLUMNS),
        latest=latest,
    )


def headline(record: TrackRecord | None) -> str:
    """One sentence on the portfolio's forecast trust, e.g. "80% intervals held 81% of 1,994
    backtested outcomes; benefits given 80% or more were on plan 88% of the time (120 checks)."."""
    if record is None:
        return "No forecast run has checked its forecasts against this portfolio's history yet."
    held = record.calibrated_coverage
    if held is None:
        return (
            "No past forecast could be checked against what happened yet, so the 80% intervals use "
            "the default widening."
        )
    text = f"80% intervals held {held:.0%} of {_count(record.points, 'backtested outcome')}"
    count, on_plan = record.confident
    if on_plan is not None:
        text += (
            f"; benefits given {CONFIDENT:.0%} or more were on plan {on_plan:.0%} of the time "
            f"({_count(count, 'check')})"
        )
    return text + "."


def explanation(record: TrackRecord) -> str:
    """A plain paragraph on what the trust page's charts show and what they rest on."""
    raw = record.raw_coverage
    before = f" (the model's own interval held {raw:.0%})" if raw is not None else ""
    held = record.calibrated_coverage
    coverage = (
        f"An 80% range should hold the value that later came in 8 times out of 10; across every horizon "
        f"the calibrated range held {held:.0%}{before}."
        if held is not None
        else "No range could be checked yet."
    )
    reliability = (
        "The dots compare the chance a forecast gave a benefit of being on plan at a later date with how "
        "often it then was: dots on the diagonal mean the chances can be taken at their word, dots below it "
        "mean forecasts were too hopeful, above it too gloomy."
        if record.events
        else "No forecast chance could be checked against its outcome yet."
    )
    return (
        f"These figures come from backtests run with the forecast of {record.as_of.isoformat()}: forecasts "
        f"made from past dates for {_count(record.benefits, 'benefit')} in this portfolio, compared with what "
        f"was observed since ({_count(record.points, 'outcome')}, {_count(record.events, 'check')} of being on "
        f"plan). Each benefit is judged with a calibration learned from the other benefits, so the figures are "
        f"not flattered by judging forecasts against their own errors. {coverage} {reliability}"
    )


def _held(coverage: pd.DataFrame, column: str) -> float | None:
    rows = coverage[(coverage["points"] > 0) & coverage[column].notna()]
    total = int(rows["points"].sum())
    return float((rows[column] * rows["points"]).sum() / total) if total else None


def _frame(rows: Any, columns: list[str]) -> pd.DataFrame:
    """Stored rows (a list of objects) as a DataFrame with ``columns``; anything else is ignored."""
    kept = [{c: row.get(c) for c in columns} for row in rows or [] if isinstance(row, dict)]
    frame = pd.DataFrame(kept, columns=columns)
    for column in columns:
        if column not in ("band", "category", "measure"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def _count(n: int, noun: str) -> str:
    """``1 check``, ``1,994 checks``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
