"""What the calendar page reads: one query for each kind of thing it shows.

The page reads plain rows (SQLAlchemy Core, on the session's connection and transaction),
not mapped objects: loading a few dozen events with their people and bookings as ORM objects
cost more than everything else of the page.
The window's events come in one query with their participants, their bookings' resources
and agencies, whether each still awaits its deconfliction check and whether an alert on it
is still open, one row per participant and booking, gathered here into :class:`CalendarEvent`.
Need-to-know is not decided here: every event's facts are made by
``jointops.visibility.event_facts`` (as ``facts_of`` makes them of a row) and go through
``auth.policy``, as they do everywhere else, for this request's viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import aliased

from auth.policy import (
    AlertParty,
    EventFacts,
    Viewer,
    Visibility,
    event_visibility,
    shares_resource,
    told_of_alert_on,
)
from jointops.alerts.items import ACTIVE
from jointops.extensions import db
from jointops.models import (
    Agency,
    Alert,
    Booking,
    Case,
    Event,
    EventStatus,
    Participant,
    PendingCheck,
    Resource,
    ResourceKind,
    User,
)
from jointops.visibility import event_facts, viewer_of


@dataclass(frozen=True)
class Person:
    """Someone the person filter offers."""

    id: int
    name: str
    agency_code: str | None


@dataclass(frozen=True)
class AgencyChoice:
    id: int
    code: str


@dataclass(frozen=True)
class Room:
    """A room, vehicle or piece of equipment as the page shows and filters it."""

    id: int
    name: str
    kind: str
    #: the owning agency's code; ``None`` for a shared resource
    agency_code: str | None

    @property
    def is_room(self) -> bool:
        return ResourceKind(self.kind).is_room


@dataclass(frozen=True)
class Held:
    """One booking of an event: the resource and whether the booking is active."""

    id: int
    resource: Room
    active: bool

    @property
    def resource_id(self) -> int:
        return self.resource.id


@dataclass(frozen=True)
class CalendarEvent:
    """What the page, its filters and its search read of an event (never its place)."""

    id: int
    kind: str
    title: str
    owner_agency_code: str
    lead_id: int | None
    starts_at: datetime
    ends_at: datetime
    status: str
    sensitivity: str
    participant_ids: frozenset[int]
    bookings: tuple[Held, ...]
    #: whole office days, midnight to midnight: shown in the band above the grid
    all_day: bool = False
    # the search's (SEARCH_WINDOW); empty on the page
    subtype: str = ""
    client_code: str | None = None
    notes: str = ""
    case_number: str | None = None
    case_title: str | None = None

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def room(self) -> Room | None:
        """The first room booked, as ``models.Event.room``."""
        return next((b.resource for b in self.bookings if b.resource.is_room), None)

    def facts(self) -> EventFacts:
        return event_facts(
            kind=self.kind,
            sensitivity=self.sensitivity,
            status=self.status,
            owner_agency_code=self.owner_agency_code,
            participant_ids=self.participant_ids,
            lead_id=self.lead_id,
            bookings=((b.resource.agency_code, b.active) for b in self.bookings),
        )


@dataclass(frozen=True)
class Choices:
    """What the filters offer: every agency, the resources the viewer may know of, the people;
    and the viewer as the policy knows them, worked out once for the page."""

    viewer: Viewer
    agencies: list[AgencyChoice]
    rooms: list[Room]
    people: list[Person]


@dataclass(frozen=True)
class Shown:
    """An event the viewer may see, how much of it, the policy's facts of it, whether it was
    saved but is not yet deconflicted, and whether it has an alert not yet resolved that this
    viewer may know of (never on a busy block)."""

    event: CalendarEvent
    visibility: Visibility
    facts: EventFacts
    unchecked: bool = False
    open_alert: bool = False

    @property
    def full(self) -> bool:
        return self.visibility is Visibility.FULL


# Built once: the page runs them on every request, and building a statement costs about as
# much as running one of these small queries.
AGENCIES = select(Agency.id, Agency.code).order_by(Agency.code)
PEOPLE = (
    select(User.id, User.display_name, Agency.code)
    .outerjoin(Agency, User.agency_id == Agency.id)
    .where(User.active.is_(True))
    .order_by(User.display_name)
)
RESOURCES = (
    select(Resource.id, Resource.name, Resource.kind, Agency.code)
    .outerjoin(Agency, Resource.agency_id == Agency.id)
    .where(Resource.active.is_(True))
    .order_by(Resource.name)
)
#: an alert on the event that is open or acknowledged (served by the alerts' item indexes)
ALERTED = exists().where(
    Alert.status.in_(ACTIVE),
    or_(
        and_(Alert.item_a_type == "event", Alert.item_a_id == Event.id),
        and_(Alert.item_b_type == "event", Alert.item_b_id == Event.id),
    ),
)
_OWNER = aliased(Agency)
_RESOURCE_OWNER = aliased(Agency)
#: the columns of one row, in :func:`_gather`'s order (the search's five come last)
_COLUMNS = (
    Event.id,
    Event.kind,
    Event.title,
    _OWNER.code,
    Event.lead_id,
    Event.starts_at,
    Event.ends_at,
    Event.status,
    Event.sensitivity,
    exists().where(PendingCheck.item_type == "event", PendingCheck.item_id == Event.id),
    ALERTED,
    Participant.user_id,
    Booking.id,
    Booking.active,
    Resource.id,
    Resource.name,
    Resource.kind,
    _RESOURCE_OWNER.code,
    Event.all_day,
)


def _window_query(*, search: bool = False) -> Select[*tuple[Any, ...]]:
    also = (Event.subtype, Event.client_code, Event.notes, Case.number, Case.title)
    query = (
        select(*_COLUMNS, *(also if search else ()))
        .join(_OWNER, Event.owner_agency_id == _OWNER.id)
        .outerjoin(Participant, Participant.event_id == Event.id)
        .outerjoin(Booking, Booking.event_id == Event.id)
        .outerjoin(Resource, Booking.resource_id == Resource.id)
        .outerjoin(_RESOURCE_OWNER, Resource.agency_id == _RESOURCE_OWNER.id)
        .where(Event.starts_at < bindparam("end"), Event.ends_at > bindparam("start"))
        .order_by(Event.starts_at, Event.id, Booking.id)
    )
    if search:
        query = query.outerjoin(Case, Event.case_id == Case.id)
    return query


WINDOW = _window_query()
#: the window with what the calendar's search reads too (``calendar_search.searched_text``)
SEARCH_WINDOW = _window_query(search=True)


def filter_choices(user: User) -> Choices:
    """The filters' choices, which :func:`window` then takes: the resources only those the
    viewer may know of (``auth.policy.shares_resource``, as ``visibility.resources_known_to``)."""
    viewer, read = viewer_of(user), db.session.connection().execute
    return Choices(
        viewer=viewer,
        agencies=[AgencyChoice(id=row[0], code=row[1]) for row in read(AGENCIES)],
        rooms=[
            Room(id=row[0], name=row[1], kind=row[2], agency_code=row[3])
            for row in read(RESOURCES)
            if shares_resource(viewer, row[3])
        ],
        people=[Person(id=row[0], name=row[1], agency_code=row[2]) for row in read(PEOPLE)],
    )


@dataclass
class _Gathering:
    row: Sequence[Any]
    participants: set[int] = field(default_factory=set)
    bookings: dict[int, Held] = field(default_factory=dict)


def _gather(rows: Sequence[Sequence[Any]], search: bool) -> list[tuple[CalendarEvent, bool, bool]]:
    """The rows (one per participant and booking of each event) as events, in their order."""
    gathered: dict[int, _Gathering] = {}
    for row in rows:
        one = gathered.get(row[0])
        if one is None:
            one = gathered[row[0]] = _Gathering(row)
        if row[11] is not None:
            one.participants.add(row[11])
        if row[12] is not None and row[12] not in one.bookings:
            room = Room(id=row[14], name=row[15], kind=row[16], agency_code=row[17])
            one.bookings[row[12]] = Held(id=row[12], resource=room, active=bool(row[13]))
    events = []
    for one in gathered.values():
        r = one.row
        extra: dict[str, Any] = {}
        if search:
            extra = {
                "subtype": r[19],
                "client_code": r[20],
                "notes": r[21] or "",
                "case_number": r[22],
                "case_title": r[23],
            }
        event = CalendarEvent(
            id=r[0],
            kind=r[1],
            title=r[2],
            owner_agency_code=r[3],
            lead_id=r[4],
            starts_at=r[5],
            ends_at=r[6],
            status=r[7],
            sensitivity=r[8],
            participant_ids=frozenset(one.participants),
            bookings=tuple(one.bookings.values()),
            all_day=bool(r[18]),
            **extra,
        )
        events.append((event, bool(r[9]), bool(r[10])))
    return events


def window(
    choices: Choices, start: datetime, end: datetime, *, query: Select[*tuple[Any, ...]] = WINDOW
) -> list[Shown]:
    """Every event overlapping ``[start, end)`` that the viewer of ``choices`` may see, busy
    blocks included (``query``: :data:`WINDOW` or :data:`SEARCH_WINDOW`)."""
    rows = db.session.connection().execute(query, {"start": start, "end": end}).all()
    shown = [
        _shown(choices.viewer, event, pending, alerted)
        for event, pending, alerted in _gather(rows, search=query is SEARCH_WINDOW)
    ]
    return [s for s in shown if s.visibility is not Visibility.NONE]


def _shown(viewer: Viewer, event: CalendarEvent, pending: bool, alerted: bool) -> Shown:
    facts = event.facts()
    seen = event_visibility(viewer, facts)
    told = (
        alerted
        and seen is Visibility.FULL
        and told_of_alert_on(viewer, AlertParty("event", facts.owner_agency_code, facts))
    )
    return Shown(event, seen, facts, unchecked=pending, open_alert=told)
