"""Reading and writing the store: the register, observations, sync runs and forecasts."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, String, Table, and_, func, insert, literal, select, type_coerce
from sqlalchemy.orm import Session, defer

from benefits import register as reg
from benefits.errors import BenefitsError
from benefits.store import baselines, models

if TYPE_CHECKING:  # pandas only where a DataFrame is returned; `benefits status` runs without it
    import pandas as pd

#: The observation table, for Core inserts (a mapped class's ``__table__`` is typed as any FromClause).
OBSERVATIONS = cast(Table, models.Observation.__table__)


def save_register(
    session: Session, register: reg.Register, *, by: str = "", reason: str = ""
) -> list[models.RegisterRevision]:
    """Make the stored portfolio settings, programmes, initiatives, milestones and benefits match the register.

    Returns the register revisions this load records, credited to ``by`` (``benefits.store.baselines``):
    each new benefit's original baseline, and each change of a benefit's baseline, target, start,
    profile or attribution, explained by the benefit's ``change_reason`` or else ``reason``."""
    revisions = baselines.record(session, register, by, reason)
    settings = session.scalars(select(models.Portfolio)).first() or models.Portfolio()
    settings.name, settings.currency = register.name, register.currency.upper()
    settings.finance = register.model_dump(mode="json", include={"discount_rate", "appraisal_years", "valuation_date"})
    settings.finance["fiscal_year_start_month"] = register.fiscal_start_month()  # the default applied
    settings.updated_at = dt.datetime.now(dt.UTC)  # every save, to the microsecond: readers know it may have changed
    session.add(settings)
    programmes = {p.key: p for p in session.scalars(select(models.Programme))}
    for programme in register.programmes:
        programme_row = programmes.get(programme.key) or models.Programme(key=programme.key)
        programme_row.name, programme_row.outcome = programme.name, programme.outcome
        session.add(programme_row)
        programmes[programme.key] = programme_row
    initiatives = {i.key: i for i in session.scalars(select(models.Initiative))}
    for initiative in register.initiatives:
        row = initiatives.get(initiative.key) or models.Initiative(key=initiative.key)
        row.name, row.tactic, row.owner = initiative.name, initiative.tactic.value, initiative.owner
        row.investment, row.programme = float(initiative.investment.one_off_total()), programmes[initiative.programme]
        row.investment_plan = initiative.investment.model_dump(mode="json")
        row.milestones = [_milestone_row(row, m) for m in initiative.milestones]
        row.benefits = [_benefit_row(register, initiative, b, row) for b in initiative.benefits]
        session.add(row)
    session.flush()
    declared = {i.key for i in register.initiatives}
    for key, row in initiatives.items():
        if key not in declared:
            session.delete(row)
    _save_metrics(session, register)
    return revisions


def _milestone_row(parent: models.Initiative, milestone: reg.Milestone) -> models.Milestone:
    row = next((m for m in parent.milestones if m.key == milestone.key), None) or models.Milestone(key=milestone.key)
    row.name, row.date = milestone.name, milestone.date
    return row


def _benefit_row(
    register: reg.Register, initiative: reg.Initiative, benefit: reg.Benefit, parent: models.Initiative
) -> models.Benefit:
    existing = next((b for b in parent.benefits if b.key == benefit.key), None)
    row = existing or models.Benefit(key=benefit.key)
    row.name, row.category, row.metric, row.unit = benefit.name, benefit.category.value, benefit.metric, benefit.unit
    row.direction, row.measure = benefit.direction.value, benefit.measure.value
    row.baseline_value, row.baseline_date = benefit.baseline.value, benefit.baseline.date
    row.target_value, row.target_date = benefit.target.value, benefit.target.date
    row.start_date = register.benefit_start(initiative, benefit)
    row.owner, row.attribution, row.cash_releasing = benefit.owner, benefit.attribution, benefit.cash_releasing
    row.dis_benefit, row.value_per_unit = benefit.dis_benefit, benefit.value_per_unit
    row.spec = benefit.model_dump(mode="json")
    return row


def _save_metrics(session: Session, register: reg.Register) -> None:
    """Store every metric the benefits measure (used) and every catalogue metric (unused)."""
    used = {b.metric: b.unit for _, b in register.benefits()}
    new = {m.name: m.unit for m in register.unused_metrics()} | used
    for metric in session.scalars(select(models.Metric)):
        metric.used = metric.name in used
        if metric.name in new:
            metric.unit = new.pop(metric.name)
    session.add_all(models.Metric(name=name, unit=unit, used=name in used) for name, unit in new.items())


