"""claim versions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

Issue 06: claims delivered by connectors. ``claim_versions`` keeps every value a claim was
recorded with (the claim row holds the latest), each with its source, who or which connector
recorded it, the connector's ``source_ref`` and the sync run that delivered it, so a restated
claim keeps its history and each figure links to its sync run. Existing claims get one version
each, copied from the claim.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claim_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("claimed_value", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("claim_class", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "source_ref",
            sa.String(length=500),
            nullable=True,
            comment="where the value came from (a connector's pointer, file: row)",
        ),
        sa.Column(
            "sync_run_id",
            sa.Integer(),
            nullable=True,
            comment="the sync run whose connector delivered this value; NULL for CSV and dashboard",
        ),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"],
            ["sync_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_versions_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_versions_sync_run_id"), ["sync_run_id"], unique=False)
    op.execute(
        "INSERT INTO claim_versions (claim_id, claimed_value, claim_class, note, source, created_by, recorded_at) "
        "SELECT id, claimed_value, claim_class, note, source, created_by, created_at FROM claims ORDER BY id"
    )


def downgrade() -> None:
    with op.batch_alter_table("claim_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_versions_sync_run_id"))
        batch_op.drop_index(batch_op.f("ix_claim_versions_claim_id"))
    op.drop_table("claim_versions")
