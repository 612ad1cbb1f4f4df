"""What each event on the calendar page says: its link, classes, spoken context, times, rooms.

Worked out once per event for the whole page, from what the page has already loaded (the
viewer of ``calendar_data.Choices``, the event's bookings and their resources), so that a
block, its pieces on the days an event spans and its month chip share one computation and the
templates only print. The strings are plain text: Jinja escapes them as it prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for

from auth.policy import Viewer, may_edit
from jointops.catalog import KIND_LABELS
from jointops.events.calendar_data import Shown
from jointops.models import Event, EventStatus, Sensitivity
from jointops.officetime import fmt_clock, fmt_range
from jointops.visibility import facts_of, resources_known_to


@dataclass(frozen=True)
class Tile:
    """One event as the calendar shows it to this viewer."""

    shown: Shown
    href: str
    classes: str
    #: what a screen reader hears after the block's visible text: its kind in words, its day
    #: and times with the zone (the visible text is the link's name, as WCAG 2.5.3 asks)
    label: str
    starts: str  # local clock times, the grid's corner naming the zone
    ends: str
    #: the room of an event seen in full; the shared resources of a busy block
    rooms: tuple[str, ...]
    #: the viewer may move it on the grid: they may edit it (``auth.policy.may_edit``) and it
    #: is not cancelled; never a busy block
    movable: bool = False

    @property
    def event(self) -> Event:
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


def tiles_of(viewer: Viewer, shown: list[Shown]) -> list[Tile]:
    """The tiles of ``shown``, in its order. Event links share one prefix, built once."""
    link = url_for("events.show", event_id=0).removesuffix("0")
    return [_tile(viewer, s, link) for s in shown]


def _tile(viewer: Viewer, shown: Shown, link: str) -> Tile:
    event = shown.event
    when = fmt_range(event.starts_at, event.ends_at)
    if shown.full:
        room = event.room
        rooms: tuple[str, ...] = (room.name,) if room else ()
        classes, label = _classes(event), f"{KIND_LABELS[event.kind]}, {when}"
    else:
        held = [b.resource for b in event.bookings if b.active]
        rooms = tuple(r.name for r in resources_known_to(viewer, held))
        classes, label = "ev ev-busy", when
    return Tile(
        shown=shown,
        href=f"{link}{event.id}",
        classes=classes,
        label=label,
        starts=fmt_clock(event.starts_at),
        ends=fmt_clock(event.ends_at),
        rooms=rooms,
        movable=shown.full and not event.is_cancelled and may_edit(viewer, facts_of(event)),
    )


def _classes(event: Event) -> str:
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
