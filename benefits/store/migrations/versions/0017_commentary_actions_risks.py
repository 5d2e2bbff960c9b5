"""commentary, actions and risks

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

Issue 11 item 3: per benefit, a weekly commentary line (``benefit_notes``), actions with owner
and due date (``benefit_actions``) and risks with likelihood, impact (1-5 each) and mitigation
(``benefit_risks``), each with its author and time. Closing an action or a risk is a row in
``benefit_action_closures`` or ``benefit_risk_closures``. All five tables are append-only:
triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL, through migration 0011's
``claims_append_only()``).
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLES = ("benefit_notes", "benefit_actions", "benefit_action_closures", "benefit_risks", "benefit_risk_closures")
LIKELIHOOD_COMMENT = "1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain"
IMPACT_COMMENT = "1 negligible, 2 minor, 3 moderate, 4 major, 5 severe"


def _postgres_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION claims_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION claims_append_only()",
    ]


def _sqlite_triggers(table: str) -> list[str]:
    return [
        f"""
    CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table}
    BEGIN
        SELECT RAISE(ABORT, '{table} is append-only: {operation} refused');
    END
    """
        for operation in ("UPDATE", "DELETE")
    ]


def _who_and_when(by: str, at: str) -> list[Any]:
    return [
        sa.Column(by, sa.String(length=200), nullable=False),
        sa.Column(at, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _benefit_key(table: str) -> list[Any]:
    return [
        sa.Column("benefit_key", sa.String(length=100), nullable=False),
        sa.Index(f"ix_{table}_benefit_key", "benefit_key"),
    ]


def upgrade() -> None:
    op.create_table(
        "benefit_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        *_benefit_key("benefit_notes"),
        sa.Column("text", sa.Text(), nullable=False),
        *_who_and_when("author", "written_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "benefit_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        *_benefit_key("benefit_actions"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        *_who_and_when("author", "created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "benefit_action_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("benefit_actions.id"), nullable=False, unique=True),
        *_who_and_when("closed_by", "closed_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "benefit_risks",
        sa.Column("id", sa.Integer(), nullable=False),
        *_benefit_key("benefit_risks"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=False, comment=LIKELIHOOD_COMMENT),
        sa.Column("impact", sa.Integer(), nullable=False, comment=IMPACT_COMMENT),
        sa.Column("mitigation", sa.Text(), nullable=False),
        *_who_and_when("author", "created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "benefit_risk_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("risk_id", sa.Integer(), sa.ForeignKey("benefit_risks.id"), nullable=False, unique=True),
        *_who_and_when("closed_by", "closed_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    triggers = _postgres_triggers if op.get_bind().dialect.name == "postgresql" else _sqlite_triggers
    for table in TABLES:
        for statement in triggers(table):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)  # its triggers go with it
