"""target keys: the key index holds the target id too

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

A check looks up a target's keys and reads which targets are stored under
them: with the target id in the key's index, neither SQLite nor PostgreSQL
reads the table for each entry (at a million identifiers a common key has
hundreds).
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_target_keys_key_target", "target_keys", ["key", "target_id"])
    op.drop_index("ix_target_keys_key", table_name="target_keys")


def downgrade() -> None:
    op.create_index("ix_target_keys_key", "target_keys", ["key"])
    op.drop_index("ix_target_keys_key_target", table_name="target_keys")
