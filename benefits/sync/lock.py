"""One sync of a connector at a time, and runs left ``running`` by a killed process marked ``abandoned``.

A sync run holds a lock on its connector for its whole write transaction: on PostgreSQL a
transaction-level advisory lock, on a SQLite file an exclusive ``flock`` on a file next to the
database (``<database>.sync-<connector>.lock``). Both are released when the run's transaction or
process ends, however it ends, so a killed sync leaves no lock behind. A second sync of the same
connector is refused with one line instead of racing the first. Holding the lock also proves that
no other live sync of the connector exists, so any earlier run of it still marked ``running`` was
left by a process that died: it is marked ``abandoned``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from benefits.errors import BenefitsError
from benefits.store import models

ABANDONED = "abandoned"
ABANDONED_REASON = "the process running this sync stopped before it finished (killed?); nothing of it was stored"


@contextmanager
def connector_lock(session: Session, connector: str) -> Iterator[None]:
    """Hold the lock on ``connector`` for the session's transaction; BenefitsError when another sync holds it."""
    busy = BenefitsError(f"another sync of connector {connector} is running; run this one again when it has finished")
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"benefits.sync:{connector}".encode()).digest()[:8], "big", signed=True)
        if not session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar():
            raise busy
        yield
        return
    database = bind.engine.url.database
    if bind.dialect.name != "sqlite" or not database or database == ":memory:":
        yield  # an in-memory database has one process
        return
    path = Path(f"{database}.sync-{connector}.lock")
    try:
        handle = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise BenefitsError(
            f"cannot create the sync lock {path} beside the SQLite file ({exc.strerror or exc}): "
            "check that the database's folder still exists and can be written to"
        ) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        yield
    finally:
        os.close(handle)  # releases the lock


def mark_abandoned(session: Session, connector: str, run_id: int) -> list[int]:
    """Mark the connector's earlier runs still ``running`` as abandoned (call while holding its lock;
    ``finished_at`` is when they were found); their ids."""
    runs = models.SyncRun
    stale = list(
        session.scalars(select(runs.id).where(runs.connector == connector, runs.status == "running", runs.id < run_id))
    )
    if stale:
        session.execute(
            update(runs)
            .where(runs.id.in_(stale))
            .values(status=ABANDONED, error=ABANDONED_REASON, finished_at=dt.datetime.now(dt.UTC))
        )
    return stale
