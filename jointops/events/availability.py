"""Availability while an event is planned: the free/busy of its room, resources and people on
its day, the next slots where all of them are free, and the free rooms of the same kind.

It answers no more than a save of the same plan would. Only resources the user may book
(``known_resources``) may be asked about, and of them it tells what a save's
``BookingConflict`` tells: when they are booked. A person shows busy only where saving would
warn that they are booked twice (``people_booked``), and only someone the save would take in
that part. Where the viewer may not see that event in full, the person is busy at the proposed
time only, as the warning says (the free slots step past that time, never to the event's own
end). A booking of a room the viewer may not see in full is a start and an end, nothing more
(as the calendar's busy blocks). Each answer is audited, as a pre-check is.

An all-day event books whole office days (local midnight to local midnight), so it is busy all
day in every timeline that meets it, the free slots step past its days and its room is not
offered as free. When the form itself is all day (``all_day``, the start and end being the
first and last day) the timeline shows a week of days from the first, and the free slots are
the next runs of as many whole days.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from auth.policy import Visibility, creatable_kinds, may_take_part
from jointops import audit
from jointops.catalog import MAX_EVENT_DURATION, PARTS
from jointops.events.forms import LOCAL_FORMAT, PART_FIELDS, WALL_CLOCK_FORMAT
from jointops.events.service import find_event, people_booked
from jointops.extensions import db
from jointops.forms import InputRefused, row_id
from jointops.models import Booking, Event, Resource, User, utcnow
from jointops.officetime import (
    TimeRefused,
    local_day_bounds,
    local_to_utc,
    parse_day,
    to_local,
    today_local,
)
from jointops.visibility import editable, known_resources, viewer_of, visibility

ACTION = "event.availability"
#: how many free slots are offered
SLOTS = 3
#: free slots start on these steps of the office's clock (after the proposed start itself)
STEP = timedelta(minutes=15)
#: when free slots may start and must end, on the office's clock
OFFICE_HOURS = (time(7), time(21))
#: working days (Monday to Friday) after the event's own day that are searched for free slots
DAYS_AHEAD = 5
#: the most ids one field may ask about
MAX_IDS = 50
#: an all-day form's timeline shows at least this many days; free slots are searched this far
WEEK_OF_DAYS = 7
DAYS_SEARCHED = 14
YES = frozenset({"y", "yes", "on", "true", "1"})
LEAD = "lead_id"
EXAMPLE = "for example 2026-12-02 14:30"


class AvailabilityDenied(Exception):
    """The user schedules nothing, so has nothing to ask availability for (403)."""


@dataclass(frozen=True)
class Busy:
    """A time something is taken; ``event`` only when the viewer may see that event in full."""

    starts_at: datetime
    ends_at: datetime
    event: Event | None = None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.starts_at < end and self.ends_at > start


@dataclass(frozen=True)
class Row:
    """One line of the timeline: a room, a vehicle or piece of equipment, or a person."""

    kind: str  # room | resource | person
    field: str  # the form field that chose it
    id: int
    name: str
    busy: tuple[Busy, ...]


@dataclass(frozen=True)
class Availability:
    starts_at: datetime
    ends_at: datetime
    day: date
    day_start: datetime
    day_end: datetime
    rows: tuple[Row, ...]
    slots: tuple[tuple[datetime, datetime], ...]
    rooms: tuple[Resource, ...]
    #: the form is all day: the timeline runs over days (``day_start`` to ``day_end``)
    all_day: bool = False

    def clashes(self, row: Row) -> list[Busy]:
        return [b for b in row.busy if b.overlaps(self.starts_at, self.ends_at)]

    @property
    def free(self) -> bool:
        return not any(self.clashes(row) for row in self.rows)

    def as_data(self) -> dict[str, Any]:
        """The answer as JSON: minutes count from the day's local midnight (a day of the clocks
        changing has 23 or 25 hours); labels are on the office's 24-hour clock."""
        minutes = _minutes(self.day_end - self.day_start)
        local = to_local(self.starts_at)
        last = (to_local(self.day_end) - timedelta(days=1)).date()
        return {
            "day": self.day.isoformat(),
            "day_label": _days_label(self.day, last) if self.all_day else f"{local:%a %d %b %Y}",
            "unit": "day" if self.all_day else "hour",
            "zone": local.tzname(),
            "minutes": minutes,
            "hours": [] if self.all_day else self._hours(),
            "days": self._days() if self.all_day else [],
            "proposed": {
                "from": self._at(self.starts_at),
                "to": self._at(self.ends_at),
                "label": self._span(self.starts_at, self.ends_at),
                "free": self.free,
            },
            "rows": [self._row(row) for row in self.rows],
            "slots": [self._slot(start, end) for start, end in self.slots],
            "rooms": [{"id": room.id, "name": room.name} for room in self.rooms],
            "summary": self.summary(),
        }

    def summary(self) -> str:
        """What the timeline shows, in words (the page's live region reads it out)."""
        checked = "Whole days, midnight to midnight: " if self.all_day else ""
        busy = [
            f"{row.name} is busy {', '.join(self._span(b.starts_at, b.ends_at) for b in clashes)}."
            for row in self.rows
            if (clashes := self.clashes(row))
        ]
        if not busy:
            return f"{checked}All free {self._span(self.starts_at, self.ends_at)}."
        if self.slots:
            spans = "; ".join(self._span(s, e, dated=True) for s, e in self.slots)
            busy.append(f"All free: {spans}.")
        elif self.all_day:
            busy.append(f"No free days for all of them in the next {DAYS_SEARCHED} days.")
        else:
            busy.append("No free time for all of them in the next working days' office hours.")
        if self.rooms and any(self.clashes(row) for row in self.rows if row.kind == "room"):
            busy.append(f"Free rooms of the same kind: {', '.join(r.name for r in self.rooms)}.")
        return checked + " ".join(busy)

    def _slot(self, start: datetime, end: datetime) -> dict[str, str]:
        """A free slot as the form's fields take it: times, or the first and last day."""
        if self.all_day:
            first, last = to_local(start).date(), (to_local(end) - timedelta(days=1)).date()
            return {
                "starts_at": first.isoformat(),
                "ends_at": last.isoformat(),
                "label": self._span(start, end, dated=True),
            }
        return {
            "starts_at": f"{to_local(start):{WALL_CLOCK_FORMAT}}",
            "ends_at": f"{to_local(end):{WALL_CLOCK_FORMAT}}",
            "label": self._span(start, end, dated=True),
        }

    def _row(self, row: Row) -> dict[str, Any]:
        return {
            "kind": row.kind,
            "field": row.field,
            "id": row.id,
            "name": row.name,
            "free": not self.clashes(row),
            "busy": [self._busy(b) for b in row.busy],
        }

    def _busy(self, busy: Busy) -> dict[str, Any]:
        data: dict[str, Any] = {
            "from": self._at(busy.starts_at),
            "to": self._at(busy.ends_at),
            "label": self._span(busy.starts_at, busy.ends_at),
            "clash": busy.overlaps(self.starts_at, self.ends_at),
        }
        if busy.event is not None:
            event = busy.event
            data |= {
                "event_id": event.id,
                "title": event.title,
                "kind": event.kind,
                "covert": event.sensitivity == "covert",
            }
        return data

    def _hours(self) -> list[dict[str, Any]]:
        """A tick at each hour of the day as its clock reads it (a repeated hour twice)."""
        ticks, moment = [], self.day_start
        while moment < self.day_end:
            ticks.append({"minute": self._at(moment), "hour": to_local(moment).hour})
            moment += timedelta(hours=1)
        return ticks

    def _days(self) -> list[dict[str, Any]]:
        """A tick at each local midnight of an all-day timeline, labelled with its day."""
        ticks, day = [], to_local(self.day_start).date()
        while (bounds := local_day_bounds(day, 1))[0] < self.day_end:
            ticks.append({"minute": self._at(bounds[0]), "label": f"{day:%a %d}"})
            day += timedelta(days=1)
        return ticks

    def _at(self, moment: datetime) -> int:
        """Minutes from the day's start, kept inside the day."""
        total = _minutes(self.day_end - self.day_start)
        return max(0, min(total, _minutes(moment - self.day_start)))

    def _span(self, start: datetime, end: datetime, *, dated: bool = False) -> str:
        """``10:00–11:00``; with the day where it is not the timeline's (``Thu 03 Dec,
        07:00–08:00``, ``Tue 22:00–Wed 03:00``)."""
        a, b = to_local(start), to_local(end)
        if _midnights(a, b):
            last = (b - timedelta(days=1)).date()
            if not self.all_day and a.date() == last == self.day:
                return "all day"
            return _days_label(a.date(), last, year=False)
        if self.all_day:
            return f"{a:%a %d %b %H:%M}–{b:%H:%M}" if a.date() == b.date() else _fmt_span(a, b)
        if a.date() == b.date() or (
            b.date() == a.date() + timedelta(days=1) and b.time() == time()
        ):
            if a.date() == self.day:
                return f"{a:%H:%M}–{b:%H:%M}"
            return f"{a:%a %d %b}, {a:%H:%M}–{b:%H:%M}" if dated else f"{a:%a %H:%M}–{b:%H:%M}"
        return f"{a:%a %H:%M}–{b:%a %H:%M}"


