"""meetings: a fourth kind of event (case meetings, court dates, trainings, briefings)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02

``ck_events_kind`` admits ``meeting``. No other table names a kind of event (``event_series``
takes its kind from its occurrences). A downgrade refuses while meetings are stored: the old
constraint cannot hold them, and no other kind says what they are.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

KINDS_BEFORE = ("operation", "interview", "appointment")
KINDS_AFTER = (*KINDS_BEFORE, "meeting")


def _kind_check(kinds: tuple[str, ...]) -> str:
    return f"kind IN ({', '.join(repr(k) for k in kinds)})"


def _set_kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_events_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_events_kind"), _kind_check(kinds))


def upgrade() -> None:
    _set_kinds(KINDS_AFTER)


def downgrade() -> None:
    meetings = op.get_bind().scalar(sa.text("SELECT count(*) FROM events WHERE kind = 'meeting'"))
    if meetings:
        raise RuntimeError(
            f"{meetings} meeting(s) are stored, and before 0027 no kind of event can hold them: "
            "delete them (or change their kind) before downgrading."
        )
    _set_kinds(KINDS_BEFORE)