def portfolio(session: Session) -> models.Portfolio | None:
    """The stored register's name and currency (None before the first ``benefits init``)."""
    return session.scalars(select(models.Portfolio)).first()


def declared_benefit(row: models.Benefit) -> reg.Benefit:
    """The register's view of a stored benefit."""
    return reg.Benefit.model_validate(row.spec)


def benefits(session: Session) -> list[models.Benefit]:
    """Every stored benefit with its initiative and programme loaded, in register order."""
    return list(session.scalars(select(models.Benefit).order_by(models.Benefit.id)))


@dataclass(frozen=True)
class LoadCounts:
    """What loading a batch did: new values, restated values (old ones kept), unchanged values."""

    new: int
    restated: int
    unchanged: int


def load_observations(session: Session, source: str, sync_run_id: int, rows: list[dict[str, Any]]) -> LoadCounts:
    """Store a batch from ``source``: new values are inserted, a changed value keeps its old revision.

    ``rows`` hold ``metric``, ``period``, ``value``, ``unit`` and ``source_ref`` (where the row came
    from, or None), kept with the value as its lineage. Loading the same batch twice
    changes nothing (delivery is at least once). Only the stored values within the rows' period
    range are read, so a sync run loading chunk after chunk of ordered periods stays linear.
    Values not stored yet are written with a plain INSERT in (metric, period) order, the order of
    the unique index, so that a large transaction touches few index pages at a time; restated
    values (and a key repeated within ``rows``, the last one wins) go through the upsert. A value
    that another transaction stores meanwhile makes the INSERT fail rather than be overwritten.
    A value that is not a finite number raises :class:`BenefitsError` before anything is written:
    validation quarantines such rows, and neither NaN (which PostgreSQL would store) nor a missing
    value may reach the table by another path.
    """
    if not rows:
        return LoadCounts(0, 0, 0)
    for row in rows:
        _check_finite(row)
    periods = [r["period"] for r in rows]
    current = _current_values(session, source, {r["metric"] for r in rows}, (min(periods), max(periods)))
    fresh: dict[tuple[str, Any], dict[str, Any]] = {}
    repeated: list[dict[str, Any]] = []
    restated: list[dict[str, Any]] = []
    unchanged = 0
    for row in rows:
        key = (row["metric"], row["period"])
        before = current.get(key)
        if before is None and key in fresh:
            repeated.append(row)
        elif before is None:
            fresh[key] = row
        elif before.value == row["value"] and before.unit == row["unit"]:
            unchanged += 1
        else:
            restated.append(row)
            session.add(
                models.ObservationRevision(
                    metric=before.metric,
                    period=before.period,
                    source=source,
                    value=before.value,
                    unit=before.unit,
                    sync_run_id=before.sync_run_id,
                    replaced_by_sync_run_id=sync_run_id,
                    source_ref=before.source_ref,
                )
            )
    stamp = {"source": source, "sync_run_id": sync_run_id}
    _insert_new(session, [{"source_ref": None, **fresh[key], **stamp} for key in sorted(fresh)])
    _upsert(session, [{"source_ref": None, **r, **stamp} for r in repeated + restated])
    return LoadCounts(len(fresh) + len(repeated), len(restated), unchanged)


def _check_finite(row: dict[str, Any]) -> None:
    """Refuse an observation whose value is not a finite number (None, NaN, ±inf, text, a bool)."""
    value = row["value"]
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise BenefitsError(
            f"refused to store {row['metric']} {row['period']}: its value {value!r} is not a finite number"
        )


def _current_values(
    session: Session, source: str, metrics: set[str], periods: tuple[Any, Any]
) -> dict[tuple[str, Any], Any]:
    query = select(
        models.Observation.metric,
        models.Observation.period,
        models.Observation.value,
        models.Observation.unit,
        models.Observation.sync_run_id,
        models.Observation.source_ref,
    ).where(
        models.Observation.source == source,
        models.Observation.metric.in_(sorted(metrics)),
        models.Observation.period.between(*periods),
    )
    return {(r.metric, r.period): r for r in session.execute(query)}


