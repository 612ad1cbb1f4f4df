"""How often the rest of a series repeats: the rule from an occurrence on, and changing it.

``RestOfSeries`` is an occurrence and every later one of its series, with the series' rule as
it reads from that occurrence (a ``COUNT`` counts from it): what the edit page shows, and what
a rule sent for "this and following" is compared with (``keeps``).

``change_rule_and_read`` changes it as Google Calendar does: the old series ends before the
occurrence; its later occurrences still to come are cancelled and, with any others after it
(cancelled or begun), leave the series, so that it holds exactly what its rule gives and a
feed writes it as one ``RRULE`` with no occurrence outside it; the edited occurrence becomes
the first of a series of the new rule, whose other occurrences are made as a new series' are
(``jointops.events.occurrences``). Exceptions of the later occurrences (one moved, cancelled or
changed on its own) are not carried over: the new rule's dates are not theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from calendars.recurrence import Rule
from jointops import audit
from jointops.deconfliction import pending
from jointops.deconfliction.records import EVENT
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
from jointops.events.rules import EventDraft, validate_draft
from jointops.events.service import (
    NeedsConfirmation,
    apply_draft_to,
    is_exclusion_violation,
    mark_cancelled,
)
from jointops.extensions import db
from jointops.models import Event, EventSeries, User, utcnow
from jointops.transactions import unit_of_work

R = TypeVar("R")


@dataclass(frozen=True)
class RestOfSeries:
    """An occurrence of a series and every later one: what "this and following" changes."""

    series: EventSeries
    #: the occurrence, then every later one by slot, cancelled ones included
    rows: list[Event]
    #: how many occurrences of the series come before it
    before: int
    #: the series' rule from the occurrence on: a ``COUNT`` counts it and the later ones
    rule: Rule
    #: the occurrence's slot on the office's wall clock
    slot: datetime

    @property
    def event(self) -> Event:
        return self.rows[0]

    def continued(self, first: datetime) -> Rule:
        """The rule read from ``first`` (office wall clock): its weekdays move with its day."""
        return self.rule.shifted((first.date() - self.slot.date()).days)

    def keeps(self, rule: Rule, first: datetime) -> bool:
        """Whether ``rule``, for a first occurrence at ``first``, is the series' own rule: then
        "this and following" splits the series keeping its exceptions."""
        return rule == self.continued(first)


def rest_of_series(event: Event) -> RestOfSeries | None:
    """``event`` and the later occurrences of its series; None for an event that does not
    repeat."""
    series = event.series
    if series is None or event.recurrence_id is None:
        return None
    rows = list(
        db.session.scalars(
            select(Event)
            .where(Event.series_id == series.id, Event.recurrence_id >= event.recurrence_id)
            .order_by(Event.recurrence_id)
        )
    )
    before = db.session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.series_id == series.id, Event.recurrence_id < event.recurrence_id)
    )
    stored = Rule.parse(series.rule)
    rule = replace(stored, count=len(rows)) if stored.count is not None else stored
    return RestOfSeries(series, rows, before or 0, rule, wall(event.recurrence_id))


def end_before(rest: RestOfSeries) -> None:
    """In the caller's unit of work: the old series ends before ``rest``'s occurrence."""
    series = rest.series
    series.rule = replace(Rule.parse(series.rule), count=rest.before, until=None).text()


def change_rule_and_read(
    draft: EventDraft,
    rest: RestOfSeries,
    rule: Rule,
    actor: User,
    *,
    confirmed: bool = False,
    read: Callable[[Event], R],
    now: datetime | None = None,
) -> R:
    """Apply ``draft`` to ``rest``'s occurrence and repeat it by ``rule`` from its (new) start
    on, in place of the later occurrences (see the module's docstring), and commit; returns
    ``read(occurrence)``. The caller checked that the occurrence may start a change (it has
    not begun). All or nothing: ``RuleRefused`` (a field of the rule), ``EventErrors``,
    ``OccurrenceConflict`` (naming the date) or ``NeedsConfirmation`` store nothing."""
    now = now or utcnow()
    event, later = rest.event, rest.rows[1:]
    drafts = [
        validate_draft(replace(d, stored_case_id=event.case_id), actor)
        for d in occurrence_drafts(draft, rule)
    ]
    cancelled = [row for row in later if not row.is_cancelled and row.starts_at >= now]
    freed = {event.id, *(row.id for row in cancelled)}
    first_number = rest.before + 1
    check_free(drafts, actor, ignoring=freed, first_number=first_number)
    if not confirmed:
        warnings = dated_warnings(drafts, actor, edited=event, ignoring=freed)
        if warnings:
            raise NeedsConfirmation(warnings)
    try:
        with unit_of_work():
            check_free(drafts, actor, ignoring=freed, first_number=first_number)
            _leave_series(rest, cancelled, actor)
            if (event.starts_at, event.ends_at) != (drafts[0].starts_at, drafts[0].ends_at):
                for booking in event.bookings:
                    booking.active = False
            # the old windows are freed before the new ones are taken: PostgreSQL's exclusion
            # constraint checks each row as it is written
            db.session.flush()
            series = _restart(rest, drafts[0], rule, actor)
            event.series_id, event.recurrence_id = series.id, drafts[0].starts_at
            changes = apply_draft_to(drafts[0], event)
            if not changes:  # its series and slot changed: a feed's SEQUENCE must grow
                event.version += 1
                event.updated_at = utcnow()
            pending.mark(EVENT, event.id)
            audit.record(
                "event.update",
                object_type="event",
                object_id=event.id,
                actor=actor,
                kind=event.kind,
                changed=sorted(changes | {"repeat"}),
                series=series.id,
                rule=rule.text(),
            )
            db.session.flush()
            made = add_occurrences(series, drafts[1:], actor)
            ids = [event.id, *(e.id for e in made), *(row.id for row in cancelled)]
            answer = read(event)
    except IntegrityError as exc:
        if is_exclusion_violation(exc):
            check_free(drafts, actor, ignoring=freed, first_number=first_number)
        raise
    check_now(ids, actor)
    return answer


def _leave_series(rest: RestOfSeries, cancelled: list[Event], actor: User) -> None:
    """The later occurrences leave the series, those still to come cancelled, each audited
    (a cancelled or begun one stays as it is, on its own)."""
    reason = (
        f"The series repeats differently from {day_of(rest.event.starts_at)}: "
        "its later occurrences are made again by the new rule."
    )
    to_cancel = {row.id for row in cancelled}
    for row in rest.rows[1:]:
        if row.id in to_cancel:
            mark_cancelled(row, actor, reason, series=rest.series.id)
        else:
            audit.record(
                "event.update",
                object_type="event",
                object_id=row.id,
                actor=actor,
                kind=row.kind,
                changed=["series"],
                left_series=rest.series.id,
            )
        row.series_id, row.recurrence_id = None, None


def _restart(rest: RestOfSeries, first: EventDraft, rule: Rule, actor: User) -> EventSeries:
    """The series of the new rule from ``first`` on: the old one rewritten when nothing of it
    comes before, else a new one after the old one ends."""
    if rest.before == 0:
        series = rest.series
        series.rule = rule.text()
        series.first_start = wall(first.starts_at)
        series.duration_minutes = int((first.ends_at - first.starts_at).total_seconds()) // 60
        return series
    end_before(rest)
    return add_series(first, rule, actor)