def _midnights(a: datetime, b: datetime) -> bool:
    """Whether a local span runs from a midnight to a later one: whole days."""
    return a.time() == time() == b.time() and b.date() > a.date()


def _days_label(first: date, last: date, *, year: bool = True) -> str:
    """``Sat 13 Mar 2027`` or ``Sat 13 Mar – Mon 15 Mar 2027`` (first and last inclusive)."""
    end = f" {last:%Y}" if year else ""
    if last <= first:
        return f"{first:%a %d %b}{end}"
    return f"{first:%a %d %b} – {last:%a %d %b}{end}"


def _fmt_span(a: datetime, b: datetime) -> str:
    """``Sat 13 Mar 22:00–Sun 14 Mar 03:00``: a timed span over days, on the office clock."""
    return f"{a:%a %d %b %H:%M}–{b:%a %d %b %H:%M}"


@dataclass(frozen=True)
class _Asked:
    starts_at: datetime
    ends_at: datetime
    room: Resource | None
    resources: tuple[Resource, ...]
    #: (form field, person), the lead first, each person once
    people: tuple[tuple[str, User], ...]
    event: Event | None
    #: the rooms the user may book
    rooms: tuple[Resource, ...]
    #: the form is all day: ``starts_at`` and ``ends_at`` are local midnights
    all_day: bool = False


