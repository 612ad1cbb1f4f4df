"""RFC 5545 text of a feed, written with ``icalendar`` from redacted entries only.

Times are written in UTC, except a series' master (``calendars.series``), whose
``DTSTART``, ``EXDATE`` and its overrides' ``RECURRENCE-ID`` are in the office zone, so that
its rule keeps the wall-clock time across DST: the feed then carries that zone's
``VTIMEZONE``. All-day events, series and overrides are written in dates (``VALUE=DATE``),
which need no zone. The output is a pure
function of the entries and the settings (``DTSTAMP`` is the entry's last
change, as RFC 5545 asks of a calendar without ``METHOD``), so the same
calendar always gives the same bytes and the same ``fingerprint``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import (
    Alarm,
    Calendar,
    Event,
    Timezone,
    vDDDLists,
    vDDDTypes,
    vDuration,
    vInt,
    vRecur,
    vText,
    vUri,
)
from icalendar.caselessdict import canonsort_keys
from icalendar.parser import _foldline

from calendars.redaction import Entry, place

PRODID = "-//JointOps//Feeds 1.0//EN"
#: VEVENTs kept written per process: a feed of thousands of events changes a few at a time
WRITTEN_EVENTS = 50_000
END = b"END:VCALENDAR\r\n"
#: bump when the way a feed is written changes, so that every ETag changes with it
FORMAT_VERSION = "6"


@dataclass(frozen=True)
class FeedSettings:
    """What a feed says about itself."""

    #: shown as the calendar's name (``NAME``, ``X-WR-CALNAME``): whose or which calendar it
    #: is (a member of staff, an agency, a room), never anything of a victim or an operation
    name: str
    #: how often subscribers should fetch again (``REFRESH-INTERVAL``, ``X-PUBLISHED-TTL``)
    refresh: timedelta
    #: the right-hand side of every ``UID``, e.g. the app's host name
    uid_domain: str
    #: keys the ``UID``: stable per event, yet it does not reveal the app's event ids
    uid_key: bytes
    #: where the rooms are: written after them in ``LOCATION`` (``redaction.place``)
    office_address: str = ""
    #: a reminder this long before each event (``VALARM``, chosen per feed), or none
    alarm: timedelta | None = None

    def __post_init__(self) -> None:
        if self.refresh <= timedelta(0):
            raise ValueError("refresh must be positive")
        if self.alarm is not None and self.alarm <= timedelta(0):
            raise ValueError("an alarm must come before the event")
        if not self.uid_key:
            raise ValueError("uid_key must not be empty")


def uid(event_id: int, settings: FeedSettings) -> str:
    """The stable ``UID`` of an event: the same in every feed and every fetch."""
    return _keyed(f"event:{event_id}", settings)


def series_uid(series_id: int, settings: FeedSettings) -> str:
    """The stable ``UID`` of a series: its master and every override share it."""
    return _keyed(f"series:{series_id}", settings)


def _keyed(name: str, settings: FeedSettings) -> str:
    digest = hmac.new(settings.uid_key, name.encode(), hashlib.sha256)
    return f"{digest.hexdigest()[:32]}@{settings.uid_domain}"


def entry_uid(entry: Entry, settings: FeedSettings) -> str:
    if entry.series_id is not None:
        return series_uid(entry.series_id, settings)
    return uid(entry.event_id, settings)


def ordered(entries: Iterable[Entry]) -> list[Entry]:
    """Entries in the order a feed lists them: by start, then by event."""
    return sorted(entries, key=lambda e: (e.starts_at, e.event_id))


def fingerprint(entries: Sequence[Entry], settings: FeedSettings) -> str:
    """A SHA-256 over everything ``render`` writes: equal exactly when the bytes are equal.

    Cheaper than rendering, so a conditional request can be answered without it.
    """
    digest = hashlib.sha256()
    head = (
        FORMAT_VERSION,
        PRODID,
        settings.name,
        int(settings.refresh.total_seconds()),
        settings.uid_domain,
        hashlib.sha256(settings.uid_key).hexdigest(),
        settings.office_address,
        None if settings.alarm is None else int(settings.alarm.total_seconds()),
    )
    digest.update(repr(head).encode())
    for e in ordered(entries):
        row = (
            e.event_id,
            e.summary,
            e.location,
            e.status,
            _utc(e.starts_at),
            _utc(e.ends_at),
            e.sequence,
            _utc(e.last_modified),
            e.url,
            e.series_id,
            e.rule,
            e.tzid,
            tuple(_utc(x) for x in e.exdates),
            None if e.recurrence_id is None else _utc(e.recurrence_id),
            e.days,
        )
        digest.update(b"\n" + repr(row).encode())
    return digest.hexdigest()


def build_calendar(entries: Sequence[Entry], settings: FeedSettings) -> Calendar:
    """The ``icalendar`` object of a feed."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", vText(settings.name))  # TEXT (RFC 7986): escaped
    calendar.add("x-wr-calname", vText(settings.name))
    calendar.add("refresh-interval", vDuration(settings.refresh), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(settings.refresh))
    for tzid in _zones(entries):
        calendar.add_component(_timezone(tzid))
    for entry in ordered(entries):
        calendar.add_component(_vevent(entry, settings))
    return calendar


