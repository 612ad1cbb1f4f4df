"""target keys: name blocks split by date of birth; every target's keys rebuilt

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

A person's name keys now carry their date of birth (two people of one name
sound with different dates never meet), and pairs where a date is missing
meet through both name parts' sounds (deconflict.names.name_keys). Keys
stored under the old rules would hide hits, so every target's are rebuilt.
Downgrading keeps the new keys: the older code would miss name hits until
its own keys were recomputed, which it cannot do by itself.
"""
from alembic import op

from jointops.deconfliction.target_keys import rebuild_keys


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    rebuild_keys(op.get_bind())


def downgrade() -> None:
    pass