def availability_for(args: MultiDict[str, str], actor: User) -> Availability:
    """The availability asked in ``args`` (the event form's own fields) by ``actor``.

    Raises ``InputRefused`` naming the field at fault, ``AvailabilityDenied`` for a user who
    schedules nothing; both are audited as denied, as every answer is audited.
    """
    if not creatable_kinds(viewer_of(actor)):
        audit.record_now(ACTION, outcome="denied", actor=actor, reason="schedules nothing")
        raise AvailabilityDenied
    try:
        asked = _asked(args, actor)
    except InputRefused as refused:
        audit.record_now(
            ACTION, outcome="denied", actor=actor, field=refused.field, reason=refused.reason
        )
        raise
    found = _availability(asked, actor)
    audit.record_now(
        ACTION,
        object_type="event" if asked.event is not None else "",
        object_id=asked.event.id if asked.event is not None else "",
        actor=actor,
        day=found.day.isoformat(),
        resources=[r.id for r in ([asked.room] if asked.room else []) + list(asked.resources)],
        people=[person.id for _, person in asked.people],
        free=found.free,
    )
    return found


def _availability(asked: _Asked, actor: User) -> Availability:
    day = to_local(asked.starts_at).date()
    if asked.all_day:
        length = (to_local(asked.ends_at).date() - day).days
        day_start, day_end = local_day_bounds(day, max(length, WEEK_OF_DAYS))
        candidates = list(_day_candidates(day, length))
        not_before = local_day_bounds(today_local(), 1)[0]
    else:
        day_start, day_end = local_day_bounds(day, 1)
        days = [day, *_working_days_after(day, DAYS_AHEAD)]
        candidates = list(_timed_candidates(asked.starts_at, asked.ends_at, days))
        not_before = utcnow()
    horizon = (
        min(day_start, asked.starts_at),
        max(day_end, asked.ends_at, *(end for _, end in candidates)),
    )
    event_id = asked.event.id if asked.event is not None else None
    shown = _Shown(actor)
    chosen = ([asked.room] if asked.room else []) + list(asked.resources)
    booked = _bookings({r.id for r in chosen}, horizon, event_id, shown)
    people = {person.id for _, person in asked.people}
    taken: dict[int, list[Busy]] = {}
    for clash in people_booked(people, *horizon, event_id):
        busy = shown.busy(clash.event)
        if busy.event is None:
            # the save's warning says only "not available then": so does the timeline
            if not busy.overlaps(asked.starts_at, asked.ends_at):
                continue
            busy = Busy(asked.starts_at, asked.ends_at)
        taken.setdefault(clash.user_id, []).append(busy)
    seen = (min(day_start, asked.starts_at), max(day_end, asked.ends_at))
    rows = [
        Row(
            "room" if resource.is_room else "resource",
            "room_id" if resource.is_room else "resource_ids",
            resource.id,
            resource.name,
            _within(booked.get(resource.id, []), seen),
        )
        for resource in chosen
    ] + [
        Row("person", name, person.id, person.display_name, _within(taken.get(person.id, []), seen))
        for name, person in asked.people
    ]
    every = [b for busy in (*booked.values(), *taken.values()) for b in busy]
    slots = _free_slots(candidates, every, not_before)
    return Availability(
        starts_at=asked.starts_at,
        ends_at=asked.ends_at,
        day=day,
        day_start=day_start,
        day_end=day_end,
        rows=tuple(rows),
        slots=tuple(slots),
        rooms=tuple(_free_rooms(asked, event_id)),
        all_day=asked.all_day,
    )


