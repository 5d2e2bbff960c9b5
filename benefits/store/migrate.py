"""Alembic migrations run from code: no alembic.ini is needed.

On a SQLite file they run in one transaction, as on PostgreSQL: Python's sqlite3 module runs DDL (``CREATE
TABLE``) outside any transaction unless one was begun explicitly, so a migration stopped halfway (a full disk, a
locked file, a killed process) would leave some tables created and no revision recorded, and every later
``benefits init`` would fail on them. :func:`_sqlite_migration_engine` begins that transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from benefits.store import db

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to ``engine``'s database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the latest), all of them or none (see the module's note)."""
    if engine.dialect.name != "sqlite" or db.sqlite_path(engine.url.database) is None:  # in memory: one connection
        command.upgrade(alembic_config(engine), revision)
        return
    migrating = _sqlite_migration_engine(engine)
    try:
        command.upgrade(alembic_config(migrating), revision)
    finally:
        migrating.dispose()


def _sqlite_migration_engine(engine: Engine) -> Engine:
    """An engine on ``engine``'s SQLite file whose transactions are real SQLite transactions (``BEGIN`` when one
    starts), so that the migrations' DDL commits or rolls back with them.

    Foreign keys are off on its connections from the start: the migrations' own ``PRAGMA foreign_keys`` (which the
    batch migrations need off, and which are ignored inside a transaction) would come too late, and the migration
    environment checks every key (``PRAGMA foreign_key_check``) before it commits.
    """
    migrating = create_engine(engine.url, poolclass=NullPool)
    event.listen(migrating, "connect", _migration_pragmas)
    event.listen(migrating, "commit", db.check_still_there)
    event.listen(migrating, "begin", _begin)
    return migrating


def _migration_pragmas(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """The store's pragmas (:func:`benefits.store.db.sqlite_pragmas`), then foreign keys off."""
    db.sqlite_pragmas(dbapi_connection, record)
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")


def _begin(connection: Connection) -> None:
    """Begin a SQLite transaction (one that writes: it takes the write lock at once, as a migration will)."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def head_revision() -> str:
    """The latest revision of the migration scripts."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "the migration scripts have one head"
    return head
