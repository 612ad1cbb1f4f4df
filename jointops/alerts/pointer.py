"""The pointer: what each viewer reads of one alert.

A side that is not the viewer's own shows only its agency, a point of contact
and why it matched (with the other record's own values taken out of the
explanation); never its title, address, names or identifiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from auth.policy import (
    AlertParty,
    alert_sides,
    may_acknowledge,
    may_resolve,
    party_visible,
    sees_both_sides,
)
from deconflict.explain import for_side
from deconflict.match import Reason, Rule, Strength
from jointops.alerts.items import Item, ItemKey, item_keys, load_items, party_of
from jointops.catalog import (
    ALERT_KIND_LABELS,
    STRENGTH_RANK,
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
from jointops.visibility import viewer_of


@dataclass(frozen=True)
class Contact:
    """Who to call about the other side's item."""

    name: str
    phone: str | None
    email: str | None
    user_id: int | None = None


def contact_of(
    item: Item | None, agency_id: int, supervisors: Mapping[int, User | None] | None = None
) -> Contact | None:
    """The item's lead (or submitter), else an active supervisor of its agency (taken from
    ``supervisors`` when given: a list's, looked up once for all its rows)."""
    person: User | None = None
    if isinstance(item, Event):
        person = item.lead or (
            db.session.get(User, item.created_by_id) if item.created_by_id else None
        )
    elif isinstance(item, Target):
        person = item.submitter
    if person is None or not person.active:
        if supervisors is not None and agency_id in supervisors:
            person = supervisors[agency_id]
        else:
            person = supervisors_of([agency_id])[agency_id]
    if person is None:
        return None
    return Contact(
        name=person.display_name, phone=person.phone, email=person.email, user_id=person.id
    )


def supervisors_of(agency_ids: Iterable[int]) -> dict[int, User | None]:
    """Each agency's first active supervisor by name (the contact of last resort), in one query."""
    wanted = set(agency_ids)
    found: dict[int, User | None] = dict.fromkeys(wanted)
    if not wanted:
        return found
    rows = db.session.scalars(
        select(User)
        .join(UserRole)
        .where(UserRole.role == "supervisor", User.agency_id.in_(wanted), User.active)
        .order_by(User.display_name, User.id)
    )
    for person in rows:
        if person.agency_id is not None and found[person.agency_id] is None:
            found[person.agency_id] = person
    return found


def item_values(item: Item | None) -> list[str]:
    """The values of an item that an officer's explanation may quote (scrubbed on purge)."""
    if isinstance(item, Target):
        values = [item.ref, item.first_name, item.last_name, item.name, *item.aliases]
        for i in item.identifiers:
            values += [i.raw, i.normalized]
        return values
    if isinstance(item, Event):
        return [item.title, item.location_address or "", item.client_code or ""]
    return []


def item_label(item_type: str, item: Item | None) -> str:
    """How an item is named to someone who may see it."""
    if isinstance(item, Event):
        return item.title
    if isinstance(item, Target):
        return f"{item.ref}" + (f" · {item.name}" if item.name else "")
    return f"{ALERT_KIND_LABELS.get(item_type, item_type).lower()} (no longer available)"


def item_ref(item_type: str, item_id: int | None, item: Item | None) -> str | int:
    """The reference scripts use: the event id for operations, the ``target_ref`` for targets."""
    if item_id is None:
        return "purged"
    if item_type == "target":
        return item.ref if isinstance(item, Target) else f"#{item_id}"
    return item_id


@dataclass(frozen=True)
class Side:
    """One side of an alert as one viewer sees it."""

    key: str  # "a" | "b"
    item_type: str
    item_id: int | None  # None: purged
    agency: Agency
    item: Item | None
    #: the viewer sees this item: their own side, or a deconfliction officer's view
    shown: bool
    #: the viewer's own side by right (not through the deconfliction officer's privilege)
    own: bool
    contact: Contact | None
    acked_at: datetime | None
    acked_by: User | None
    can_ack: bool

    @property
    def label(self) -> str:
        if not self.shown:
            return f"{ALERT_KIND_LABELS[self.item_type]} of {self.agency.code}"
        return item_label(self.item_type, self.item)

    @property
    def ref(self) -> str | int | None:
        return item_ref(self.item_type, self.item_id, self.item) if self.shown else None

    @property
    def event(self) -> Event | None:
        """The operation, when the viewer sees it."""
        return self.item if self.shown and isinstance(self.item, Event) else None

    @property
    def target(self) -> Target | None:
        """The target, when the viewer sees it."""
        return self.item if self.shown and isinstance(self.item, Target) else None


