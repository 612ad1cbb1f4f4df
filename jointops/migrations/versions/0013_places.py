"""places: known places of appointments, an appointment's place, the geocoder's cache

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

An appointment's place is a table of its own, apart from events: nothing that reads
events (feeds, deconfliction) reads it. The cache keys answers by a hash of the search.
"""
import sqlalchemy as sa
from alembic import op

import jointops.models


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'known_places',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('confidential', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', jointops.models.UTCDateTime(), nullable=False),
        sa.Column('updated_at', jointops.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('courthouse', 'clinic', 'hospital', 'housing_office', 'shelter', "
            "'advocacy_center', 'other')",
            name=op.f('ck_known_places_kind'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_known_places')),
        sa.UniqueConstraint('name', name=op.f('uq_known_places_name')),
    )
    op.create_table(
        'appointment_places',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('known_place_id', sa.Integer(), nullable=True),
        sa.Column('place_text', sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            '(known_place_id IS NULL) <> (place_text IS NULL)',
            name=op.f('ck_appointment_places_known_place_or_text'),
        ),
        sa.ForeignKeyConstraint(
            ['event_id'], ['events.id'],
            name=op.f('fk_appointment_places_event_id_events'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['known_place_id'], ['known_places.id'],
            name=op.f('fk_appointment_places_known_place_id_known_places'),
        ),
        sa.PrimaryKeyConstraint('event_id', name=op.f('pk_appointment_places')),
    )
    with op.batch_alter_table('appointment_places', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_appointment_places_known_place_id'), ['known_place_id'], unique=False
        )
    op.create_table(
        'geocode_cache',
        sa.Column('query_key', sa.String(length=64), nullable=False),
        sa.Column('geocoder', sa.String(length=16), nullable=False),
        sa.Column('candidates', sa.JSON(), nullable=False),
        sa.Column('fetched_at', jointops.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('query_key', name=op.f('pk_geocode_cache')),
    )
    with op.batch_alter_table('geocode_cache', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_geocode_cache_fetched_at'), ['fetched_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('geocode_cache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_geocode_cache_fetched_at'))
    op.drop_table('geocode_cache')
    with op.batch_alter_table('appointment_places', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_places_known_place_id'))
    op.drop_table('appointment_places')
    op.drop_table('known_places')
