"""The occurrences a rule makes: one draft per date at the rule's wall-clock time, checked and
stored one event each, whether a series is created or its rule is changed from an occurrence on.

A room clash on any occurrence names its number and date (``OccurrenceConflict``), each warning
names its date, every stored occurrence is marked for deconfliction and audited, and after the
commit each is checked (``check_now``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from calendars.recurrence import REPEAT, Rule, RuleRefused, occurrences
from jointops import audit
from jointops.deconfliction import pending
from jointops.deconfliction.records import EVENT
from jointops.deconfliction.sync import sync_event
from jointops.events.rules import EventDraft
from jointops.events.service import (
    BookingConflict,
    BookingWarning,
    apply_draft_to,
    booking_warnings,
    check_resources_free,
)
from jointops.extensions import db
from jointops.models import Event, EventSeries, User
from jointops.officetime import TimeRefused, local_to_utc, office_zone, to_local


class OccurrenceConflict(BookingConflict):
    """A resource is taken for one occurrence of a series: the message names its date."""

    def __init__(self, conflict: BookingConflict, number: int, start: datetime) -> None:
        Exception.__init__(self, f"Occurrence {number}, {day_of(start)}: {conflict}")
        self.resource, self.other, self.field = conflict.resource, conflict.other, conflict.field


def day_of(moment: datetime) -> str:
    """``Tue 16 Mar 2027``: the office day of an occurrence, as its errors name it."""
    return f"{to_local(moment):%a %d %b %Y}"


def wall(moment: datetime) -> datetime:
    """An instant as the office's wall clock reads it (naive), as rules are read."""
    return to_local(moment).replace(tzinfo=None)


def occurrence_drafts(draft: EventDraft, rule: Rule) -> list[EventDraft]:
    """The draft once per occurrence, each at the rule's wall-clock time in the office.

    Raises ``RuleRefused`` for a rule out of bounds, or an occurrence at a time the clocks
    skip or repeat that day (naming the date; no occurrence is stored at a guessed time).
    """
    local_start = wall(draft.starts_at)
    wall_length = wall(draft.ends_at) - local_start
    drafts = []
    for start in occurrences(rule, local_start):
        try:
            begins = local_to_utc(start)
            ends = local_to_utc(start + wall_length)
        except TimeRefused as exc:
            raise RuleRefused({REPEAT: [f"On {start:%Y-%m-%d}: {exc}."]}) from None
        drafts.append(replace(draft, starts_at=begins, ends_at=ends))
    for before, after in zip(drafts, drafts[1:], strict=False):
        if before.ends_at > after.starts_at:
            raise RuleRefused({REPEAT: ["Each occurrence must end before the next one begins."]})
    return drafts


def dated_occurrences(draft: EventDraft, rule: Rule) -> list[tuple[str, EventDraft]]:
    """Each occurrence's draft with its day, as a pre-check of the series names its hits."""
    return [(day_of(d.starts_at), d) for d in occurrence_drafts(draft, rule)]


def check_free(
    drafts: Sequence[EventDraft],
    actor: User,
    *,
    edited: Event | None = None,
    ignoring: Collection[int] = (),
    first_number: int = 1,
) -> None:
    """Every occurrence's resources free (``edited``'s own bookings and those of ``ignoring``
    aside: events the same change frees), or ``OccurrenceConflict`` naming the first taken;
    occurrences are numbered from ``first_number``."""
    edited_id = edited.id if edited is not None else None
    for number, occurrence in enumerate(drafts, first_number):
        try:
            check_resources_free(occurrence, actor, edited_id, ignoring=ignoring)
        except BookingConflict as conflict:
            raise OccurrenceConflict(conflict, number, occurrence.starts_at) from None


def dated_warnings(
    drafts: Sequence[EventDraft],
    actor: User,
    *,
    edited: Event | None = None,
    ignoring: Collection[int] = (),
) -> list[BookingWarning]:
    """The booking warnings of every occurrence, each naming its day (the first occurrence
    may be ``edited``, an event already stored; ``ignoring`` as ``check_free``)."""
    return [
        BookingWarning(w.code, f"{day_of(d.starts_at)}: {w.message}")
        for n, d in enumerate(drafts)
        for w in booking_warnings(d, actor, edited if n == 0 else None, ignoring=ignoring)
    ]


def add_series(first: EventDraft, rule: Rule, actor: User) -> EventSeries:
    """In the caller's unit of work: a series of ``rule`` read from ``first``'s start, flushed
    (its id is known)."""
    series = EventSeries(
        owner_agency_id=first.owner_agency_id,
        rule=rule.text(),
        first_start=wall(first.starts_at),
        zone=office_zone().key,
        duration_minutes=int((first.ends_at - first.starts_at).total_seconds()) // 60,
        created_by_id=actor.id,
    )
    db.session.add(series)
    db.session.flush()
    return series


def add_occurrences(series: EventSeries, drafts: Sequence[EventDraft], actor: User) -> list[Event]:
    """In the caller's unit of work: one event per draft in ``series``, each at the slot its
    draft gives, marked for deconfliction and audited as created."""
    saved = []
    for occurrence in drafts:
        event = Event(
            created_by_id=actor.id, series_id=series.id, recurrence_id=occurrence.starts_at
        )
        apply_draft_to(occurrence, event)
        db.session.add(event)
        saved.append(event)
    db.session.flush()
    for event in saved:
        pending.mark(EVENT, event.id)
        audit.record(
            "event.create",
            object_type="event",
            object_id=event.id,
            actor=actor,
            kind=event.kind,
            series=series.id,
        )
    return saved


def check_now(event_ids: Sequence[int], actor: User) -> None:
    """After the commit: deconflict each event now (a check that cannot run stays pending for
    the sweep; nothing turns the committed change into a failure)."""
    for event_id in event_ids:

        def run(event_id: int = event_id) -> object:
            event = db.session.get(Event, event_id)
            return sync_event(event, actor) if event is not None else None

        pending.check(EVENT, event_id, run)