@dataclass(frozen=True)
class AlertView:
    """An alert and both its sides, as one viewer may see them."""

    alert: Alert
    a: Side
    b: Side
    explanation: str
    #: seen through the deconfliction officer's right to both sides: every such view is audited
    privileged: bool
    can_resolve: bool

    @property
    def sides(self) -> tuple[Side, Side]:
        """The viewer's own side first."""
        return (self.b, self.a) if self.b.own and not self.a.own else (self.a, self.b)

    @property
    def mine(self) -> Side | None:
        return next((s for s in self.sides if s.own), None)

    @property
    def other(self) -> Side:
        return self.sides[1] if self.sides[0].own else self.sides[0]

    @property
    def waiting(self) -> timedelta:
        """How long the alert has waited for (or took to reach) its resolution."""
        alert = self.alert
        end = alert.resolved_at or alert.closed_at if not alert.is_active else None
        return (end or utcnow()) - alert.raised_at

    @property
    def waiting_for(self) -> list[Side]:
        """The sides that have not acknowledged yet."""
        if not self.alert.is_active:
            return []
        return [s for s in (self.a, self.b) if s.acked_at is None]

    @property
    def starts_at(self) -> datetime | None:
        """When the viewer's operation starts (for an officer: the earlier of the two)."""
        if self.privileged:
            return self.alert.starts_at
        own = [s.event.starts_at for s in (self.a, self.b) if s.own and s.event is not None]
        return min(own) if own else None

    @property
    def urgency(self) -> tuple[Any, ...]:
        alert = self.alert
        return (
            alert.starts_at is None,
            alert.starts_at or alert.raised_at,
            STRENGTH_RANK.get(alert.strength, 9),
            -alert.score,
            alert.raised_at,
        )


def view_alert(
    alert: Alert,
    user: User,
    items: dict[ItemKey, Item],
    supervisors: Mapping[int, User | None] | None = None,
) -> AlertView | None:
    """What ``user`` may see of ``alert``; ``None`` when they may see neither side.
    ``supervisors``: ``supervisors_of`` both agencies, when a list has looked them up."""
    viewer = viewer_of(user)
    key_a, key_b = item_keys(alert)
    item_a, item_b = items.get(key_a), items.get(key_b)
    party_a, party_b = party_of(alert, "a", item_a), party_of(alert, "b", item_b)
    shown_a, shown_b = alert_sides(viewer, party_a, party_b)
    if not (shown_a or shown_b):
        return None
    own_a, own_b = party_visible(viewer, party_a), party_visible(viewer, party_b)
    active = alert.is_active

    def side(key: str, item: Item | None, party: AlertParty, shown: bool, own: bool) -> Side:
        is_a = key == "a"
        acked_at = alert.acked_a_at if is_a else alert.acked_b_at
        return Side(
            key=key,
            item_type=alert.item_a_type if is_a else alert.item_b_type,
            item_id=alert.item_a_id if is_a else alert.item_b_id,
            agency=alert.agency_a if is_a else alert.agency_b,
            item=item,
            shown=shown,
            own=own,
            contact=contact_of(item, alert.agency_a_id if is_a else alert.agency_b_id, supervisors),
            acked_at=acked_at,
            acked_by=alert.acked_a_by if is_a else alert.acked_b_by,
            can_ack=active and acked_at is None and may_acknowledge(viewer, party),
        )

    privileged = sees_both_sides(viewer) and not (own_a and own_b)
    if privileged or (own_a and own_b):
        explanation = alert.explanation
    else:  # rendered from the viewer's own values only: nothing of the other side is at hand
        own_item = item_a if own_a else item_b
        explanation = for_side(reasons_of(alert), "a" if own_a else "b", own_values(own_item))
    return AlertView(
        alert=alert,
        a=side("a", item_a, party_a, shown_a, own_a),
        b=side("b", item_b, party_b, shown_b, own_b),
        explanation=explanation,
        privileged=privileged,
        can_resolve=active and may_resolve(viewer, party_a, party_b),
    )


def get_alert_view(alert_id: int, user: User) -> AlertView | None:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        return None
    return view_alert(alert, user, load_items([alert]))


def reasons_of(alert: Alert) -> list[Reason]:
    """The alert's reasons; an alert stored before reasons were data has its kind's alone."""
    if alert.reasons:
        return [Reason.from_data(d) for d in alert.reasons]
    if alert.kind == "event":
        return [Reason(Rule.PLACE_TIME, "location", Strength(alert.strength), "")]
    return []


def own_values(item: Item | None) -> dict[str, str]:
    """The viewer's own item's values under the references reasons use (as typed)."""
    if not isinstance(item, Target):
        return {}
    values = {f"{i.kind}:{n}": i.raw or i.normalized for n, i in enumerate(item.identifiers)}
    values["name"] = item.name
    values.update({f"alias:{n}": alias for n, alias in enumerate(item.aliases or [])})
    return values
