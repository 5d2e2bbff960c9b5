"""claims

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Issue 06: finance claims and sign-off. ``claims`` holds each claimed value (Numeric, never float);
``claim_decisions`` is the append-only sign-off history: a trigger refuses UPDATE and DELETE on both
PostgreSQL and SQLite, so the history cannot be edited even outside the application.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_ONLY = "claim_decisions is append-only"

POSTGRES_UP = [
    f"""
    CREATE FUNCTION claim_decisions_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{APPEND_ONLY}: % refused', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER claim_decisions_no_change BEFORE UPDATE OR DELETE ON claim_decisions
    FOR EACH ROW EXECUTE FUNCTION claim_decisions_append_only()
    """,
    """
    CREATE TRIGGER claim_decisions_no_truncate BEFORE TRUNCATE ON claim_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION claim_decisions_append_only()
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS claim_decisions_no_truncate ON claim_decisions",
    "DROP TRIGGER IF EXISTS claim_decisions_no_change ON claim_decisions",
    "DROP FUNCTION IF EXISTS claim_decisions_append_only()",
]
SQLITE_UP = [
    f"""
    CREATE TRIGGER claim_decisions_no_{operation.lower()} BEFORE {operation} ON claim_decisions
    BEGIN
        SELECT RAISE(ABORT, '{APPEND_ONLY}: {operation} refused');
    END
    """
    for operation in ("UPDATE", "DELETE")
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS claim_decisions_no_update",
    "DROP TRIGGER IF EXISTS claim_decisions_no_delete",
]


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("benefit_key", sa.String(length=100), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("claimed_value", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("claim_class", sa.String(length=30), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("benefit_key", "period", name="uq_claim_benefit_period"),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claims_benefit_key"), ["benefit_key"], unique=False)

    op.create_table(
        "claim_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_decisions_claim_id"), ["claim_id"], unique=False)

    for statement in _triggers(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _triggers(up=False):
        op.execute(statement)
    with op.batch_alter_table("claim_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_decisions_claim_id"))
    op.drop_table("claim_decisions")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_benefit_key"))
    op.drop_table("claims")


def _triggers(up: bool) -> list[str]:
    """The append-only triggers of ``claim_decisions`` for this database's dialect."""
    if op.get_bind().dialect.name == "postgresql":
        return POSTGRES_UP if up else POSTGRES_DOWN
    return SQLITE_UP if up else SQLITE_DOWN
