"""agencies managed in JointOps; cases closed

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import jointops.models

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source", sa.String(length=16), server_default="directory", nullable=False
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_agencies_source"), "source IN ('directory', 'local')"
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed_at", jointops.models.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_agencies_source"), type_="check")
        batch_op.drop_column("source")
