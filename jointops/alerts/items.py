"""The two items of an alert: loading them, their keys, and each side as ``auth.policy`` sees it.

An alert joins two items (two operations, or two targets) of two agencies or
two cases. Which side a viewer sees is asked of ``auth.policy`` (one place).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from auth.policy import (
    AlertParty,
)
from jointops.extensions import db
from jointops.models import (
    Alert,
    AlertStatus,
    Booking,
    Event,
    Target,
)
from jointops.visibility import facts_of

Item = Event | Target
ItemKey = tuple[str, int]
ACTIVE = (AlertStatus.OPEN.value, AlertStatus.ACKNOWLEDGED.value)
STATUS_FILTERS = ("active", "open", "acknowledged", "resolved", "closed", "all")
SORTS = ("urgency", "waiting", "strength")


class AlertActionRefused(Exception):
    """The workflow step is not possible now (409) or not for this user (403)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


# --- loading -----------------------------------------------------------------------------


def load_items(alerts: Iterable[Alert]) -> dict[ItemKey, Item]:
    """Both items of every alert, in two queries whatever the number of alerts."""
    wanted: set[ItemKey] = set()
    for alert in alerts:
        for item_type, item_id in item_keys(alert):
            if item_id is not None:  # None: purged under the retention rule
                wanted.add((item_type, item_id))
    return load_keys(wanted)


def load_keys(keys: Iterable[ItemKey], *, identifiers: bool = True) -> dict[ItemKey, Item]:
    """The items of these keys, with what alerts and notifications read of them; a target's
    identifiers only if ``identifiers`` (an import's check has its records already)."""
    wanted: dict[str, set[int]] = {"event": set(), "target": set()}
    for item_type, item_id in keys:
        wanted[item_type].add(item_id)
    found: dict[ItemKey, Item] = {}
    if wanted["event"]:
        events = db.session.scalars(
            select(Event)
            .where(Event.id.in_(wanted["event"]))
            .options(
                joinedload(Event.owner_agency),
                joinedload(Event.lead),
                selectinload(Event.participants),
                selectinload(Event.bookings).joinedload(Booking.resource),
            )
        )
        found.update({("event", e.id): e for e in events})
    if wanted["target"]:
        query = (
            select(Target)
            .where(Target.id.in_(wanted["target"]))
            .options(
                joinedload(Target.agency), joinedload(Target.case), joinedload(Target.submitter)
            )
        )
        if not identifiers:
            query = query.options(lazyload(Target.identifiers))
        found.update({("target", t.id): t for t in db.session.scalars(query)})
    return found


def item_keys(alert: Alert) -> tuple[ItemKey, ItemKey]:
    """Both items' (type, id); the id is None once the item was purged (a tombstone)."""
    return (alert.item_a_type, alert.item_a_id), (alert.item_b_type, alert.item_b_id)  # type: ignore[return-value]


def party_of(alert: Alert, side: str, item: Item | None) -> AlertParty:
    """One side of ``alert`` as ``auth.policy`` sees it."""
    item_type = alert.item_a_type if side == "a" else alert.item_b_type
    agency = alert.agency_a if side == "a" else alert.agency_b
    facts = facts_of(item) if isinstance(item, Event) else None
    return AlertParty(item_type=item_type, agency_code=agency.code, event=facts)
