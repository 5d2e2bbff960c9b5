"""`benefits value`'s report kept in the store, per data version and options (issue 10).

Computing the report reads every benefit's observations and forecast path and draws the roll-up:
seconds for a large portfolio. The first run at a date (or the weekly job) keeps the computed report
as JSON with the store's data version (``benefits.store.snapshots.inputs``, the one the position
snapshot uses), the roll-up's options (correlation and draws) and the report's layout; a later run
with the same date and options reads it while the data version is unchanged, so it is never served
once a sync, forecast run or register save changed what it was computed from. The kept report does
not depend on the output format or on ``--fy``: every fiscal year is kept and the one asked for is
chosen when it is read (``benefits.value.build.choose``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import types
from decimal import Decimal
from functools import cache
from typing import Any, Union, get_args, get_origin, get_type_hints

from sqlalchemy import Connection
from sqlalchemy.orm import Session

import benefits
from benefits.store import snapshots
from benefits.value.build import choose, compute
from benefits.value.report import ValueReport


def kept_report(
    connection: Connection, as_of: dt.date, year: int | None, correlation: float, samples: int
) -> ValueReport:
    """The report at ``as_of`` with the roll-up's ``correlation`` and ``samples``, showing fiscal year
    ``year`` (see ``benefits.value.build.build``): the kept one when the store's data has not changed
    since it was computed, else computed and kept (which commits, so ``connection`` must have no other
    pending change; a store that refuses the write is logged and the report returned all the same)."""
    version = snapshots.inputs(connection)
    options = f"correlation={correlation!r};samples={samples}"
    payload = snapshots.find_value_report(connection, as_of, version, options, layout())
    if payload is not None:
        return choose(decoded(payload), year)
    with Session(bind=connection) as session:
        report = compute(session, as_of, correlation, samples)
    snapshots.write_value_report(connection, as_of, version, options, layout(), encoded(report))
    return choose(report, year)


def encoded(report: ValueReport) -> str:
    """The report as JSON text: dataclasses as objects, money as decimal text, dates in ISO."""
    return json.dumps(_plain(report), separators=(",", ":"))


def decoded(payload: str) -> ValueReport:
    """:func:`encoded`'s report back, every field of its type."""
    report: ValueReport = _typed(ValueReport, json.loads(payload))
    return report


@cache
def layout() -> str:
    """A digest of the report's fields, all the way down, and the package's version: a report kept by
    another version of benefits, or with other fields, is computed again."""
    return hashlib.sha256(repr((benefits.__version__, _fields(ValueReport))).encode()).hexdigest()


def _fields(kind: Any) -> Any:
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return (kind.__name__, [(name, _fields(hint)) for name, hint in _hints(kind).items()])
    return repr(kind)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _typed(hint: Any, value: Any) -> Any:
    """``value`` read from JSON as ``hint`` says: a dataclass, a list or dict of them, Decimal, date."""
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        (kind,) = [arg for arg in get_args(hint) if arg is not type(None)]
        return _typed(kind, value)
    if origin is list:
        return [_typed(get_args(hint)[0], item) for item in value]
    if origin is dict:
        return {key: _typed(get_args(hint)[1], item) for key, item in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint(**{name: _typed(kind, value[name]) for name, kind in _hints(hint).items()})
    if hint is Decimal:
        return Decimal(value)
    if hint is dt.date:
        return dt.date.fromisoformat(value)
    return value


@cache
def _hints(kind: type) -> dict[str, Any]:
    return get_type_hints(kind)
