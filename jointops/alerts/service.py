"""Alerts as people see them: the pointer each side reads, the workflow and the inbox.

An alert joins two items (two operations, or two targets) of two agencies or
two cases. Which side a viewer sees is asked of ``auth.policy`` (one place);
this module loads the rows, builds what the pages and the JSON show, and
writes the workflow: each side acknowledges, then a supervisor or the
deconfliction officer resolves with an outcome and a note.

The pointer: a side that is not the viewer's own shows only its agency, a
point of contact and why it matched (with the other record's own values
taken out of the explanation); never its title, address, names or identifiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from auth.policy import (
    AlertParty,
    Viewer,
    alert_sides,
    may_acknowledge,
    may_resolve,
    party_visible,
    pointer_explanation,
    sees_both_sides,
)
from jointops import audit
from jointops.catalog import (
    ALERT_KIND_LABELS,
    OUTCOME_LABELS,
    STRENGTH_LABELS,
    STRENGTH_RANK,
)
from jointops.extensions import db
from jointops.models import (
    Agency,
    Alert,
    AlertOutcome,
    AlertStatus,
    Booking,
    Event,
    Notification,
    Participant,
    Target,
    User,
    UserRole,
    utcnow,
)
from jointops.notifications.service import notify as notify_user
from jointops.transactions import begin_write
from jointops.visibility import facts_of, viewer_of

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


def load_keys(keys: Iterable[ItemKey]) -> dict[ItemKey, Item]:
    """The items of these keys, with what alerts and notifications read of them."""
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
        targets = db.session.scalars(
            select(Target)
            .where(Target.id.in_(wanted["target"]))
            .options(
                joinedload(Target.agency), joinedload(Target.case), joinedload(Target.submitter)
            )
        )
        found.update({("target", t.id): t for t in targets})
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


# --- the pointer -------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """Who to call about the other side's item."""

    name: str
    phone: str | None
    email: str | None


def contact_of(item: Item | None, agency_id: int) -> Contact | None:
    """The item's lead (or submitter), else an active supervisor of its agency."""
    person: User | None = None
    if isinstance(item, Event):
        person = item.lead or (
            db.session.get(User, item.created_by_id) if item.created_by_id else None
        )
    elif isinstance(item, Target):
        person = item.submitter
    if person is None or not person.active:
        person = db.session.scalar(
            select(User)
            .join(UserRole)
            .where(UserRole.role == "supervisor", User.agency_id == agency_id, User.active)
            .order_by(User.display_name)
            .limit(1)
        )
    if person is None:
        return None
    return Contact(name=person.display_name, phone=person.phone, email=person.email)


def item_values(item: Item | None) -> list[str]:
    """The values of an item that an explanation might quote (for ``pointer_explanation``)."""
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


def view_alert(alert: Alert, user: User, items: dict[ItemKey, Item]) -> AlertView | None:
    """What ``user`` may see of ``alert``; ``None`` when they may see neither side."""
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
            contact=contact_of(item, alert.agency_a_id if is_a else alert.agency_b_id),
            acked_at=acked_at,
            acked_by=alert.acked_a_by if is_a else alert.acked_b_by,
            can_ack=active and acked_at is None and may_acknowledge(viewer, party),
        )

    privileged = sees_both_sides(viewer) and not (own_a and own_b)
    if privileged or (own_a and own_b):
        explanation = alert.explanation
    else:
        own_item, other_item = (item_a, item_b) if own_a else (item_b, item_a)
        explanation = pointer_explanation(
            alert.explanation, item_values(own_item), item_values(other_item)
        )
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


# --- the review list ---------------------------------------------------------------------


@dataclass(frozen=True)
class AlertFilters:
    status: str = "active"
    kind: str | None = None
    strength: str | None = None
    agency: str | None = None
    sort: str = "urgency"
    page: int = 1

    def args(self) -> dict[str, str]:
        """The filters as query arguments, without the page (a new filter starts at page 1)."""
        return {k: v for k, v in vars(self).items() if v and k != "page"}


#: Alerts on one page of the review list.
PER_PAGE = 50


@dataclass(frozen=True)
class AlertList:
    views: list[AlertView]  # this page's
    #: how many of the alerts the viewer may see (other filters applied) are in each status
    counts: dict[str, int]
    total: int = 0  # of the alerts these filters select, on every page
    page: int = 1
    pages: int = 1

    @property
    def first(self) -> int:
        """The position of this page's first alert among all (1-based; 0 when none)."""
        return (self.page - 1) * PER_PAGE + 1 if self.views else 0


