"""Metric health: what each metric has delivered, its cadence, and whether it has gone stale.

A metric's *cadence* is how often it reports: the ``cadence_days`` a benefit measuring it declares
in the register, else its usual gap: the span from its first to its last observed period divided by
the number of gaps between its distinct periods (7 days when it has fewer than two). Everything is
aggregated in SQL, one row per metric, so the cost does not grow with the length of the series.
It is *stale* at ``as_of`` when its latest period is older than ``as_of`` minus cadence x
tolerance; the tolerance is the largest ``stale_tolerance`` its benefits declare (default 2: two
missed reports). A metric with no observation at all is not stale: its benefits have ``no_data``.

Only SQLAlchemy and the standard library are imported here, so `benefits status` stays quick.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from benefits.store import models

DEFAULT_CADENCE_DAYS = 7
DEFAULT_TOLERANCE = 2.0


@dataclass(frozen=True)
class MetricSummary:
    """One metric: its unit, who uses it, what was observed, and its staleness at ``as_of``.

    ``used``: a benefit measures it or an initiative's investment spend is read from it
    (``investment.metric``); ``used_by`` names those benefits, ``spend_of`` those initiatives."""

    metric: str
    unit: str
    used: bool
    used_by: list[str]
    spend_of: list[str]
    observations: int
    first_period: dt.date | None
    last_period: dt.date | None
    sources: list[str]
    cadence_days: float
    cadence_declared: bool
    stale_after: dt.date | None  # the latest period may be this old before the metric is stale
    stale: bool

    def message(self) -> str:
        """Why the metric is stale, in one line (empty when it is not)."""
        if not self.stale:
            return ""
        how = "declared" if self.cadence_declared else "usual"
        return (
            f"no new data for {self.metric} since {self.last_period} "
            f"(its {how} cadence is {days(self.cadence_days)}): forecast withheld"
        )


def days(count: float) -> str:
    """A number of days for people: ``11 days`` (whole from 10 up), ``3.5 days``, ``1 day``."""
    text = f"{count:.0f}" if count >= 10 else f"{count:.1f}".rstrip("0").rstrip(".")
    return f"{text} day" if text == "1" else f"{text} days"


def cadence(first: dt.date, last: dt.date, distinct_periods: int) -> float | None:
    """The usual gap in days between consecutive periods; None with fewer than two periods."""
    if distinct_periods < 2:
        return None
    return (last - first).days / (distinct_periods - 1)


@dataclass(frozen=True)
class _Observed:
    first: dt.date
    last: dt.date
    periods: int
    count: int


@dataclass(frozen=True)
class _User:
    """What staleness needs of one benefit measuring a metric."""

    key: str
    unit: str
    cadence_days: float | None
    stale_tolerance: float | None


def metric_summaries(session: Session, as_of: dt.date, metrics: Iterable[str] | None = None) -> list[MetricSummary]:
    """Every stored metric (or those named), with usage, observation span, sources and staleness at ``as_of``."""
    wanted = None if metrics is None else sorted(set(metrics))
    units: dict[str, str] = {
        name: unit for name, unit in session.execute(select(models.Metric.name, models.Metric.unit))
    }
    declared: dict[str, list[_User]] = {}
    b = models.Benefit
    for metric, key, unit, spec in session.execute(select(b.metric, b.key, b.unit, b.spec).order_by(b.key)):
        declared.setdefault(metric, []).append(_User(key, unit, spec.get("cadence_days"), spec.get("stale_tolerance")))
    spenders: dict[str, list[str]] = {}
    i = models.Initiative
    for key, plan in session.execute(select(i.key, i.investment_plan).order_by(i.key)):
        if plan and plan.get("metric"):
            spenders.setdefault(plan["metric"], []).append(key)
    obs = models.Observation
    spans = select(
        obs.metric, func.min(obs.period), func.max(obs.period), func.count(distinct(obs.period)), func.count()
    ).group_by(obs.metric)
    pairs = select(obs.metric, obs.source).distinct()
    if wanted is not None:
        spans, pairs = spans.where(obs.metric.in_(wanted)), pairs.where(obs.metric.in_(wanted))
    observed = {
        metric: _Observed(first, last, periods, count) for metric, first, last, periods, count in session.execute(spans)
    }
    sources: dict[str, list[str]] = {}
    for metric, source in session.execute(pairs.order_by(obs.metric, obs.source)):
        sources.setdefault(metric, []).append(source)
    names = sorted(name for name in set(units) | set(declared) | set(observed) if wanted is None or name in wanted)
    return [
        _summary(
            name,
            units.get(name),
            declared.get(name, []),
            spenders.get(name, []),
            observed.get(name),
            sources.get(name, []),
            as_of,
        )
        for name in names
    ]


def stale_metrics(session: Session, as_of: dt.date) -> list[MetricSummary]:
    """The metrics that are stale at ``as_of`` (for `benefits status` and the dashboard's data-quality page)."""
    return [m for m in metric_summaries(session, as_of) if m.stale]


def _summary(
    name: str,
    unit: str | None,
    benefits: list[_User],
    spend_of: list[str],
    observed: _Observed | None,
    sources: list[str],
    as_of: dt.date,
) -> MetricSummary:
    declared = [b.cadence_days for b in benefits if b.cadence_days]
    tolerance = max((b.stale_tolerance or DEFAULT_TOLERANCE for b in benefits), default=DEFAULT_TOLERANCE)
    usual = cadence(observed.first, observed.last, observed.periods) if observed else None
    days = float(min(declared)) if declared else (usual or DEFAULT_CADENCE_DAYS)
    last = observed.last if observed else None
    stale_after = as_of - dt.timedelta(days=days * tolerance) if last else None
    return MetricSummary(
        metric=name,
        unit=unit or (benefits[0].unit if benefits else ""),
        used=bool(benefits or spend_of),
        used_by=[b.key for b in benefits],
        spend_of=spend_of,
        observations=observed.count if observed else 0,
        first_period=observed.first if observed else None,
        last_period=last,
        sources=sources,
        cadence_days=days,
        cadence_declared=bool(declared),
        stale_after=stale_after,
        stale=bool(last and stale_after and last < stale_after),
    )