def _zones(entries: Iterable[Entry]) -> list[str]:
    return sorted({e.tzid for e in entries if e.tzid is not None and e.days is None})


@lru_cache(maxsize=8)
def _timezone(tzid: str) -> Timezone:
    return Timezone.from_tzid(tzid)


@lru_cache(maxsize=8)
def _timezone_text(tzid: str) -> bytes:
    text: bytes = _timezone(tzid).to_ical()
    return text


def render(entries: Sequence[Entry], settings: FeedSettings) -> bytes:
    """The feed as RFC 5545 bytes (UTF-8, CRLF line ends, lines folded at 75 octets).

    The very bytes of ``build_calendar(...).to_ical()``, put together from each entry's
    ``VEVENT`` as written the last time the same entry was (an entry is the redaction's
    whole output, so equal entries write equal text): a feed rebuilt after one change writes
    one event again, not thousands.
    """
    head = _head(settings)
    zones = [_timezone_text(tzid) for tzid in _zones(entries)]
    events = [_written(entry, settings) for entry in ordered(entries)]
    return b"".join([head, *zones, *events, END])


def forget_written() -> None:
    """Drop every kept VEVENT text, as a new worker starts (benchmarks measure that start)."""
    _written.cache_clear()


@lru_cache(maxsize=64)
def _head(settings: FeedSettings) -> bytes:
    empty: bytes = build_calendar((), settings).to_ical()
    if not empty.endswith(END):
        raise RuntimeError("icalendar ended a calendar otherwise than END:VCALENDAR")
    return empty[: -len(END)]


@lru_cache(maxsize=WRITTEN_EVENTS)
def _written(entry: Entry, settings: FeedSettings) -> bytes:
    """``_vevent(entry, settings).to_ical()``, written from the same typed values without
    building the component: the same lines in ``icalendar``'s order, each the value's own
    ``to_ical`` with its parameters, folded by ``icalendar``'s folding (a test holds the two
    byte for byte, over generated entries)."""
    lines = ["BEGIN:VEVENT", *_lines(_properties(entry, settings), Event.canonical_order)]
    if settings.alarm is not None:
        lines += ["BEGIN:VALARM", *_lines(_alarm_properties(entry, settings.alarm), None)]
        lines.append("END:VALARM")
    lines.append("END:VEVENT")
    return "".join(f"{_fold(line)}\r\n" for line in lines).encode()


def _lines(values: list[tuple[str, Any]], order: Sequence[str] | None) -> list[str]:
    by_name = {name.upper(): value for name, value in values}
    lines = []
    for name in canonsort_keys(by_name, order):
        value = by_name[name]
        text = value.to_ical().decode()
        params = value.params.to_ical().decode() if value.params else ""
        lines.append(f"{name};{params}:{text}" if params else f"{name}:{text}")
    return lines


def _fold(line: str) -> str:
    # a line of fewer than 75 octets is never folded: most of a feed's lines
    return line if len(line.encode()) < 75 else _foldline(line)


