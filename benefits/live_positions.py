"""Every benefit's position at a date computed from the store: what a position snapshot holds.

``benefits.status.positions`` serves a snapshot while the store's data is unchanged and calls
:func:`compute` when there is none. The store aggregates the observations in SQL (one grouped
query for every benefit, SQLite and PostgreSQL alike: per benefit the latest value and the total
since its baseline date up to ``as_of``, one value per period, the most recently loaded as
``repository.observation_points`` keeps it); the register and each forecast run are one query
each. The maths is ``benefits.realisation``'s, staleness ``benefits.staleness``'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session, aliased

from benefits import realisation
from benefits.commentary import overdue_counts
from benefits.register import Benefit, ValueType
from benefits.staleness import MetricSummary, metric_summaries
from benefits.status import NOT_FORECAST, REBASELINED, STATUS_CHANGED, Position, StatusRow
from benefits.store import baselines, models, repository

_Runs = tuple[models.ForecastRun | None, models.ForecastRun | None]
"""The latest forecast run made as of a date or before, and the one it is compared with
(``repository.latest_and_previous_runs``)."""


@dataclass(frozen=True)
class _Window:
    """A benefit's observations after its baseline date up to ``as_of``, one value per period."""

    points: int
    last_period: dt.date
    latest: float
    total: float


@dataclass(frozen=True)
class _Forecast:
    status: str
    message: str
    p_on_time: float | None
    expected_landing: dt.date | None
    at_target: float | None
    low: float | None
    high: float | None
    run_as_of: dt.date | None = None  # the as-of date of the forecast run the figures come from


def compute(
    session: Session,
    as_of: dt.date,
    *,
    initiative: str | None = None,
    benefit: str | None = None,
    metrics: list[MetricSummary] | None = None,
) -> list[Position]:
    """Every stored benefit (register order) at ``as_of`` with the latest forecast run made as of
    that date or before (never a run of a later date: it forecast from data not there at ``as_of``),
    read and computed from the store; only the benefits of ``initiative``, or only ``benefit``, when given (a page
    about them reads no more than it shows). ``metrics`` are ``metric_summaries(session, as_of)``
    when the caller already has them.

    A benefit whose metric is stale at ``as_of`` (``benefits.staleness``) has status
    ``data_stale``, that message, and no forecast figures: no confident forecast from data that
    stopped coming."""
    register = _REGISTER
    if initiative is not None:
        register = register.where(_I.key == initiative)
    if benefit is not None:
        register = register.where(_B.key == benefit)
    rows = session.execute(register).all()
    subset = initiative is not None or benefit is not None
    if metrics is None:
        metrics = metric_summaries(session, as_of, {row.metric for row in rows} if subset else None)
    stale = {m.metric: m.message() for m in metrics if m.stale}
    several_sources = {m.metric for m in metrics if len(m.sources) > 1}
    windows = _windows(session, as_of, several_sources, [row.id for row in rows] if subset else None)
    keys = [row.benefit for row in rows] if subset else None
    runs = repository.latest_and_previous_runs(session, as_of)
    latest, previous = _forecasts(session, keys, runs)
    not_forecast = NOT_FORECAST if runs[0] is not None else _not_forecast(session, as_of)
    held = repository.held_rows_by_metric(session, {row.metric for row in rows if row.id not in windows})
    specs = {row.id: Benefit.model_validate(row.spec) for row in rows}
    accruing = {specs[row.id].metric for row in rows if realisation.value_type(specs[row.id]) is ValueType.run_rate}
    points = repository.observation_points(session, accruing, as_of)
    control = _change_control(session, keys, runs)
    overdue = overdue_counts(session, as_of, keys)
    found = [
        _position(
            row,
            specs[row.id],
            windows.get(row.id),
            latest.get(row.benefit),
            previous.get(row.benefit),
            stale.get(row.metric),
            as_of,
            held.get(row.metric, 0),
            points.get(row.metric, []),
            control.get(row.benefit),
            not_forecast,
        )
        for row in rows
    ]
    return [_with_overdue(p, overdue[p.row.benefit]) if p.row.benefit in overdue else p for p in found]


def _with_overdue(found: Position, count: int) -> Position:
    """``found`` with its count of overdue actions."""
    return replace(found, row=replace(found.row, overdue_actions=count))


def _change_control(session: Session, keys: list[str] | None, runs: _Runs) -> dict[str, baselines.Baselines]:
    """Each benefit's (of ``keys``, or all) original values and re-baselinings; those after the run that
    `status --changes` compares with (of ``runs``, the latest and previous made as of the date or before: the
    previous, or the only one) count as changes."""
    latest, previous = runs
    compared = previous or latest
    return baselines.summaries(session, keys, compared.id if compared else None)


