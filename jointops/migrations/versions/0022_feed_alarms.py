"""feed tokens: a reminder chosen per feed

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02

``alarm_minutes``: how long before each event the feed's ``VALARM`` reminds, or NULL for
no reminder (every token made before this).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_tokens") as batch:
        batch.add_column(sa.Column("alarm_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feed_tokens") as batch:
        batch.drop_column("alarm_minutes")
