"""value reports

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01

Issue 10: `benefits value`'s report at a date, kept with the store's data version it was computed
from and its options (``value_reports``), so that later runs read it instead of computing it
again; readers ignore one whose data changed since (``benefits.store.snapshots``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "value_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column(
            "inputs", sa.Text(), nullable=False, comment="the store's data version when computed: see snapshots.inputs"
        ),
        sa.Column("options", sa.String(length=100), nullable=False, comment="the roll-up's correlation and draws"),
        sa.Column(
            "layout",
            sa.String(length=64),
            nullable=False,
            comment="digest of the report's fields and the package version",
        ),
        sa.Column("payload", sa.Text(), nullable=False, comment="the report (JSON; money as decimal text)"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("value_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_value_reports_as_of"), ["as_of"], unique=False)


def downgrade() -> None:
    op.drop_table("value_reports")
