"""all-day events: an event held for whole office days

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02

``events.all_day``: the event's window runs from local midnight of its first day to local
midnight after its last (still stored in UTC), so bookings and deconfliction need no change.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("all_day", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("all_day")
