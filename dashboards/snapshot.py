"""Every benefit's position at a date, as one DataFrame: the URL filters and the portfolio-wide
pages (portfolio, register, map) all read it.

The observations are aggregated in SQL, one grouped query for every benefit (SQLite and PostgreSQL
alike): per benefit, the latest value and the sum since its baseline date up to ``as_of``, one
value per period (the most recently loaded, as ``repository.observations`` does). The register and
the latest forecast run are one query each; the planned profile is a formula of dates computed per
benefit; staleness comes from ``benefits.staleness``. The result agrees with
``benefits.status.status_rows`` field for field (tested on SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session, aliased

from benefits import realisation
from benefits.register import Benefit
from benefits.staleness import MetricSummary, metric_summaries
from benefits.store import models, repository
from benefits.dashboards.cache import cached

FILTERS = ("programme", "tactic", "category", "owner", "status")

COLUMNS = [
    "benefit", "name", "initiative", "initiative_name", "programme", "programme_name", "outcome", "tactic",
    "category", "owner", "initiative_owner", "metric", "unit", "direction", "measure", "dis_benefit", "baseline", "target",
    "baseline_date", "target_date", "start_date", "cash_releasing", "points", "last_period", "planned_to_date",
    "realised_to_date", "percent_realised", "planned_value", "realised_value", "p_on_time", "expected_landing",
    "forecast_at_target_date", "status", "previous_status", "message", "value_at_target",
]


@dataclass(frozen=True)
class Filters:
    """The URL's filter values; an empty value means "all"."""

    programme: str = ""
    tactic: str = ""
    category: str = ""
    owner: str = ""
    status: str = ""

    @classmethod
    def from_query(cls, values: dict[str, Any]) -> Filters:
        """The filters among a page's URL query values (anything else is ignored)."""
        return cls(**{f: str(values.get(f) or "") for f in FILTERS})

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of a snapshot that pass every filter."""
        mask = pd.Series(True, index=frame.index)
        for name in FILTERS:
            value = getattr(self, name)
            if value:
                mask &= frame[name] == value
        return frame[mask]

    def query(self, **extra: str | None) -> str:
        """``?programme=...&as_of=...`` with the set filters and ``extra`` values (empty when none)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)} | extra
        kept = {k: v for k, v in values.items() if v}
        return f"?{urlencode(kept)}" if kept else ""

    @property
    def active(self) -> bool:
        """True when any filter is set."""
        return any(getattr(self, f) for f in FILTERS)


def cached_snapshot(session: Session, as_of: dt.date) -> pd.DataFrame:
    """``snapshot``, read again only when the data changed (``benefits.dashboards.cache``); read-only."""
    return cached(session, "snapshot", as_of, lambda: snapshot(session, as_of))


def metric_health(session: Session, as_of: dt.date) -> list[MetricSummary]:
    """``benefits.staleness.metric_summaries`` at ``as_of`` (every metric), kept per data version."""
    return cached(session, "metric_health", as_of, lambda: metric_summaries(session, as_of))


def snapshot(session: Session, as_of: dt.date) -> pd.DataFrame:
    """One row per benefit (register order) with planned, realised and forecast figures at ``as_of``."""
    register = _register(session)
    if register.empty:
        return pd.DataFrame(columns=COLUMNS)
    tracked = _tracked(session, as_of)
    forecasts = _forecasts(session)
    frame = register.merge(tracked, on="id", how="left").merge(forecasts, on="benefit", how="left")
    _add_values(frame, as_of)
    frame["status"] = frame["status"].fillna("no_data")
    frame["message"] = frame["message"].fillna("not forecast yet: run `benefits forecast`")
    _mark_stale(frame, session, as_of)
    frame["points"] = frame["points"].fillna(0).astype(int)
    gaps = [c for c in COLUMNS if frame[c].isna().any()]
    frame[gaps] = frame[gaps].astype(object).where(frame[gaps].notna(), None)  # None, not NaN, like status rows
    return frame[COLUMNS].reset_index(drop=True)


def _register(session: Session) -> pd.DataFrame:
    b, i, p = models.Benefit, models.Initiative, models.Programme
    query = (
        select(b.id, b.key.label("benefit"), b.name, i.key.label("initiative"), i.name.label("initiative_name"),
               p.key.label("programme"), p.name.label("programme_name"), p.outcome, i.tactic, b.category, b.owner,
               i.owner.label("initiative_owner"), b.metric, b.unit, b.direction, b.measure,
               b.baseline_value.label("baseline"), b.target_value.label("target"), b.baseline_date, b.target_date,
               b.start_date, b.cash_releasing, b.dis_benefit, b.attribution, b.value_per_unit, b.spec)
        .join(i, b.initiative_id == i.id).join(p, i.programme_id == p.id).order_by(b.id)
    )
    return pd.DataFrame(session.execute(query).mappings().all())


