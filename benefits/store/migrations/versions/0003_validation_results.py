"""validation results

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Issue 03: each sync run's validation result (policy, success, rows with warnings) next to its
per-expectation statistics (``sync_runs.validation``); accepted rows that warned
(``validation_warnings``); the connector's pointer to a quarantined row (``quarantine.source_ref``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "policy",
                sa.String(length=20),
                server_default="accept_valid_rows",
                nullable=False,
                comment="accept_valid_rows or reject_batch (connectors.yaml)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "validation_success",
                sa.Boolean(),
                nullable=True,
                comment="every row passed every critical expectation; NULL until validated",
            )
        )
        batch_op.add_column(
            sa.Column(
                "rows_warned",
                sa.Integer(),
                server_default="0",
                nullable=False,
                comment="accepted rows that failed a warning-severity expectation",
            )
        )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source_ref",
                sa.String(length=500),
                nullable=True,
                comment="the connector's pointer to the row (e.g. file:line)",
            )
        )
    op.create_table(
        "validation_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("source_ref", sa.String(length=500), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sync_run_id"],
            ["sync_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("validation_warnings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_validation_warnings_sync_run_id"), ["sync_run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("validation_warnings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_validation_warnings_sync_run_id"))
    op.drop_table("validation_warnings")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_column("source_ref")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("rows_warned")
        batch_op.drop_column("validation_success")
        batch_op.drop_column("policy")
