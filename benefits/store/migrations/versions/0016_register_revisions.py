"""register revisions

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-01

Issue 11, baseline change control: ``register_revisions`` keeps, per benefit, the values its
baseline, target, start, profile and attribution had when first loaded (``original``, the
approved baseline) and every later change of them between loads of the register
(``rebaselined``: the fields before and after), with who, when, why and the latest forecast run
at the time. Append-only: a trigger refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL, with
migration 0011's function). Benefits stored before this revision get their ``original`` at the
next load of the register (``benefits.store.baselines``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

POSTGRES_UP = [
    """
    CREATE TRIGGER register_revisions_no_change BEFORE UPDATE OR DELETE ON register_revisions
    FOR EACH ROW EXECUTE FUNCTION claims_append_only()
    """,
    """
    CREATE TRIGGER register_revisions_no_truncate BEFORE TRUNCATE ON register_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION claims_append_only()
    """,
]
SQLITE_UP = [
    f"""
    CREATE TRIGGER register_revisions_no_{operation.lower()} BEFORE {operation} ON register_revisions
    BEGIN
        SELECT RAISE(ABORT, 'register_revisions is append-only: {operation} refused');
    END
    """
    for operation in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table(
        "register_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("benefit_key", sa.String(length=100), nullable=False),
        sa.Column(
            "kind", sa.String(length=20), nullable=False, comment="original (the first approved values) or rebaselined"
        ),
        sa.Column(
            "values",
            sa.JSON(),
            nullable=False,
            comment="the tracked fields after this revision (baseline, target, start, profile, attribution; JSON)",
        ),
        sa.Column(
            "changes",
            sa.JSON(),
            nullable=False,
            comment="[{field, before, after}] of a re-baselining; [] for original",
        ),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, comment="why; empty when no reason was given"),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column(
            "after_forecast_run_id",
            sa.Integer(),
            nullable=True,
            comment="the latest forecast run when recorded (NULL before the first): the runs after it see the change",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("register_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_revisions_benefit_key"), ["benefit_key"], unique=False)
    for statement in POSTGRES_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("register_revisions")  # its triggers and index go with it
