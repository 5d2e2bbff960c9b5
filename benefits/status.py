"""Every benefit's position at a date: planned and realised to date, and its latest forecast made by then.

:func:`positions` is the one reading that `benefits status`, the dashboard (its snapshot,
``benefits.dashboards.snapshot``), the steering pack and the digest share, so they cannot
disagree. It serves the position snapshot kept in the store (``benefits.store.snapshots``) while
the data it was computed from is unchanged, and otherwise computes the positions
(``benefits.live_positions``): the same function's rows either way. :func:`kept_positions` also
keeps what it computed, for the next reader; the weekly job (``benefits forecast`` and ``benefits
run``) writes the snapshot of its date when its forecast run is stored.

Only SQLAlchemy's core and the standard library are imported here, so `benefits status` reading a
snapshot stays quick; the store reading and the maths are imported when positions are computed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, is_dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, get_args, get_type_hints

import benefits
from benefits.store import snapshots

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from benefits.staleness import MetricSummary

STATUSES = ("achieved", "on_track", "at_risk", "off_track", "insufficient_data", "no_data", "data_stale", "failed")
NOT_FORECAST = "not forecast yet: run `benefits forecast`"
REBASELINED, STATUS_CHANGED = "re-baselined", "status changed"
"""A row's ``change``: re-baselined (whatever its status did) comes before a plain status change."""


@dataclass(frozen=True)
class StatusRow:
    """One benefit's line in `benefits status` (JSON field names are a public contract)."""

    benefit: str
    name: str
    initiative: str
    programme: str
    category: str
    tactic: str
    owner: str
    metric: str
    unit: str
    direction: str
    dis_benefit: bool
    baseline: float
    target: float
    target_date: str
    planned_to_date: float
    realised_to_date: float | None
    percent_realised: float | None
    planned_value: float
    realised_value: float
    forecast_at_target_date: float | None
    forecast_low_80: float | None  # the forecast's 80% interval at the target date, in the metric's unit
    forecast_high_80: float | None
    p_on_time: float | None
    expected_landing: str | None
    status: str
    previous_status: str | None
    message: str
    value_type: str = "amount"  # run_rate: the value is an annual rate; amount: money banked by then
    cash_to_date: Decimal = Decimal(0)  # money banked by the date (a run-rate accrued day by day), to the penny
    planned_cash_to_date: Decimal = Decimal(0)
    run_rate: Decimal | None = None  # a run-rate benefit's annual rate at the date (None for an amount)
    # baseline change control (benefits.store.baselines): what changed since the forecast run compared with,
    # "re-baselined" (baseline, target, dates, profile or attribution) or "status changed", else None
    change: str | None = None
    original_baseline: float | None = None  # the approved baseline and target: the benefit's first revision
    original_baseline_date: str | None = None
    original_target: float | None = None
    original_target_date: str | None = None
    rebaselines: int = 0  # how many times it was re-baselined; the latest: when (UTC), by whom, why, what
    rebaselined_at: str | None = None
    rebaselined_by: str | None = None
    rebaseline_reason: str | None = None
    rebaselined_changes: str | None = None  # "target value 5.5 → 6.5; target date 2027-01-04 → 2027-06-28"
    overdue_actions: int = 0  # open actions on the benefit past their due date at the date (benefits.commentary)
    # the as-of date of the forecast run that the forecast figures (status, p_on_time, landing, interval) come
    # from: the latest run made as of the row's date or before, never a later one; None without a forecast
    forecast_as_of: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The row as a dict (money as Decimal to the penny: `benefits status` writes it as decimal text).
        Every field is a plain value, so a shallow copy (``dataclasses.asdict`` copies deeply, 20x slower)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Position:
    """One benefit at a date: its `benefits status` row and what the dashboard also shows of it."""

    row: StatusRow
    initiative_name: str
    programme_name: str
    outcome: str
    initiative_owner: str
    measure: str
    baseline_date: dt.date
    start_date: dt.date
    cash_releasing: bool
    points: int  # observed periods after the baseline date up to as_of
    last_period: str | None  # the latest of them (ISO date)
    value_at_target: float  # the money value of the full target improvement

    def as_dict(self) -> dict[str, Any]:
        """The position as one flat dict: its status row's fields, then the others (the dashboard's columns)."""
        return self.row.as_dict() | {f.name: getattr(self, f.name) for f in fields(self) if f.name != "row"}


