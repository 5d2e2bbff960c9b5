"""forecast run inputs

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01

Issue 07: each forecast run keeps the digest of everything it was computed from (the store's
observations and register, the as-of date, the settings, the method and Prophet's versions:
``forecast_runs.inputs``), so that a run on the same inputs copies the latest run instead of
reading every observation again (``benefits.forecast.runner``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forecast_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "inputs",
                sa.String(length=64),
                nullable=True,
                comment="digest of the run's inputs: the store's data, as-of date, settings and versions",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("forecast_runs", schema=None) as batch_op:
        batch_op.drop_column("inputs")
