"""A feed's VEVENTs are written from ``icalendar``'s typed values without building its
components (``calendars.render``): byte for byte what ``icalendar`` itself writes, over
generated entries of every shape a feed holds (text that needs escaping and folding, any
script, series masters with rules, exceptions and zones, overrides, all-day days, reminders)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import Entry, FeedSettings, build_calendar, render
from calendars.render import forget_written

# Pure: generated entries written two ways, no "now" in either.
pytestmark = pytest.mark.clockless

ZONE = "America/New_York"
MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r"), max_size=200)
RULES = st.sampled_from(
    [
        "FREQ=WEEKLY;BYDAY=TU;COUNT=10",
        "FREQ=DAILY;INTERVAL=2;UNTIL=20270401T035959Z",
        "FREQ=MONTHLY;COUNT=3",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;COUNT=30",
    ]
)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    starts = draw(MOMENTS)
    shape = draw(st.sampled_from(["single", "master", "override", "day", "day master"]))
    days = None
    if shape.startswith("day"):
        first = starts.date()
        days = (first, first + timedelta(days=draw(st.integers(1, 14))))
    series = shape in ("master", "override", "day master")
    return Entry(
        event_id=draw(st.integers(1, 2**31 - 1)),
        summary=draw(TEXT),
        location=draw(st.none() | TEXT.filter(bool)),
        status=draw(st.sampled_from(["CONFIRMED", "TENTATIVE", "CANCELLED"])),
        starts_at=starts,
        ends_at=starts + timedelta(minutes=draw(st.integers(1, 20000))),
        sequence=draw(st.integers(0, 10**6)),
        last_modified=draw(MOMENTS),
        url=draw(st.none() | st.just("https://ops.example/events/").map(lambda u: u + "7")),
        series_id=draw(st.integers(1, 10**6)) if series else None,
        rule=draw(RULES) if shape in ("master", "day master") else None,
        tzid=ZONE if series else None,
        exdates=tuple(draw(st.lists(MOMENTS, max_size=4)))
        if shape in ("master", "day master")
        else (),
        recurrence_id=draw(MOMENTS) if shape == "override" else None,
        days=days,
    )


FEED_SETTINGS = st.builds(
    FeedSettings,
    name=TEXT.filter(bool),
    refresh=st.just(timedelta(minutes=15)),
    uid_domain=st.just("ops.example"),
    uid_key=st.just(b"key"),
    office_address=st.sampled_from(["", "1 Office Plaza, West Palm Beach, FL 33401"]),
    alarm=st.none() | st.integers(1, 10080).map(lambda m: timedelta(minutes=m)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(entries(), max_size=6), FEED_SETTINGS)
def test_a_feed_is_byte_for_byte_what_icalendar_writes(
    written: list[Entry], feed: FeedSettings
) -> None:
    forget_written()
    assert render(written, feed) == build_calendar(written, feed).to_ical()


def test_a_long_line_of_many_scripts_is_folded_as_icalendar_folds_it() -> None:
    summary = "Réunion d’équipe; 会議, встреча \\ " * 6 + "😀" * 30
    entry = Entry(
        event_id=1,
        summary=summary,
        location="Salle “Nord”, " + "B" * 90,
        status="CONFIRMED",
        starts_at=datetime(2027, 3, 14, 6, 30, tzinfo=UTC),
        ends_at=datetime(2027, 3, 14, 8, 0, tzinfo=UTC),
        sequence=2,
        last_modified=datetime(2027, 3, 1, tzinfo=UTC),
        url=None,
        days=(date(2027, 3, 14), date(2027, 3, 15)),
    )
    feed = FeedSettings(
        name="JointOps", refresh=timedelta(minutes=15), uid_domain="ops.example", uid_key=b"k"
    )
    forget_written()
    text = render([entry], feed)
    assert text == build_calendar([entry], feed).to_ical()
    assert max(len(line) for line in text.split(b"\r\n")) <= 75


def test_the_calendars_name_is_text_escaped_as_rfc_7986_asks() -> None:
    """A directory's display name may hold a comma (or worse): read back, it is the name."""
    name = "JointOps: Rivera, Juan; Det.\nPBSO"
    feed = FeedSettings(
        name=name, refresh=timedelta(minutes=15), uid_domain="ops.example", uid_key=b"k"
    )
    text = render([], feed)
    for prop in (b"NAME", b"X-WR-CALNAME"):
        assert b"\r\n" + prop + b":JointOps: Rivera\\, Juan\\; Det.\\nPBSO\r\n" in text
