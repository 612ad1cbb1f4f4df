"""Recurring all-day events: made from the form, written in feeds as dates (``VALUE=DATE``
master, ``EXDATE`` and ``RECURRENCE-ID``) and read by two parsers as exactly the days the
calendar shows, across the change to summer time in New York (Sunday 14 March 2027), with one
occurrence cancelled and one moved by a day.

"Now" is frozen before the dates, so nothing depends on the day the tests run.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import recurring_ical_events
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar
from sqlalchemy import select

from calendars import series_uid, uid
from jointops.events.calendar_data import filter_choices, window
from jointops.events.service import cancel_event
from jointops.extensions import db
from jointops.feeds.service import feed_text, settings_for
from jointops.feeds.tokens import Scope
from jointops.models import Event, EventSeries, Resource, User
from jointops.officetime import to_local
from tests.conftest import own_investigator, user
from tests.test_all_day import BEFORE, shared_room

WIDE = (date(2027, 2, 1), date(2027, 5, 1))
Login = Callable[[str], FlaskClient]


@pytest.fixture
def frozen(app: Flask) -> Iterator[None]:
    with time_machine.travel(BEFORE, tick=False):
        yield


def form(room: Resource, **over: str) -> dict[str, str]:
    """A weekend training, Saturday and Sunday, four weekends from 6 March 2027: the second
    weekend's Sunday is the day the clocks go forward (47 hours)."""
    data = {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": "Weekend training",
        "all_day": "y",
        "starts_at": "2027-03-06",
        "ends_at": "2027-03-07",
        "status": "confirmed",
        "sensitivity": "normal",
        "room_id": str(room.id),
        "repeat": "weekly",
        "repeat_ends": "count",
        "repeat_count": "4",
    }
    return data | over


def occurrences(series_id: int) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event).where(Event.series_id == series_id).order_by(Event.recurrence_id)
        )
    )


def local_days(event: Event) -> tuple[date, date]:
    """An all-day event's first day and the day after its last, as the calendar counts them."""
    return to_local(event.starts_at).date(), to_local(event.ends_at).date()


def create_series(client: FlaskClient, room: Resource) -> list[Event]:
    made = client.post("/events/new", data=form(room))
    assert made.status_code == 302, html.unescape(made.get_data(as_text=True))[:3000]
    first = db.session.get_one(Event, int(made.headers["Location"].rsplit("/", 1)[1]))
    assert first.series_id is not None
    return occurrences(first.series_id)


def move_days(client: FlaskClient, event: Event, first: str, last: str) -> Any:
    return client.post(f"/events/{event.id}/move", data={"starts_at": first, "ends_at": last})


def parsed_days(text: str, wanted_uid: str) -> list[tuple[date, date]]:
    """(first day, day after the last) of each occurrence of ``wanted_uid``, read by
    recurring-ical-events (over icalendar) and by ``ical``; the two must agree, and be dates."""
    loose = sorted(
        (e.start, e.end)
        for e in recurring_ical_events.of(Calendar.from_ical(text)).between(*WIDE)
        if str(e["UID"]) == wanted_uid
    )
    strict = sorted(
        (e.dtstart, e.dtend)
        for e in IcsCalendarStream.calendar_from_ics(text).timeline.overlapping(*WIDE)
        if e.uid == wanted_uid
    )
    assert loose == strict
    assert all(type(a) is date and type(b) is date for a, b in loose)
    return loose


def app_days(viewer: User, series_id: int) -> list[tuple[date, date]]:
    """The days of the occurrences the calendar page shows the viewer."""
    start, end = (datetime.combine(d, datetime.min.time(), tzinfo=UTC) for d in WIDE)
    ids = {e.id for e in occurrences(series_id)}
    return sorted(
        local_days(db.session.get_one(Event, s.event.id))
        for s in window(filter_choices(viewer), start, end)
        if s.event.id in ids and s.event.status != "cancelled"
    )


