"""Recurring events in a feed: one master ``VEVENT`` per series, and its exceptions.

The occurrences of a series that a feed shows become one master with the series' ``UID``,
``DTSTART;TZID`` of the first occurrence (so the rule keeps the wall-clock time across
DST), its ``RRULE``, and an ``EXDATE`` for every start of the rule that the feed does not
show as the rule gives it: cancelled, outside the feed's window, not for this subscriber,
or moved. Each occurrence that differs from the master (moved, another length, another
summary, room or status) is an override with the same ``UID`` and ``RECURRENCE-ID``. So a
feed never shows more occurrences than the calendar does.

Each occurrence is redacted on its own first (``redact``); the master says what its
template occurrence's entry says, nothing more. A series whose shown occurrences the
subscriber sees at different levels (some in full, some as busy blocks) is written as
separate ``VEVENT``s, one per occurrence with its own ``UID``: the simplest rendering that
cannot let one level's text stand for the other's.

An all-day series (every occurrence shown is all-day) is written in dates: the master's
``DTSTART;VALUE=DATE`` and ``DTEND;VALUE=DATE``, its ``EXDATE;VALUE=DATE``, its overrides'
``RECURRENCE-ID;VALUE=DATE`` (``calendars.render``), an occurrence's length counted in days
(an occurrence across a change of the clocks lasts 71 or 73 hours, yet the same days). A series
of which some occurrences were made timed and others not is written one ``VEVENT`` each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from calendars.model import FeedEvent, FeedKind, FeedSeries
from calendars.redaction import Entry, Labels, detail_in, redact


def redact_feed(
    events: Sequence[FeedEvent],
    series: Mapping[int, FeedSeries],
    kind: FeedKind,
    labels: Labels,
) -> list[Entry]:
    """The entries of a feed: single events as ``redact`` writes them, series grouped."""
    entries: list[Entry] = []
    grouped: dict[int, list[tuple[FeedEvent, Entry]]] = defaultdict(list)
    for event in events:
        entry = redact(event, kind, labels)
        known = series.get(event.series_id) if event.series_id is not None else None
        if known is None or event.recurrence_id is None:
            entries.append(entry)
        else:
            grouped[known.id].append((event, entry))
    for series_id, members in grouped.items():
        mixed_days = len({e.days is None for e, _ in members}) > 1
        if mixed_days or len({detail_in(e, kind) for e, _ in members}) > 1:
            entries += [entry for _, entry in members]
        else:
            entries += _series_entries(series[series_id], members)
    return entries


def _series_entries(series: FeedSeries, members: list[tuple[FeedEvent, Entry]]) -> list[Entry]:
    zone = ZoneInfo(series.tzid)
    all_day = members[0][0].days is not None
    length = _expected_length(series, all_day)
    shown = [(e, entry) for e, entry in members if not e.cancelled]
    unmoved = [
        entry for e, entry in shown if e.starts_at == e.recurrence_id and _length(e) == length
    ]
    if not shown:  # every occurrence the feed carries is cancelled: none to show
        return []
    template = unmoved[0] if unmoved else shown[0][1]
    overrides = [(e, entry) for e, entry in shown if _differs(e, entry, template, length)]
    present = {e.recurrence_id for e, _ in shown}
    first = series.first_start.astimezone(zone)
    master = replace(
        template,
        series_id=series.id,
        rule=series.rule,
        tzid=series.tzid,
        starts_at=first,
        ends_at=first + series.duration,
        days=_days_from(first.date(), length) if all_day else None,
        exdates=tuple(_local(s, zone) for s in sorted(series.starts) if s not in present),
        sequence=max(entry.sequence for _, entry in members),
        last_modified=max(entry.last_modified for _, entry in members),
        recurrence_id=None,
    )
    return [master] + [
        replace(entry, series_id=series.id, tzid=series.tzid, recurrence_id=e.recurrence_id)
        for e, entry in overrides
    ]


def _length(event: FeedEvent) -> timedelta:
    """How long an occurrence is: of an all-day one, its whole days (not its hours)."""
    if event.days is not None:
        return timedelta(days=(event.days[1] - event.days[0]).days)
    return event.ends_at - event.starts_at


def _expected_length(series: FeedSeries, all_day: bool) -> timedelta:
    """The length the rule gives each occurrence: of an all-day series, its first
    occurrence's hours rounded to whole days (a change of the clocks adds or takes an hour)."""
    if all_day:
        return timedelta(days=round(series.duration / timedelta(days=1)))
    return series.duration


def _days_from(first: date, length: timedelta) -> tuple[date, date]:
    return first, first + timedelta(days=max(1, length.days))


def _differs(event: FeedEvent, entry: Entry, template: Entry, length: timedelta) -> bool:
    """Whether an occurrence is not what the master's rule would show at its start (its own
    page's link aside: the master links to one occurrence's page, which shows the series)."""
    return (
        event.starts_at != event.recurrence_id
        or _length(event) != length
        or (entry.summary, entry.location, entry.status)
        != (template.summary, template.location, template.status)
    )


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)
