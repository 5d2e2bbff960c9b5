"""sync run log

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

Issue 12: what a connector logs through ``Connector.log`` (and the framework's helpers' warnings,
such as the HTTP helper's retries) during a sync run is kept with the run, masked:
``sync_runs.log``, a JSON list of ``<level>: <message>`` lines (at most 100; NULL when it logged
nothing, and for runs before this revision).
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "log",
                sa.JSON(),
                nullable=True,
                comment=(
                    "what the connector logged during the run, masked: one '<level>: <message>' line each, at most 100"
                ),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("log")
