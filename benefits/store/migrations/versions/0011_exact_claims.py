"""exact claims

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

Issue 10: claims no one can bend.

- Money is exact on SQLite too: ``claims.claimed_value`` and ``claim_versions.claimed_value``
  become decimal text there (SQLite keeps NUMERIC as a binary float). Each stored float is
  converted to the shortest decimal that reads back as the same float (``repr``), which is the
  value that was written whenever it had at most 15 significant digits; PostgreSQL keeps
  ``NUMERIC(20, 4)``, unchanged.
- A decision records the claim version and the claimed value it decided on
  (``claim_decisions.claim_version_id`` and ``claimed_value``); existing decisions get the
  claim's latest version, which a decided claim could not change.
- Triggers on both databases: a claim is decided once (a second decision is refused); a decided
  claim's row cannot be updated; claims and claim versions are never deleted, claim versions
  never updated; decisions stay append-only as migration 0005 made them.
"""

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

QUANTUM = Decimal("0.0001")  # NUMERIC(20, 4)
MONEY_TABLES = ("claims", "claim_versions")
VERSION_COMMENT = "the recorded value of the claim that was decided on"
VALUE_COMMENT = "the claimed value that was decided on"

POSTGRES_UP = [
    """
    CREATE FUNCTION claims_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION claims_decided_are_final() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM claim_decisions WHERE claim_id = OLD.id) THEN
            RAISE EXCEPTION 'claim % is decided and final: UPDATE refused', OLD.id;
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION claim_decided_once() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM claim_decisions WHERE claim_id = NEW.claim_id) THEN
            RAISE EXCEPTION 'claim % is already decided: a second decision refused', NEW.claim_id;
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER claims_decided_no_update BEFORE UPDATE ON claims
    FOR EACH ROW EXECUTE FUNCTION claims_decided_are_final()
    """,
    "CREATE TRIGGER claims_no_delete BEFORE DELETE ON claims FOR EACH ROW EXECUTE FUNCTION claims_append_only()",
    """
    CREATE TRIGGER claims_no_truncate BEFORE TRUNCATE ON claims
    FOR EACH STATEMENT EXECUTE FUNCTION claims_append_only()
    """,
    """
    CREATE TRIGGER claim_versions_no_change BEFORE UPDATE OR DELETE ON claim_versions
    FOR EACH ROW EXECUTE FUNCTION claims_append_only()
    """,
    """
    CREATE TRIGGER claim_versions_no_truncate BEFORE TRUNCATE ON claim_versions
    FOR EACH STATEMENT EXECUTE FUNCTION claims_append_only()
    """,
    """
    CREATE TRIGGER claim_decisions_once BEFORE INSERT ON claim_decisions
    FOR EACH ROW EXECUTE FUNCTION claim_decided_once()
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS claim_decisions_once ON claim_decisions",
    "DROP TRIGGER IF EXISTS claim_versions_no_truncate ON claim_versions",
    "DROP TRIGGER IF EXISTS claim_versions_no_change ON claim_versions",
    "DROP TRIGGER IF EXISTS claims_no_truncate ON claims",
    "DROP TRIGGER IF EXISTS claims_no_delete ON claims",
    "DROP TRIGGER IF EXISTS claims_decided_no_update ON claims",
    "DROP FUNCTION IF EXISTS claim_decided_once()",
    "DROP FUNCTION IF EXISTS claims_decided_are_final()",
    "DROP FUNCTION IF EXISTS claims_append_only()",
]
SQLITE_UP = [
    """
    CREATE TRIGGER claims_decided_no_update BEFORE UPDATE ON claims
    WHEN EXISTS (SELECT 1 FROM claim_decisions WHERE claim_id = OLD.id)
    BEGIN
        SELECT RAISE(ABORT, 'a decided claim is final: UPDATE refused');
    END
    """,
    """
    CREATE TRIGGER claims_no_delete BEFORE DELETE ON claims
    BEGIN
        SELECT RAISE(ABORT, 'claims is append-only: DELETE refused');
    END
    """,
    *(
        f"""
    CREATE TRIGGER claim_versions_no_{operation.lower()} BEFORE {operation} ON claim_versions
    BEGIN
        SELECT RAISE(ABORT, 'claim_versions is append-only: {operation} refused');
    END
    """
        for operation in ("UPDATE", "DELETE")
    ),
    """
    CREATE TRIGGER claim_decisions_once BEFORE INSERT ON claim_decisions
    WHEN EXISTS (SELECT 1 FROM claim_decisions WHERE claim_id = NEW.claim_id)
    BEGIN
        SELECT RAISE(ABORT, 'the claim is already decided: a second decision refused');
    END
    """,
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "claim_decisions_once",
        "claim_versions_no_delete",
        "claim_versions_no_update",
        "claims_no_delete",
        "claims_decided_no_update",
    )
]

# migration 0005's append-only triggers of claim_decisions, dropped while existing decisions are
# given their version and value, then created again
DECISIONS_APPEND_ONLY = "claim_decisions is append-only"
POSTGRES_DECISIONS_UP = [
    """
    CREATE TRIGGER claim_decisions_no_change BEFORE UPDATE OR DELETE ON claim_decisions
    FOR EACH ROW EXECUTE FUNCTION claim_decisions_append_only()
    """,
]
POSTGRES_DECISIONS_DOWN = ["DROP TRIGGER IF EXISTS claim_decisions_no_change ON claim_decisions"]
SQLITE_DECISIONS_UP = [
    f"""
    CREATE TRIGGER claim_decisions_no_{operation.lower()} BEFORE {operation} ON claim_decisions
    BEGIN
        SELECT RAISE(ABORT, '{DECISIONS_APPEND_ONLY}: {operation} refused');
    END
    """
    for operation in ("UPDATE", "DELETE")
]
SQLITE_DECISIONS_DOWN = [
    "DROP TRIGGER IF EXISTS claim_decisions_no_update",
    "DROP TRIGGER IF EXISTS claim_decisions_no_delete",
]


def upgrade() -> None:
    sqlite = _is_sqlite()
    _run(SQLITE_DECISIONS_DOWN if sqlite else POSTGRES_DECISIONS_DOWN)
    if sqlite:
        for table in MONEY_TABLES:
            _money_as_text(table)
    money = sa.Text() if sqlite else sa.Numeric(precision=20, scale=4)
    with op.batch_alter_table("claim_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_version_id", sa.Integer(), nullable=True, comment=VERSION_COMMENT))
        batch_op.add_column(sa.Column("claimed_value", money, nullable=True, comment=VALUE_COMMENT))
    op.execute(
        "UPDATE claim_decisions SET claim_version_id = "
        "(SELECT max(v.id) FROM claim_versions v WHERE v.claim_id = claim_decisions.claim_id)"
    )
    op.execute(
        "UPDATE claim_decisions SET claimed_value = "
        "(SELECT v.claimed_value FROM claim_versions v WHERE v.id = claim_decisions.claim_version_id)"
    )
    with op.batch_alter_table("claim_decisions", schema=None) as batch_op:
        batch_op.alter_column(
            "claim_version_id", existing_type=sa.Integer(), nullable=False, existing_comment=VERSION_COMMENT
        )
        batch_op.alter_column("claimed_value", existing_type=money, nullable=False, existing_comment=VALUE_COMMENT)
        batch_op.create_index(batch_op.f("ix_claim_decisions_claim_version_id"), ["claim_version_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_claim_decisions_claim_version_id_claim_versions"),
            "claim_versions",
            ["claim_version_id"],
            ["id"],
        )
    _run(SQLITE_DECISIONS_UP if sqlite else POSTGRES_DECISIONS_UP)
    _run(SQLITE_UP if sqlite else POSTGRES_UP)


def downgrade() -> None:
    sqlite = _is_sqlite()
    _run(SQLITE_DOWN if sqlite else POSTGRES_DOWN)
    _run(SQLITE_DECISIONS_DOWN if sqlite else POSTGRES_DECISIONS_DOWN)
    with op.batch_alter_table("claim_decisions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_claim_decisions_claim_version_id_claim_versions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_claim_decisions_claim_version_id"))
        batch_op.drop_column("claimed_value")
        batch_op.drop_column("claim_version_id")
    if sqlite:
        for table in MONEY_TABLES:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.alter_column(
                    "claimed_value",
                    existing_type=sa.Text(),
                    type_=sa.Numeric(precision=20, scale=4),
                    existing_nullable=False,
                )
    _run(SQLITE_DECISIONS_UP if sqlite else POSTGRES_DECISIONS_UP)


def _is_sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def _money_as_text(table: str) -> None:
    """SQLite: ``table.claimed_value`` as decimal text, each stored float converted as its shortest decimal."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, claimed_value FROM {table}")).all()
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(
            "claimed_value", existing_type=sa.Numeric(precision=20, scale=4), type_=sa.Text(), existing_nullable=False
        )
    update = sa.text(f"UPDATE {table} SET claimed_value = :value WHERE id = :id")
    for row_id, value in rows:
        bind.execute(update, {"id": row_id, "value": f"{_exact(value):f}"})


def _exact(value: Any) -> Decimal:
    """A value SQLite kept under NUMERIC affinity (a float, an int or text) as a Decimal with four places."""
    text = repr(value) if isinstance(value, float) else str(value)
    return Decimal(text).quantize(QUANTUM)
