"""The schema revision of the scripts and of a database, read without importing Alembic (~0.1 s saved).

`benefits status` and the other read-only commands only need to know that the database is at the
latest migration; :mod:`benefits.store.migrate` (Alembic) is imported only to upgrade.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, inspect, text

VERSIONS = Path(__file__).with_name("migrations") / "versions"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


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


def database_revision(engine: Engine) -> str | None:
    """The revision the database is at (Alembic's ``alembic_version`` table), or None for an empty database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
