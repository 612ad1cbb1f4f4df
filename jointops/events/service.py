"""Booking rules: saving and cancelling events without ever double-booking a resource.

The room check and the insert happen in one transaction that no other writer
can interleave with: ``BEGIN IMMEDIATE`` on SQLite, and on PostgreSQL the
``ex_bookings_resource_window`` exclusion constraint, whose violation by the
loser of a race is turned into the same ``BookingConflict`` as the check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from auth.policy import Visibility
from jointops import audit
from jointops.alerts.listing import alerts_for_item
from jointops.catalog import VICTIM_INTERVIEWS
from jointops.deconfliction import pending
from jointops.deconfliction.records import EVENT
from jointops.deconfliction.sync import sync_event
from jointops.events.rules import EventDraft, validate_draft
from jointops.extensions import db
from jointops.models import (
    BOOKING_EXCLUSION,
    AppointmentPlace,
    Booking,
    Event,
    EventStatus,
    Participant,
    Resource,
    User,
    utcnow,
)
from jointops.officetime import fmt_datetime, fmt_range
from jointops.transactions import discard, unit_of_work
from jointops.visibility import visibility

log = logging.getLogger("jointops.events")

EXCLUSION_VIOLATION = "23P01"
R = TypeVar("R")


class BookingConflict(Exception):
    """A resource is already held for an overlapping window."""

    def __init__(self, resource: Resource, other: Booking, viewer: User) -> None:
        shown = visibility(viewer, other.event) is Visibility.FULL
        what = f" by “{other.event.title}”" if shown else ""
        super().__init__(
            f"{resource.name} is already booked{what} for "
            f"{fmt_range(other.starts_at, other.ends_at)}."
        )
        self.resource = resource
        self.other = other
        #: the field of an event draft that names the resource
        self.field = "room_id" if resource.is_room else "resource_ids"


@dataclass(frozen=True)
class BookingWarning:
    """Something the scheduler must see and confirm before the event is saved."""

    code: str
    message: str


class NeedsConfirmation(Exception):
    def __init__(self, warnings: Sequence[BookingWarning]) -> None:
        super().__init__("; ".join(w.message for w in warnings))
        self.warnings = list(warnings)


def save_event(
    draft: EventDraft, actor: User, event: Event | None = None, *, confirmed: bool = False
) -> Event:
    """Create ``event`` (or change it) from ``draft`` and commit.

    Raises ``BookingConflict`` when a resource is taken (checked first: no one
    should confirm warnings only to be refused), and ``NeedsConfirmation``
    when there are warnings the actor has not confirmed; in both cases
    nothing is stored. The event returned is expired by the commit: reading it
    goes to the database again (an answer that must not, uses ``save_event_and_read``).
    """
    return save_event_and_read(draft, actor, event, confirmed=confirmed, read=_itself)


def _itself(event: Event) -> Event:
    return event


def save_event_and_read(
    draft: EventDraft,
    actor: User,
    event: Event | None = None,
    *,
    confirmed: bool = False,
    read: Callable[[Event], R],
) -> R:
    """Save as ``save_event`` does and return ``read(saved event)``, taken in the transaction.

    ``read`` runs after the flush and before the commit, so an answer built from what it
    returns needs nothing of the database once the save is committed: from then on nothing
    turns the save into a failure for the caller (the deconfliction check that follows is
    left pending for the sweep when it cannot run). If ``read`` raises, nothing is saved.
    """
    draft = validate_draft(
        replace(draft, stored_case_id=event.case_id if event is not None else None), actor
    )
    check_resources_free(draft, actor, event.id if event is not None else None)
    if not confirmed:
        warnings = booking_warnings(draft, actor, event)
        if warnings:
            raise NeedsConfirmation(warnings)
    creating = event is None
    saved = event if event is not None else Event(created_by_id=actor.id)
    try:
        with unit_of_work():
            if saved.id is not None:
                saved = db.session.get(Event, saved.id, populate_existing=True) or saved
            check_resources_free(draft, actor, saved.id)
            changes = apply_draft_to(draft, saved)
            if creating:
                db.session.add(saved)
            db.session.flush()
            pending.mark(EVENT, saved.id)
            audit.record(
                "event.create" if creating else "event.update",
                object_type="event",
                object_id=saved.id,
                actor=actor,
                kind=saved.kind,
                changed=sorted(changes),
            )
            saved_id, answer = saved.id, read(saved)
    except IntegrityError as exc:
        if is_exclusion_violation(exc):
            check_resources_free(draft, actor, saved.id if not creating else None)
        raise
    pending.check(EVENT, saved_id, lambda: sync_event(saved, actor))
    return answer


def active_alerts_after_save(event_id: int, actor: User) -> int | None:
    """How many active alerts of a just-saved event ``actor`` may see, for the message that
    confirms the save; ``None`` when they cannot be read now, which must not undo the save's
    success (the event's page lists them)."""
    try:
        views = alerts_for_item(EVENT, event_id, actor, via="event-page")
    except Exception:
        log.exception("the alerts of event %s could not be read after its save", event_id)
        discard()
        return None
    return sum(1 for view in views if view.alert.is_active)


def mark_cancelled(event: Event, actor: User, reason: str, **detail: Any) -> None:
    """In the caller's unit of work: ``event`` cancelled, its resources freed, its check due
    (a cancelled operation closes its alerts) and the cancellation audited."""
    event.status = EventStatus.CANCELLED.value
    event.version += 1
    event.updated_at = utcnow()
    for booking in event.bookings:
        booking.active = False
    pending.mark(EVENT, event.id)
    audit.record(
        "event.cancel",
        object_type="event",
        object_id=event.id,
        actor=actor,
        reason=reason,
        **detail,
    )


def cancel_event(event: Event, actor: User, reason: str) -> None:
    """Cancel ``event`` and free its resources. The event is expired by the commit: a caller
    that answers afterwards takes what it shows (title, id) before."""
    event_id = event.id
    with unit_of_work():
        event = db.session.get(Event, event_id, populate_existing=True) or event
        mark_cancelled(event, actor, reason)
    # a cancelled operation closes its open alerts
    pending.check(EVENT, event_id, lambda: sync_event(event, actor))


def booking_warnings(
    draft: EventDraft, actor: User, event: Event | None, *, ignoring: Collection[int] = ()
) -> list[BookingWarning]:
    """People booked twice at once, and victims interviewed again within a few days
    (``event``, the one the draft changes, aside, and ``ignoring``: events the same change
    cancels)."""
    return _double_booked_people(draft, actor, event, ignoring) + _repeat_interviews(
        draft, actor, event, ignoring
    )


def people_booked(
    user_ids: Collection[int],
    start: datetime,
    end: datetime,
    event_id: int | None,
    ignoring: Collection[int] = (),
) -> list[Participant]:
    """Where ``user_ids`` take part in another event than ``event_id`` overlapping
    ``[start, end)``: what the person double-booking warning tells of, and so all that the
    availability of the event form may show of a person's time."""
    if not user_ids:
        return []
    query = (
        select(Participant)
        .join(Event)
        .where(
            Participant.user_id.in_(user_ids),
            Event.status != EventStatus.CANCELLED.value,
            Event.starts_at < end,
            Event.ends_at > start,
        )
        .order_by(Event.starts_at, Event.id)
    )
    if event_id is not None:
        query = query.where(Event.id != event_id)
    if ignoring:
        query = query.where(Event.id.not_in(ignoring))
    return list(db.session.scalars(query))


def _double_booked_people(
    draft: EventDraft, actor: User, event: Event | None, ignoring: Collection[int]
) -> list[BookingWarning]:
    user_ids = {uid for uid, _ in draft.participants}
    event_id = event.id if event is not None else None
    warnings = []
    for clash in people_booked(user_ids, draft.starts_at, draft.ends_at, event_id, ignoring):
        other = clash.event
        if visibility(actor, other) is Visibility.FULL:
            message = (
                f"{clash.user.display_name} is already booked for “{other.title}”, "
                f"{fmt_range(other.starts_at, other.ends_at)}."
            )
        else:  # nothing of an event the scheduler may not see: not its time, title or kind
            message = f"{clash.user.display_name} is not available then."
        warnings.append(BookingWarning("person_double_booked", message))
    return warnings


def _repeat_interviews(
    draft: EventDraft, actor: User, event: Event | None, ignoring: Collection[int]
) -> list[BookingWarning]:
    if draft.kind != "interview" or draft.subtype not in VICTIM_INTERVIEWS or not draft.client_code:
        return []
    days = timedelta(days=current_app.config["REPEAT_INTERVIEW_DAYS"])
    query = select(Event).where(
        Event.kind == "interview",
        Event.subtype.in_(VICTIM_INTERVIEWS),
        Event.client_code == draft.client_code,
        Event.status != EventStatus.CANCELLED.value,
        Event.starts_at > draft.starts_at - days,
        Event.starts_at < draft.starts_at + days,
    )
    if event is not None and event.id is not None:
        query = query.where(Event.id != event.id)
    if ignoring:
        query = query.where(Event.id.not_in(ignoring))
    # Only interviews the scheduler may see: the warning must not tell another agency's
    # client codes apart from unknown ones.
    return [
        BookingWarning(
            "repeat_victim_interview",
            f"Client {draft.client_code} already has a victim interview on "
            f"{fmt_datetime(other.starts_at)}. Repeated interviews should be avoided: "
            "confirm only if this one is necessary.",
        )
        for other in db.session.scalars(query)
        if visibility(actor, other) is Visibility.FULL
    ]


def check_resources_free(
    draft: EventDraft, actor: User, event_id: int | None, *, ignoring: Collection[int] = ()
) -> None:
    """Raise ``BookingConflict`` naming the first active booking that holds one of the draft's
    resources at its time (``event_id``'s own bookings aside, and those of ``ignoring``: events
    the same transaction moves away)."""
    if not draft.resource_ids:
        return
    query = (
        select(Booking)
        .where(
            Booking.resource_id.in_(draft.resource_ids),
            Booking.active.is_(True),
            Booking.starts_at < draft.ends_at,
            Booking.ends_at > draft.starts_at,
        )
        .order_by(Booking.starts_at)
    )
    if event_id is not None:
        query = query.where(Booking.event_id != event_id)
    if ignoring:
        query = query.where(Booking.event_id.not_in(ignoring))
    clash = db.session.scalars(query).first()
    if clash is not None:
        raise BookingConflict(clash.resource, clash, actor)


def apply_draft_to(draft: EventDraft, event: Event) -> set[str]:
    """Copy the draft onto the event; returns the names of the fields that changed."""
    changed: set[str] = set()
    for name in (
        "kind",
        "subtype",
        "title",
        "owner_agency_id",
        "lead_id",
        "case_id",
        "starts_at",
        "ends_at",
        "status",
        "sensitivity",
        "location_address",
        "latitude",
        "longitude",
        "radius_m",
        "client_code",
        "notes",
        "all_day",
    ):
        value = getattr(draft, name)
        if getattr(event, name) != value:
            setattr(event, name, value)
            changed.add(name)
    if _sync_participants(draft, event):
        changed.add("participants")
    if _sync_bookings(draft, event):
        changed.add("resources")
    if _sync_place(draft, event):
        changed.add("place")
    if event.id is not None and changed:
        event.version = (event.version or 1) + 1
        event.updated_at = utcnow()
    return changed


def _sync_participants(draft: EventDraft, event: Event) -> bool:
    wanted = dict(draft.participants)
    if wanted == {p.user_id: p.part for p in event.participants}:
        return False
    kept = []
    for participant in event.participants:
        if participant.user_id in wanted:
            participant.part = wanted.pop(participant.user_id)
            kept.append(participant)
    event.participants = kept + [Participant(user_id=u, part=p) for u, p in wanted.items()]
    return True


def _sync_bookings(draft: EventDraft, event: Event) -> bool:
    active = draft.status != EventStatus.CANCELLED.value
    before = {(b.resource_id, b.starts_at, b.ends_at, b.active) for b in event.bookings}
    by_resource = {b.resource_id: b for b in event.bookings}
    bookings = []
    for rid in draft.resource_ids:
        booking = by_resource.get(rid) or Booking(resource_id=rid)
        booking.starts_at, booking.ends_at, booking.active = draft.starts_at, draft.ends_at, active
        bookings.append(booking)
    event.bookings = bookings
    after = {(b.resource_id, b.starts_at, b.ends_at, b.active) for b in bookings}
    return before != after


def _sync_place(draft: EventDraft, event: Event) -> bool:
    """An appointment's place as the draft gives it (other kinds have none)."""
    if draft.keep_place and draft.kind == "appointment":
        return False
    wanted = (draft.place_id, draft.place_text) if draft.kind == "appointment" else (None, None)
    current = event.appointment_place
    if wanted == ((current.known_place_id, current.place_text) if current else (None, None)):
        return False
    if wanted == (None, None):
        event.appointment_place = None
    elif current is None:
        event.appointment_place = AppointmentPlace(known_place_id=wanted[0], place_text=wanted[1])
    else:
        current.known_place_id, current.place_text = wanted
    return True


def is_exclusion_violation(exc: IntegrityError) -> bool:
    """Whether the database refused a booking that overlaps another (PostgreSQL's exclusion
    constraint, by its SQLSTATE or its name)."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == EXCLUSION_VIOLATION or BOOKING_EXCLUSION in str(orig)


def find_event(event_id: int) -> Event | None:
    return db.session.get(Event, event_id)
