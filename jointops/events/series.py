"""Recurring events: a series made of occurrences, each an ``Event`` with its own bookings.

Creating a series materialises every occurrence the rule gives in one transaction, through
the booking rules of ``jointops.events.service``: the room check (and on PostgreSQL the
exclusion constraint) holds per occurrence, a clash or a warning on any occurrence names its
date and refuses the whole series, and every occurrence is marked for deconfliction. An
occurrence is then moved or cancelled as any event is; ``cancel_series`` cancels those still
to come.

"This and following" (``change_following_and_read``) splits the series as Google Calendar
does: the old series ends before the edited occurrence (its rule's ``COUNT`` stops there) and
a new ``EventSeries`` holds it and every later occurrence, its rule read from the edited
occurrence's new start, so a feed stays one ``RRULE`` per series. Every later occurrence takes
the same wall-clock change (10:00 to 11:00 stays 11:00 across DST) and the form's other
fields. Exceptions are kept: a cancelled occurrence stays cancelled (an ``EXDATE`` of the new
series), and a moved one keeps its own date and time while taking the other changes (it was
moved on purpose; its ``RECURRENCE-ID`` becomes the new rule's slot). Occurrences that have
begun never change, and an occurrence that has begun cannot start a split. All or nothing,
as a new series is. The rule itself (how often, how many) is not changed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from calendars.recurrence import REPEAT, WEEKDAYS, Rule, RuleRefused, occurrences
from jointops import audit
from jointops.deconfliction import pending
from jointops.deconfliction.records import EVENT
from jointops.deconfliction.sync import sync_event
from jointops.events.rules import EventDraft, EventErrors, validate_draft
from jointops.events.service import (
    BookingConflict,
    BookingWarning,
    NeedsConfirmation,
    apply_draft_to,
    booking_warnings,
    check_resources_free,
    is_exclusion_violation,
    mark_cancelled,
    save_event_and_read,
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


def dated_occurrences(draft: EventDraft, rule: Rule) -> list[tuple[str, EventDraft]]:
    """Each occurrence's draft with its day, as a pre-check of the series names its hits."""
    return [(day_of(d.starts_at), d) for d in occurrence_drafts(draft, rule)]


def occurrence_starts(series_id: int) -> list[datetime]:
    """The starts of a series' occurrences that are not cancelled, in order."""
    return list(
        db.session.scalars(
            select(Event.starts_at)
            .where(Event.series_id == series_id, Event.status != EventStatus.CANCELLED.value)
            .order_by(Event.starts_at)
        )
    )


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


#: which occurrences an edit of one changes: the edit form's radio group, the API's ``scope``
SCOPE, ONLY_THIS, FOLLOWING = "scope", "one", "following"


@dataclass(frozen=True)
class _Split:
    """The edited occurrence and those after it (``rows``), the slot each takes in the new
    series (UTC) and the draft each takes (None: it stays as it is, cancelled or begun)."""

    series: EventSeries
    rule: Rule
    before: int
    duration_minutes: int
    rows: list[Event]
    slots: list[datetime]
    drafts: list[EventDraft | None]

    def changing(self) -> list[tuple[int, Event, EventDraft]]:
        """(occurrence number in the old series, row, draft) of each occurrence that changes."""
        return [
            (self.before + n, row, draft)
            for n, (row, draft) in enumerate(zip(self.rows, self.drafts, strict=True), 1)
            if draft is not None
        ]

    def retimed(self) -> set[int]:
        """The ids of the occurrences whose times change: their old windows are freed."""
        return {
            row.id
            for _, row, draft in self.changing()
            if (row.starts_at, row.ends_at) != (draft.starts_at, draft.ends_at)
        }


def change_following_and_read(
    draft: EventDraft,
    event: Event,
    actor: User,
    *,
    confirmed: bool = False,
    read: Callable[[Event], R],
    now: datetime | None = None,
) -> R:
    """Apply ``draft``, the edit of occurrence ``event``, to it and every later occurrence of
    its series (splitting the series, see the module's docstring), and commit; returns
    ``read(event)``. All or nothing: ``EventErrors`` (``scope``, or a field, naming a later
    occurrence's date), ``OccurrenceConflict`` or ``NeedsConfirmation`` store nothing."""
    split = _plan_split(draft, event, actor, now or utcnow())
    if split is None:  # the last occurrence: "this and following" is this one
        return save_event_and_read(draft, actor, event, confirmed=confirmed, read=read)
    _check_split_free(split, actor)
    if not confirmed:
        warnings = [
            BookingWarning(w.code, f"{day_of(d.starts_at)}: {w.message}")
            for _, row, d in split.changing()
            for w in booking_warnings(d, actor, row)
        ]
        if warnings:
            raise NeedsConfirmation(warnings)
    try:
        with unit_of_work():
            _check_split_free(split, actor)
            target = _split_series(split, actor)
            retimed = split.retimed()
            for _, row, _ in split.changing():
                if row.id in retimed:
                    for booking in row.bookings:
                        booking.active = False
            # the old windows are freed before the new ones are taken: PostgreSQL's exclusion
            # constraint checks each row as it is written, and a shift may reach a neighbour's
            db.session.flush()
            for row, slot in zip(split.rows, split.slots, strict=True):
                row.series_id, row.recurrence_id = target.id, slot
            for _, row, occurrence in split.changing():
                changes = apply_draft_to(occurrence, row)
                pending.mark(EVENT, row.id)
                audit.record(
                    "event.update",
                    object_type="event",
                    object_id=row.id,
                    actor=actor,
                    kind=row.kind,
                    changed=sorted(changes),
                    series=target.id,
                )
            db.session.flush()
            ids, answer = [row.id for _, row, _ in split.changing()], read(event)
    except IntegrityError as exc:
        if is_exclusion_violation(exc):
            _check_split_free(split, actor)
        raise
    for event_id in ids:
        _check_now(event_id, actor)
    return answer


