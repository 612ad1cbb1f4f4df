"""recurring events: a series and its occurrences

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02

``event_series`` holds the rule of a recurring event; each occurrence stays an ``events`` row
(so bookings, their exclusion constraint, visibility and deconfliction work per occurrence),
with ``series_id`` and ``recurrence_id``, the start the rule gave it.
"""

import sqlalchemy as sa
from alembic import op

import jointops.models

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_agency_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=120), nullable=False),
        sa.Column("first_start", sa.DateTime(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", jointops.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_agency_id"],
            ["agencies.id"],
            name=op.f("fk_event_series_owner_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_event_series_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_series")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("recurrence_id", jointops.models.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_events_series_id"), ["series_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_events_series_id_event_series"), "event_series", ["series_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_events_series_id_event_series"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_events_series_id"))
        batch_op.drop_column("recurrence_id")
        batch_op.drop_column("series_id")
    op.drop_table("event_series")
