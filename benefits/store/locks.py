"""Locks between processes sharing a store, held while their work is done.

On PostgreSQL a transaction-level advisory lock, held until the session's transaction ends; on a
SQLite file an exclusive ``flock`` on a file next to the database (``<database>.<kind>-<name>.lock``),
held until the block ends. Both are released however the holder ends, so a killed process leaves
no lock behind. Used by ``benefits sync`` (one sync of a connector at a time: a second is refused)
and ``benefits digest`` (one delivery of digests at a time: a second waits).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from benefits.errors import BenefitsError


@contextmanager
def store_lock(session: Session, kind: str, name: str, busy: Callable[[], None]) -> Iterator[None]:
    """Hold the lock ``kind``/``name`` of the session's database for the block (on PostgreSQL, until the
    session's transaction ends: keep it open for the block).

    When another session or process holds it, ``busy()`` is called first: it raises to refuse, or returns to
    wait until the lock is free. BenefitsError naming the file when a SQLite lock file cannot be created. An
    in-memory database (one process) takes no lock.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        key = {
            "key": int.from_bytes(hashlib.sha256(f"benefits.{kind}:{name}".encode()).digest()[:8], "big", signed=True)
        }
        if not session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar():
            busy()
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)
        yield
        return
    database = bind.engine.url.database
    if bind.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    path = Path(f"{database}.{kind}-{name}.lock")
    try:
        handle = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise BenefitsError(
            f"cannot create the {kind} lock {path} beside the SQLite file ({exc.strerror or exc}): "
            "check that the database's folder still exists and can be written to"
        ) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy()
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock
