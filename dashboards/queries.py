"""Everything the dashboard reads from the store, as plain data for the figures and pages.

This is the only dashboard module that talks to the store, and it does so through
``benefits.status`` and ``benefits.store.repository``; it never builds ORM queries itself.
Tracked quantities follow ``benefits.realisation``: Q is the latest value of a ``level``
metric, or the baseline plus the running sum since the baseline date of a ``cumulative`` one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from benefits import realisation
from benefits.register import Benefit, Measure
from benefits.status import STATUSES, StatusRow, status_rows
from benefits.store import repository

# The register's currency is not kept in the store yet; the register's own default is GBP.
DEFAULT_CURRENCY = "GBP"


class StoreUnavailable(Exception):
    """The store cannot be read (no tables yet, or the database is unreachable)."""


@dataclass(frozen=True)
class PortfolioSummary:
    """Planned and realised value across the portfolio at ``as_of``."""

    as_of: dt.date
    currency: str
    rows: list[StatusRow]
    initiative_names: dict[str, str]
    initiatives: pd.DataFrame  # initiative, name, benefits, planned_value, realised_value
    categories: pd.DataFrame  # category, benefits, planned_value, realised_value
    status_counts: dict[str, int]  # every status, in STATUSES order
    planned_value: float
    realised_value: float


@dataclass(frozen=True)
class BenefitDetail:
    """One benefit's status with its tracked quantity over time: actual, planned and forecast."""

    row: StatusRow
    initiative_name: str
    as_of: dt.date
    currency: str
    baseline_date: dt.date
    baseline_value: float
    start_date: dt.date
    target_date: dt.date
    target_value: float
    actuals: pd.DataFrame  # period, q
    planned: pd.DataFrame  # period, q
    forecast: pd.DataFrame  # period, yhat, lower, upper (empty when not forecast)
    forecast_as_of: dt.date | None


def portfolio_summary(
    session: Session, as_of: dt.date | None = None, currency: str = DEFAULT_CURRENCY
) -> PortfolioSummary:
    """Per-initiative and per-category planned vs realised value, and counts by status."""
    as_of = as_of or dt.date.today()
    with _reading():
        rows = status_rows(session, as_of)
        names = {b.initiative.key: b.initiative.name for b in repository.benefits(session)}
    frame = pd.DataFrame(
        [(r.initiative, r.category, r.planned_value, r.realised_value) for r in rows],
        columns=["initiative", "category", "planned_value", "realised_value"],
    )
    initiatives = _totals(frame, "initiative")
    initiatives.insert(1, "name", [names.get(key, key) for key in initiatives["initiative"]])
    counts = Counter(r.status for r in rows)
    status_counts = {s: counts.pop(s, 0) for s in STATUSES} | dict(counts)
    return PortfolioSummary(
        as_of=as_of,
        currency=currency,
        rows=rows,
        initiative_names=names,
        initiatives=initiatives,
        categories=_totals(frame, "category"),
        status_counts=status_counts,
        planned_value=round(float(frame["planned_value"].sum()), 2),
        realised_value=round(float(frame["realised_value"].sum()), 2),
    )


def benefit_detail(
    session: Session, key: str, as_of: dt.date | None = None, currency: str = DEFAULT_CURRENCY
) -> BenefitDetail | None:
    """One benefit's status, actuals, planned profile and latest forecast; None for an unknown key."""
    as_of = as_of or dt.date.today()
    with _reading():
        stored = next((b for b in repository.benefits(session) if b.key == key), None)
        if stored is None:
            return None
        row = next(r for r in status_rows(session, as_of) if r.benefit == key)
        benefit = repository.declared_benefit(stored)
        observations = repository.observations(session, stored.metric)
        runs = repository.forecast_runs(session, limit=1)
        forecast = repository.forecasts_of(session, runs[0]).get(key) if runs else None
        initiative_name = stored.initiative.name
        start_date = stored.start_date
    return BenefitDetail(
        row=row,
        initiative_name=initiative_name,
        as_of=as_of,
        currency=currency,
        baseline_date=benefit.baseline.date,
        baseline_value=benefit.baseline.value,
        start_date=start_date,
        target_date=benefit.target.date,
        target_value=benefit.target.value,
        actuals=tracked_series(benefit, observations, as_of),
        planned=planned_series(benefit, start_date),
        forecast=forecast_frame(forecast.path if forecast else []),
        forecast_as_of=runs[0].as_of if forecast else None,
    )


def tracked_series(benefit: Benefit, observations: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Q at each observed period after the baseline date up to ``as_of`` (columns ``period``, ``q``).

    Agrees with ``realisation.tracked_value`` at every period, computed in one pass.
    """
    frame = pd.DataFrame({"period": pd.to_datetime(observations["period"]).dt.date, "value": observations["value"]})
    window = frame[(frame["period"] > benefit.baseline.date) & (frame["period"] <= as_of)].sort_values("period")
    values = window["value"].astype(float)
    q = benefit.baseline.value + values.cumsum() if benefit.measure is Measure.cumulative else values
    return pd.DataFrame({"period": window["period"].to_list(), "q": q.to_list()}, columns=["period", "q"])


def planned_series(benefit: Benefit, start: dt.date) -> pd.DataFrame:
    """The planned Q weekly from the baseline date to the target date, with the start date included."""
    weekly = pd.date_range(benefit.baseline.date, benefit.target.date, freq="7D").date
    dates = sorted({*weekly, benefit.baseline.date, start, benefit.target.date})
    return pd.DataFrame(
        {"period": dates, "q": [realisation.planned_value(benefit, start, d) for d in dates]},
        columns=["period", "q"],
    )


def forecast_frame(path: list[Any]) -> pd.DataFrame:
    """A stored forecast path (``[{period, yhat, lower, upper}]``) as a DataFrame sorted by period."""
    columns = ["period", "yhat", "lower", "upper"]
    frame = pd.DataFrame([p for p in path if isinstance(p, dict)], columns=columns)
    if frame.empty:
        return frame
    frame["period"] = pd.to_datetime(frame["period"]).dt.date
    for column in columns[1:]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame.sort_values("period").reset_index(drop=True)


def _totals(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Benefit count and planned/realised value per ``by``, in order of first appearance."""
    grouped = frame.groupby(by, sort=False).agg(
        benefits=("planned_value", "size"),
        planned_value=("planned_value", "sum"),
        realised_value=("realised_value", "sum"),
    )
    return grouped.round(2).reset_index()


@contextmanager
def _reading() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        raise StoreUnavailable(
            f"cannot read the store ({reason}): run `benefits db upgrade`, then `benefits run`"
        ) from exc
