"""Recurrence rules: the bounded subset of RFC 5545 ``RRULE`` a series may use, and its dates.

``FREQ`` is ``DAILY``, ``WEEKLY`` (with ``BYDAY``) or ``MONTHLY`` (on the first start's day of
the month; a month without that day has no occurrence, as RFC 5545 says), with ``INTERVAL``
and an end: ``COUNT`` or ``UNTIL`` (a local date, inclusive). Never unbounded: at most
``MAX_OCCURRENCES`` occurrences within ``MAX_SPAN`` of the first. Occurrences are wall-clock
times in the office; the caller turns each into UTC, so 10:00 stays 10:00 across DST.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

MAX_OCCURRENCES = 260
MAX_SPAN = timedelta(days=731)
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: the fields of a repeat choice, as the form and the errors name them
REPEAT, REPEAT_COUNT, REPEAT_UNTIL = "repeat", "repeat_count", "repeat_until"


class RuleRefused(ValueError):
    """The rule breaks a bound or cannot be read: field name -> messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Rule:
    freq: str
    interval: int = 1
    by_day: tuple[str, ...] = ()
    count: int | None = None
    until: date | None = None

    @classmethod
    def starting(
        cls,
        first: datetime,
        frequency: str,
        *,
        interval: int = 1,
        weekdays: Sequence[str] = (),
        count: int | None = None,
        until: date | None = None,
    ) -> Rule:
        """The rule of a series whose first occurrence starts at ``first`` (office wall clock):
        ``frequency`` as the form and the API name it (``daily``, ``weekly``, ``monthly``), and
        a weekly rule without days on ``first``'s weekday. Bounds are ``check``'s."""
        freq = frequency.upper()
        days = tuple(dict.fromkeys(weekdays))
        if freq == "WEEKLY" and not days:
            days = (WEEKDAYS[first.weekday()],)
        return cls(freq, interval, days, count=count, until=until)

    def shifted(self, days: int) -> Rule:
        """The rule with its weekdays moved by ``days``: the same rule read from a first
        occurrence moved that many days."""
        return replace(
            self, by_day=tuple(WEEKDAYS[(WEEKDAYS.index(d) + days) % 7] for d in self.by_day)
        )

    def text(self) -> str:
        """The rule as stored: ``FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=10``."""
        parts = [f"FREQ={self.freq}", f"INTERVAL={self.interval}"]
        if self.by_day:
            parts.append("BYDAY=" + ",".join(self.by_day))
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            parts.append(f"UNTIL={self.until:%Y%m%d}")
        return ";".join(parts)

    @classmethod
    def parse(cls, text: str) -> Rule:
        """The stored text back as a rule (``ValueError`` if it is not one of ours)."""
        values = dict(part.split("=", 1) for part in text.split(";"))
        until = values.get("UNTIL")
        return cls(
            freq=values["FREQ"],
            interval=int(values.get("INTERVAL", "1")),
            by_day=tuple(d for d in values.get("BYDAY", "").split(",") if d),
            count=int(values["COUNT"]) if "COUNT" in values else None,
            until=datetime.strptime(until, "%Y%m%d").date() if until else None,
        )

    def describe(self, first: datetime) -> str:
        """In words: ``Weekly on Tuesday, 10 times``; ``Every 2 weeks on Tuesday, until 1 Jun``;
        without an end (``count`` and ``until`` None), how often alone."""
        every = {"DAILY": ("Daily", "days"), "WEEKLY": ("Weekly", "weeks")}.get(
            self.freq, ("Monthly", "months")
        )
        said = every[0] if self.interval == 1 else f"Every {self.interval} {every[1]}"
        if self.freq == "WEEKLY":
            days = [DAY_NAMES[WEEKDAYS.index(d)] for d in self.by_day]
            said += " on " + " and ".join(days)
        elif self.freq == "MONTHLY":
            said += f" on day {first.day}"
        if self.count == 1:  # what is left of a series split after its first occurrence
            said += ", once"
        elif self.count is not None:
            said += f", {self.count} times"
        elif self.until is not None:
            said += f", until {self.until.day} {self.until:%b %Y}"
        return said


