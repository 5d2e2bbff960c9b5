"""Engine and session set-up: a SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from benefits.errors import ConfigError

if TYPE_CHECKING:  # the ORM is imported when a session factory is made: `benefits status` can do without
    from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///benefits.db"
_FORMS = "write sqlite:///PATH (a file) or postgresql://USER@HOST/DATABASE"
SQLITE_BUSY_TIMEOUT_MS = 30_000

# When the server cuts a connection mid-write (a restart), psycopg also logs a warning that it could not end
# its pipeline on it ("error ignored terminating <psycopg.Pipeline [BAD]>: ..."). The fault itself is raised and
# said in one line (benefits.store.failures); without a handler of psycopg's own, Python's last-resort handler
# would print that warning to stderr as four more lines. An application that configures logging still gets it.
logging.getLogger("psycopg").addHandler(logging.NullHandler())


def database_url(url: str | None = None) -> str:
    """The database URL: the argument, else ``BENEFITS_DATABASE_URL``, else ``sqlite:///benefits.db``.

    ConfigError (without the URL, which may hold a password) when it is not a URL.
    """
    chosen = url or os.environ.get("BENEFITS_DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        parsed = make_url(chosen)
    except ArgumentError:
        raise ConfigError(f"the database URL (--database or BENEFITS_DATABASE_URL) is not a URL: {_FORMS}") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None, *, create: bool = True) -> Engine:
    """Create an engine; SQLite connections get WAL, a busy timeout and foreign keys.

    ConfigError naming the database kind when SQLAlchemy has no dialect for it or its driver is not installed,
    and naming the folder when a SQLite file's folder does not exist: SQLite creates a missing file (that is how
    ``benefits init`` makes one), but a folder is never made, so a mistyped path is not silently created. With
    ``create=False`` (the commands that only read or add to a store) a missing SQLite file is refused too, in one
    line naming it and how to create it. A PostgreSQL URL is not checked here: its server says what is missing.
    """
    resolved = database_url(url)
    parsed = make_url(resolved)
    try:
        if parsed.get_backend_name() == "sqlite":
            _check_sqlite_file(parsed.database, create)
            engine = create_engine(resolved)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(resolved, pool_pre_ping=True)
    except NoSuchModuleError:
        raise ConfigError(f"the database URL names a database kind ({parsed.drivername}) not known: {_FORMS}") from None
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the database driver of {parsed.drivername} URLs is not installed ({exc})") from None


def _check_sqlite_file(database: str | None, create: bool) -> None:
    """ConfigError naming the path when the SQLite file ``database`` would be in a folder that does not exist, or
    when it does not exist and ``create`` is False."""
    if not database or database == ":memory:" or database.startswith("file:"):  # in memory, or a URI SQLite reads
        return
    folder = Path(database).parent
    if not folder.is_dir():
        raise ConfigError(
            f"the SQLite database {database}: its folder {folder} does not exist; "
            "check the path in --database or BENEFITS_DATABASE_URL, or create the folder first"
        )
    if not create and not Path(database).exists():
        raise ConfigError(
            f"no SQLite database at {database}: create it with `benefits init` (or `benefits run`), "
            "or check the path in --database or BENEFITS_DATABASE_URL"
        )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory that keeps loaded objects usable after commit."""
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
