"""The schema revision of the scripts and of a database, read without importing Alembic (~0.1 s saved).

`benefits status` and the other read-only commands only need to know that the database is at the
latest migration; :mod:`benefits.store.migrate` (Alembic) is imported only to upgrade.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, inspect, text

VERSIONS = Path(__file__).with_name("migrations") / "versions"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_CREATED = re.compile(r"create_table\(\s*['\"]([A-Za-z0-9_]+)['\"]")
_BATCH_TABLE = "_alembic_tmp_"  # the copy of a table that an Alembic batch migration (SQLite) builds
_VERSION_TABLE = "alembic_version"
_MARKER = "sync_runs"  # a table of the first migration that every later schema keeps

SchemaState = Literal["new", "current", "behind", "newer", "unfinished", "foreign"]


def script_revisions() -> dict[str, str | None]:
    """Every revision of the migration scripts, mapped to the revision it follows (None for the first)."""
    found = (dict(_ASSIGNMENT.findall(script.read_text(encoding="utf-8"))) for script in VERSIONS.glob("*.py"))
    return {names["revision"]: names.get("down_revision") for names in found if "revision" in names}


def script_head() -> str:
    """The latest revision of the migration scripts: the one no other script revises."""
    revisions = script_revisions()
    heads = sorted(set(revisions) - set(revisions.values()))
    if len(heads) != 1:
        raise RuntimeError(f"the migration scripts in {VERSIONS} must have one head, not {heads}")
    return heads[0]


@functools.cache
def script_tables() -> frozenset[str]:
    """Every table a migration script creates (benefits' own tables, of any revision)."""
    return frozenset(name for script in VERSIONS.glob("*.py") for name in _CREATED.findall(script.read_text("utf-8")))


@dataclass(frozen=True)
class Schema:
    """What a database holds, as the commands judge it before they use or upgrade it.

    ``state`` is ``new`` (no benefits table yet: ``benefits init`` creates them), ``current`` (at the latest
    migration), ``behind`` (at an earlier one: ``benefits db upgrade``), ``newer`` (at a revision these scripts do
    not know, with benefits' tables: a newer benefits upgraded it), ``unfinished`` (some of benefits' tables and
    no revision: an init stopped before it finished) or ``foreign`` (another application's database: a SQLite file
    with other tables and no benefits revision, tables named like benefits' own beside others, or another
    application's Alembic revision). ``others`` names up to three tables that are not benefits'.
    """

    state: SchemaState
    revision: str | None
    head: str
    others: tuple[str, ...] = ()
    holding: bool = False
    """Whether benefits' tables hold rows (read only for an ``unfinished`` database: an init that
    stopped wrote none, so rows mean its revision was lost, not that it never finished)."""


def database_schema(engine: Engine) -> Schema:
    """Read the database's tables and Alembic revision and judge them (:func:`judge_schema`)."""
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        revision = None
        if _VERSION_TABLE in tables:
            revision = connection.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()
        schema = judge_schema(revision, tables, engine.dialect.name == "sqlite")
        if schema.state == "unfinished":
            ours = sorted(tables & script_tables())
            holding = any(connection.execute(text(f'SELECT 1 FROM "{t}" LIMIT 1')).first() for t in ours)
            schema = Schema(schema.state, None, schema.head, schema.others, holding)
    return schema


def judge_schema(revision: str | None, tables: set[str], sqlite: bool) -> Schema:
    """The state of a database at Alembic ``revision`` (None: no revision recorded) holding ``tables``.

    A PostgreSQL database may be shared with other applications, so tables of other names do not make it
    ``foreign`` there; a SQLite file is one application's.
    """
    head, ours = script_head(), script_tables()
    mine = {t for t in tables if t in ours or t.startswith(_BATCH_TABLE)}
    others = tuple(sorted(tables - mine - {_VERSION_TABLE}))
    shown = others[:3]
    if revision is None:
        if not mine:
            return Schema("foreign" if sqlite and others else "new", None, head, shown)
        return Schema("foreign" if others else "unfinished", None, head, shown)
    if revision == head:
        return Schema("current", revision, head, shown)
    if revision in script_revisions():
        return Schema("behind", revision, head, shown)
    return Schema("newer" if _MARKER in tables else "foreign", revision, head, shown)


def schema_problem(schema: Schema, sqlite: bool) -> tuple[str, str] | None:
    """What is wrong with a database in ``schema``'s state and how to recover, as (found, fix); None when it is
    ``current``. ``found`` reads after "the database ..." (``is not initialised``), ``fix`` is a command or step."""
    others = ", ".join(schema.others) + (" …" if len(schema.others) == 3 else "")
    if schema.state == "current":
        return None
    if schema.state == "new":
        return "is not initialised", "run `benefits init` first"
    if schema.state == "behind":
        return f"is at revision {schema.revision}, behind the latest ({schema.head})", "run `benefits db upgrade`"
    if schema.state == "newer":
        return (
            f"is at revision {schema.revision}, which this version of benefits does not know (its latest is "
            f"{schema.head}), so a newer version of benefits upgraded it",
            "install that version (`pip install --upgrade benefits`); this one does not change it",
        )
    if schema.state == "unfinished" and schema.holding:
        return (
            "holds benefits' tables with rows in them but no schema revision (its alembic_version table was "
            "dropped or emptied)",
            "do not drop or re-initialise it: restore its alembic_version table from a backup; benefits does "
            "not change it",
        )
    if schema.state == "unfinished":
        remove = "move the file aside" if sqlite else "drop its tables (or use a new database)"
        return (
            "holds some of benefits' tables but no schema revision (a `benefits init` stopped before it finished)",
            f"it holds no data yet: {remove} and run `benefits init` again",
        )
    if schema.revision is not None:
        found = f"holds another application's schema (Alembic revision {schema.revision}, no benefits tables)"
    elif sqlite:
        found = f"is a SQLite file of another application (tables {others}; no benefits schema)"
    else:
        found = (
            f"holds tables of another application ({others}) and some named like benefits' own, without a benefits "
            "schema revision"
        )
    return found, (
        "point --database or BENEFITS_DATABASE_URL at a benefits database, or at a new "
        + ("file" if sqlite else "database of its own")
        + " for `benefits init`; benefits does not change this one"
    )