def _control_fields(control: baselines.Baselines | None, previous: str | None, status: str) -> dict[str, Any]:
    """A status row's change-control fields: its ``change``, original baseline and target, latest re-baselining."""
    rebaselined = control is not None and control.since
    fields: dict[str, Any] = {
        "change": REBASELINED if rebaselined else STATUS_CHANGED if previous not in (None, status) else None
    }
    if control is None:
        return fields
    original, latest = control.original, control.latest
    fields |= {
        "original_baseline": original["baseline_value"],
        "original_baseline_date": original["baseline_date"],
        "original_target": original["target_value"],
        "original_target_date": original["target_date"],
        "rebaselines": control.rebaselines,
    }
    if latest is not None:
        fields |= {
            "rebaselined_at": baselines.when(latest.recorded_at),
            "rebaselined_by": latest.recorded_by,
            "rebaseline_reason": latest.reason,
            "rebaselined_changes": baselines.describe(latest.changes),
        }
    return fields


_B, _I, _P = models.Benefit, models.Initiative, models.Programme
_REGISTER = (
    select(
        _B.id,
        _B.key.label("benefit"),
        _B.name,
        _B.metric,
        _B.category,
        _B.owner,
        _B.unit,
        _B.direction,
        _B.measure,
        _B.dis_benefit,
        _B.baseline_value,
        _B.target_value,
        _B.baseline_date,
        _B.target_date,
        _B.start_date,
        _B.cash_releasing,
        _B.spec,
        _I.key.label("initiative"),
        _I.name.label("initiative_name"),
        _I.tactic,
        _I.owner.label("initiative_owner"),
        _P.key.label("programme"),
        _P.name.label("programme_name"),
        _P.outcome,
    )
    .join(_I, _B.initiative_id == _I.id)
    .join(_P, _I.programme_id == _P.id)
    .order_by(_B.id)
)


def _held_message(message: str, metric: str, held: int) -> str:
    """A benefit without observations whose metric has rows held in quarantine says so, and where to look."""
    rows = "row" if held == 1 else "rows"
    return f"{message}; {held:,} {rows} of {metric} held in quarantine (`benefits quarantine list`)"


def _cash(
    benefit: Benefit, start: dt.date, points: list[tuple[dt.date, float]], as_of: dt.date
) -> tuple[Decimal, Decimal]:
    """A run-rate benefit's money banked by ``as_of``: (realised from ``points``, planned from its profile)."""
    realised = realisation.banked(benefit, realisation.improvements(benefit, points), benefit.baseline.date, [as_of])
    planned = realisation.banked(benefit, realisation.planned_points(benefit, start, as_of), start, [as_of])
    return realisation.cash(benefit, realised[0]), realisation.cash(benefit, planned[0])


def _position(
    row: Any,
    benefit: Benefit,
    window: _Window | None,
    forecast: _Forecast | None,
    previous: str | None,
    stale: str | None,
    as_of: dt.date,
    held: int = 0,
    points: list[tuple[dt.date, float]] | None = None,
    control: baselines.Baselines | None = None,
    not_forecast: str = NOT_FORECAST,
) -> Position:
    planned = realisation.planned_to_date(benefit, row.start_date, as_of)
    realised = (
        None
        if window is None
        else realisation.improvement(benefit, realisation.quantity(benefit, window.latest, window.total))
    )
    kind = realisation.value_type(benefit)
    if kind is ValueType.run_rate:
        cash, planned_cash = _cash(benefit, row.start_date, points or [], as_of)
    else:
        cash, planned_cash = realisation.cash(benefit, realised or 0.0), realisation.cash(benefit, planned)
    if stale:
        forecast = _Forecast("data_stale", stale, None, None, None, None, None)
    message = forecast.message if forecast else not_forecast
    if window is None and held:
        message = _held_message(message, row.metric, held)
    status_row = StatusRow(
        benefit=row.benefit,
        name=row.name,
        initiative=row.initiative,
        programme=row.programme,
        category=row.category,
        tactic=row.tactic,
        owner=row.owner,
        metric=row.metric,
        unit=row.unit,
        direction=row.direction,
        dis_benefit=row.dis_benefit,
        baseline=row.baseline_value,
        target=row.target_value,
        target_date=row.target_date.isoformat(),
        planned_to_date=round(planned, 4),
        realised_to_date=_rounded(realised, 4),
        percent_realised=_rounded(realisation.percent_realised(benefit, realised), 1),
        planned_value=round(realisation.money_value(benefit, planned), 2),
        realised_value=round(realisation.money_value(benefit, realised), 2),
        forecast_at_target_date=_rounded(forecast.at_target, 4) if forecast else None,
        forecast_low_80=_rounded(forecast.low, 4) if forecast else None,
        forecast_high_80=_rounded(forecast.high, 4) if forecast else None,
        p_on_time=_rounded(forecast.p_on_time, 3) if forecast else None,
        expected_landing=forecast.expected_landing.isoformat() if forecast and forecast.expected_landing else None,
        status=forecast.status if forecast else "no_data",
        previous_status=previous,
        message=message,
        value_type=kind.value,
        cash_to_date=_penny(cash),
        planned_cash_to_date=_penny(planned_cash),
        run_rate=_penny(realisation.cash(benefit, realised))
        if kind is ValueType.run_rate and realised is not None
        else None,
        forecast_as_of=forecast.run_as_of.isoformat() if forecast and forecast.run_as_of else None,
        **_control_fields(control, previous, forecast.status if forecast else "no_data"),
    )
    return Position(
        row=status_row,
        initiative_name=row.initiative_name,
        programme_name=row.programme_name,
        outcome=row.outcome,
        initiative_owner=row.initiative_owner,
        measure=row.measure,
        baseline_date=row.baseline_date,
        start_date=row.start_date,
        cash_releasing=row.cash_releasing,
        points=window.points if window else 0,
        last_period=window.last_period.isoformat() if window else None,
        value_at_target=round(realisation.money_value(benefit, realisation.target_improvement(benefit)), 2),
    )