def positions(
    session: Session,
    as_of: dt.date | None = None,
    *,
    initiative: str | None = None,
    benefit: str | None = None,
) -> list[Position]:
    """Every stored benefit (register order) at ``as_of`` (default today), with the latest forecast
    run; only the benefits of ``initiative``, or only ``benefit``, when given (a page about them
    reads no more than it shows).

    The current position snapshot's rows when there is one (nothing changed in the store since it
    was computed), else ``benefits.live_positions.compute``'s: the same values either way.
    A benefit whose metric is stale at ``as_of`` (``benefits.staleness``) has status
    ``data_stale``, that message, and no forecast figures: no confident forecast from data that
    stopped coming."""
    as_of = as_of or dt.date.today()
    connection = session.connection()
    kept = _current(connection, as_of)
    if kept is not None:
        return _decoded(snapshots.payloads(connection, kept, initiative=initiative, benefit=benefit))
    from benefits.live_positions import compute  # the store reading and the maths: only when no snapshot serves

    return compute(session, as_of, initiative=initiative, benefit=benefit)


def kept_positions(connection: Connection, as_of: dt.date | None = None) -> list[Position]:
    """:func:`positions` of every benefit at ``as_of`` (default today) through ``connection``, from
    the position snapshot of ``as_of``, which is computed and kept first when the store's data changed
    since (or there is none); see :func:`kept_metric_health` for the snapshot's other half.

    `benefits status`, the dashboard and the weekly job read this way. Keeping a snapshot commits
    it, so ``connection`` must have no other pending change; a store that refuses the write is
    logged, and the rows are returned all the same."""
    as_of = as_of or dt.date.today()
    kept = _current(connection, as_of)
    return _decoded(snapshots.payloads(connection, kept)) if kept is not None else _keep(connection, as_of)[0]