def _candidate_query(user: User, viewer: Viewer) -> Any:
    """Alerts that may concern the viewer; the policy then decides row by row."""
    query = select(Alert)
    if sees_both_sides(viewer):
        return query
    # the lead of an event is one of its participants
    mine = select(Participant.event_id).where(Participant.user_id == user.id)
    conditions = [
        and_(Alert.item_a_type == "event", Alert.item_a_id.in_(mine)),
        and_(Alert.item_b_type == "event", Alert.item_b_id.in_(mine)),
    ]
    if user.agency_id is not None:
        conditions += [Alert.agency_a_id == user.agency_id, Alert.agency_b_id == user.agency_id]
    return query.where(or_(*conditions))


def list_alerts(user: User, filters: AlertFilters) -> AlertList:
    """The alerts ``user`` may see, filtered and sorted (urgency: soonest operation first)."""
    viewer = viewer_of(user)
    query = _candidate_query(user, viewer)
    if filters.kind:
        query = query.where(Alert.kind == filters.kind)
    if filters.strength:
        query = query.where(Alert.strength == filters.strength)
    if filters.agency:
        agency_id = db.session.scalar(select(Agency.id).where(Agency.code == filters.agency))
        query = query.where(or_(Alert.agency_a_id == agency_id, Alert.agency_b_id == agency_id))
    rows = db.session.scalars(query).all()
    items = load_items(rows)
    views = [v for alert in rows if (v := view_alert(alert, user, items)) is not None]
    counts = {status.value: 0 for status in AlertStatus}
    for v in views:
        counts[v.alert.status] += 1
    wanted = {
        "active": set(ACTIVE),
        "all": {s.value for s in AlertStatus},
    }.get(filters.status, {filters.status})
    views = [v for v in views if v.alert.status in wanted]
    if filters.sort == "waiting":
        views.sort(key=lambda v: v.alert.raised_at)
    elif filters.sort == "strength":
        views.sort(key=lambda v: (STRENGTH_RANK.get(v.alert.strength, 9), -v.alert.score))
    else:
        views.sort(key=lambda v: v.urgency)
    pages = max(1, -(-len(views) // PER_PAGE))
    page = min(filters.page, pages)
    return AlertList(
        views=views[(page - 1) * PER_PAGE : page * PER_PAGE],
        counts=counts,
        total=len(views),
        page=page,
        pages=pages,
    )


def alerts_for_item(item_type: str, item_id: int, user: User) -> list[AlertView]:
    """The alerts on one item that ``user`` may see, the active ones first."""
    rows = db.session.scalars(
        select(Alert).where(
            or_(
                and_(Alert.item_a_type == item_type, Alert.item_a_id == item_id),
                and_(Alert.item_b_type == item_type, Alert.item_b_id == item_id),
            )
        )
    ).all()
    items = load_items(rows)
    views = [v for alert in rows if (v := view_alert(alert, user, items)) is not None]
    views.sort(key=lambda v: (not v.alert.is_active, v.urgency))
    return views


def record_view(view: AlertView, user: User, *, via: str) -> None:
    """Audit a view of an alert (both sides marked when seen by the officer's right) and
    mark the viewer's notifications of it read, in one write."""
    begin_write()
    audit.record(
        "alert.view",
        object_type="alert",
        object_id=view.alert.id,
        actor=user,
        sides="both" if view.privileged else "own",
        via=via,
    )
    db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.alert_id == view.alert.id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    db.session.commit()


def record_list_view(views: Sequence[AlertView], user: User, *, via: str) -> None:
    """Audit a list that showed both sides of some alerts (the deconfliction officer's)."""
    privileged = [v.alert.id for v in views if v.privileged]
    if privileged:
        audit.record_now(
            "alert.list",
            object_type="alert",
            actor=user,
            sides="both",
            alert_ids=privileged,
            via=via,
        )


# --- the workflow ------------------------------------------------------------------------


def acknowledge(alert_id: int, user: User) -> list[str]:
    """Acknowledge the viewer's side(s); both acknowledged moves the alert on. Returns the
    agency codes acknowledged for."""
    begin_write()
    alert = db.session.get(Alert, alert_id, populate_existing=True)
    view_items = load_items([alert]) if alert else {}
    view = view_alert(alert, user, view_items) if alert else None
    if alert is None or view is None:
        raise AlertActionRefused("There is nothing here, or nothing you may see.", 404)
    sides = [s for s in (view.a, view.b) if s.can_ack]
    if not sides:
        db.session.rollback()
        if not alert.is_active:
            raise AlertActionRefused(f"This alert is already {alert.status}.")
        if not any(s.own and s.agency.id == user.agency_id for s in (view.a, view.b)):
            raise AlertActionRefused(
                f"Only {alert.agency_a.code} and {alert.agency_b.code} acknowledge this alert, "
                "each for its own side."
            )
        raise AlertActionRefused("Your side has already acknowledged this alert.")
    now = utcnow()
    for s in sides:
        if s.key == "a":
            alert.acked_a_at, alert.acked_a_by_id = now, user.id
        else:
            alert.acked_b_at, alert.acked_b_by_id = now, user.id
    if alert.acked_a_at and alert.acked_b_at and alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED.value
    alert.updated_at = now
    codes = [s.agency.code for s in sides]
    audit.record(
        "alert.acknowledge", object_type="alert", object_id=alert.id, actor=user, sides=codes
    )
    # the other side learns its counterpart has seen it; supervisors, that both are ready
    notify(alert, view_items, "acknowledged", besides=user.id)
    db.session.commit()
    return codes


def resolve(alert_id: int, user: User, outcome: str, note: str) -> Alert:
    """Close the alert with what was agreed; only once both sides have acknowledged."""
    if outcome not in {o.value for o in AlertOutcome}:
        raise AlertActionRefused(f"Unknown outcome {outcome!r}.", 400)
    begin_write()
    alert = db.session.get(Alert, alert_id, populate_existing=True)
    items = load_items([alert]) if alert else {}
    view = view_alert(alert, user, items) if alert else None
    if alert is None or view is None:
        raise AlertActionRefused("There is nothing here, or nothing you may see.", 404)
    if not alert.is_active:
        db.session.rollback()
        raise AlertActionRefused(f"This alert is already {alert.status}.")
    if not view.can_resolve:
        db.session.rollback()
        raise AlertActionRefused(
            "Only a supervisor of either side or a deconfliction officer resolves an alert.", 403
        )
    if view.waiting_for:
        db.session.rollback()
        names = " and ".join(s.agency.code for s in view.waiting_for)
        raise AlertActionRefused(
            f"Both sides acknowledge before an alert is resolved: waiting for {names}."
        )
    now = utcnow()
    alert.status = AlertStatus.RESOLVED.value
    alert.outcome = outcome
    alert.resolution_note = note
    alert.resolved_by_id = user.id
    alert.resolved_at = now
    alert.updated_at = now
    audit.record(
        "alert.resolve",
        object_type="alert",
        object_id=alert.id,
        actor=user,
        outcome_code=outcome,
        note=note,
    )
    notify(alert, items, "resolved")
    db.session.commit()
    return alert


# --- notifications -----------------------------------------------------------------------


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
    return f"Alert #{alert.id} · {what} {party}: {tail}"[:300]


def _acknowledged(alert: Alert) -> str:
    if alert.acked_a_at and alert.acked_b_at:
        return "acknowledged by both sides, ready to resolve."
    done, waiting = (
        (alert.agency_a, alert.agency_b) if alert.acked_a_at else (alert.agency_b, alert.agency_a)
    )
    return f"acknowledged by {done.code}, waiting for {waiting.code}."


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
    key_a, key_b = item_keys(alert)
    item_a, item_b = items.get(key_a), items.get(key_b)
    party_a, party_b = party_of(alert, "a", item_a), party_of(alert, "b", item_b)
    ids = involved_user_ids(item_a) | involved_user_ids(item_b)
    users = overseers(alert, also=ids)
    now = utcnow()
    sent = 0
    for user in users:
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
        notify_user(
            user,
            "alert",
            _notice(alert, change, other),
            alert_link(alert),
            alert_id=alert.id,
            now=now,
        )
        sent += 1
    return sent


def alert_link(alert: Alert) -> str:
    return f"/alerts/{alert.id}"


def overseers(alert: Alert, also: Iterable[int] = ()) -> list[User]:
    """The active supervisors of both agencies and the office's deconfliction officers (the
    watch centre mediates every hit, whichever agency employs them), with the users ``also``."""
    supervisors = (
        select(UserRole.user_id)
        .join(User)
        .where(
            UserRole.role == "supervisor",
            User.agency_id.in_({alert.agency_a_id, alert.agency_b_id}),
        )
    )
    officers = select(UserRole.user_id).where(UserRole.role == "deconfliction_officer")
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                or_(User.id.in_(set(also)), User.id.in_(supervisors), User.id.in_(officers)),
            )
            .order_by(User.id)
        )
    )


def unread_count(user: User) -> int:
    """The header's badge: one indexed count."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def inbox(user: User, limit: int = 200) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(user: User) -> int:
    begin_write()
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
