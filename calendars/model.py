"""What a feed may know of an event: an allow-list of fields, and nothing else.

The app maps its rows onto ``FeedEvent``; the feed is written from these
objects alone. A title, a client code, notes, a case, a target, an address or
a participant cannot reach a feed, because ``FeedEvent`` has no field to hold
them. Codes are checked to be codes, so free text cannot hide in them either.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

#: a vocabulary code: lower-case letters, digits and underscores (never free text)
CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
STATUSES = frozenset({"planned", "confirmed", "completed", "cancelled"})
SENSITIVITIES = frozenset({"normal", "restricted", "covert"})


class FeedKind(enum.StrEnum):
    """Whose calendar a feed is."""

    PERSONAL = "personal"
    TEAM = "team"
    ROOM = "room"


class Detail(enum.IntEnum):
    """How much of an event the subscriber may see, as the need-to-know policy says.

    ``BUSY``: that something holds a room at that time. ``FULL``: the event
    itself (of which a feed still carries only the allowed fields).
    """

    BUSY = 1
    FULL = 2


@dataclass(frozen=True)
class FeedEvent:
    """One event as a feed may know it.

    ``rooms`` are the names of the rooms it books; ``url`` its page in the
    app; ``version`` grows with every change (the iCalendar ``SEQUENCE``);
    ``updated_at`` is its last change (for a cancelled event: the moment it
    was cancelled). ``sensitivity`` and ``detail`` are not written: they only
    decide how much of the rest is.
    """

    id: int
    kind: str
    subtype: str
    status: str
    sensitivity: str
    starts_at: datetime
    ends_at: datetime
    rooms: tuple[str, ...]
    version: int
    updated_at: datetime
    url: str
    detail: Detail
    #: the series this event is an occurrence of, and the start its rule gave it
    series_id: int | None = None
    recurrence_id: datetime | None = None
    #: of an all-day event, its first day and the day after its last (in the office), which
    #: a feed writes as dates (``DTSTART;VALUE=DATE``, ``DTEND;VALUE=DATE``)
    days: tuple[date, date] | None = None

    def __post_init__(self) -> None:
        for name in ("kind", "subtype"):
            if not CODE.fullmatch(getattr(self, name)):
                raise ValueError(f"{name} must be a vocabulary code, got {getattr(self, name)!r}")
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.sensitivity not in SENSITIVITIES:
            raise ValueError(f"unknown sensitivity {self.sensitivity!r}")
        for name in ("starts_at", "ends_at", "updated_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} must be an aware datetime")
        if self.ends_at <= self.starts_at:
            raise ValueError("an event ends after it starts")
        if self.version < 1:
            raise ValueError("version starts at 1")
        if self.days is not None and not self.days[0] < self.days[1]:
            raise ValueError("an all-day event ends on a later day than it starts")
        if not self.url.startswith(("https://", "http://")):
            raise ValueError("url must be an http(s) address")
        if not isinstance(self.detail, Detail):
            raise ValueError("detail must be a Detail")

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


#: a recurrence rule as a feed writes it: RRULE parts, never free text
RULE = re.compile(
    r"FREQ=(DAILY|WEEKLY|MONTHLY)"
    r"(;(INTERVAL=\d{1,2}|BYDAY=(MO|TU|WE|TH|FR|SA|SU)(,(MO|TU|WE|TH|FR|SA|SU))*|COUNT=\d{1,3}))*"
)


@dataclass(frozen=True)
class FeedSeries:
    """A recurring event as a feed may know it: the rule and its starts, nothing else.

    ``first_start`` is the first occurrence's start in the zone ``tzid`` (the office's), so
    that the rule keeps its wall-clock time across DST; ``rule`` is a bounded ``RRULE``
    (``COUNT``, never open-ended); ``starts`` are every start the rule gives (UTC).
    """

    id: int
    rule: str
    tzid: str
    first_start: datetime
    duration: timedelta
    starts: tuple[datetime, ...]

    def __post_init__(self) -> None:
        if not RULE.fullmatch(self.rule) or "COUNT=" not in self.rule:
            raise ValueError(f"not a bounded rule: {self.rule!r}")
        if self.first_start.tzinfo is None or any(s.tzinfo is None for s in self.starts):
            raise ValueError("series times must be aware")
        if self.duration <= timedelta(0):
            raise ValueError("an occurrence ends after it starts")
