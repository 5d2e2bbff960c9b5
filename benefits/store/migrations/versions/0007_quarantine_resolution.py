"""quarantine resolution

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

Issue 03: `benefits quarantine retry`. A quarantined row that passes on retry is loaded in a sync
run of kind ``retry`` and marked resolved (kept, not deleted); one that still fails keeps the
reasons of its latest retry.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.String(length=20),
                server_default="sync",
                nullable=False,
                comment="sync (a connector pull) or retry (quarantined rows re-validated)",
            )
        )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "retry_sync_run_id",
                sa.Integer(),
                nullable=True,
                comment="the quarantine retry that last re-validated this row (its reasons are that run's)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "resolved_sync_run_id",
                sa.Integer(),
                nullable=True,
                comment="the quarantine retry that loaded this row; NULL while it is held",
            )
        )
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            "fk_quarantine_retry_sync_run_id_sync_runs", "sync_runs", ["retry_sync_run_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_quarantine_resolved_sync_run_id_sync_runs", "sync_runs", ["resolved_sync_run_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_quarantine_resolved_sync_run_id"), ["resolved_sync_run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_resolved_sync_run_id"))
        batch_op.drop_constraint("fk_quarantine_resolved_sync_run_id_sync_runs", type_="foreignkey")
        batch_op.drop_constraint("fk_quarantine_retry_sync_run_id_sync_runs", type_="foreignkey")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_sync_run_id")
        batch_op.drop_column("retry_sync_run_id")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("kind")