def test_an_all_day_series_from_the_form_holds_whole_days_across_the_dst_change(
    app: Flask, frozen: None, login: Login
) -> None:
    room = shared_room("All-day series room A")
    events = create_series(login(own_investigator("PBSO").username), room)
    assert [local_days(e) for e in events] == [
        (date(2027, 3, 6 + 7 * i), date(2027, 3, 8 + 7 * i)) for i in range(4)
    ]
    assert all(e.all_day for e in events)
    hours = [(e.ends_at - e.starts_at) / timedelta(hours=1) for e in events]
    assert hours == [48, 47, 48, 48]  # the clocks go forward on Sunday 14 March
    series = db.session.get_one(EventSeries, events[0].series_id)
    assert series.rule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=SA;COUNT=4"

    # a timed booking of the room on the DST Sunday meets the second weekend
    fbi = login(own_investigator("FBI").username)
    timed = form(
        room, all_day="", repeat="", starts_at="2027-03-14 09:00", ends_at="2027-03-14 10:00"
    )
    refused = fbi.post("/events/new", data=timed)
    assert refused.status_code == 409
    assert "All-day series room A is already booked" in html.unescape(
        refused.get_data(as_text=True)
    )


def test_feeds_write_an_all_day_series_in_dates_read_alike_by_both_parsers(
    app: Flask, frozen: None, login: Login
) -> None:
    room = shared_room("All-day series room B")
    lead = own_investigator("PBSO")
    pbso = login(lead.username)
    events = create_series(pbso, room)
    series_id = events[0].series_id or 0
    cancel_event(events[2], lead, "no training that weekend")  # 20-21 March: EXDATE
    moved = move_days(pbso, events[3], "2027-03-28", "2027-03-29")  # a day later: override
    assert moved.status_code == 200, moved.get_json()

    personal = Scope.parse("personal")
    text = feed_text(lead, personal).decode()
    unfolded = text.replace("\r\n ", "")
    assert "DTSTART;VALUE=DATE:20270306\r\n" in unfolded
    assert "DTEND;VALUE=DATE:20270308\r\n" in unfolded
    assert "RRULE:FREQ=WEEKLY;COUNT=4;INTERVAL=1;BYDAY=SA\r\n" in unfolded
    assert "EXDATE;VALUE=DATE:20270320\r\n" in unfolded
    assert "RECURRENCE-ID;VALUE=DATE:20270327\r\n" in unfolded
    assert "T000000" not in unfolded.split("BEGIN:VEVENT", 1)[1]  # no midnight date-times
    assert "Weekend training" not in text

    expected = [
        (date(2027, 3, 6), date(2027, 3, 8)),
        (date(2027, 3, 13), date(2027, 3, 15)),
        (date(2027, 3, 28), date(2027, 3, 30)),
    ]
    master = series_uid(series_id, settings_for(lead, personal))
    assert parsed_days(text, master) == expected == app_days(lead, series_id)

    # another agency's room feed: the same days as busy blocks
    other = user("investigator.fbi")
    room_scope = Scope.parse(f"room:{room.id}")
    room_text = feed_text(other, room_scope).decode()
    busy = parsed_days(room_text, series_uid(series_id, settings_for(other, room_scope)))
    assert busy == expected
    assert "Weekend training" not in room_text


def test_an_occurrence_made_timed_writes_the_series_one_event_each(
    app: Flask, frozen: None, login: Login
) -> None:
    room = shared_room("All-day series room C")
    lead = own_investigator("PBSO")
    pbso = login(lead.username)
    events = create_series(pbso, room)
    timed = form(
        room, all_day="", repeat="", starts_at="2027-03-13 09:00", ends_at="2027-03-13 17:00"
    )
    saved = pbso.post(f"/events/{events[1].id}/edit", data=timed)
    assert saved.status_code == 302, html.unescape(saved.get_data(as_text=True))[:3000]

    personal = Scope.parse("personal")
    text = feed_text(lead, personal).decode()
    settings = settings_for(lead, personal)
    assert series_uid(events[0].series_id or 0, settings) not in text
    wanted = {uid(e.id, settings) for e in events}
    found = sorted(
        [
            (e.start, e.end)
            for e in recurring_ical_events.of(Calendar.from_ical(text)).between(*WIDE)
            if str(e["UID"]) in wanted
        ],
        # an all-day occurrence starts on a date, the timed one at a time: sorted by their text
        key=lambda span: str(span[0]),
    )
    new_york = to_local(events[1].starts_at).tzinfo
    assert found[0] == (date(2027, 3, 6), date(2027, 3, 8))
    assert found[1][0] == datetime(2027, 3, 13, 9, tzinfo=new_york)
    assert found[2:] == [
        (date(2027, 3, 20), date(2027, 3, 22)),
        (date(2027, 3, 27), date(2027, 3, 29)),
    ]
