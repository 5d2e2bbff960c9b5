"""forecast calibration

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

Issue 07: honest probabilities. ``forecast_backtests`` keeps each raw forecast made from a past
origin (reused while the observations up to that origin are unchanged); ``forecast_runs.calibration``
keeps what a run learned from them (errors, interval coverage by horizon, reliability of p); each
forecast keeps the model's own probability, how much it leans on its reference class, a
sentence on how far it can be trusted, its raw forecast before calibration and the digest of the
calibration it used (a later run with the same inputs re-calibrates it without fitting).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecast_backtests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("benefit_key", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("noise", sa.Float(), nullable=False),
        sa.Column(
            "path",
            sa.JSON(),
            nullable=False,
            comment="[{period, yhat, lower, upper}] raw, from the last observation up to the origin",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("benefit_key", "origin", "fingerprint"),
    )
    with op.batch_alter_table("forecast_backtests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forecast_backtests_benefit_key"), ["benefit_key"], unique=False)
    with op.batch_alter_table("forecast_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "calibration",
                sa.JSON(),
                nullable=True,
                comment="the run's calibration: backtested errors, interval coverage by horizon, reliability of p",
            )
        )
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "p_model", sa.Float(), nullable=True, comment="the model's probability before the reference class"
            )
        )
        batch_op.add_column(
            sa.Column(
                "reference_weight", sa.Float(), nullable=True, comment="how much p_on_time leans on the reference class"
            )
        )
        batch_op.add_column(
            sa.Column(
                "trust",
                sa.Text(),
                server_default="",
                nullable=False,
                comment="how far the forecast can be trusted, in words",
            )
        )
        batch_op.add_column(
            sa.Column(
                "raw",
                sa.JSON(),
                nullable=True,
                comment="the raw forecast before calibration: re-calibrated, not refitted, by a later run",
            )
        )
        batch_op.add_column(
            sa.Column(
                "context",
                sa.String(length=64),
                server_default="",
                nullable=False,
                comment="digest of the calibration and reference class the forecast used",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.drop_column("context")
        batch_op.drop_column("raw")
        batch_op.drop_column("trust")
        batch_op.drop_column("reference_weight")
        batch_op.drop_column("p_model")
    with op.batch_alter_table("forecast_runs", schema=None) as batch_op:
        batch_op.drop_column("calibration")
    with op.batch_alter_table("forecast_backtests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forecast_backtests_benefit_key"))
    op.drop_table("forecast_backtests")
