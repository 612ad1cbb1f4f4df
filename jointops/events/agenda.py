"""The calendar as a list ("agenda"): the days of a window that hold something, each with its
events in time order.

An event that crosses midnight is listed on each office day it covers, with "from" and "until"
where it starts or ends on another day. The lines carry the calendar's tiles, so that a line
says exactly what the grid's block says to the same viewer (busy blocks included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from jointops.events.calendar_tiles import Tile
from jointops.officetime import fmt_clock, office_zone


@dataclass(frozen=True)
class Line:
    tile: Tile
    #: the times on this day, 24-hour: "09:00–10:30", "from 22:00", "until 03:00", "all day"
    times: str


@dataclass
class AgendaDay:
    date: date
    is_today: bool = False
    lines: list[Line] = field(default_factory=list)

    @property
    def zone(self) -> str:
        """The office zone's abbreviation at noon that day (EST, EDT): the lines' times are in
        it; a day that changes the clock says its noon's."""
        return datetime.combine(self.date, time(12), tzinfo=office_zone()).tzname() or ""


def agenda_days(
    first: date, count: int, tiles: Sequence[Tile], today: date, *, with_today: bool = True
) -> list[AgendaDay]:
    """The days from ``first`` (``count`` of them) that hold at least one of ``tiles``; and,
    ``with_today``, today when it is among them even if empty (so that "Today" is found)."""
    zone = office_zone()
    last = first + timedelta(days=count - 1)
    days: dict[date, AgendaDay] = {}
    for tile in tiles:
        local_start = tile.starts_at.astimezone(zone)
        # an event ending at midnight ends on the day before
        end_day = (tile.ends_at.astimezone(zone) - timedelta(microseconds=1)).date()
        day = max(first, local_start.date())
        while day <= min(last, end_day):
            entry = days.setdefault(day, AgendaDay(day, is_today=day == today))
            entry.lines.append(Line(tile, _times(tile, day)))
            day += timedelta(days=1)
    if with_today and first <= today <= last:
        days.setdefault(today, AgendaDay(today, is_today=True))
    return [days[d] for d in sorted(days)]


def _times(tile: Tile, day: date) -> str:
    if tile.all_day:
        return "All day"
    zone = office_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    begins_before, ends_after = tile.starts_at < start, tile.ends_at > end
    if begins_before and ends_after:
        return "all day"
    if begins_before:
        return f"until {fmt_clock(tile.ends_at)}"
    if ends_after:
        return f"from {fmt_clock(tile.starts_at)}"
    return f"{tile.starts}–{tile.ends}"
