"""forecast history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Issue 04: each forecast keeps Prophet's fitted parameters (``fit_params``, the next run's warm
start) and whether it was reused unchanged from an earlier run (``reused``: its input fingerprint
had not changed); each run counts its reused forecasts and names the Dask scheduler it ran on.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "fit_params",
                sa.JSON(),
                nullable=True,
                comment="Prophet's fitted parameters: the warm start of the next fit",
            )
        )
        batch_op.add_column(sa.Column("reused", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("forecast_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reused_count",
                sa.Integer(),
                server_default="0",
                nullable=False,
                comment="forecasts reused because their inputs had not changed",
            )
        )
        batch_op.add_column(
            sa.Column(
                "scheduler",
                sa.String(length=200),
                nullable=True,
                comment="Dask scheduler address; NULL when run locally",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("forecast_runs", schema=None) as batch_op:
        batch_op.drop_column("scheduler")
        batch_op.drop_column("reused_count")
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.drop_column("reused")
        batch_op.drop_column("fit_params")
