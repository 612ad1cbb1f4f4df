"""The office time zone: every time is stored in UTC and shown here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a daylight-saving change."""


def office_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(office_zone())


def local_to_utc(naive: datetime, zone: ZoneInfo | None = None) -> datetime:
    """Read a wall-clock time typed in the office and return it in UTC.

    A time that the clocks skip (02:30 on the spring-forward night) is refused
    rather than silently moved; an ambiguous one (the repeated hour in autumn)
    takes its first occurrence, as calendar apps do.
    """
    zone = zone or office_zone()
    aware = naive.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise NonexistentLocalTime(
            f"{naive:%H:%M} does not exist on {naive:%d %b %Y} in {zone.key} "
            "(the clocks go forward)"
        )
    return aware.astimezone(UTC)


def local_day_bounds(first: date, days: int) -> tuple[datetime, datetime]:
    """UTC instants of local midnight on ``first`` and ``days`` days later."""
    zone = office_zone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(first + timedelta(days=days), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def today_local() -> date:
    return datetime.now(UTC).astimezone(office_zone()).date()


def fmt_time(moment: datetime) -> str:
    """``14:30 EST``: the form every page uses for a time."""
    local = to_local(moment)
    return f"{local:%H:%M} {local.tzname()}"


def fmt_clock(moment: datetime) -> str:
    """``14:30``: for the grid, whose corner names the zone."""
    return f"{to_local(moment):%H:%M}"


def fmt_datetime(moment: datetime) -> str:
    local = to_local(moment)
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


def fmt_range(start: datetime, end: datetime) -> str:
    """``Tue 03 Dec 2026, 09:00–11:30 EST`` (dates repeated only when they differ)."""
    a, b = to_local(start), to_local(end)
    if a.date() == b.date():
        zone = a.tzname() if a.tzname() == b.tzname() else f"{a.tzname()}/{b.tzname()}"
        return f"{a:%a %d %b %Y, %H:%M}–{b:%H:%M} {zone}"
    return f"{fmt_datetime(start)} – {fmt_datetime(end)}"
