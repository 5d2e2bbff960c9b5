"""sign-off settings

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

Issue 10: separation of duties can be waived only by an admin, and the waiver is recorded.
``sign_off_settings`` keeps every change of the sign-off rules (whether a claimant may decide
their own claim), with who, role, when and why; the latest row is in force. Append-only: a
trigger refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL), using migration 0011's function
there.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

POSTGRES_UP = [
    """
    CREATE TRIGGER sign_off_settings_no_change BEFORE UPDATE OR DELETE ON sign_off_settings
    FOR EACH ROW EXECUTE FUNCTION claims_append_only()
    """,
    """
    CREATE TRIGGER sign_off_settings_no_truncate BEFORE TRUNCATE ON sign_off_settings
    FOR EACH STATEMENT EXECUTE FUNCTION claims_append_only()
    """,
]
SQLITE_UP = [
    f"""
    CREATE TRIGGER sign_off_settings_no_{operation.lower()} BEFORE {operation} ON sign_off_settings
    BEGIN
        SELECT RAISE(ABORT, 'sign_off_settings is append-only: {operation} refused');
    END
    """
    for operation in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table(
        "sign_off_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "claimant_may_decide",
            sa.Boolean(),
            nullable=False,
            comment="true: whoever recorded a claim may also decide it (a team too small to separate the duties)",
        ),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for statement in POSTGRES_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("sign_off_settings")  # its triggers go with it