def _tracked(session: Session, as_of: dt.date) -> pd.DataFrame:
    """Per benefit id: ``points``, ``last_period``, ``latest`` value and ``total`` since the baseline.

    One grouped query over the observations index. A metric delivered by several connectors for
    the same period (rare) is recomputed exactly from ``repository.observations``, which keeps the
    most recently loaded value of each period.
    """
    o, b = models.Observation, models.Benefit
    grouped = (
        select(b.id, b.metric, func.count().label("rows"), func.count(distinct(o.period)).label("points"),
               func.max(o.period).label("last_period"), func.sum(o.value).label("total"))
        .join(o, and_(o.metric == b.metric, o.period > b.baseline_date, o.period <= as_of))
        .group_by(b.id, b.metric)
        .subquery()
    )
    newest = aliased(models.Observation)
    latest = (select(newest.value).where(newest.metric == grouped.c.metric, newest.period == grouped.c.last_period)
              .order_by(newest.id.desc()).limit(1).scalar_subquery())
    query = select(grouped.c.id, grouped.c.rows, grouped.c.points, grouped.c.last_period, grouped.c.total,
                   latest.label("latest"))
    frame = pd.DataFrame(session.execute(query).all(),
                         columns=["id", "rows", "points", "last_period", "total", "latest"])
    for index in frame.index[frame["rows"] != frame["points"]]:
        frame.loc[index, ["points", "latest", "total"]] = _deduplicated(session, int(frame.at[index, "id"]), as_of)
    return frame.drop(columns="rows")


def _deduplicated(session: Session, benefit_id: int, as_of: dt.date) -> tuple[int, float, float]:
    """``points``, ``latest`` and ``total`` of one benefit with one value per period."""
    row = session.get_one(models.Benefit, benefit_id)
    observed = repository.observations(session, row.metric)
    periods = pd.to_datetime(observed["period"]).dt.date
    window = observed[(periods > row.baseline_date) & (periods <= as_of)]
    return len(window), float(window["value"].iloc[-1]), float(window["value"].sum())


def _forecasts(session: Session) -> pd.DataFrame:
    """The latest finished forecast run's figures per benefit, with the status in the run it is
    compared with (``repository.latest_and_previous_runs``, as ``benefits status`` does)."""
    f = models.Forecast
    latest_run, previous_run = repository.latest_and_previous_runs(session)
    columns = ["benefit", "p_on_time", "expected_landing", "forecast_at_target_date", "status", "message",
               "previous_status"]
    if latest_run is None:
        return pd.DataFrame(columns=columns)
    latest = pd.DataFrame(session.execute(
        select(f.benefit_key, f.p_on_time, f.expected_landing, f.forecast_at_target_date, f.status, f.message)
        .where(f.forecast_run_id == latest_run.id)).all(), columns=columns[:-1])
    previous = pd.DataFrame(session.execute(
        select(f.benefit_key, f.status).where(f.forecast_run_id == previous_run.id)).all() if previous_run else [],
        columns=["benefit", "previous_status"])
    return latest.merge(previous, on="benefit", how="left")


def _mark_stale(frame: pd.DataFrame, session: Session, as_of: dt.date) -> None:
    """Benefits whose metric stopped reporting get status ``data_stale`` and no forecast figures,
    as in ``benefits.status`` (staleness rules in ``benefits.staleness``)."""
    stale = {m.metric: m.message() for m in metric_health(session, as_of) if m.stale}
    mask = frame["metric"].isin(list(stale))
    if not mask.any():
        return
    frame.loc[mask, "status"] = "data_stale"
    frame.loc[mask, "message"] = frame.loc[mask, "metric"].map(stale)
    frame.loc[mask, ["forecast_at_target_date", "p_on_time", "expected_landing"]] = None


def _add_values(frame: pd.DataFrame, as_of: dt.date) -> None:
    """Planned and realised improvement, percent realised and money values, as ``benefits.status`` has them."""
    sign = frame["direction"].map({"increase": 1.0, "decrease": -1.0})
    tracked = frame["total"].where(frame["measure"] == "cumulative").add(frame["baseline"]) \
        .where(frame["measure"] == "cumulative", frame["latest"])
    realised = sign * (tracked - frame["baseline"])
    planned = pd.Series([_planned(spec, start, as_of) for spec, start in zip(frame["spec"], frame["start_date"])],
                        index=frame.index, dtype=float)
    money = frame["value_per_unit"] * frame["attribution"] * frame["dis_benefit"].map({True: -1.0, False: 1.0})
    frame["planned_to_date"] = planned.round(4)
    frame["realised_to_date"] = realised.round(4)
    frame["percent_realised"] = (100.0 * realised / (sign * (frame["target"] - frame["baseline"]))).round(1)
    frame["planned_value"] = (planned * money).round(2)
    frame["value_at_target"] = (sign * (frame["target"] - frame["baseline"]) * money).round(2)
    frame["realised_value"] = (realised.fillna(0.0) * money).round(2)
    frame["p_on_time"] = frame["p_on_time"].round(3)
    frame["target_date"] = frame["target_date"].map(_iso)
    frame["expected_landing"] = frame["expected_landing"].map(_iso)
    frame["last_period"] = frame["last_period"].map(_iso)


def _planned(spec: dict[str, Any], start: dt.date, as_of: dt.date) -> float:
    return realisation.planned_to_date(Benefit.model_validate(spec), start, as_of)


def _iso(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
