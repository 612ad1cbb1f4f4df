"""events: a grid cell of the place, indexed with the start, for event deconfliction

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

Operations may last up to fourteen days, so a query by start time alone
reads every operation that started in the fortnight before the window
(about 13,000 of 1,000,000 in bench/deconflict.py); by grid cell and start,
only those in the few cells around the place.
"""
import sqlalchemy as sa
from alembic import op

from deconflict.events import grid_cell


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grid_cell', sa.Integer(), nullable=True))
    events = sa.table(
        'events',
        sa.column('id', sa.Integer),
        sa.column('latitude', sa.Float),
        sa.column('longitude', sa.Float),
        sa.column('grid_cell', sa.Integer),
    )
    conn = op.get_bind()
    after = 0
    while True:
        rows = conn.execute(
            sa.select(events.c.id, events.c.latitude, events.c.longitude)
            .where(events.c.id > after, events.c.latitude.is_not(None), events.c.longitude.is_not(None))
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        conn.execute(
            events.update().where(events.c.id == sa.bindparam('event_id')),
            [{'event_id': r.id, 'grid_cell': grid_cell(r.latitude, r.longitude)} for r in rows],
        )
        after = rows[-1].id
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(
            'ix_events_kind_cell_start',
            ['kind', 'grid_cell', 'starts_at', 'ends_at', 'latitude', 'longitude'],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_kind_cell_start')
        batch_op.drop_column('grid_cell')