class _Shown:
    """How much of each event the actor may see, each event asked once."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.full: dict[int, bool] = {}

    def busy(
        self, event: Event, start: datetime | None = None, end: datetime | None = None
    ) -> Busy:
        if event.id not in self.full:
            self.full[event.id] = visibility(self.actor, event) is Visibility.FULL
        return Busy(
            start or event.starts_at,
            end or event.ends_at,
            event if self.full[event.id] else None,
        )


def _bookings(
    resource_ids: set[int],
    window: tuple[datetime, datetime],
    event_id: int | None,
    shown: _Shown,
) -> dict[int, list[Busy]]:
    """The active bookings of the resources overlapping ``window``, other than ``event_id``'s."""
    if not resource_ids:
        return {}
    query = (
        select(Booking)
        .where(
            Booking.resource_id.in_(resource_ids),
            Booking.active.is_(True),
            Booking.starts_at < window[1],
            Booking.ends_at > window[0],
        )
        .order_by(Booking.starts_at)
    )
    if event_id is not None:
        query = query.where(Booking.event_id != event_id)
    found: dict[int, list[Busy]] = {}
    for booking in db.session.scalars(query):
        busy = shown.busy(booking.event, booking.starts_at, booking.ends_at)
        found.setdefault(booking.resource_id, []).append(busy)
    return found


def _within(busy: Iterable[Busy], window: tuple[datetime, datetime]) -> tuple[Busy, ...]:
    return tuple(sorted((b for b in busy if b.overlaps(*window)), key=lambda b: b.starts_at))