def kept_rows(connection: Connection, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """:func:`kept_positions` as flat dicts (``Position.as_dict``), read without building the
    positions: the dashboard's snapshot frame is made of these."""
    as_of = as_of or dt.date.today()
    kept = _current(connection, as_of)
    if kept is None:
        return [position.as_dict() for position in _keep(connection, as_of)[0]]
    return _rows(snapshots.payloads(connection, kept))


def kept_metric_health(connection: Connection, as_of: dt.date | None = None) -> list[MetricSummary]:
    """Every metric's health at ``as_of`` (default today), ``benefits.staleness.metric_summaries``, as
    the positions of :func:`kept_positions` were computed with it (the dashboard's data-quality page
    shows it): kept in the same snapshot, and computed and kept alike when there is none."""
    as_of = as_of or dt.date.today()
    kept = _current(connection, as_of)
    if kept is None:
        return _keep(connection, as_of)[1]
    from benefits.staleness import MetricSummary

    try:
        kept_metrics = json.loads(snapshots.metrics(connection, kept))
        return [MetricSummary(**_parsed(values, _parsers(MetricSummary))) for values in kept_metrics]
    except (KeyError, TypeError):  # kept by a version of benefits whose MetricSummary had other fields
        return _keep(connection, as_of)[1]


def _current(connection: Connection, as_of: dt.date) -> int | None:
    """The snapshot of ``as_of`` computed from the store's data as it is now, with this layout; None without."""
    return snapshots.find(connection, as_of, snapshots.inputs(connection), LAYOUT)


def _keep(connection: Connection, as_of: dt.date) -> tuple[list[Position], list[MetricSummary]]:
    """Every benefit's position and every metric's health at ``as_of``, computed and kept as its snapshot."""
    from sqlalchemy.orm import Session

    from benefits.live_positions import compute  # the store reading and the maths: only when no snapshot serves
    from benefits.staleness import metric_summaries

    version = snapshots.inputs(connection)
    with Session(bind=connection) as session:
        health = metric_summaries(session, as_of)
        found = compute(session, as_of, metrics=health)
    rows = [snapshots.Row(p.row.benefit, p.row.initiative, _encoded(p)) for p in found]
    metrics = json.dumps([asdict(m) for m in health], default=_text, separators=(",", ":"))
    snapshots.write(connection, as_of, version, LAYOUT, rows, metrics)
    return found, health


def status_rows(session: Session, as_of: dt.date | None = None) -> list[StatusRow]:
    """Every stored benefit's status at ``as_of`` (default today): the rows of :func:`positions`."""
    return [position.row for position in positions(session, as_of)]


def changed(rows: list[StatusRow]) -> list[StatusRow]:
    """The rows that changed since the previous forecast run (`benefits status --changes`): re-baselined,
    or with another status than in that run (their ``change``).

    A benefit that the previous run did not forecast (new in the register) has no previous status
    and is not listed unless re-baselined."""
    return [row for row in rows if row.change is not None]


def rebaseline_text(row: Any) -> str:
    """A status row's latest re-baselining in one line: ``target value 5.5 → 6.5 (alice, 2026-12-01): why``."""
    when = (row.rebaselined_at or "")[:10]
    return f"{row.rebaselined_changes} ({row.rebaselined_by}, {when}): {row.rebaseline_reason or 'no reason given'}"


LAYOUT = hashlib.sha256(
    repr(
        (benefits.__version__, sorted(get_type_hints(StatusRow).items()), sorted(get_type_hints(Position).items()))
    ).encode()
).hexdigest()
"""The snapshot rows' layout: the fields of a position and the package's version (a snapshot written by
another version of benefits is computed again)."""


def _encoded(found: Position) -> str:
    """A position as one flat JSON object (money as decimal text, dates in ISO)."""
    return json.dumps(found.as_dict(), default=_text, separators=(",", ":"))


def _text(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not kept in a position snapshot")


def _rows(payloads: list[str]) -> list[dict[str, Any]]:
    """:func:`_encoded`'s positions back as flat dicts (parsed as one JSON list: a snapshot is read in one go)."""
    parsers = _parsers(StatusRow) | _parsers(Position)
    return [_parsed(row, parsers) for row in json.loads(f"[{','.join(payloads)}]")]


def _decoded(payloads: list[str]) -> list[Position]:
    """:func:`_encoded`'s positions back."""
    return [
        Position(row=StatusRow(**{name: row[name] for name in _parsers(StatusRow)}), **_shown(row))
        for row in _rows(payloads)
    ]


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """What a position shows beside its status row, among a flat row's values."""
    return {name: row[name] for name in _parsers(Position)}


def _parsed(values: dict[str, Any], parsers: dict[str, Callable[[str], Any] | None]) -> dict[str, Any]:
    """``values`` (changed in place) with decimal text as Decimal and ISO text as dates, as ``parsers`` say."""
    for name, parse in parsers.items():
        if parse is not None and values[name] is not None:
            values[name] = parse(values[name])
    return values


@cache
def _parsers(kind: type) -> dict[str, Callable[[str], Any] | None]:
    """Per field of the dataclass ``kind`` (but dataclass fields): how its JSON text is read back, or None as it is."""
    parsers: dict[str, Callable[[str], Any] | None] = {}
    for name, hint in get_type_hints(kind).items():
        kinds = {hint, *get_args(hint)}
        if any(is_dataclass(k) for k in kinds):
            continue
        parsers[name] = Decimal if Decimal in kinds else dt.date.fromisoformat if dt.date in kinds else None
    return parsers
