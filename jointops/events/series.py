"""Recurring events: a series made of occurrences, each an ``Event`` with its own bookings.

Creating a series materialises every occurrence the rule gives in one transaction, through
the booking rules of ``jointops.events.service``: the room check (and on PostgreSQL the
exclusion constraint) holds per occurrence, a clash or a warning on any occurrence names its
date and refuses the whole series, and every occurrence is marked for deconfliction. An
occurrence is then moved or cancelled as any event is; ``cancel_series`` cancels those still
to come. Changing "all occurrences" at once is not offered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from calendars.recurrence import REPEAT, Rule, RuleRefused, occurrences
from jointops import audit
from jointops.deconfliction import pending
from jointops.deconfliction.records import EVENT
from jointops.deconfliction.sync import sync_event
from jointops.events.rules import EventDraft, validate_draft
from jointops.events.service import (
    BookingConflict,
    BookingWarning,
    NeedsConfirmation,
    apply_draft_to,
    booking_warnings,
    check_resources_free,
    is_exclusion_violation,
    mark_cancelled,
)
from jointops.extensions import db
from jointops.models import Event, EventSeries, EventStatus, User, utcnow
from jointops.officetime import (
    TimeRefused,
    local_to_utc,
    office_zone,
    to_local,
)
from jointops.transactions import unit_of_work

R = TypeVar("R")


class OccurrenceConflict(BookingConflict):
    """A resource is taken for one occurrence of a series: the message names its date."""

    def __init__(self, conflict: BookingConflict, number: int, start: datetime) -> None:
        Exception.__init__(self, f"Occurrence {number}, {day_of(start)}: {conflict}")
        self.resource, self.other, self.field = conflict.resource, conflict.other, conflict.field


def day_of(moment: datetime) -> str:
    """``Tue 16 Mar 2027``: the office day of an occurrence, as its errors name it."""
    return f"{to_local(moment):%a %d %b %Y}"


def occurrence_drafts(draft: EventDraft, rule: Rule) -> list[EventDraft]:
    """The draft once per occurrence, each at the rule's wall-clock time in the office.

    Raises ``RuleRefused`` for a rule out of bounds, or an occurrence at a time the clocks
    skip or repeat that day (naming the date; no occurrence is stored at a guessed time).
    """
    local_start = to_local(draft.starts_at).replace(tzinfo=None)
    wall_length = to_local(draft.ends_at).replace(tzinfo=None) - local_start
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


def save_series_and_read(
    draft: EventDraft,
    rule: Rule,
    actor: User,
    *,
    confirmed: bool = False,
    read: Callable[[Event], R],
) -> R:
    """Create a series from ``draft`` (its first occurrence) and ``rule``, and commit; returns
    ``read(first occurrence)``. All or nothing: ``RuleRefused``, ``EventErrors``,
    ``OccurrenceConflict`` or ``NeedsConfirmation`` (each warning naming its occurrence's
    date) store nothing."""
    drafts = [validate_draft(d, actor) for d in occurrence_drafts(draft, rule)]
    _check_free(drafts, actor)
    if not confirmed:
        warnings = [
            BookingWarning(w.code, f"{day_of(d.starts_at)}: {w.message}")
            for d in drafts
            for w in booking_warnings(d, actor, None)
        ]
        if warnings:
            raise NeedsConfirmation(warnings)
    first = to_local(drafts[0].starts_at)
    try:
        with unit_of_work():
            _check_free(drafts, actor)
            series = EventSeries(
                owner_agency_id=draft.owner_agency_id,
                rule=rule.text(),
                first_start=first.replace(tzinfo=None),
                zone=office_zone().key,
                duration_minutes=int((drafts[0].ends_at - drafts[0].starts_at).total_seconds())
                // 60,
                created_by_id=actor.id,
            )
            db.session.add(series)
            db.session.flush()
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
            ids, answer = [e.id for e in saved], read(saved[0])
    except IntegrityError as exc:
        if is_exclusion_violation(exc):
            _check_free(drafts, actor)
        raise
    for event_id in ids:
        _check_now(event_id, actor)
    return answer


def _check_free(drafts: list[EventDraft], actor: User) -> None:
    for number, occurrence in enumerate(drafts, 1):
        try:
            check_resources_free(occurrence, actor, None)
        except BookingConflict as conflict:
            raise OccurrenceConflict(conflict, number, occurrence.starts_at) from None


def _check_now(event_id: int, actor: User) -> None:
    def run() -> object:
        event = db.session.get(Event, event_id)
        return sync_event(event, actor) if event is not None else None

    pending.check(EVENT, event_id, run)


def cancel_series(event: Event, actor: User, reason: str, now: datetime | None = None) -> int:
    """Cancel every occurrence of ``event``'s series that has not yet begun; returns how many.

    One audit entry per occurrence, as ``cancel_event`` writes: each event's own history
    shows that it was cancelled, why and by whom, whichever way it was.
    """
    now = now or utcnow()
    series_id = event.series_id
    if series_id is None:
        return 0
    with unit_of_work():
        cancelled = list(
            db.session.scalars(
                select(Event)
                .where(
                    Event.series_id == series_id,
                    Event.starts_at >= now,
                    Event.status != EventStatus.CANCELLED.value,
                )
                .order_by(Event.starts_at)
            )
        )
        for occurrence in cancelled:
            mark_cancelled(occurrence, actor, reason, series=series_id)
        ids = [e.id for e in cancelled]
    for event_id in ids:
        _check_now(event_id, actor)
    return len(ids)


@dataclass(frozen=True)
class SeriesSummary:
    """What an occurrence's page says of its series."""

    series_id: int
    described: str
    number: int
    total: int
    upcoming: int

    def __str__(self) -> str:
        return f"{self.described}, occurrence {self.number}"


def series_summary(event: Event, now: datetime | None = None) -> SeriesSummary | None:
    """``Weekly on Tuesday, 10 times, occurrence 3`` for an occurrence; None for other events."""
    series = event.series
    if series is None or event.recurrence_id is None:
        return None
    now = now or utcnow()
    rows = db.session.execute(
        select(Event.recurrence_id, Event.starts_at, Event.status)
        .where(Event.series_id == series.id)
        .order_by(Event.recurrence_id)
    ).all()
    given = [r.recurrence_id for r in rows]
    upcoming = sum(
        1 for r in rows if r.starts_at >= now and r.status != EventStatus.CANCELLED.value
    )
    return SeriesSummary(
        series_id=series.id,
        described=Rule.parse(series.rule).describe(series.first_start),
        number=given.index(event.recurrence_id) + 1,
        total=len(given),
        upcoming=upcoming,
    )
