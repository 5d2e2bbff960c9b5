"""Engine and session set-up: a SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from benefits.errors import ConfigError, shorten

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
    except ValueError:  # a port that is not a number
        raise ConfigError(
            f"the database URL (--database or BENEFITS_DATABASE_URL) has a port that is not a number: {_FORMS}"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "postgresql+psycopg":
        check_postgresql_settings(parsed)
    return parsed.render_as_string(hide_password=False)


_WHERE = "the database URL (--database or BENEFITS_DATABASE_URL)"
_PG_SETTINGS = "https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS"


def check_postgresql_settings(parsed: URL) -> None:
    """ConfigError naming the setting when a PostgreSQL URL's query string (``?connect_timeout=10&sslmode=...``)
    holds a name that is not a libpq connection setting, a ``connect_timeout`` (or, without one, the variable
    ``PGCONNECT_TIMEOUT``) that is not a number of seconds, or a value libpq would refuse for a setting of a fixed
    choice or a number (``sslmode=bogus``, ``keepalives=abc``, a port over 65535; see
    :mod:`benefits.store.pg_settings`), given in the URL or, without it there, by its ``PG...`` variable; psycopg
    would refuse each only when it connects.

    The values of other settings are checked by the server's client library when it connects. A value is never
    repeated for a name that is not a setting: it may be a password under a misspelt name.
    """
    try:
        from psycopg import ProgrammingError
        from psycopg.conninfo import make_conninfo
    except ImportError:  # no driver: make_engine says so
        return
    for name in parsed.query:
        try:
            make_conninfo("", **{name: ""})  # psycopg's own check, against libpq's list of settings
        except ProgrammingError:
            raise ConfigError(
                f"{_WHERE} has a query parameter {shorten(name)!r} that is not a PostgreSQL connection setting: "
                f"remove it or correct its name ({_PG_SETTINGS})"
            ) from None
    _check_connect_timeout(parsed)
    _check_values(parsed)


def _check_connect_timeout(parsed: URL) -> None:
    given = parsed.query.get("connect_timeout")
    if given is not None:
        value, setting = (given if isinstance(given, str) else ",".join(given)), f"{_WHERE}: its connect_timeout"
    elif "PGCONNECT_TIMEOUT" in os.environ:
        value, setting = os.environ["PGCONNECT_TIMEOUT"], "the environment variable PGCONNECT_TIMEOUT"
    else:
        return
    try:
        int(float(value))  # as psycopg reads it (1.5 is 1; 0 or less is no time-out)
    except (ValueError, OverflowError):
        raise ConfigError(
            f"{setting} is not a number of seconds (got {shorten(value)!r}): write a whole number, "
            "e.g. connect_timeout=10"
        ) from None


def _check_values(parsed: URL) -> None:
    """ConfigError when a setting in the URL, or its variable where the URL has none, has a value libpq refuses."""
    from benefits.store.pg_settings import ENVIRONMENT, value_problem

    given = {name: value if isinstance(value, str) else ",".join(value) for name, value in parsed.query.items()}
    if parsed.port is not None:
        given.setdefault("port", str(parsed.port))
    for name, value in given.items():
        if (problem := value_problem(name, value)) is not None:
            raise ConfigError(f"{_WHERE}: its {name} {problem}")
    for name, variable in ENVIRONMENT.items():
        if name not in given and variable in os.environ:
            if (problem := value_problem(name, os.environ[variable])) is not None:
                raise ConfigError(f"the environment variable {variable} (the database's {name}) {problem}")


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
            check_sqlite_url(parsed)
            _check_sqlite_file(parsed.database, create)
            engine = create_engine(resolved)
            event.listen(engine, "connect", sqlite_pragmas)
            event.listen(engine, "commit", check_still_there)
            return engine
        return create_engine(resolved, pool_pre_ping=True)
    except NoSuchModuleError:
        raise ConfigError(f"the database URL names a database kind ({parsed.drivername}) not known: {_FORMS}") from None
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the database driver of {parsed.drivername} URLs is not installed ({exc})") from None


def sqlite_path(database: str | None) -> Path | None:
    """The file a SQLite URL's database names: its path, or the path of a ``file:`` URI (``?uri=true``); None for
    an in-memory database."""
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        uri = urlsplit(database)
        path = unquote(uri.path)
        memory = not path or path == ":memory:" or "mode=memory" in uri.query.split("&")
        return None if memory else Path(path)
    return Path(database)


def check_sqlite_url(parsed: URL) -> None:
    """ConfigError when a SQLite URL names no file (``sqlite://``, ``sqlite:///``, ``:memory:``: an in-memory
    database is gone when the command ends) or names a host (``sqlite://x.db``: two slashes, not three)."""
    if parsed.host:
        raise ConfigError(
            f"the SQLite URL names a host ({parsed.host}) instead of a file: write sqlite:///{parsed.host} "
            f"(three slashes: a path from the current folder) or sqlite:////absolute/path (four)"
        )
    if sqlite_path(parsed.database) is None:
        raise ConfigError(
            "the SQLite URL names no file (an in-memory database is gone when the command ends): "
            "write sqlite:///PATH, e.g. sqlite:///benefits.db"
        )


def _check_sqlite_file(database: str | None, create: bool) -> None:
    """ConfigError naming the path when the SQLite file ``database`` would be in a folder that does not exist, is
    a folder, or does not exist and ``create`` is False."""
    if not database or database.startswith("file:"):  # a URI SQLite reads (no file: refused by check_sqlite_url)
        return
    if Path(database).is_dir():
        raise ConfigError(
            f"the SQLite database {database} is a folder, not a file: "
            "check the path in --database or BENEFITS_DATABASE_URL (a file in that folder, e.g. "
            f"sqlite:///{Path(database) / 'benefits.db'})"
        )
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


def sqlite_pragmas(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """A busy timeout, WAL and foreign keys on each new SQLite connection; and which file it opened (device and
    inode), for :func:`check_still_there`.

    A file of another application (tables but no ``alembic_version``) is not switched to WAL: the commands refuse
    it (:func:`benefits.store.revisions.judge_schema`), and WAL is a lasting change to the file.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    tables = {row[0] for row in cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables or "alembic_version" in tables:
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    record.info[_OPENED] = _identity(dbapi_connection)


_OPENED = "benefits.sqlite_file"
"""The key, in a SQLite connection's record, of the (device, inode) of the file it opened."""


def _identity(dbapi_connection: Any) -> tuple[int, int] | None:
    """The (device, inode) of the file a SQLite connection has open, None when it has none (in memory) or it is
    gone."""
    file = next((str(row[2]) for row in dbapi_connection.execute("PRAGMA database_list") if row[1] == "main"), "")
    if not file:  # in memory, or a temporary database
        return None
    try:
        stat = Path(file).stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def check_still_there(connection: Connection) -> None:
    """Before a commit: refuse it when the SQLite file this connection opened was deleted or moved since (its
    folder removed, say).

    SQLite in WAL mode goes on writing to the deleted file, so the commit would succeed and everything in it would
    be lost with the file. This raises the error SQLite itself raises for it in rollback-journal mode
    (``SQLITE_READONLY_DBMOVED``), so it reads as any database error does (:mod:`benefits.store.failures`), and
    drops the connection so that the next one opens the path again.
    """
    opened = connection.info.get(_OPENED)
    if opened is None:
        return
    dbapi_connection = connection.connection.dbapi_connection
    now = _identity(dbapi_connection)
    if now == opened:
        return
    import sqlite3

    error = sqlite3.OperationalError("attempt to write a readonly database")  # SQLite's words for it
    error.sqlite_errorname = "SQLITE_READONLY_DBMOVED"
    connection.invalidate()
    raise OperationalError(None, None, error)
