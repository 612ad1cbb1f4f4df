"""Maps rows onto the need-to-know policy of ``auth.policy`` and loads what a viewer may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auth.policy import (
    EventFacts,
    Viewer,
    Visibility,
    event_visibility,
    may_edit,
    shares_resource,
)
from jointops.extensions import db
from jointops.models import Booking, Event, EventStatus, Resource, User


def viewer_of(user: User) -> Viewer:
    agency = user.agency
    return Viewer(
        user_id=user.id,
        agency_code=agency.code if agency else None,
        agency_kind=agency.kind if agency else None,
        roles=user.roles,
    )


def facts_of(event: Event) -> EventFacts:
    return event_facts(
        kind=event.kind,
        sensitivity=event.sensitivity,
        status=event.status,
        owner_agency_code=event.owner_agency.code,
        participant_ids=(p.user_id for p in event.participants),
        lead_id=event.lead_id,
        bookings=(
            (b.resource.agency.code if b.resource.agency else None, b.active)
            for b in event.bookings
        ),
    )


def event_facts(
    *,
    kind: str,
    sensitivity: str,
    status: str,
    owner_agency_code: str,
    participant_ids: Iterable[int],
    lead_id: int | None,
    bookings: Iterable[tuple[str | None, bool]],
) -> EventFacts:
    """The policy's facts of an event from its values: ``bookings`` as (the booked resource's
    agency code, ``None`` for a shared one; whether the booking is active). What
    :func:`facts_of` reads of a row, for readers that fetch the values without the row."""
    return EventFacts(
        kind=kind,
        sensitivity=sensitivity,
        owner_agency_code=owner_agency_code,
        participant_ids=frozenset(participant_ids),
        lead_id=lead_id,
        resource_agencies=tuple(code for code, active in bookings if active),
        cancelled=status == EventStatus.CANCELLED,
    )


def visibility(user: User, event: Event) -> Visibility:
    return event_visibility(viewer_of(user), facts_of(event))


def editable(user: User, event: Event) -> bool:
    return may_edit(viewer_of(user), facts_of(event))


def _owner_code(resource: Resource) -> str | None:
    return resource.agency.code if resource.agency else None


def shared_resources(user: User, event: Event) -> list[Resource]:
    """The resources of ``event`` a busy viewer is told about: shared ones and their agency's."""
    viewer = viewer_of(user)
    return [
        b.resource
        for b in event.bookings
        if b.active and shares_resource(viewer, _owner_code(b.resource))
    ]


def known_resources(user: User) -> list[Resource]:
    """The active rooms, vehicles and equipment the user may pick and filter by, by name."""
    rows = db.session.scalars(
        select(Resource)
        .where(Resource.active.is_(True))
        .options(selectinload(Resource.agency))
        .order_by(Resource.name)
    )
    return resources_known_to(viewer_of(user), rows)


def resources_known_to(viewer: Viewer, resources: Iterable[Resource]) -> list[Resource]:
    """Of ``resources``, those the viewer may know of: shared ones and their agency's (never
    another agency's own)."""
    return [r for r in resources if shares_resource(viewer, _owner_code(r))]


@dataclass(frozen=True)
class Seen:
    """An event together with how much of it the viewer may see."""

    event: Event
    visibility: Visibility

    @property
    def full(self) -> bool:
        return self.visibility is Visibility.FULL


def events_between(user: User, start: datetime, end: datetime) -> list[Seen]:
    """Every event overlapping ``[start, end)`` that the user may see, busy blocks included."""
    rows = db.session.scalars(
        select(Event)
        .where(Event.starts_at < end, Event.ends_at > start)
        .options(
            selectinload(Event.participants),
            selectinload(Event.bookings).joinedload(Booking.resource),
        )
        .order_by(Event.starts_at, Event.id)
    ).all()
    viewer = viewer_of(user)
    seen = [Seen(e, event_visibility(viewer, facts_of(e))) for e in rows]
    return [s for s in seen if s.visibility is not Visibility.NONE]