def _free_rooms(asked: _Asked, event_id: int | None) -> list[Resource]:
    """The rooms of the chosen room's kind the user may book that are free at the time asked."""
    room = asked.room
    if room is None:
        return []
    others = {r.id: r for r in asked.rooms if r.kind == room.kind and r.id != room.id}
    if not others:
        return []
    query = select(Booking.resource_id).where(
        Booking.resource_id.in_(others),
        Booking.active.is_(True),
        Booking.starts_at < asked.ends_at,
        Booking.ends_at > asked.starts_at,
    )
    if event_id is not None:
        query = query.where(Booking.event_id != event_id)
    taken = set(db.session.scalars(query))
    return [r for r in others.values() if r.id not in taken]


def _working_days_after(day: date, count: int) -> list[date]:
    days: list[date] = []
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def _free_slots(
    candidates: Iterable[tuple[datetime, datetime]], busy: list[Busy], not_before: datetime
) -> list[tuple[datetime, datetime]]:
    """The first ``SLOTS`` of ``candidates``, none overlapping the next, when nothing in
    ``busy`` is; none starting before ``not_before``."""
    found: list[tuple[datetime, datetime]] = []
    for start, end in candidates:
        if start < not_before or (found and start < found[-1][1]):
            continue
        if not any(b.overlaps(start, end) for b in busy):
            found.append((start, end))
            if len(found) == SLOTS:
                break
    return found


def _timed_candidates(
    starts_at: datetime, ends_at: datetime, days: list[date]
) -> Iterator[tuple[datetime, datetime]]:
    """The asked time, then the same length on quarter hours of office hours of ``days``."""
    length = ends_at - starts_at
    for start in _starts(starts_at, length, days):
        yield start, start + length


def _day_candidates(first: date, length: int) -> Iterator[tuple[datetime, datetime]]:
    """Runs of ``length`` whole office days from ``first`` and each of the days after it
    (midnight to midnight: a run over a change of the clocks has an hour more or less)."""
    for offset in range(DAYS_SEARCHED + 1):
        yield local_day_bounds(first + timedelta(days=offset), length)


def _starts(starts_at: datetime, length: timedelta, days: list[date]) -> Iterator[datetime]:
    yield starts_at
    after = _next_step(starts_at)
    for day in days:
        try:
            opens, closes = (local_to_utc(datetime.combine(day, t), fold=0) for t in OFFICE_HOURS)
        except TimeRefused:
            continue  # office hours the clocks skip: not that day
        moment = max(opens, after)
        while moment + length <= closes:
            yield moment
            moment += STEP


def _next_step(moment: datetime) -> datetime:
    """The first quarter hour after ``moment`` (the office's offset from UTC is whole quarter
    hours, so UTC's quarter hours are the office's)."""
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0) + STEP


def _minutes(span: timedelta) -> int:
    return round(span.total_seconds() / 60)


# --- what was asked ------------------------------------------------------------------------


def _asked(args: MultiDict[str, str], actor: User) -> _Asked:
    all_day = (args.get("all_day") or "").strip().lower() in YES
    if all_day:
        starts_at, ends_at = _days_asked(args)
    else:
        starts_at, ends_at = _wall_time(args, "starts_at"), _wall_time(args, "ends_at")
    if ends_at <= starts_at:
        raise InputRefused("ends_at", "must be after the start.")
    if ends_at - starts_at > MAX_EVENT_DURATION:
        raise InputRefused("ends_at", f"an event lasts at most {MAX_EVENT_DURATION.days} days.")
    event = _edited(args, actor)
    bookable = {r.id: r for r in known_resources(actor)}
    room_id = _optional_id(args, "room_id")
    room = bookable.get(room_id) if room_id is not None else None
    if room_id is not None and (room is None or not room.is_room):
        raise InputRefused("room_id", f"room {room_id} is not a room you may book.")
    resources = []
    for resource_id in _ids(args, "resource_ids"):
        resource = bookable.get(resource_id)
        if resource is None or resource.is_room:
            raise InputRefused(
                "resource_ids", f"{resource_id} is not a vehicle or equipment you may book."
            )
        resources.append(resource)
    return _Asked(
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        resources=tuple(resources),
        people=tuple(_people(args, actor, event)),
        event=event,
        rooms=tuple(r for r in bookable.values() if r.is_room),
        all_day=all_day,
    )


