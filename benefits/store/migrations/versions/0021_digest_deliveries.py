"""digest deliveries

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02

Each owner's digest delivered for a date (``digest_deliveries``), so that `benefits digest` run again
after a partial failure (a refused recipient, a webhook that stopped answering) sends only the digests
that were not delivered, and none twice (``benefits.digest``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False, comment="e-mail or webhook"),
        sa.Column(
            "recipient",
            sa.String(length=320),
            nullable=False,
            comment="the e-mail address, or the webhook's scheme and host",
        ),
        sa.Column(
            "content",
            sa.String(length=64),
            nullable=False,
            comment="sha256 of where it went (the webhook's whole URL), its subject and its text",
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("digest_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_deliveries_as_of"), ["as_of"], unique=False)


def downgrade() -> None:
    op.drop_table("digest_deliveries")
