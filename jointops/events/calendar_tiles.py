"""What each event on the calendar page says: its link, classes, spoken context, times, rooms.

Worked out once per event for the whole page, from what the page has already loaded (the
viewer of ``calendar_data.Choices``, the event's bookings and their resources), so that a
block, its pieces on the days an event spans and its month chip share one computation and the
templates only print. The strings are plain text: Jinja escapes them as it prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import url_for

from auth.policy import Viewer, may_edit, shares_resource
from jointops.catalog import KIND_LABELS
from jointops.events.calendar_data import CalendarEvent, Shown
from jointops.events.moves import fmt_days
from jointops.models import EventStatus, Sensitivity
from jointops.officetime import fmt_range, office_zone


@dataclass(frozen=True)
class Tile:
    """One event as the calendar shows it to this viewer."""

    shown: Shown
    href: str
    classes: str
    #: what a screen reader hears after the block's visible text: its kind in words, its day
    #: and times with the zone (the visible text is the link's name, as WCAG 2.5.3 asks)
    label: str
    #: local clock times (as ``officetime.fmt_clock``), the grid's corner naming the zone
    starts: str
    ends: str
    #: the room of an event seen in full; the shared resources of a busy block
    rooms: tuple[str, ...]
    #: the viewer may move it on the grid: they may edit it (``auth.policy.may_edit``) and it
    #: is not cancelled; never a busy block
    movable: bool = False
    #: where a move is sent, and the office wall-clock times it starts from (movable only);
    #: of an all-day event its first and last day
    move_href: str = ""
    move_start: str = ""
    move_end: str = ""

    @property
    def event(self) -> CalendarEvent:
        return self.shown.event

    @property
    def full(self) -> bool:
        return self.shown.full

    @property
    def starts_at(self) -> datetime:
        return self.shown.event.starts_at

    @property
    def ends_at(self) -> datetime:
        return self.shown.event.ends_at

    @property
    def all_day(self) -> bool:
        return self.shown.event.all_day


def tiles_of(viewer: Viewer, shown: list[Shown]) -> list[Tile]:
    """The tiles of ``shown``, in its order. Event links (and moves' addresses) share one
    prefix each, built once: building a URL costs about as much as a whole tile."""
    link = url_for("events.show", event_id=0).removesuffix("0")
    move = url_for("events.move", event_id=0).rsplit("/0/", 1)
    zone = office_zone()
    return [_tile(viewer, s, link, move, zone) for s in shown]


def _tile(viewer: Viewer, shown: Shown, link: str, move: list[str], zone: ZoneInfo) -> Tile:
    event = shown.event
    starts, ends = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    last = (ends - timedelta(days=1)).date()
    when = fmt_days(starts.date(), last) if event.all_day else fmt_range(starts, ends)
    if shown.full:
        room = event.room
        rooms: tuple[str, ...] = (room.name,) if room else ()
        classes, label = _classes(event), f"{KIND_LABELS[event.kind]}, {when}"
    else:
        rooms = tuple(
            b.resource.name
            for b in event.bookings
            if b.active and shares_resource(viewer, b.resource.agency_code)
        )
        classes, label = "ev ev-busy", when
    movable = shown.full and not event.is_cancelled and may_edit(viewer, shown.facts)
    moved_from = _move_from(starts, ends, event.all_day)
    return Tile(
        shown=shown,
        href=f"{link}{event.id}",
        classes=classes,
        label=label,
        starts=f"{starts:%H:%M}",
        ends=f"{ends:%H:%M}",
        rooms=rooms,
        movable=movable,
        move_href=f"{move[0]}/{event.id}/{move[1]}" if movable else "",
        move_start=moved_from[0] if movable else "",
        move_end=moved_from[1] if movable else "",
    )


def _move_from(starts: datetime, ends: datetime, all_day: bool) -> tuple[str, str]:
    """What a move starts from: an all-day event's first and last day, else its wall-clock
    start and end (``POST /events/<id>/move`` takes the same)."""
    if all_day:
        return starts.date().isoformat(), (ends - timedelta(days=1)).date().isoformat()
    return f"{starts:%Y-%m-%d %H:%M}", f"{ends:%Y-%m-%d %H:%M}"


def _classes(event: CalendarEvent) -> str:
    """The kind's colour class and the hatching, greying and dashing of its state."""
    classes = ["ev", f"ev-{event.kind}"]
    if event.sensitivity == Sensitivity.COVERT:
        classes.append("ev-covert")
    if event.sensitivity == Sensitivity.RESTRICTED:
        classes.append("ev-restricted")
    if event.is_cancelled:
        classes.append("ev-cancelled")
    if event.status == EventStatus.PLANNED:
        classes.append("ev-planned")
    return " ".join(classes)
