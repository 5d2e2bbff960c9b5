"""One sync of a connector at a time, and runs left ``running`` by a killed process marked ``abandoned``.

A sync run holds a lock on its connector for its whole write transaction (:mod:`benefits.store.locks`): on
PostgreSQL a transaction-level advisory lock, on a SQLite file an exclusive ``flock`` on a file next to the
database (``<database>.sync-<connector>.lock``). Both are released when the run's transaction or
process ends, however it ends, so a killed sync leaves no lock behind. A second sync of the same
connector is refused with one line instead of racing the first. Holding the lock also proves that
no other live sync of the connector exists, so any earlier run of it still marked ``running`` was
left by a process that died: it is marked ``abandoned``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from benefits.errors import BenefitsError
from benefits.store import models
from benefits.store.locks import store_lock

ABANDONED = "abandoned"
ABANDONED_REASON = "the process running this sync stopped before it finished (killed?); nothing of it was stored"


@contextmanager
def connector_lock(session: Session, connector: str) -> Iterator[None]:
    """Hold the lock on ``connector`` for the session's transaction; BenefitsError when another sync holds it."""

    def refuse() -> NoReturn:
        raise BenefitsError(
            f"another sync of connector {connector} is running; run this one again when it has finished"
        )

    with store_lock(session, "sync", connector, refuse):
        yield


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
