"""dashboard

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

Issue 05: dashboard (e.g. the register's currency). Reserved in the chain so that work on separate issues does not fork
the migration history; it holds the schema changes of that issue (none yet).
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
