"""Recurring events: a series made of occurrences, each an ``Event`` with its own bookings.

Creating a series materialises every occurrence the rule gives in one transaction, through
the booking rules of ``jointops.events.service`` (``jointops.events.occurrences``): the room
check (and on PostgreSQL the exclusion constraint) holds per occurrence, a clash or a warning
on any occurrence names its date and refuses the whole series, and every occurrence is marked
for deconfliction. An occurrence is then moved or cancelled as any event is;
``cancel_series`` cancels those still to come.

"This and following" (``change_following_and_read``) splits the series as Google Calendar
does: the old series ends before the edited occurrence (its rule's ``COUNT`` stops there).
With the series' rule kept (none sent, or the one it has from that occurrence on, its
weekdays moved with the occurrence's day), a new ``EventSeries`` holds the edited occurrence
and every later one, its rule read from the edited occurrence's new start, so a feed stays
one ``RRULE`` per series. Every later occurrence takes the same wall-clock change (10:00 to
11:00 stays 11:00 across DST) and the form's other fields. Exceptions are kept: a cancelled
occurrence stays cancelled (an ``EXDATE`` of the new series), and a moved one keeps its own
date and time while taking the other changes (it was moved on purpose; its ``RECURRENCE-ID``
becomes the new rule's slot). With another rule (how often, how many, until when), the later
occurrences are cancelled and made again by it from the edited occurrence's start, as a new
series' are, and their exceptions are not kept (``jointops.events.series_rule``).

Occurrences that have begun never change, and an occurrence that has begun cannot start a
split. All or nothing, as a new series is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from calendars.recurrence import Rule, RuleRefused
from jointops import audit
from jointops.deconfliction import pending
from jointops.deconfliction.records import EVENT
from jointops.events.occurrences import (
    OccurrenceConflict as OccurrenceConflict,  # raised here too: part of this module's answers
)
from jointops.events.occurrences import (
    add_occurrences,
    add_series,
    check_free,
    check_now,
    dated_warnings,
    day_of,
    occurrence_drafts,
    wall,
)
from jointops.events.rules import EventDraft, EventErrors, validate_draft
from jointops.events.series_rule import (
    RestOfSeries,
    change_rule_and_read,
    end_before,
    rest_of_series,
)
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
from jointops.transactions import unit_of_work

R = TypeVar("R")


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
    check_free(drafts, actor)
    if not confirmed:
        warnings = dated_warnings(drafts, actor)
        if warnings:
            raise NeedsConfirmation(warnings)
    try:
        with unit_of_work():
            check_free(drafts, actor)
            saved = add_occurrences(add_series(drafts[0], rule, actor), drafts, actor)
            ids, answer = [e.id for e in saved], read(saved[0])
    except IntegrityError as exc:
        if is_exclusion_violation(exc):
            check_free(drafts, actor)
        raise
    check_now(ids, actor)
    return answer


#: which occurrences an edit of one changes: the edit form's radio group, the API's ``scope``
SCOPE, ONLY_THIS, FOLLOWING = "scope", "one", "following"


@dataclass(frozen=True)
class _Split:
    """The edited occurrence and those after it (``rest.rows``), the slot each takes in the
    new series (UTC) and the draft each takes (None: it stays as it is, cancelled or begun)."""

    rest: RestOfSeries
    rule: Rule
    duration_minutes: int
    slots: list[datetime]
    drafts: list[EventDraft | None]

    def changing(self) -> list[tuple[int, Event, EventDraft]]:
        """(occurrence number in the old series, row, draft) of each occurrence that changes."""
        return [
            (self.rest.before + n, row, draft)
            for n, (row, draft) in enumerate(zip(self.rest.rows, self.drafts, strict=True), 1)
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
    rule: Rule | None = None,
    confirmed: bool = False,
    read: Callable[[Event], R],
    now: datetime | None = None,
) -> R:
    """Apply ``draft``, the edit of occurrence ``event``, to it and every later occurrence of
    its series (splitting the series, see the module's docstring), and commit; returns
    ``read(event)``. ``rule``, when given, is how often they repeat from ``event``'s new
    start on: another rule than the series' own makes the later occurrences again by it.
    All or nothing: ``EventErrors`` (``scope``, or a field, naming a later occurrence's
    date), ``RuleRefused``, ``OccurrenceConflict`` or ``NeedsConfirmation`` store nothing."""
    now = now or utcnow()
    rest = _rest_from(event, now)
    if rule is not None and not rest.keeps(rule, wall(draft.starts_at)):
        return change_rule_and_read(
            draft, rest, rule, actor, confirmed=confirmed, read=read, now=now
        )
    split = _plan_split(draft, rest, actor, now)
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
            for row, slot in zip(split.rest.rows, split.slots, strict=True):
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
    check_now(ids, actor)
    return answer


def _rest_from(event: Event, now: datetime) -> RestOfSeries:
    """``event`` and the later occurrences, or ``EventErrors`` on ``scope`` when "this and
    following" means nothing for it."""
    rest = rest_of_series(event)
    if rest is None:
        raise EventErrors({SCOPE: ["This event does not repeat: only it can change."]})
    if event.starts_at < now:
        raise EventErrors(
            {SCOPE: ["This occurrence has begun: change only it (past occurrences never change)."]}
        )
    return rest


def _plan_split(draft: EventDraft, rest: RestOfSeries, actor: User, now: datetime) -> _Split | None:
    """What "this and following" would store, checked by the rules; None when the edited
    occurrence is the series' last."""
    if len(rest.rows) < 2:
        return None
    rule, drafts = _following_drafts(draft, rest)
    number = rest.before + 1
    return _Split(
        rest=rest,
        rule=rule,
        duration_minutes=int((drafts[0].ends_at - drafts[0].starts_at).total_seconds()) // 60,
        slots=[d.starts_at for d in drafts],
        drafts=[
            _occurrence_draft(row, d, row.id == rest.event.id, actor, now, number + n)
            for n, (row, d) in enumerate(zip(rest.rows, drafts, strict=True))
        ],
    )


def _following_drafts(draft: EventDraft, rest: RestOfSeries) -> tuple[Rule, list[EventDraft]]:
    """The new series' rule (the old one from the edited occurrence's new start, its weekdays
    shifted with its day) and the draft at each of its slots: each old slot plus the same
    wall-clock change, or ``EventErrors`` on ``starts_at`` when the rule cannot say that."""
    new_first = wall(draft.starts_at)
    rule = replace(rest.continued(new_first), count=len(rest.rows), until=None)
    try:
        drafts = occurrence_drafts(draft, rule)
    except RuleRefused as refused:
        raise EventErrors(
            {"starts_at": [m for ms in refused.errors.values() for m in ms]}
        ) from None
    wanted = [
        wall(row.recurrence_id or row.starts_at) + (new_first - rest.slot) for row in rest.rows
    ]
    if [wall(d.starts_at) for d in drafts] != wanted:
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
    series = split.rest.series
    values = {
        "rule": split.rule.text(),
        "first_start": wall(split.slots[0]),
        "duration_minutes": split.duration_minutes,
    }
    if split.rest.before == 0:
        for name, value in values.items():
            setattr(series, name, value)
        return series
    end_before(split.rest)
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
    check_now(ids, actor)
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
