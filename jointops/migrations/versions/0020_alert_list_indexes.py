"""alerts list: indexes to filter, count, sort and page it in the database

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01

The review list of alerts is filtered, counted, ordered and paged in the
database (``jointops.alerts.listing``). A viewer's alerts are those on the
events they lead or take part in or that their agency owns (of the kinds and
sensitivities the policy shows them), and on their agency's targets: events by
lead, and by agency with kind and sensitivity, are indexed for it. The alerts'
own index holds every column the list filters, sorts and tests visibility on,
so that a page's ids (even a deep page's) come from the index alone and only
the page's rows are read.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

LIST_COLUMNS = [
    "status",
    "starts_at",
    "raised_at",
    "strength",
    "score",
    "kind",
    "item_a_type",
    "item_a_id",
    "item_b_type",
    "item_b_id",
    "agency_a_id",
    "agency_b_id",
]


def upgrade() -> None:
    op.create_index("ix_events_lead", "events", ["lead_id"])
    op.create_index("ix_events_agency_kind", "events", ["owner_agency_id", "kind", "sensitivity"])
    op.create_index("ix_alerts_list", "alerts", LIST_COLUMNS)
    op.drop_index("ix_alerts_status_start", table_name="alerts")  # the list index's prefix


def downgrade() -> None:
    op.create_index("ix_alerts_status_start", "alerts", ["status", "starts_at"])
    op.drop_index("ix_alerts_list", table_name="alerts")
    op.drop_index("ix_events_agency_kind", table_name="events")
    op.drop_index("ix_events_lead", table_name="events")
