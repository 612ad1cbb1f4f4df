"""The office time zone: every time is stored in UTC and shown here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

#: the days a time may fall on: a margin of centuries inside what ``datetime`` holds, so that
#: no week, month, buffer or time-zone shift around one of them can overflow
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


class TimeRefused(ValueError):
    """A date or time the office cannot use; the message says why (the caller names the field)."""


class NonexistentLocalTime(TimeRefused):
    """A wall-clock time skipped by a daylight-saving change.

    ``after``: the first minute after it that exists that day, as the person would type it
    (``2027-03-14 03:00``), so that a form can offer it as the choice to take.
    """

    def __init__(self, message: str, after: datetime) -> None:
        super().__init__(message)
        self.after = after


class AmbiguousLocalTime(TimeRefused):
    """A wall-clock time that happens twice (the repeated hour when the clocks go back).

    ``choices``: the two readings, earlier first, as the person would pick them
    (``01:30 EDT``, ``01:30 EST``); ``fold`` 0 and 1 of ``local_to_utc``.
    """

    def __init__(self, message: str, choices: tuple[str, str]) -> None:
        super().__init__(message)
        self.choices = choices


class OutOfRange(TimeRefused):
    """A date outside ``FIRST_DAY`` .. ``LAST_DAY``."""


def check_day(day: date) -> date:
    """``day`` if the office's calendar arithmetic handles it, else ``OutOfRange``."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise OutOfRange(f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}.")
    return day


def parse_day(raw: str) -> date:
    """A date typed as ``YYYY-MM-DD`` (``TimeRefused`` otherwise, or when out of range)."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise TimeRefused(f"expected a date as YYYY-MM-DD, got {raw[:40]!r}.") from None
    return check_day(day)


def parse_instant(raw: str) -> datetime:
    """An ISO 8601 date-time with its UTC offset, in UTC (``TimeRefused`` otherwise)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise TimeRefused(f"expected an ISO 8601 date-time, got {raw[:40]!r}.") from None
    if moment.tzinfo is None:
        raise TimeRefused("give a UTC offset, for example 2026-12-01T09:00:00-05:00.")
    check_day(moment.date())
    return moment.astimezone(UTC)


def office_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(office_zone())


def local_to_utc(
    naive: datetime, zone: ZoneInfo | None = None, *, fold: int | None = None
) -> datetime:
    """Read a wall-clock time typed in the office and return it in UTC.

    A time that the clocks skip (02:30 on the spring-forward night) is refused rather than
    silently moved. A time that happens twice (01:30 on the night the clocks go back) is
    refused unless ``fold`` says which: 0 the first (summer time), 1 the second; the refusal
    carries both readings to offer. A day out of range is refused.
    """
    zone = zone or office_zone()
    check_day(naive.date())
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        after = _first_time_after_gap(naive, zone)
        raise NonexistentLocalTime(
            f"{naive:%H:%M} does not exist on {naive:%d %b %Y} in {zone.key} "
            f"(the clocks go forward): the first time after the change is "
            f"{after.replace(tzinfo=zone):%H:%M %Z}",
            after,
        )
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    if fold is None:
        choices = (f"{naive:%H:%M} {first.tzname()}", f"{naive:%H:%M} {second.tzname()}")
        raise AmbiguousLocalTime(
            f"{naive:%H:%M} happens twice on {naive:%d %b %Y} in {zone.key} (the clocks go "
            f"back): choose {choices[0]} (the first) or {choices[1]} (the second)",
            choices,
        )
    return (second if fold else first).astimezone(UTC)


def _first_time_after_gap(naive: datetime, zone: ZoneInfo) -> datetime:
    """The first wall-clock minute after the skipped one ``naive`` that exists (naive)."""
    moment = naive.replace(second=0, microsecond=0)
    for _ in range(24 * 60):
        moment += timedelta(minutes=1)
        aware = moment.replace(tzinfo=zone)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == moment:
            return moment
    raise AssertionError("no zone skips a whole day of minutes")  # pragma: no cover


def local_day_bounds(first: date, days: int) -> tuple[datetime, datetime]:
    """UTC instants of local midnight on ``first`` and ``days`` days later."""
    zone = office_zone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(first + timedelta(days=days), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def next_half_hour(moment: datetime | None = None) -> datetime:
    """The office's wall-clock time (naive) of the next full or half hour after ``moment``
    (now): what a new event proposes to start at, as calendar apps do."""
    local = to_local(moment or datetime.now(UTC)).replace(second=0, microsecond=0, tzinfo=None)
    return local.replace(minute=0) + timedelta(minutes=30 if local.minute < 30 else 60)


def wall_minutes_now() -> int:
    """Minutes since midnight on the office's wall clock: where the grid's current-time line is."""
    local = to_local(datetime.now(UTC))
    return local.hour * 60 + local.minute


def today_local() -> date:
    return datetime.now(UTC).astimezone(office_zone()).date()


def fmt_time(moment: datetime) -> str:
    """``14:30 EST``: the form every page uses for a time."""
    local = to_local(moment)
    return f"{local:%H:%M} {local.tzname()}"


def fmt_day(day: date) -> str:
    """``04 Mar 1988``: a date on its own (a date of birth), as the dates of every time read."""
    return f"{day:%d %b %Y}"


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
