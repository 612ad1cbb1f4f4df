"""target keys: a nickname of one's own first name is no street name; every key rebuilt

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

A one-word alias that is a nickname of the record's own first name (Sam for
Samantha) was also stored as a street name, so that any two records carrying
"Sam" met, and matched, whatever their names. It now stands only for the first
name. Every target's keys are rebuilt; downgrading keeps them (the older code
would only miss the street-name blocks of such nicknames).
"""

from alembic import op

from jointops.deconfliction.target_keys import rebuild_keys

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rebuild_keys(op.get_bind())


def downgrade() -> None:
    pass
