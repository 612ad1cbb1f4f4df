"""pending_checks: operations and targets saved but not yet deconflicted

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

A save records its item here in the same transaction; the check that
completes deletes the row, and a sweep job retries the rest.
"""
import sqlalchemy as sa
from alembic import op

import jointops.models


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pending_checks',
        sa.Column('item_type', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('since', jointops.models.UTCDateTime(), nullable=False),
        sa.Column('next_attempt_at', jointops.models.UTCDateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('reported_at', jointops.models.UTCDateTime(), nullable=True),
        sa.CheckConstraint("item_type IN ('event', 'target')", name=op.f('ck_pending_checks_item_type')),
        sa.PrimaryKeyConstraint('item_type', 'item_id', name=op.f('pk_pending_checks')),
    )
    with op.batch_alter_table('pending_checks', schema=None) as batch_op:
        batch_op.create_index('ix_pending_checks_due', ['next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_checks_due')
    op.drop_table('pending_checks')
