"""A workspace: the configuration folder and the database the commands work on."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

import benefits
from benefits.errors import BenefitsError, ConfigError
from benefits.store import db

if TYPE_CHECKING:  # the ORM and the register's models are imported when used: `benefits status` stays quick
    from sqlalchemy.orm import Session, sessionmaker

    from benefits.register import Register
    from benefits.store.revisions import Schema, SchemaState

DEFAULT_CONFIG_DIR = "config"


def demo_config_dir() -> Path:
    """The demo configuration shipped with the package (the repository's ``config/`` when editable)."""
    packaged = Path(benefits.__file__).parent / "_demo_config"
    return packaged if packaged.is_dir() else Path(benefits.__file__).parent.parent / "config"


@dataclass
class Workspace:
    """Where the register and connectors are read from and where everything is stored."""

    config_dir: Path = field(default_factory=lambda: Path(os.environ.get("BENEFITS_CONFIG", DEFAULT_CONFIG_DIR)))
    database_url: str = field(default_factory=db.database_url)
    creates_database: bool = False
    """Whether a SQLite file that does not exist yet may be created (``init``, ``run``, ``db upgrade``); the other
    commands refuse it in one line rather than leave an empty file behind a mistyped ``--database``."""

    @cached_property
    def engine(self) -> Engine:
        """The store's engine (see ``creates_database``)."""
        return db.make_engine(self.database_url, create=self.creates_database)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """The store's session factory."""
        return db.session_factory(self.engine)

    def register(self) -> Register:
        """The register, loaded and checked."""
        from benefits.register import load_register

        return load_register(self.config_dir)

    def copy_demo_config(self) -> bool:
        """Copy the demo configuration into an empty config folder; False when a register is already there."""
        from benefits.register import REGISTER_FILE

        if (self.config_dir / REGISTER_FILE).exists():
            return False
        self.config_dir.mkdir(parents=True, exist_ok=True)
        for source in sorted(demo_config_dir().glob("*.yaml")):
            target = self.config_dir / source.name
            if not (target.exists() and target.samefile(source)):  # the config folder may be the demo's own
                shutil.copyfile(source, target)
        return True

    def upgrade(self) -> None:
        """Apply the store's migrations, after checking that the database is one they can upgrade: a database of
        another application, one a newer benefits upgraded or one an init left unfinished is refused in one line
        (:meth:`refuse`), and left unchanged; one already at the latest migration is left alone."""
        from alembic.util import CommandError

        from benefits.store.migrate import upgrade

        schema = self.schema()
        self.refuse(schema, allowed=("new", "behind", "current"))
        if schema.state == "current":  # nothing to run (and no write lock to wait for behind a sync)
            return
        try:
            with _database_errors(self):
                upgrade(self.engine)
        except CommandError as exc:
            raise BenefitsError(f"database {self.safe_url}: the migrations could not run ({exc})") from None

    def ensure_current(self) -> None:
        """Fail with a clear line unless the database exists and is at the latest migration."""
        self.refuse(self.schema(), allowed=("current",))

    def schema(self) -> Schema:
        """The database's schema state (:func:`benefits.store.revisions.database_schema`: not Alembic, quick)."""
        from benefits.store.revisions import database_schema

        with _database_errors(self):
            return database_schema(self.engine)

    def refuse(self, schema: Schema, allowed: tuple[SchemaState, ...]) -> None:
        """One line naming the database, what it holds and what to do, unless ``schema`` is in an ``allowed``
        state: a ConfigError (exit 2) for another application's database (the URL is wrong), a BenefitsError
        (exit 1) otherwise."""
        from benefits.store.revisions import schema_problem

        if schema.state in allowed:
            return
        problem = schema_problem(schema, self.engine.dialect.name == "sqlite")
        assert problem is not None, "a current schema is always allowed"
        found, fix = problem
        error = ConfigError if schema.state == "foreign" else BenefitsError
        raise error(f"database {self.safe_url} {found}: {fix}")

    def database_failure(self, exc: SQLAlchemyError) -> str:
        """A database error as one line naming the database, saying what happened and what to do."""
        from benefits.plugins.secrets import mask
        from benefits.store.failures import explain
        from benefits.urls import url_secrets

        return f"database {self.safe_url}: {mask(explain(exc), url_secrets(self.database_url))}"

    @property
    def safe_url(self) -> str:
        """The database URL with any password hidden, in its user-info or its query string."""
        from benefits.urls import shown_url

        return shown_url(self.database_url)


@contextmanager
def _database_errors(workspace: Workspace) -> Iterator[None]:
    """Turn a database failure into a one-line BenefitsError naming the database."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise BenefitsError(workspace.database_failure(exc)) from None
