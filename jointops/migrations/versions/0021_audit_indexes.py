"""audit entries: indexed newest first with their id, and by person and time

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01

The audit log page reads entries newest first in keyset pages of ``(at, id)``;
the per-user limits (pre-checks, address searches) and the log's person filter
read one person's entries in a window. ``(at, id)`` also serves everything the
index on ``at`` alone served, so that one goes.
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_at_id", "audit_entries", ["at", "id"])
    op.create_index("ix_audit_actor_at", "audit_entries", ["actor_id", "at"])
    op.drop_index("ix_audit_entries_at", table_name="audit_entries")


def downgrade() -> None:
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    op.drop_index("ix_audit_actor_at", table_name="audit_entries")
    op.drop_index("ix_audit_at_id", table_name="audit_entries")
