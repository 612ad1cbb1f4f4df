"""kept forms: what a page form held when posted after its session had ended

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02

``kept_forms`` holds the fields of such a form until its user signs in again in that browser
(then they fill the form once and the row is deleted) or until ``expires_at``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_kept_forms_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_forms")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kept_forms_token_hash")),
    )
    with op.batch_alter_table("kept_forms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kept_forms_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kept_forms_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kept_forms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_forms_expires_at"))
        batch_op.drop_index(batch_op.f("ix_kept_forms_user_id"))
    op.drop_table("kept_forms")