def _days_asked(args: MultiDict[str, str]) -> tuple[datetime, datetime]:
    """An all-day form's first and last day (a time typed with a day is read by its day, as
    the form reads it): local midnight of the first and after the last, in UTC."""
    days = {}
    for name in ("starts_at", "ends_at"):
        raw = (args.get(name) or "").strip()[:10]
        try:
            days[name] = parse_day(raw)
        except TimeRefused:
            raise InputRefused(
                name, "type the day as YYYY-MM-DD, for example 2027-03-13."
            ) from None
    first, last = days["starts_at"], days["ends_at"]
    if last < first:
        raise InputRefused("ends_at", "the last day cannot be before the first.")
    return local_day_bounds(first, (last - first).days + 1)


def _wall_time(args: MultiDict[str, str], name: str) -> datetime:
    """A wall-clock time as the form takes it (``2026-12-02 14:30``, a ``T`` read too), with
    the reading chosen by ``<name>_fold`` when the clocks go back; in UTC."""
    raw = " ".join((args.get(name) or "").split())
    if not raw:
        raise InputRefused(name, f"give the date and the 24-hour time, {EXAMPLE}.")
    naive = None
    for layout in (WALL_CLOCK_FORMAT, LOCAL_FORMAT):
        try:
            naive = datetime.strptime(raw, layout)
            break
        except ValueError:
            continue
    if naive is None:
        raise InputRefused(name, f"type the date and the 24-hour time, {EXAMPLE}.")
    fold = args.get(f"{name}_fold") or None
    if fold not in (None, "0", "1"):
        raise InputRefused(f"{name}_fold", "0 for the first reading, 1 for the second.")
    try:
        return local_to_utc(naive, fold=int(fold) if fold else None)
    except TimeRefused as refused:
        raise InputRefused(name, str(refused)) from None


def _optional_id(args: MultiDict[str, str], name: str) -> int | None:
    raw = args.get(name) or ""
    return None if raw in ("", "None") else row_id(raw, name)


def _ids(args: MultiDict[str, str], name: str) -> list[int]:
    raw = [value for value in args.getlist(name) if value]
    if len(raw) > MAX_IDS:
        raise InputRefused(name, f"at most {MAX_IDS}.")
    return list(dict.fromkeys(row_id(value, name) for value in raw))


def _edited(args: MultiDict[str, str], actor: User) -> Event | None:
    """The event being edited, whose own bookings are not in the way; only one the user may
    change (otherwise the answer would tell which busy blocks are that event's)."""
    event_id = _optional_id(args, "event_id")
    if event_id is None:
        return None
    event = find_event(event_id)
    if event is None or event.is_cancelled or not editable(actor, event):
        raise InputRefused("event_id", f"{event_id} is not an event you may change.")
    return event


def _people(args: MultiDict[str, str], actor: User, event: Event | None) -> list[tuple[str, User]]:
    """The lead (the actor unless chosen) and the people of each part, as the event's rules
    would take them; each person once, under the first field that names them."""
    agency_id = event.owner_agency_id if event is not None else actor.agency_id
    wanted = [(LEAD, _optional_id(args, LEAD) or actor.id)]
    wanted += [(name, uid) for name in PART_FIELDS for uid in _ids(args, name)]
    found = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_({uid for _, uid in wanted})))
    }
    people: dict[int, tuple[str, User]] = {}
    for name, uid in wanted:
        person = found.get(uid)
        if person is None or not person.active:
            raise InputRefused(name, f"user {uid} is not an active account.")
        if name == LEAD:
            if person.agency_id != agency_id:
                raise InputRefused(name, "the lead must be someone of the event's agency.")
        else:
            part = PART_FIELDS[name]
            kind = person.agency.kind if person.agency else None
            if not may_take_part(part, person.roles, kind):
                raise InputRefused(name, f"{person.display_name} is not {_a(PARTS[part])}.")
        people.setdefault(uid, (name, person))
    return list(people.values())


def _a(label: str) -> str:
    word = label.lower()
    return ("an " if word[0] in "aeiou" else "a ") + word
