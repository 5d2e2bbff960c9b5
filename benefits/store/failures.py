"""A database error in words: what happened and what to do, in one line, never the SQL or its parameters.

SQLAlchemy's message of a failed statement carries the statement and its parameters (rows of the
batch); the driver's own first line does not. The kind of fault is read from the driver's error
code (SQLite's extended result name, PostgreSQL's SQLSTATE), not from its wording.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from benefits.store import db

DOCTOR = "`benefits doctor`"
_CORRUPT = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_PG_LOST = ("57P01", "57P02", "57P03")  # admin shutdown, crash shutdown, cannot connect now
_PG_BUSY = ("55P03", "40P01", "40001")  # lock not available, deadlock, serialization failure
_PG_CANCELLED = "57014"  # query_canceled: statement_timeout, or pg_cancel_backend
_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
_PG_UNIQUE = "23505"  # unique_violation (NOT NULL is 23502, CHECK 23514, foreign key 23503)


def driver_line(exc: BaseException) -> str:
    """The first line of the driver's message (without SQLAlchemy's SQL and parameters), its runs of spaces made
    one (libpq writes ``FATAL:  database ...``)."""
    orig = getattr(exc, "orig", None) or exc
    return " ".join((str(orig).strip().splitlines() or [type(orig).__name__])[0].split())


def damaged(exc: BaseException) -> bool:
    """Whether ``exc`` says that the SQLite file is damaged, or is not a database at all."""
    return str(getattr(getattr(exc, "orig", None), "sqlite_errorname", "")).startswith(_CORRUPT)


def explain(exc: SQLAlchemyError, command: str = "it") -> str:
    """What ``exc`` means for the user and what to do next (``run <command> again`` ...), in one line."""
    if not isinstance(exc, DBAPIError):
        return f"database error: {type(exc).__name__}"
    said = driver_line(exc)
    name = str(getattr(exc.orig, "sqlite_errorname", ""))
    state = str(getattr(exc.orig, "sqlstate", "") or "")
    if damaged(exc):
        return f"the database file is damaged ({said}): run {DOCTOR}, which says how to recover"
    disk = _disk(name, state, said, command)
    if disk is not None:
        return disk
    if name.startswith("SQLITE_READONLY"):
        return _read_only(name, said, command)
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED"):
        return (
            f"the SQLite file is locked by another writer (waited {db.SQLITE_BUSY_TIMEOUT_MS / 1000:g} s); "
            f"run {command} again when that one has finished"
        )
    if state in _PG_BUSY:
        return f"another run holds the rows this one writes ({said}); run {command} again when that one has finished"
    if state == _PG_CANCELLED:
        return (
            f"the server cancelled a statement ({said}): nothing of the failed write was stored; if it was the "
            f"statement_timeout of the URL (`options=-c statement_timeout=...`) or of the database user, raise it, "
            f"then run {command} again"
        )
    if exc.connection_invalidated or state.startswith("08") or state in _PG_LOST:
        return (
            f"the connection to the database server was lost ({said}): nothing of the failed write was stored; "
            f"check that the server is up ({DOCTOR}) and run {command} again"
        )
    if name.startswith("SQLITE_CANTOPEN"):
        return (
            f"cannot open the database file ({said}): check that it is a file, and that it and its folder can be "
            f"read and written (not on a read-only file system: SQLite writes its -wal and -shm files beside it)"
        )
    if isinstance(exc, OperationalError) and not (name or state):  # the driver could not connect at all
        return (
            f"cannot connect to the database server ({said}): check that it is running and that the URL's host, "
            f"port, database and user are right ({DOCTOR} checks it)"
        )
    if isinstance(exc, IntegrityError):
        return _refused(name, state, said, command)
    return f"database error: {said}"


def _disk(name: str, state: str, said: str, command: str) -> str | None:
    """What a full or failing disk means (SQLite's ``SQLITE_FULL`` or ``SQLITE_IOERR*``, PostgreSQL's disk_full);
    None for another error. With not a byte free SQLite cannot make its ``-shm`` file and says only "disk I/O
    error" (``SQLITE_IOERR_SHMSIZE``), even for a read."""
    if name.startswith("SQLITE_FULL") or state == "53100":
        return (
            f"the disk is full ({said}): nothing of the failed write was stored; "
            f"free some space and run {command} again"
        )
    if name.startswith("SQLITE_IOERR"):
        return (
            f"the disk could not be read or written ({said}, {name}): nothing of the failed write was stored; "
            f"check that the disk of the SQLite file has room (a full disk fails SQLite's -shm file beside it this "
            f"way, before any write) and works, then run {command} again"
        )
    return None


def _refused(name: str, state: str, said: str, command: str) -> str:
    """What an integrity error means: a key already stored (by a concurrent run: a run's own keys are checked
    before they are written), or a value that breaks one of the tables' rules (NOT NULL, CHECK, a foreign key),
    which no retry mends."""
    if name in _UNIQUE or state == _PG_UNIQUE:
        return (
            f"the database refused a write ({said}): another run may have stored the same rows meanwhile; "
            f"run {command} again"
        )
    return (
        f"the database refused a value that breaks one of its rules ({said}): nothing of the failed write was "
        f"stored, and running {command} again would fail the same way (the value got past the checks made before "
        f"writing): please report this line"
    )


def _read_only(name: str, said: str, command: str) -> str:
    """What a SQLite ``SQLITE_READONLY*`` error means (SQLite's extended result name says which; its message is
    always "attempt to write a readonly database")."""
    if name == "SQLITE_READONLY_DBMOVED":
        return (
            "the SQLite file was deleted or moved while this command had it open: nothing more was "
            f"stored; check the path (and restore the file from a backup if it was deleted), then run {command} again"
        )
    if name in ("SQLITE_READONLY_ROLLBACK", "SQLITE_READONLY_RECOVERY"):
        return (
            f"the SQLite file has a journal (-journal or -wal beside it) left by a writer that stopped, and it "
            f"cannot be read until that is rolled back, which needs write access ({said}): open it once where "
            f"it can be written, without `mode=ro` (any command rolls it back: `benefits doctor`), then run "
            f"{command} again"
        )
    return (
        f"the SQLite file cannot be written ({said}): nothing of the failed write was stored; make the file and "
        f"its folder writable (not read-only, nor `mode=ro` in the URL), then run {command} again"
    )
