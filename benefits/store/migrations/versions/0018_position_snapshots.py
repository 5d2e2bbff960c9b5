"""position snapshots

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

Issue 08 item 1: every benefit's position at a date, materialised (``position_snapshots`` with
one ``position_snapshot_rows`` row per benefit, and every metric's health), so that `benefits status` and the dashboard
read the same rows without computing them again. A snapshot records the store's data version it
was computed from; readers ignore one whose data changed since (``benefits.store.snapshots``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "position_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column(
            "inputs", sa.Text(), nullable=False, comment="the store's data version when computed: see snapshots.inputs"
        ),
        sa.Column(
            "layout",
            sa.String(length=64),
            nullable=False,
            comment="digest of the rows' fields and the package version",
        ),
        sa.Column("benefits", sa.Integer(), nullable=False, comment="how many rows it holds"),
        sa.Column(
            "metrics", sa.Text(), nullable=False, comment="every metric's health at the date (JSON: MetricSummary)"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("position_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_position_snapshots_as_of"), ["as_of"], unique=False)
    op.create_table(
        "position_snapshot_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("benefit_key", sa.String(length=100), nullable=False),
        sa.Column("initiative_key", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False, comment="the position's fields (JSON; money as decimal text)"),
        sa.ForeignKeyConstraint(["snapshot_id"], ["position_snapshots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("position_snapshot_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_position_snapshot_rows_snapshot_id"), ["snapshot_id"], unique=False)


def downgrade() -> None:
    op.drop_table("position_snapshot_rows")
    op.drop_table("position_snapshots")
