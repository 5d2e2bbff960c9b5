"""lineage and quarantine resolve

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

Issue 09: every stored observation (and each earlier revision of it) keeps the connector's
``source_ref`` (file:line, table key, URL); a quarantined row can be resolved by a person
(`benefits quarantine resolve`), with who and why kept on the row, which is never deleted.
``resolved_at`` (set by a retry that loads the row, or by a person) is what "held" is judged by.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source_ref",
                sa.String(length=500),
                nullable=True,
                comment="the connector's pointer to the row (e.g. file:line)",
            )
        )
    with op.batch_alter_table("observation_revisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source_ref",
                sa.String(length=500),
                nullable=True,
                comment="the connector's pointer to the row of this value",
            )
        )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.alter_column(
            "resolved_at",
            existing_type=sa.DateTime(timezone=True),
            existing_nullable=True,
            comment="when a retry loaded the row or a person resolved it; NULL while it is held",
        )
        batch_op.add_column(
            sa.Column(
                "resolved_by",
                sa.String(length=200),
                nullable=True,
                comment="who resolved the row by hand (`benefits quarantine resolve`); NULL when a retry loaded it",
            )
        )
        batch_op.add_column(
            sa.Column("resolution_note", sa.Text(), nullable=True, comment="why the row was resolved by hand")
        )
        batch_op.create_index(batch_op.f("ix_quarantine_resolved_at"), ["resolved_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_resolved_at"))
        batch_op.drop_column("resolution_note")
        batch_op.drop_column("resolved_by")
        batch_op.alter_column(
            "resolved_at", existing_type=sa.DateTime(timezone=True), existing_nullable=True, comment=None
        )
    with op.batch_alter_table("observation_revisions", schema=None) as batch_op:
        batch_op.drop_column("source_ref")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_column("source_ref")