def _wall(moment: datetime) -> datetime:
    return to_local(moment).replace(tzinfo=None)


def _plan_split(draft: EventDraft, event: Event, actor: User, now: datetime) -> _Split | None:
    """What "this and following" would store, checked by the rules; None when ``event`` is the
    series' last occurrence."""
    series = event.series
    if series is None or event.recurrence_id is None:
        raise EventErrors({SCOPE: ["This event does not repeat: only it can change."]})
    if event.starts_at < now:
        raise EventErrors(
            {SCOPE: ["This occurrence has begun: change only it (past occurrences never change)."]}
        )
    rows = list(
        db.session.scalars(
            select(Event)
            .where(Event.series_id == series.id, Event.recurrence_id >= event.recurrence_id)
            .order_by(Event.recurrence_id)
        )
    )
    if len(rows) < 2:
        return None
    before = db.session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.series_id == series.id, Event.recurrence_id < event.recurrence_id)
    )
    rule, drafts = _following_drafts(draft, event, Rule.parse(series.rule), rows)
    number = (before or 0) + 1
    return _Split(
        series=series,
        rule=rule,
        before=before or 0,
        duration_minutes=int((drafts[0].ends_at - drafts[0].starts_at).total_seconds()) // 60,
        rows=rows,
        slots=[d.starts_at for d in drafts],
        drafts=[
            _occurrence_draft(row, d, row.id == event.id, actor, now, number + n)
            for n, (row, d) in enumerate(zip(rows, drafts, strict=True))
        ],
    )


def _following_drafts(
    draft: EventDraft, event: Event, old: Rule, rows: list[Event]
) -> tuple[Rule, list[EventDraft]]:
    """The new series' rule (the old one from the edited occurrence's new start, its weekdays
    shifted with its day) and the draft at each of its slots: each old slot plus the same
    wall-clock change, or ``EventErrors`` on ``starts_at`` when the rule cannot say that."""
    old_slot, new_first = _wall(event.recurrence_id or event.starts_at), _wall(draft.starts_at)
    shift = (new_first.date() - old_slot.date()).days
    rule = replace(
        old,
        by_day=tuple(WEEKDAYS[(WEEKDAYS.index(d) + shift) % 7] for d in old.by_day),
        count=len(rows),
        until=None,
    )
    try:
        drafts = occurrence_drafts(draft, rule)
    except RuleRefused as refused:
        raise EventErrors(
            {"starts_at": [m for ms in refused.errors.values() for m in ms]}
        ) from None
    wanted = [_wall(row.recurrence_id or row.starts_at) + (new_first - old_slot) for row in rows]
    if [_wall(d.starts_at) for d in drafts] != wanted:
        raise EventErrors(
            {
                "starts_at": [
                    "The following occurrences cannot all move to that day by the repeat: "
                    "keep this occurrence's day, or change only this occurrence."
                ]
            }
        )
    return rule, drafts


def _occurrence_draft(
    row: Event, draft: EventDraft, edited: bool, actor: User, now: datetime, number: int
) -> EventDraft | None:
    """What one occurrence of the split takes, validated; None if it stays as it is."""
    if row.is_cancelled or (not edited and row.starts_at < now):
        return None
    if not edited and row.is_moved:  # moved on purpose: it keeps its own date and time
        draft = replace(draft, starts_at=row.starts_at, ends_at=row.ends_at)
    try:
        return validate_draft(replace(draft, stored_case_id=row.case_id), actor)
    except EventErrors as refused:
        if edited:
            raise
        raise EventErrors(
            {
                field: [f"Occurrence {number}, {day_of(draft.starts_at)}: {m}" for m in messages]
                for field, messages in refused.errors.items()
            },
            refused.confirmable,
        ) from None


def _check_split_free(split: _Split, actor: User) -> None:
    """Every changed occurrence's resources free, the old windows of those retimed aside."""
    retimed = split.retimed()
    for number, row, occurrence in split.changing():
        try:
            check_resources_free(occurrence, actor, row.id, ignoring=retimed)
        except BookingConflict as conflict:
            raise OccurrenceConflict(conflict, number, occurrence.starts_at) from None


def _split_series(split: _Split, actor: User) -> EventSeries:
    """The old series ended before the split (or, split at its first, rewritten) and the series
    that holds the edited occurrence and the following ones."""
    series = split.series
    values = {
        "rule": split.rule.text(),
        "first_start": _wall(split.slots[0]),
        "duration_minutes": split.duration_minutes,
    }
    if split.before == 0:
        for name, value in values.items():
            setattr(series, name, value)
        return series
    series.rule = replace(Rule.parse(series.rule), count=split.before, until=None).text()
    new = EventSeries(
        owner_agency_id=series.owner_agency_id,
        zone=series.zone,
        created_by_id=actor.id,
        **values,
    )
    db.session.add(new)
    db.session.flush()
    return new


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
