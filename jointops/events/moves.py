"""Moving or resizing an event on the calendar: new times, everything else as stored.

The calendar's drag and its keyboard alternative send only the two wall-clock times, or of an
all-day event its first and last day (``YYYY-MM-DD``, inclusive, as its form takes them): a
time is refused for an all-day event and a bare day for a timed one. The event is saved
through ``save_event_and_read``, as the edit form saves it, so the booking rules, the
warnings to confirm, the deconfliction re-check and the audit entry are the form's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jointops.catalog import KIND_LABELS
from jointops.events.rules import EventDraft
from jointops.events.service import save_event_and_read
from jointops.models import Event, User
from jointops.officetime import (
    AmbiguousLocalTime,
    TimeRefused,
    fmt_clock,
    fmt_range,
    local_day_bounds,
    local_to_utc,
    parse_day,
    to_local,
)

#: how the calendar sends a time: office wall clock, 24-hour (a ``T`` is read too)
WALL_CLOCK = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})")
TIME_FIELDS = ("starts_at", "ends_at")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
NEEDS_TIME = "Type the date and the 24-hour time, for example 2026-12-02 14:30."
NEEDS_DAY = "This event is all day: send the day alone as YYYY-MM-DD, for example 2027-03-14."


class MoveRefused(Exception):
    """The times sent cannot be read: field name -> messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Moved:
    """The saved event as the calendar redraws it (read in the save's transaction)."""

    id: int
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool = False

    def as_json(self) -> dict[str, str | int | bool]:
        local_start, local_end = to_local(self.starts_at), to_local(self.ends_at)
        if self.all_day:
            last = (local_end - timedelta(days=1)).date()
            starts, ends = local_start.date().isoformat(), last.isoformat()
            when = fmt_days(local_start.date(), last)
        else:
            starts, ends = f"{local_start:%Y-%m-%d %H:%M}", f"{local_end:%Y-%m-%d %H:%M}"
            when = fmt_range(self.starts_at, self.ends_at)
        return {
            "id": self.id,
            "title": self.title,
            "all_day": self.all_day,
            "starts_at": starts,
            "ends_at": ends,
            "starts": fmt_clock(self.starts_at),
            "ends": fmt_clock(self.ends_at),
            "when": when,
            # what a screen reader hears after the block's text, as ``calendar_tiles`` says it
            "label": f"{KIND_LABELS[self.kind]}, {when}",
        }


def fmt_days(first: date, last: date) -> str:
    """``All day, Sat 13 Mar 2027`` or ``All day, Sat 13 Mar – Mon 15 Mar 2027``."""
    if last <= first:
        return f"All day, {first:%a %d %b %Y}"
    return f"All day, {first:%a %d %b} – {last:%a %d %b %Y}"


def parse_times(event: Event, values: dict[str, str]) -> tuple[datetime, datetime]:
    """The new start and end in UTC (``MoveRefused`` otherwise): of a timed event from the
    office wall clock, of an all-day event from its first and last day."""
    if event.all_day:
        return _parse_days(values)
    return _parse_wall_times(event, values)


def _parse_days(values: dict[str, str]) -> tuple[datetime, datetime]:
    """Local midnight of the first day and after the last, in UTC."""
    errors: dict[str, list[str]] = {}
    days: dict[str, date] = {}
    for name in TIME_FIELDS:
        raw = values.get(name, "").strip()
        if not DAY.fullmatch(raw):
            errors[name] = [NEEDS_DAY if raw else "Required: the day as YYYY-MM-DD."]
            continue
        try:
            days[name] = parse_day(raw)
        except TimeRefused as refused:
            errors[name] = [_reason(refused)]
    if not errors and days["ends_at"] < days["starts_at"]:
        errors["ends_at"] = ["The last day cannot be before the first."]
    if errors:
        raise MoveRefused(errors)
    first, last = days["starts_at"], days["ends_at"]
    return local_day_bounds(first, (last - first).days + 1)


def _parse_wall_times(event: Event, values: dict[str, str]) -> tuple[datetime, datetime]:
    """The new start and end in UTC, from the office wall clock.

    A time sent as the event already has it keeps its reading, so that an event in the
    repeated hour of the night the clocks go back can still be resized; a new time in that
    hour, or one the clocks skip, is refused with the reason.
    """
    stored = {"starts_at": event.starts_at, "ends_at": event.ends_at}
    errors: dict[str, list[str]] = {}
    parsed: dict[str, datetime] = {}
    for name in TIME_FIELDS:
        raw = " ".join(values.get(name, "").split())
        if not raw:
            errors[name] = ["Required: the date and 24-hour time, for example 2026-12-02 14:30."]
            continue
        if DAY.fullmatch(raw):
            errors[name] = [f"This event has times, not whole days. {NEEDS_TIME}"]
            continue
        try:
            parsed[name] = _read(raw, stored[name])
        except TimeRefused as refused:
            errors[name] = [_reason(refused)]
    if errors:
        raise MoveRefused(errors)
    return parsed["starts_at"], parsed["ends_at"]


def _read(raw: str, stored: datetime) -> datetime:
    found = WALL_CLOCK.fullmatch(raw)
    try:
        naive = datetime.strptime(f"{found[1]} {found[2]}", "%Y-%m-%d %H:%M") if found else None
    except ValueError:
        naive = None
    if naive is None:
        raise TimeRefused(NEEDS_TIME)
    if naive == to_local(stored).replace(tzinfo=None):
        return stored
    return local_to_utc(naive)


def _reason(refused: TimeRefused) -> str:
    text = str(refused)
    if isinstance(refused, AmbiguousLocalTime):
        return f"{text} in the event’s form."
    if text.endswith("."):
        return text[0].upper() + text[1:]
    return f"{text[0].upper()}{text[1:]}."


def moved_draft(event: Event, starts_at: datetime, ends_at: datetime) -> EventDraft:
    """The event as stored, at new times. Its appointment place stays as it is (its editor may
    not see it); its lead, people, rooms and case are those it has."""
    return EventDraft(
        kind=event.kind,
        subtype=event.subtype,
        title=event.title,
        owner_agency_id=event.owner_agency_id,
        lead_id=event.lead_id,
        starts_at=starts_at,
        ends_at=ends_at,
        status=event.status,
        sensitivity=event.sensitivity,
        case_id=event.case_id,
        location_address=event.location_address,
        latitude=event.latitude,
        longitude=event.longitude,
        radius_m=event.radius_m,
        client_code=event.client_code,
        notes=event.notes or "",
        resource_ids=[b.resource_id for b in event.bookings if b.active],
        participants=[(p.user_id, p.part) for p in event.participants],
        keep_place=True,
        all_day=event.all_day,
    )


def move_event(
    event: Event,
    actor: User,
    values: dict[str, str],
    *,
    confirmed: bool = False,
    outside_area_confirmed: bool = False,
) -> Moved:
    """Save ``event`` at the times of ``values`` (``starts_at``, ``ends_at``) as the edit form
    would. Raises ``MoveRefused`` for times that cannot be read, and whatever
    ``save_event_and_read`` raises (``EventErrors``, ``BookingConflict``,
    ``NeedsConfirmation``); in every case nothing is stored."""
    starts_at, ends_at = parse_times(event, values)
    draft = moved_draft(event, starts_at, ends_at)
    draft.outside_area_confirmed = outside_area_confirmed
    return save_event_and_read(draft, actor, event, confirmed=confirmed, read=_moved)


def _moved(event: Event) -> Moved:
    return Moved(event.id, event.title, event.kind, event.starts_at, event.ends_at, event.all_day)