def stored_values(session: Session, source: str, metrics: set[str], since: dt.date, before: dt.date) -> pd.DataFrame:
    """``source``'s stored values of ``metrics`` with ``since <= period < before``: ``metric``,
    ``period`` (datetime64), ``value`` (the series the jump check extends)."""
    import pandas as pd

    query = select(models.Observation.metric, models.Observation.period, models.Observation.value).where(
        models.Observation.source == source,
        models.Observation.metric.in_(sorted(metrics)),
        models.Observation.period >= since,
        models.Observation.period < before,
    )
    frame = pd.DataFrame(session.execute(query).all(), columns=["metric", "period", "value"])
    frame["period"] = pd.to_datetime(frame["period"]).astype("datetime64[ns]")
    return frame


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(OBSERVATIONS), rows)  # Core executemany, not the ORM's bulk path


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    from sqlalchemy.dialects.postgresql import insert as pg_insert  # here: read-only commands never load dialects
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = upsert(OBSERVATIONS)  # the Table: Core executemany, not the ORM's bulk path
    statement = statement.on_conflict_do_update(
        index_elements=["metric", "period", "source"],
        set_={
            "value": statement.excluded.value,
            "unit": statement.excluded.unit,
            "sync_run_id": statement.excluded.sync_run_id,
            "source_ref": statement.excluded.source_ref,
        },
    )
    session.execute(statement, rows)


@dataclass(frozen=True)
class Lineage:
    """Where one stored reading came from."""

    period: dt.date
    value: float
    source: str
    """The connector that loaded it."""
    source_ref: str | None
    """Where in the source: file:line, table key, URL and cursor (None for rows loaded before lineage was kept)."""
    sync_run_id: int
    loaded_at: dt.datetime | None
    """When that sync run finished."""


def lineage(session: Session, metric: str, as_of: dt.date, limit: int = 12) -> list[Lineage]:
    """The latest ``limit`` readings of ``metric`` up to ``as_of`` (every source's), newest first,
    each with its source, its place in the source and the sync run that loaded it."""
    o, run = models.Observation, models.SyncRun
    query = (
        select(o.period, o.value, o.source, o.source_ref, o.sync_run_id, run.finished_at)
        .join(run, run.id == o.sync_run_id)
        .where(o.metric == metric, o.period <= as_of)
        .order_by(o.period.desc(), o.id.desc())
        .limit(limit)
    )
    return [Lineage(*row) for row in session.execute(query)]


def revisions(session: Session, metric: str) -> list[models.ObservationRevision]:
    """Earlier values of a metric's observations, oldest first."""
    query = select(models.ObservationRevision).where(models.ObservationRevision.metric == metric)
    return list(session.scalars(query.order_by(models.ObservationRevision.id)))


def bookmark(session: Session, connector: str) -> Any:
    """The latest period accepted from ``connector``, or None before its first sync."""
    state = session.get(models.ConnectorState, connector)
    return state.bookmark if state else None


def advance_bookmark(session: Session, connector: str, period: Any) -> None:
    """Move the connector's bookmark forward to ``period`` (never backwards)."""
    state = session.get(models.ConnectorState, connector) or models.ConnectorState(connector=connector)
    if state.bookmark is None or period > state.bookmark:
        state.bookmark = period
    session.add(state)


def record_metrics(session: Session, seen: dict[str, str]) -> None:
    """Add metrics seen in observations that the store does not know yet (as unused)."""
    known = set(session.scalars(select(models.Metric.name)))
    session.add_all(models.Metric(name=n, unit=u, used=False) for n, u in seen.items() if n not in known)


def observation_points(
    session: Session, metrics: Iterable[str], as_of: dt.date | None = None
) -> dict[str, list[tuple[dt.date, float]]]:
    """Each metric's observations (up to ``as_of`` when given) as (period, value) pairs in period order,
    one per period: the most recently loaded wins (:func:`_latest_loads`). Metrics without any are absent."""
    found: dict[str, list[tuple[dt.date, float]]] = {}
    for metric, period, value in _latest_loads(session, metrics, as_of):
        day = period if isinstance(period, dt.date) else dt.date.fromisoformat(period)
        found.setdefault(metric, []).append((day, value))
    return found


def observations(session: Session, metric: str) -> pd.DataFrame:
    """A metric's observations (``period`` as dates, ``value``), one per period: the most recently loaded
    wins (:func:`observation_points` as a DataFrame)."""
    import pandas as pd

    return pd.DataFrame(observation_points(session, [metric]).get(metric, []), columns=["period", "value"])