def _vevent(entry: Entry, settings: FeedSettings) -> Event:
    # Typed values added as they are (``encode=False``): the same text as ``Event.add``
    # infers, without inferring it for every property of every event.
    event = Event()
    for name, value in _properties(entry, settings):
        event.add(name, value, encode=False)
    if settings.alarm is not None:
        event.add_component(_alarm(entry, settings.alarm))
    return event


def _properties(entry: Entry, settings: FeedSettings) -> list[tuple[str, Any]]:
    """A VEVENT's properties as ``icalendar``'s typed values."""
    changed = vDDDTypes(_utc(entry.last_modified))
    values: list[tuple[str, Any]] = [
        ("uid", vText(entry_uid(entry, settings))),
        ("dtstamp", changed),
        *_times(entry),
        ("sequence", vInt(entry.sequence)),
        ("status", vText(entry.status)),
        ("summary", vText(entry.summary)),
    ]
    location = place(entry.location, settings.office_address)
    if location:
        values.append(("location", vText(location)))
    if entry.url:
        values.append(("url", vUri(entry.url)))
    values += [("last-modified", changed), ("class", vText("PRIVATE")), ("transp", vText("OPAQUE"))]
    return values


def _times(entry: Entry) -> list[tuple[str, Any]]:
    """``DTSTART`` and ``DTEND``, and of a series' entries the rule, its exceptions or the
    start an override replaces, all in the series' zone (a master's start keeps its
    wall-clock time that way; ``RECURRENCE-ID`` and ``EXDATE`` match its value type)."""
    if entry.days is not None:
        return _days(entry, entry.days)
    times: list[tuple[str, Any]]
    if entry.rule is None:
        times = [
            ("dtstart", vDDDTypes(_utc(entry.starts_at))),
            ("dtend", vDDDTypes(_utc(entry.ends_at))),
        ]
    else:
        times = [
            ("dtstart", vDDDTypes(_in_zone(entry.starts_at, entry.tzid))),
            ("dtend", vDDDTypes(_in_zone(entry.ends_at, entry.tzid))),
            ("rrule", vRecur.from_ical(entry.rule)),
        ]
        if entry.exdates:
            times.append(("exdate", vDDDLists([_in_zone(x, entry.tzid) for x in entry.exdates])))
    if entry.recurrence_id is not None:
        times.append(("recurrence-id", vDDDTypes(_in_zone(entry.recurrence_id, entry.tzid))))
    return times


def _days(entry: Entry, days: tuple[date, date]) -> list[tuple[str, Any]]:
    """An all-day event's, series master's or override's dates: the end the day after its
    last (RFC 5545 3.6.1); the rule's exceptions and an override's ``RECURRENCE-ID`` as the
    office days of the starts they name (dates, as the master's ``DTSTART`` is)."""
    times: list[tuple[str, Any]] = [("dtstart", vDDDTypes(days[0])), ("dtend", vDDDTypes(days[1]))]
    if entry.rule is not None:
        times.append(("rrule", vRecur.from_ical(entry.rule)))
        if entry.exdates:
            exdates = vDDDLists([_in_zone(x, entry.tzid).date() for x in entry.exdates])
            exdates.params["VALUE"] = "DATE"
            times.append(("exdate", exdates))
    if entry.recurrence_id is not None:
        times.append(("recurrence-id", vDDDTypes(_in_zone(entry.recurrence_id, entry.tzid).date())))
    return times


def _in_zone(moment: datetime, tzid: str | None) -> datetime:
    if tzid is None:
        return _utc(moment)
    return moment.astimezone(ZoneInfo(tzid)).replace(microsecond=0)


def _alarm(entry: Entry, before: timedelta) -> Alarm:
    alarm = Alarm()
    for name, value in _alarm_properties(entry, before):
        alarm.add(name, value, encode=False)
    return alarm


def _alarm_properties(entry: Entry, before: timedelta) -> list[tuple[str, Any]]:
    """A reminder ``before`` the start that says what the event's summary says, no more."""
    return [
        ("action", vText("DISPLAY")),
        ("description", vText(entry.summary)),
        ("trigger", vDuration(-before)),
    ]


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC, to the second (iCalendar has no fractions of a second)."""
    return moment.astimezone(UTC).replace(microsecond=0)