def _windows(session: Session, as_of: dt.date, several_sources: set[str], ids: list[int] | None) -> dict[int, _Window]:
    """Per benefit id (of ``ids``, or all) with observations after its baseline date up to ``as_of``:
    their :class:`_Window`.

    One grouped query over the observations index. A period has one row per source, so only a
    metric that ``several_sources`` deliver (rare) can have two values for a period: its windows
    are recomputed from ``repository.observation_points``, which keeps the most recently loaded.
    """
    o, b = models.Observation, models.Benefit
    grouped = (
        select(
            b.id,
            b.metric,
            b.baseline_date,
            func.count().label("points"),
            func.max(o.period).label("last_period"),
            func.sum(o.value).label("total"),
        )
        .join(o, and_(o.metric == b.metric, o.period > b.baseline_date, o.period <= as_of))
        .where(b.id.in_(ids) if ids is not None else true())
        .group_by(b.id, b.metric, b.baseline_date)
        .subquery()
    )
    newest = aliased(models.Observation)
    latest = (
        select(newest.value)
        .where(newest.metric == grouped.c.metric, newest.period == grouped.c.last_period)
        .order_by(newest.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(
        grouped.c.id,
        grouped.c.metric,
        grouped.c.baseline_date,
        grouped.c.points,
        grouped.c.last_period,
        grouped.c.total,
        latest,
    )
    windows = {}
    rows = session.execute(query).all()
    recomputed = repository.observation_points(session, {row.metric for row in rows} & several_sources, as_of)
    for benefit_id, metric, baseline_date, points, last_period, total, value in rows:
        if metric in several_sources:
            kept = [v for p, v in recomputed[metric] if baseline_date < p]
            points, value, total = len(kept), kept[-1], sum(kept)
        windows[benefit_id] = _Window(points, last_period, float(value), float(total))
    return windows


def _forecasts(session: Session, keys: list[str] | None, runs: _Runs) -> tuple[dict[str, _Forecast], dict[str, str]]:
    """The figures per benefit (of ``keys``, or all) of the latest of ``runs``
    (``repository.latest_and_previous_runs`` as of the date: the latest finished run made as of it or before),
    and each benefit's status in the run it is compared with."""
    f = models.Forecast
    latest_run, previous_run = runs
    chosen = f.benefit_key.in_(keys) if keys is not None else true()
    latest: dict[str, _Forecast] = {}
    if latest_run is not None:
        figures = select(
            f.benefit_key,
            f.status,
            f.message,
            f.p_on_time,
            f.expected_landing,
            f.forecast_at_target_date,
            f.lower_at_target_date,
            f.upper_at_target_date,
        )
        for key, status, message, p, landing, at_target, low, high in session.execute(
            figures.where(f.forecast_run_id == latest_run.id, chosen)
        ):
            latest[key] = _Forecast(status, message, p, landing, at_target, low, high, latest_run.as_of)
    previous: dict[str, str] = {}
    if previous_run is not None:
        statuses = select(f.benefit_key, f.status).where(f.forecast_run_id == previous_run.id, chosen)
        previous = {key: status for key, status in session.execute(statuses)}
    return latest, previous


def _not_forecast(session: Session, as_of: dt.date) -> str:
    """The message of a benefit when no forecast run was made as of ``as_of`` or before: none was run yet, or
    the first was run as of a later date (`benefits status --as-of` a date before it)."""
    first = repository.first_forecast_date(session)
    if first is None:
        return NOT_FORECAST
    return (
        f"no forecast made as of {as_of} or before (the first is as of {first}):"
        f" run `benefits forecast --as-of {as_of}` for one"
    )


def _penny(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