def observations_of(session: Session, metrics: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The observations of several metrics, as :func:`observations` gives each (most recently loaded
    wins), with ``period`` as datetime64 and ``value`` as float; an empty frame for a metric without any.

    The forecast reads every observation of the portfolio this way: the kept rows go into numpy
    arrays once, and each metric's frame is a slice of them."""
    import numpy as np
    import pandas as pd

    wanted = sorted(set(metrics))
    rows = _latest_loads(session, wanted)
    names, periods, values = zip(*rows, strict=True) if rows else ((), (), ())
    day = np.array([str(period) for period in periods], dtype="datetime64[D]")  # ISO text or a date
    value = np.array(values, dtype=float)
    metric_of = np.array(names, dtype=object)
    bounds: dict[str, tuple[int, int]] = {}
    if len(names):  # each metric's rows are one run: from its first row to the next metric's
        starts = np.flatnonzero(np.r_[True, metric_of[1:] != metric_of[:-1]])
        bounds = dict(zip(metric_of[starts], zip(starts, np.r_[starts[1:], len(names)], strict=True), strict=True))
    frames: dict[str, pd.DataFrame] = {}
    for metric in wanted:
        first, end = bounds.get(metric, (0, 0))
        frames[metric] = pd.DataFrame({"period": day[first:end].astype("datetime64[ns]"), "value": value[first:end]})
    return frames


def _latest_loads(
    session: Session, metrics: Iterable[str], as_of: dt.date | None = None
) -> list[tuple[str, Any, float]]:
    """(metric, period, value) of the metrics' observations (up to ``as_of`` when given) in (metric,
    period) order, one per period: of a period's rows (one per source) the most recently loaded, the
    highest id, wins. The one place that rule is written; every reader of observations goes through it.

    Rows are read through the session's connection in the order of the (metric, period, source)
    unique index, periods as the database gives them (ISO text on SQLite, dates on PostgreSQL): no
    ORM row processing and no sort by id for a portfolio's worth of rows."""
    table = OBSERVATIONS
    kept: list[tuple[str, Any, float]] = []
    wanted = sorted(set(metrics))
    for first in range(0, len(wanted), _METRICS_PER_QUERY):
        query = select(table.c.metric, type_coerce(table.c.period, String), table.c.value, table.c.id).where(
            table.c.metric.in_(wanted[first : first + _METRICS_PER_QUERY])
        )
        if as_of is not None:
            query = query.where(table.c.period <= as_of)
        metric_before, period_before, id_before = None, None, 0
        for metric, period, value, row_id in session.connection().execute(
            query.order_by(table.c.metric, table.c.period)
        ):
            if period == period_before and metric == metric_before:
                if row_id < id_before:
                    continue  # an earlier load of the same period, from another source
                kept[-1] = (metric, period, value)
            else:
                kept.append((metric, period, value))
            metric_before, period_before, id_before = metric, period, row_id
    return kept


_METRICS_PER_QUERY = 500  # bounds the number of query parameters


def forecast_runs(session: Session, limit: int = 2) -> list[models.ForecastRun]:
    """The most recent finished forecast runs, newest first."""
    query = (
        select(models.ForecastRun)
        .where(models.ForecastRun.finished_at.is_not(None))
        .order_by(models.ForecastRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _finished_by(as_of: dt.date | None) -> ColumnElement[bool]:
    """A finished forecast run, made as of ``as_of`` or before when it is given."""
    finished = models.ForecastRun.finished_at.is_not(None)
    return finished if as_of is None else and_(finished, models.ForecastRun.as_of <= as_of)


def latest_and_previous_runs(
    session: Session, as_of: dt.date | None = None
) -> tuple[models.ForecastRun | None, models.ForecastRun | None]:
    """The latest finished forecast run and the one to compare it with: the latest run of an
    earlier ``as_of`` (last week's), else the run just before (a re-run of the same date).

    With ``as_of`` (what `benefits status` shows at a date), the latest is the run of the latest date
    at or before ``as_of`` (of that date, the last made): never a run of a later date, forecast from
    data not there at ``as_of``, nor one back-dated after it (a re-forecast of an earlier week)."""
    finished = _finished_by(as_of)
    if as_of is None:
        latest = next(iter(forecast_runs(session, limit=1)), None)
    else:
        by_date = select(models.ForecastRun).where(finished)
        latest = session.scalars(
            by_date.order_by(models.ForecastRun.as_of.desc(), models.ForecastRun.id.desc()).limit(1)
        ).first()
    if latest is None:
        return None, None
    earlier = select(models.ForecastRun).where(finished, models.ForecastRun.as_of < latest.as_of)
    previous = session.scalars(earlier.order_by(models.ForecastRun.as_of.desc(), models.ForecastRun.id.desc())).first()
    if previous is None:
        before = select(models.ForecastRun).where(finished, models.ForecastRun.id < latest.id)
        previous = session.scalars(before.order_by(models.ForecastRun.id.desc())).first()
    return latest, previous


def first_forecast_date(session: Session) -> dt.date | None:
    """The earliest as-of date of a finished forecast run; None when there is none."""
    return session.scalar(select(func.min(models.ForecastRun.as_of)).where(_finished_by(None)))


@dataclass(frozen=True)
class ProbabilityPoint:
    """One benefit's forecast in one run: how its probability of landing moved week by week."""

    run_id: int
    as_of: dt.date
    p_on_time: float | None
    status: str
    reused: bool


def forecast_history(session: Session, benefit_key: str | None = None) -> dict[str, list[ProbabilityPoint]]:
    """Per benefit (or only ``benefit_key``), its forecast in every finished run, oldest first.

    When a date was forecast more than once, only its latest run counts, so the list has one
    point per ``as_of``."""
    query = (
        select(
            models.Forecast.benefit_key,
            models.ForecastRun.id,
            models.ForecastRun.as_of,
            models.Forecast.p_on_time,
            models.Forecast.status,
            models.Forecast.reused,
        )
        .join(models.ForecastRun, models.Forecast.forecast_run_id == models.ForecastRun.id)
        .where(models.ForecastRun.finished_at.is_not(None))
        .order_by(models.ForecastRun.as_of, models.ForecastRun.id)
    )
    if benefit_key is not None:
        query = query.where(models.Forecast.benefit_key == benefit_key)
    latest: dict[tuple[str, dt.date], ProbabilityPoint] = {}
    for key, run_id, as_of, p, status, reused in session.execute(query):
        latest[(key, as_of)] = ProbabilityPoint(run_id, as_of, p, status, reused)
    history: dict[str, list[ProbabilityPoint]] = {}
    for (key, _), point in latest.items():
        history.setdefault(key, []).append(point)
    return history


def forecasts_of(
    session: Session, run: models.ForecastRun | None, verdicts_only: bool = False
) -> dict[str, models.Forecast]:
    """The forecasts of one run keyed by benefit. With ``verdicts_only`` their paths, raw
    forecasts and fitted parameters (the bulk of a row) are read only when touched, inside the
    session: what a run that reuses most forecasts needs."""
    if run is None:
        return {}
    query = select(models.Forecast).where(models.Forecast.forecast_run_id == run.id)
    if verdicts_only:
        query = query.options(
            defer(models.Forecast.path), defer(models.Forecast.raw), defer(models.Forecast.fit_params)
        )
    return {f.benefit_key: f for f in session.scalars(query)}


def copy_forecasts(session: Session, forecasts: Iterable[models.Forecast], run_id: int) -> None:
    """Copy stored forecasts into the run ``run_id`` as reused (``reused`` true), every column
    included, inside the database: a weekly run keeps most forecasts as they were without
    reading or writing their paths in Python."""
    table = cast(Table, models.Forecast.__table__)
    copied = [column for column in table.columns if column.name not in {"id", "forecast_run_id", "reused"}]
    ids = sorted(forecast.id for forecast in forecasts)
    for start in range(0, len(ids), 500):  # bound the number of query parameters
        rows = select(literal(run_id), literal(True), *copied).where(table.c.id.in_(ids[start : start + 500]))
        session.execute(insert(table).from_select(["forecast_run_id", "reused", *(c.name for c in copied)], rows))


def sync_runs(session: Session, limit: int = 50) -> list[models.SyncRun]:
    """The most recent sync runs, newest first."""
    return list(session.scalars(select(models.SyncRun).order_by(models.SyncRun.id.desc()).limit(limit)))


def held_rows_by_metric(session: Session, metrics: set[str]) -> dict[str, int]:
    """How many rows of each of ``metrics`` (as the connector named it) are held in quarantine."""
    if not metrics:
        return {}
    q = models.QuarantinedRow
    metric = q.record["metric"].as_string()
    query = select(metric, func.count()).where(q.resolved_at.is_(None), metric.in_(sorted(metrics))).group_by(metric)
    return {name: count for name, count in session.execute(query)}


def quarantine_count(session: Session) -> int:
    """How many rows are held in quarantine (not loaded by a retry nor resolved by hand)."""
    held = models.QuarantinedRow.resolved_at.is_(None)
    return session.scalar(select(func.count()).select_from(models.QuarantinedRow).where(held)) or 0
