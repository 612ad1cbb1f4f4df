"""target keys: better name rules and identifier forms; every identifier and key recomputed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Name keys now carry Double Metaphone's primary and alternate codes of last
names (Schneider meets Snyder) and the Pinyin a Chinese name may stand for
(Zhang meets Chang, Hsiao-ming meets Xiaoming); each target with a first and
last name also gets the key its name is counted under (namesake:...), so that
a name alone is weighed by how common it is. Phone numbers normalise to the
subscriber number (international access codes and old mobile digits dropped,
the extension kept apart), address keys ignore how a unit is designated and
where a directional is written, and a VIN whose check digit does not match is
no longer refused. Identifiers stored under the old forms are normalised
again from their values as typed, then every target's keys are rebuilt.
Downgrading keeps both: the older code would miss some hits until its own keys
were recomputed, which it cannot do by itself.
"""
from alembic import op

from jointops.deconfliction.target_keys import rebuild_keys, renormalize_identifiers


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    renormalize_identifiers(conn)
    rebuild_keys(conn)


def downgrade() -> None:
    pass
