"""alerts: the reasons of a match as data, rendered per viewer from their own values

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

Alerts raised before have none; they are rendered from their kind alone until their
items are saved or checked again.
"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reasons', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('reasons')
