"""claims

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Issue 06: finance claims and sign-off. Reserved in the chain so that work on separate issues does not fork
the migration history; it holds the schema changes of that issue (none yet).
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
