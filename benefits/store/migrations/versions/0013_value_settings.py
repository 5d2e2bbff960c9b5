"""value settings

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

Issue 10: the business case as finance reads it. ``initiatives.investment_plan`` keeps the
initiative's investment as declared (one-off costs, phased or not, running costs per year and
the business case horizon; amounts as exact decimal text), ``portfolio.finance`` the register's
fiscal year start month, discount rate, appraisal years and valuation date. ``initiatives.investment``
(the one-off total, a float) stays for older readers.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "investment_plan",
                sa.JSON(),
                nullable=True,
                comment="the investment as declared in the register (JSON, amounts as decimal text)",
            )
        )
    with op.batch_alter_table("portfolio", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "finance",
                sa.JSON(),
                nullable=True,
                comment="fiscal year start month, discount rate, appraisal years, valuation date (JSON)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("portfolio", schema=None) as batch_op:
        batch_op.drop_column("finance")
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.drop_column("investment_plan")
