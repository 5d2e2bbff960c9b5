"""Position snapshots: every benefit's position at a date, kept in the store (migration 0018).

A snapshot is written whole, in one transaction, with the store's data version it was computed
from (:func:`inputs`) and the layout of its rows (a digest of their fields, chosen by the caller).
A reader asks for the newest snapshot of a date whose inputs and layout are the current ones
(:func:`find`): any sync, restatement, quarantine change, forecast run, register save or action
since makes the inputs differ, so a snapshot is never served once the data it was computed from
changed. Snapshots are append-safe: a writer adds a new one and prunes all but the newest
:data:`KEEP`; a reader takes the newest that matches.

`benefits value`'s report is kept the same way (migration 0019): one JSON document per date, data
version, options and layout (:func:`find_value_report`, :func:`write_value_report`).

The queries are plain SQL over a connection, the same on SQLite and PostgreSQL, so `benefits
status` reading a snapshot imports neither the ORM nor the store's models.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

KEEP = 8
"""Snapshots kept after a write (the newest; several dates may be read at once: today, a week ago)."""

log = logging.getLogger(__name__)

_INPUTS = text(
    """
    SELECT
        (SELECT max(id) FROM observations),
        (SELECT max(id) FROM observation_revisions),
        (SELECT max(id) FROM sync_runs),
        (SELECT max(finished_at) FROM sync_runs),
        (SELECT max(id) FROM quarantine),
        (SELECT count(*) FROM quarantine WHERE resolved_at IS NULL),
        (SELECT max(id) FROM forecast_runs),
        (SELECT count(finished_at) FROM forecast_runs),
        (SELECT max(updated_at) FROM portfolio),
        (SELECT max(id) FROM register_revisions),
        (SELECT max(id) FROM benefit_actions),
        (SELECT max(id) FROM benefit_action_closures)
    """
)
_FIND = text("SELECT max(id) FROM position_snapshots WHERE as_of = :as_of AND inputs = :inputs AND layout = :layout")
_ROWS = "SELECT payload FROM position_snapshot_rows WHERE snapshot_id = :snapshot"
_SNAPSHOT = text(
    "INSERT INTO position_snapshots (as_of, inputs, layout, benefits, metrics)"
    " VALUES (:as_of, :inputs, :layout, :benefits, :metrics) RETURNING id"
)
_METRICS = text("SELECT metrics FROM position_snapshots WHERE id = :snapshot")
_ROW = text(
    "INSERT INTO position_snapshot_rows (snapshot_id, ordinal, benefit_key, initiative_key, payload)"
    " VALUES (:snapshot_id, :ordinal, :benefit_key, :initiative_key, :payload)"
)
_NEWEST_FIRST = text("SELECT id FROM position_snapshots ORDER BY id DESC")
_DROP_ROWS = text("DELETE FROM position_snapshot_rows WHERE snapshot_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
_DROP = text("DELETE FROM position_snapshots WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
_FIND_VALUE = text(
    "SELECT payload FROM value_reports WHERE id = (SELECT max(id) FROM value_reports"
    " WHERE as_of = :as_of AND inputs = :inputs AND options = :options AND layout = :layout)"
)
_VALUE = text(
    "INSERT INTO value_reports (as_of, inputs, options, layout, payload)"
    " VALUES (:as_of, :inputs, :options, :layout, :payload)"
)
_OLD_VALUES = text("SELECT id FROM value_reports ORDER BY id DESC")
_DROP_VALUES = text("DELETE FROM value_reports WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
_SQLITE_WRITE_WAIT_MS = 200  # a snapshot is a convenience: never wait long behind another writer


@dataclass(frozen=True)
class Row:
    """One benefit's entry in a snapshot: its keys and its position as JSON text."""

    benefit_key: str
    initiative_key: str
    payload: str


def inputs(connection: Connection) -> str:
    """The store's data version: what changes whenever a sync (new or restated values), a quarantine
    retry or resolution, a forecast run, a register save or an action (added or done) does."""
    values = connection.execute(_INPUTS).one()
    return "|".join("" if value is None else str(value) for value in values)


def find(connection: Connection, as_of: dt.date, version: str, layout: str) -> int | None:
    """The newest snapshot of ``as_of`` computed from ``version`` with ``layout``; None when there is none."""
    found = connection.execute(_FIND, {"as_of": as_of, "inputs": version, "layout": layout}).scalar()
    return None if found is None else int(found)


