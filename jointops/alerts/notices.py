"""Who is told about an alert, and what the notice says (only the reader's own side)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from auth.policy import (
    party_visible,
    sees_both_sides,
    told_of_deconfliction,
)
from jointops.alerts.items import Item, ItemKey, item_keys, party_of
from jointops.catalog import (
    OUTCOME_LABELS,
    STRENGTH_LABELS,
)
from jointops.extensions import db
from jointops.models import (
    Agency,
    Alert,
    Event,
    Target,
    User,
    UserRole,
    utcnow,
)
from jointops.notifications.service import Line, notify_many
from jointops.notifications.service import notify as notify_user
from jointops.visibility import viewer_of


def involved_user_ids(item: Item | None) -> set[int]:
    """The people an item is about: an event's lead, creator and participants; a target's
    submitter."""
    if isinstance(item, Event):
        ids = {p.user_id for p in item.participants}
        ids |= {i for i in (item.lead_id, item.created_by_id) if i is not None}
        return ids
    if isinstance(item, Target):
        return {item.submitter_id}
    return set()


def _notice(alert: Alert, change: str, other: Agency | None) -> str:
    """The line after the alert's number: written before the number is known (``AlertNotice``)."""
    what = "Operation conflict" if alert.kind == "event" else "Target match"
    strength = STRENGTH_LABELS.get(alert.strength, alert.strength).lower()
    party = (
        f"with {other.code} ({other.name})"
        if other is not None
        else f"between {alert.agency_a.code} and {alert.agency_b.code}"
    )
    tail = {
        "raised": f"{strength} match, please acknowledge.",
        "reopened": f"matches again ({strength}), please acknowledge.",
        "changed": f"changed ({strength}), please acknowledge again.",
        "closed": f"closed: {alert.closed_reason or 'no longer matches'}.",
        "resolved": f"resolved: {OUTCOME_LABELS.get(alert.outcome or '', alert.outcome)}.",
        "acknowledged": _acknowledged(alert),
    }[change]
    return f"{what} {party}: {tail}"


def notice_text(alert_id: int, line: str) -> str:
    """The inbox text of a notice about alert ``alert_id``: its number, then the ``line``."""
    return f"Alert #{alert_id} · {line}"[:300]


def _acknowledged(alert: Alert) -> str:
    if alert.acked_a_at and alert.acked_b_at:
        return "acknowledged by both sides, ready to resolve."
    done, waiting = (
        (alert.agency_a, alert.agency_b) if alert.acked_a_at else (alert.agency_b, alert.agency_a)
    )
    return f"acknowledged by {done.code}, waiting for {waiting.code}."


@dataclass(frozen=True)
class AlertNotice:
    """One user's notice of a change to an alert, its line worded as the alert stood then."""

    user: User
    line: str
    created_at: datetime


def notify(
    alert: Alert, items: dict[ItemKey, Item], change: str, *, besides: int | None = None
) -> int:
    """Tell both sides' people, their agencies' supervisors and the deconfliction officers.

    Each reads a line from their own side ("with FBI"), or a neutral one when
    they see the alert only as an officer; the line names no item. ``besides``:
    the user who made the change, not told of it. Flushes the alert first (it
    may be new) and adds the rows to the session.
    """
    db.session.flush()
    notices = notices_of(alert, items, change, besides=besides)
    for notice in notices:
        notify_user(
            notice.user,
            "alert",
            notice_text(alert.id, notice.line),
            alert_link(alert),
            alert_id=alert.id,
            now=notice.created_at,
        )
    return len(notices)


def notices_of(
    alert: Alert, items: dict[ItemKey, Item], change: str, *, besides: int | None = None
) -> list[AlertNotice]:
    """Who ``notify`` tells of the change, and what: it needs no id of the alert, so that an
    import can word the notices of alerts it inserts later, all at once (``write_notices``)."""
    key_a, key_b = item_keys(alert)
    item_a, item_b = items.get(key_a), items.get(key_b)
    party_a, party_b = party_of(alert, "a", item_a), party_of(alert, "b", item_b)
    ids = involved_user_ids(item_a) | involved_user_ids(item_b)
    now = utcnow()
    notices = []
    lines: dict[int | None, str] = {}  # by the other agency named: one wording for many readers
    for user in overseers(alert, also=ids):
        if user.id == besides:
            continue  # who made the change knows of it
        viewer = viewer_of(user)
        own_a, own_b = party_visible(viewer, party_a), party_visible(viewer, party_b)
        if not (own_a or own_b or sees_both_sides(viewer)):
            continue
        other = (
            alert.agency_b
            if own_a and not own_b
            else alert.agency_a
            if own_b and not own_a
            else None
        )
        said = other.id if other is not None else None
        if said not in lines:
            lines[said] = _notice(alert, change, other)
        notices.append(AlertNotice(user, lines[said], now))
    return notices


def write_notices(notices: Iterable[tuple[Alert, AlertNotice]]) -> None:
    """``notify``'s rows of alerts flushed since their notices were worded, in bulk."""
    notify_many(
        "alert",
        [
            Line(n.user, notice_text(a.id, n.line), alert_link(a), a.id, n.created_at)
            for a, n in notices
        ],
    )


def alert_link(alert: Alert) -> str:
    return f"/alerts/{alert.id}"


def overseers(alert: Alert, also: Iterable[int] = ()) -> list[User]:
    """The active supervisors of both agencies and the office's deconfliction officers (the
    watch centre mediates every hit, whichever agency employs them), with the users ``also``;
    never an advocate (``auth.policy.told_of_deconfliction``), whatever part they have."""
    roster = _roster()
    agencies = frozenset({alert.agency_a_id, alert.agency_b_id})
    also = frozenset(also)
    if (agencies, also) not in roster.told:
        found = roster.users(set(also) | roster.staff_of(agencies))
        roster.told[agencies, also] = [
            found[i]
            for i in sorted(found)
            if found[i].active and told_of_deconfliction(viewer_of(found[i]))
        ]
    return list(roster.told[agencies, also])


@dataclass
class _Roster:
    """Who oversees alerts, read once per transaction: an import raises hundreds of alerts
    among the same few agencies and people, and each read the same rows again."""

    _staff: dict[frozenset[int], set[int]] = field(default_factory=dict)
    _users: dict[int, User] = field(default_factory=dict)
    #: ``overseers`` of alerts by their agencies and the users ``also``
    told: dict[tuple[frozenset[int], frozenset[int]], list[User]] = field(default_factory=dict)

    def staff_of(self, agency_ids: frozenset[int]) -> set[int]:
        """The supervisors of ``agency_ids`` and every deconfliction officer."""
        if agency_ids not in self._staff:
            supervisors = (
                select(UserRole.user_id)
                .join(User)
                .where(UserRole.role == "supervisor", User.agency_id.in_(agency_ids))
            )
            officers = select(UserRole.user_id).where(UserRole.role == "deconfliction_officer")
            self._staff[agency_ids] = set(db.session.scalars(supervisors.union(officers)))
        return self._staff[agency_ids]

    def users(self, ids: set[int]) -> dict[int, User]:
        missing = ids - self._users.keys()
        if missing:
            self._users |= {
                u.id: u for u in db.session.scalars(select(User).where(User.id.in_(missing)))
            }
        return {i: self._users[i] for i in ids if i in self._users}


_ROSTER = "alerts.roster"


def _roster() -> _Roster:
    roster = db.session.info.get(_ROSTER)
    if not isinstance(roster, _Roster):
        roster = db.session.info[_ROSTER] = _Roster()
    return roster


@event.listens_for(Session, "after_transaction_end")
def _forget_roster(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_ROSTER, None)