def check(rule: Rule) -> None:
    """Refuse a rule outside the bounds, naming the field at fault."""
    errors: dict[str, list[str]] = {}
    if rule.freq not in FREQUENCIES:
        errors[REPEAT] = ["Choose daily, weekly or monthly."]
    if not 1 <= rule.interval <= 52:
        errors.setdefault(REPEAT, []).append("Repeat every 1 to 52 periods.")
    if any(d not in WEEKDAYS for d in rule.by_day) or (rule.by_day and rule.freq != "WEEKLY"):
        errors.setdefault(REPEAT, []).append("Days of the week are for weekly repeats only.")
    if (rule.count is None) == (rule.until is None):
        errors[REPEAT_COUNT] = ["End the repeats after a number of times or on a date."]
    elif rule.count is not None and not 2 <= rule.count <= MAX_OCCURRENCES:
        errors[REPEAT_COUNT] = [f"Between 2 and {MAX_OCCURRENCES} times."]
    if errors:
        raise RuleRefused(errors)


def occurrences(rule: Rule, first: datetime) -> list[datetime]:
    """The wall-clock starts the rule gives from ``first`` (naive, office time), in order.

    Raises ``RuleRefused`` when there would be more than ``MAX_OCCURRENCES`` or the last would
    come more than ``MAX_SPAN`` after the first, or fewer than two.
    """
    check(rule)
    last_day = first.date() + MAX_SPAN
    if rule.until is not None and rule.until < first.date():
        raise RuleRefused({REPEAT_UNTIL: ["Must be on or after the first day."]})
    if rule.until is not None and rule.until > last_day:
        raise RuleRefused(
            {REPEAT_UNTIL: [f"At most two years after the first day: {last_day:%Y-%m-%d}."]}
        )
    found: list[datetime] = []
    for moment in _candidates(rule, first):
        if rule.until is not None and moment.date() > rule.until:
            break
        if moment.date() > last_day:
            raise RuleRefused(
                {REPEAT_COUNT: ["The repeats may span at most two years: fewer times."]}
            )
        found.append(moment)
        if len(found) == rule.count:
            break
        if len(found) > MAX_OCCURRENCES:
            raise RuleRefused({REPEAT_UNTIL: [f"At most {MAX_OCCURRENCES} occurrences."]})
    if rule.count is not None and len(found) < rule.count:
        raise RuleRefused({REPEAT_COUNT: ["The repeats may span at most two years: fewer times."]})
    if len(found) < 2:
        raise RuleRefused({REPEAT_UNTIL: ["The repeats end before a second occurrence."]})
    return found


def _candidates(rule: Rule, first: datetime) -> list[datetime]:
    """Starts by the rule from ``first`` on, lazily bounded by a little more than the span."""
    horizon = first + MAX_SPAN + timedelta(days=40)
    found: list[datetime] = []
    if rule.freq == "DAILY":
        step = timedelta(days=rule.interval)
        moment = first
        while moment <= horizon:
            found.append(moment)
            moment += step
    elif rule.freq == "WEEKLY":
        days = sorted(WEEKDAYS.index(d) for d in rule.by_day or (WEEKDAYS[first.weekday()],))
        week = first - timedelta(days=first.weekday())
        while week <= horizon:
            found += [m for d in days if (m := week + timedelta(days=d)) >= first]
            week += timedelta(weeks=rule.interval)
    else:
        months = 0
        while True:
            total = first.month - 1 + months
            year, month = first.year + total // 12, total % 12 + 1
            if year > horizon.year + 1:
                break
            try:
                found.append(first.replace(year=year, month=month))
            except ValueError:  # no such day this month: no occurrence (RFC 5545)
                pass
            months += rule.interval
    return [m for m in found if m <= horizon]