def payloads(
    connection: Connection, snapshot: int, *, initiative: str | None = None, benefit: str | None = None
) -> list[str]:
    """The rows of ``snapshot`` in register order (only those of ``initiative``, or only ``benefit``)."""
    query = _ROWS
    if initiative is not None:
        query += " AND initiative_key = :initiative"
    if benefit is not None:
        query += " AND benefit_key = :benefit"
    values = {"snapshot": snapshot, "initiative": initiative, "benefit": benefit}
    return list(connection.execute(text(f"{query} ORDER BY ordinal"), values).scalars())


def metrics(connection: Connection, snapshot: int) -> str:
    """The metrics' health kept with ``snapshot`` (JSON text)."""
    return str(connection.execute(_METRICS, {"snapshot": snapshot}).scalar_one())


def write(connection: Connection, as_of: dt.date, version: str, layout: str, rows: Sequence[Row], metrics: str) -> bool:
    """Keep ``rows`` (and the ``metrics``' health, JSON text) as the snapshot of ``as_of`` and commit,
    pruning all but the newest :data:`KEEP` snapshots; False (nothing written, the transaction rolled
    back) when the store refuses the write (read-only, or another writer holds it), which is logged:
    the caller serves its rows all the same."""

    def keep() -> None:
        values = {"as_of": as_of, "inputs": version, "layout": layout, "benefits": len(rows), "metrics": metrics}
        snapshot = connection.execute(_SNAPSHOT, values).scalar_one()
        if rows:
            kept = [{"snapshot_id": snapshot, "ordinal": n, **vars(row)} for n, row in enumerate(rows)]
            connection.execute(_ROW, kept)
        old = list(connection.execute(_NEWEST_FIRST).scalars())[KEEP:]
        if old:
            connection.execute(_DROP_ROWS, {"ids": old})
            connection.execute(_DROP, {"ids": old})

    return _kept(connection, keep, f"position snapshot of {as_of}")


def find_value_report(connection: Connection, as_of: dt.date, version: str, options: str, layout: str) -> str | None:
    """The newest kept `benefits value` report (JSON text) of ``as_of`` computed from ``version`` with
    ``options`` and ``layout``; None when there is none."""
    values = {"as_of": as_of, "inputs": version, "options": options, "layout": layout}
    found = connection.execute(_FIND_VALUE, values).scalar()
    return None if found is None else str(found)


def write_value_report(
    connection: Connection, as_of: dt.date, version: str, options: str, layout: str, payload: str
) -> bool:
    """Keep ``payload`` as the `benefits value` report of ``as_of`` with ``options`` and commit, pruning all
    but the newest :data:`KEEP`; False (nothing written) when the store refuses the write, as :func:`write`."""

    def keep() -> None:
        values = {"as_of": as_of, "inputs": version, "options": options, "layout": layout, "payload": payload}
        connection.execute(_VALUE, values)
        old = list(connection.execute(_OLD_VALUES).scalars())[KEEP:]
        if old:
            connection.execute(_DROP_VALUES, {"ids": old})

    return _kept(connection, keep, f"value report of {as_of}")


def _kept(connection: Connection, keep: Callable[[], None], what: str) -> bool:
    """Run ``keep`` (the writes that keep ``what``) and commit; False, rolled back and logged in one line
    (the driver's reason, no SQL), when the store refuses the write: the next reader computes it again."""
    try:
        with _short_wait(connection):
            keep()
            connection.commit()
    except SQLAlchemyError as exc:
        from benefits.store.failures import driver_line

        connection.rollback()
        log.warning("%s not kept (%s): the next reader computes it again", what, driver_line(exc))
        return False
    return True


@contextmanager
def _short_wait(connection: Connection) -> Iterator[None]:
    """On SQLite, wait at most a moment for another writer's lock (the connection's usual wait is 30 s).

    A write that fails is rolled back before the usual wait is set again: after a failed commit (a full disk) the
    connection refuses any statement until then, and that refusal would hide the reason."""
    if connection.dialect.name != "sqlite":
        yield
        return
    from benefits.store.db import SQLITE_BUSY_TIMEOUT_MS

    connection.exec_driver_sql(f"PRAGMA busy_timeout={_SQLITE_WRITE_WAIT_MS}")
    try:
        yield
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
