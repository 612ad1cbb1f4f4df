"""The redaction policy of every feed, in one place.

Feeds are read by calendar apps that sync into clouds the task force does not
control, so a feed says less than the web page, never more:

* A feed carries an event's kind, subtype, rooms, time and status, and a link
  to its page in the app (where signing in shows the rest to those allowed).
* The ``SUMMARY`` is made from the kind and subtype *labels* of the office
  vocabulary, never from the event's free-text title: titles can name people.
* Never a client code, a note, a target, a case number, an address or a
  participant: ``FeedEvent`` has no field for them (see ``calendars.model``).
* ``LOCATION`` names the event's rooms and where they are, the office address
  the app passes in (``place``), so that a maps app finds them. An event that
  holds no room has no location: a feed never says where an operation is.
* A covert event reads "Busy (restricted)" and nothing else (no kind, no
  room, no link), even to those who may open it in the app.
* Where the subscriber may only know that a room is taken (``Detail.BUSY``),
  and in every room feed, an event is a busy block: "Busy" and the room. The
  busy block of a covert event is an ordinary "Busy": marking it would tell
  people who may not know it that a covert operation holds the room.
* ``STATUS`` follows the event (``TENTATIVE`` while planned, ``CANCELLED``
  once cancelled, so that subscribed calendars remove it); a busy block does
  not tell planned from confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from calendars.model import Detail, FeedEvent, FeedKind

BUSY = "Busy"
RESTRICTED = "Busy (restricted)"
#: sensitivities whose events a feed shows as RESTRICTED even to those who may see them
REDACTED_SENSITIVITIES = frozenset({"covert"})

ICAL_STATUS = {
    "planned": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "completed": "CONFIRMED",
    "cancelled": "CANCELLED",
}


@dataclass(frozen=True)
class Labels:
    """Labels of the office vocabulary: kind code -> label, and per kind, subtype code -> label."""

    kinds: Mapping[str, str] = field(default_factory=dict)
    subtypes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def kind(self, code: str) -> str:
        return self.kinds.get(code) or _humanise(code)

    def subtype(self, kind: str, code: str) -> str:
        return self.subtypes.get(kind, {}).get(code) or _humanise(code)


def _humanise(code: str) -> str:
    return code.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Entry:
    """One ``VEVENT`` exactly as a feed writes it: the redaction's output."""

    event_id: int
    summary: str
    location: str | None
    status: str
    starts_at: datetime
    ends_at: datetime
    sequence: int
    last_modified: datetime
    url: str | None
    #: of a series' entries (``calendars.series``): the series (its ``UID``); for the master,
    #: the rule, the zone its times are written in and the starts it leaves out; for an
    #: override, the start the rule gave the occurrence it replaces (``RECURRENCE-ID``)
    series_id: int | None = None
    rule: str | None = None
    tzid: str | None = None
    exdates: tuple[datetime, ...] = ()
    recurrence_id: datetime | None = None
    #: of an all-day event: its first day and the day after its last (``FeedEvent.days``)
    days: tuple[date, date] | None = None


def place(rooms: str | None, office_address: str) -> str | None:
    """The ``LOCATION`` written for an entry whose rooms are ``rooms``: those, then the office."""
    if not rooms:
        return None
    return f"{rooms}, {office_address}" if office_address else rooms


def detail_in(event: FeedEvent, kind: FeedKind) -> Detail:
    """How much of ``event`` this kind of feed shows: never more than the policy allows."""
    return Detail.BUSY if kind is FeedKind.ROOM else event.detail


def redact(event: FeedEvent, kind: FeedKind, labels: Labels) -> Entry:
    """The entry that a feed of ``kind`` writes for ``event``."""
    status = ICAL_STATUS[event.status]
    location: str | None = ", ".join(event.rooms) or None
    url: str | None = event.url
    if detail_in(event, kind) is Detail.BUSY:
        summary, url = BUSY, None
        status = "CANCELLED" if event.cancelled else "CONFIRMED"
    elif event.sensitivity in REDACTED_SENSITIVITIES:
        summary, location, url = RESTRICTED, None, None
    else:
        summary = f"{labels.kind(event.kind)}: {labels.subtype(event.kind, event.subtype)}"
    return Entry(
        event_id=event.id,
        summary=summary,
        location=location,
        status=status,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        sequence=event.version - 1,
        last_modified=event.updated_at,
        url=url,
        days=event.days,
    )
