"""Alembic environment: runs against the engine handed over in ``config.attributes``.

On SQLite, foreign keys are off while migrations run (a batch migration rebuilds a table that
others refer to by dropping and renaming it, which the enforced keys would refuse) and checked
with ``PRAGMA foreign_key_check`` before they are switched on again.
"""

from alembic import context
from sqlalchemy import Connection, create_engine

from benefits.store.models import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url", ""))


def _foreign_keys(connection: Connection, on: bool) -> None:
    """Switch SQLite's foreign keys (only possible outside a transaction)."""
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _foreign_keys(connection, on=False)
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise RuntimeError(f"migration left rows whose foreign key matches nothing: {broken[:5]}")
    finally:
        if sqlite:
            _foreign_keys(connection, on=True)
