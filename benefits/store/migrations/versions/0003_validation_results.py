"""validation results

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Issue 03: validation results, warnings, staleness. Reserved in the chain so that work on separate issues does not fork
the migration history; it holds the schema changes of that issue (none yet).
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
