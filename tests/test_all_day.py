"""All-day and multi-day events: whole office days, stored as local midnights (UTC), booked and
deconflicted as any other window, shown in the calendar's band and written as dates in feeds.

Dates are fixed around the change to summer time in New York (Sunday 14 March 2027), and "now"
is frozen before them, so nothing depends on the day the tests run.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import recurring_ical_events
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar
from sqlalchemy import func, select

from jointops.events.rules import EventDraft, EventErrors
from jointops.events.service import save_event
from jointops.extensions import db
from jointops.feeds.service import feed_text
from jointops.feeds.tokens import Scope
from jointops.identity import api_tokens
from jointops.models import Booking, Event, Resource
from tests.conftest import own_investigator, user

BEFORE = datetime(2027, 2, 20, 12, 0, tzinfo=UTC)
#: local midnight of Saturday 13 March (EST) and after Monday 15 March (EDT)
TRAINING = (datetime(2027, 3, 13, 5, 0, tzinfo=UTC), datetime(2027, 3, 16, 4, 0, tzinfo=UTC))

Login = Callable[[str], FlaskClient]


@pytest.fixture
def frozen(app: Flask) -> Iterator[None]:
    with time_machine.travel(BEFORE, tick=False):
        yield


def shared_room(name: str) -> Resource:
    """A room of no agency: every agency may book it and sees the others' busy blocks."""
    room = Resource(name=name, kind="conference_room")
    db.session.add(room)
    db.session.commit()
    return room


def form(room: Resource | None, **over: str) -> dict[str, str]:
    data = {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": "Forensic interviewing training",
        "all_day": "y",
        "starts_at": "2027-03-13",
        "ends_at": "2027-03-15",
        "status": "confirmed",
        "sensitivity": "normal",
        "room_id": str(room.id) if room else "",
    }
    return data | over


def count_events() -> int:
    return db.session.scalar(select(func.count()).select_from(Event)) or 0


def created_id(response: object) -> int:
    location = response.headers["Location"]  # type: ignore[attr-defined]
    return int(location.rsplit("/", 1)[1])


def test_the_form_stores_whole_days_as_local_midnights_across_the_dst_change(
    app: Flask, frozen: None, login: Login
) -> None:
    room = shared_room("All-day room A")
    pbso = login(own_investigator("PBSO").username)
    # a time typed with a day is read by its day
    made = pbso.post("/events/new", data=form(room, ends_at="2027-03-15 17:00"))
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    event = db.session.get_one(Event, created_id(made))
    assert event.all_day
    assert (event.starts_at, event.ends_at) == TRAINING  # 71 hours: the day of the change
    booking = db.session.scalars(select(Booking).where(Booking.event_id == event.id)).one()
    assert (booking.starts_at, booking.ends_at) == TRAINING

    edit = pbso.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert re.search(r'id="all_day"[^>]*checked|checked[^>]*id="all_day"', edit)
    assert 'value="2027-03-13"' in edit and 'value="2027-03-15"' in edit
    assert "static/all_day.js" in edit

    # saved again unchanged from its edit form: the same days
    again = pbso.post(f"/events/{event.id}/edit", data=form(room))
    assert again.status_code == 302, again.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert (db.session.get_one(Event, event.id).starts_at, event.ends_at) == TRAINING

    # and unticked, the same days need their times
    timed = pbso.post(f"/events/{event.id}/edit", data=form(room, all_day=""))
    assert timed.status_code == 400
    assert "Type the 24-hour time too" in html.unescape(timed.get_data(as_text=True))


def test_a_room_taken_on_the_second_day_refuses_naming_the_room(
    app: Flask, frozen: None, login: Login
) -> None:
    room = shared_room("All-day room B")
    fbi, pbso = login(own_investigator("FBI").username), login(own_investigator("PBSO").username)
    timed = form(room, all_day="", starts_at="2027-03-14 10:00", ends_at="2027-03-14 11:00")
    assert fbi.post("/events/new", data=timed).status_code == 302
    before = count_events()
    refused = pbso.post("/events/new", data=form(room))
    assert refused.status_code == 409
    text = html.unescape(refused.get_data(as_text=True))
    assert "All-day room B is already booked" in text
    assert "Forensic interviewing training" not in text.split("already booked", 1)[1][:80]
    assert count_events() == before

    # the other way round: a timed booking inside a stored all-day event is refused too
    pbso.post("/events/new", data=form(room, starts_at="2027-03-20", ends_at="2027-03-21"))
    inside = form(room, all_day="", starts_at="2027-03-21 23:00", ends_at="2027-03-21 23:30")
    assert fbi.post("/events/new", data=inside).status_code == 409


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"ends_at": "2027-03-12"}, "ends_at", "The last day cannot be before the first."),
        ({"starts_at": "13/03/2027"}, "starts_at", "Type the day as YYYY-MM-DD"),
        ({"ends_at": "2027-02-30"}, "ends_at", "Type the day as YYYY-MM-DD"),
        ({"ends_at": "2027-04-30"}, "ends_at", "An event may last at most 14 days."),
        ({"ends_at": ""}, "ends_at", "Type the day as YYYY-MM-DD"),
        ({"all_day": "", "starts_at": "2027-03-13"}, "starts_at", "Type the 24-hour time too"),
    ],
)
def test_bad_days_are_refused_by_field_and_change_nothing(
    app: Flask, frozen: None, login: Login, over: dict[str, str], field: str, message: str
) -> None:
    pbso = login(own_investigator("PBSO").username)
    before = count_events()
    refused = pbso.post("/events/new", data=form(None, **over))
    assert refused.status_code == 400
    page = html.unescape(refused.get_data(as_text=True))
    error = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    assert error is not None and message in error.group(1), page[:3000]
    assert count_events() == before


def test_the_rules_refuse_an_all_day_draft_not_at_midnight(app: Flask, frozen: None) -> None:
    lead = own_investigator("PBSO")
    draft = EventDraft(
        kind="interview",
        subtype="witness_interview",
        title="Half a day",
        owner_agency_id=lead.agency_id,  # type: ignore[arg-type]
        lead_id=lead.id,
        starts_at=TRAINING[0] + timedelta(hours=9),
        ends_at=TRAINING[1],
        participants=[(lead.id, "lead")],
        all_day=True,
    )
    with app.test_request_context(), pytest.raises(EventErrors) as refused:
        save_event(draft, lead, confirmed=True)
    assert list(refused.value.errors) == ["starts_at"]


def test_the_api_takes_all_day_with_days(app: Flask, frozen: None) -> None:
    client = app.test_client()
    token = api_tokens.create(own_investigator("PBSO"), "test").secret
    headers = {"Authorization": f"Bearer {token}"}
    body = {k: v for k, v in form(None).items() if k not in ("room_id", "all_day")}
    made = client.post("/api/v1/events", json=body | {"all_day": True}, headers=headers)
    assert made.status_code == 201, made.get_json()
    event = made.get_json()["event"]
    assert event["all_day"] is True
    assert (event["starts_at"], event["ends_at"]) == tuple(t.isoformat() for t in TRAINING)

    changed = client.put(
        f"/api/v1/events/{event['id']}",
        json=body | {"all_day": True, "ends_at": "2027-03-13"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["event"]["ends_at"] == "2027-03-14T05:00:00+00:00"

    before = count_events()
    refused = client.post(
        "/api/v1/events", json=body | {"all_day": True, "ends_at": "2027-03-01"}, headers=headers
    )
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {"ends_at": ["The last day cannot be before the first."]}
    timed = client.post("/api/v1/events", json=body, headers=headers)
    assert timed.status_code == 400 and sorted(timed.get_json()["errors"]) == [
        "ends_at",
        "starts_at",
    ]
    assert count_events() == before
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]["EventIn"]
    assert schema["properties"]["all_day"]["type"] == "boolean"


def test_feeds_write_dates_read_as_all_day_by_both_parsers(
    app: Flask, frozen: None, login: Login
) -> None:
    room = shared_room("All-day room C")
    made = login(own_investigator("PBSO").username).post("/events/new", data=form(room))
    assert made.status_code == 302
    with app.test_request_context():
        for who, scope in (
            (own_investigator("PBSO").username, "personal"),
            (own_investigator("FBI").username, f"room:{room.id}"),
        ):
            text = feed_text(user(who), Scope.parse(scope)).decode()
            assert "DTSTART;VALUE=DATE:20270313\r\n" in text
            assert "DTEND;VALUE=DATE:20270316\r\n" in text
            # the feed's all-day events: the training alone (a personal feed also carries the
            # demo's timed events, seeded around the clock's today, March 2027 under some clocks)
            loose = [
                e
                for e in recurring_ical_events.of(Calendar.from_ical(text)).between(
                    date(2027, 3, 1), date(2027, 4, 1)
                )
                if not isinstance(e.start, datetime)
            ]
            assert [(e.start, e.end) for e in loose] == [(date(2027, 3, 13), date(2027, 3, 16))]
            strict = [
                e
                for e in IcsCalendarStream.calendar_from_ics(text).events
                if not isinstance(e.dtstart, datetime)
            ]
            assert [(e.dtstart, e.dtend) for e in strict] == [
                (date(2027, 3, 13), date(2027, 3, 16))
            ]
        assert "SUMMARY:Busy\r\n" in text  # the room feed's busy block


def test_the_calendar_shows_a_band_and_redacts_busy_viewers(
    app: Flask, frozen: None, login: Login
) -> None:
    room = shared_room("All-day room D")
    pbso, fbi = login(own_investigator("PBSO").username), login(own_investigator("FBI").username)
    assert pbso.post("/events/new", data=form(room)).status_code == 302
    band = re.compile(r'<div class="tg-allday".*?</div>\s*<div class="tg-body"', re.S)

    week = pbso.get("/calendar?view=week&date=2027-03-14").get_data(as_text=True)
    found = band.search(week)
    assert found is not None
    days = re.findall(r'data-date="(2027-03-\d\d)">\s*<ul', found.group(0))
    assert days == ["2027-03-14", "2027-03-15"]  # weeks start on Sunday
    assert found.group(0).count("Forensic interviewing training") == 2
    assert "All day, Sat 13 Mar – Mon 15 Mar 2027" in html.unescape(found.group(0))
    grid = week.split('<div class="tg-body"', 1)[1]
    assert "Forensic interviewing training" not in grid  # not a 24-hour block

    before = band.search(pbso.get("/calendar?view=week&date=2027-03-13").get_data(as_text=True))
    assert before is not None
    assert re.findall(r'data-date="(2027-03-\d\d)">\s*<ul', before.group(0)) == ["2027-03-13"]
    day = pbso.get("/calendar?view=day&date=2027-03-15").get_data(as_text=True)
    assert band.search(day) is not None and "Forensic interviewing training" in day

    busy = fbi.get("/calendar?view=week&date=2027-03-14").get_data(as_text=True)
    found = band.search(busy)
    assert found is not None
    assert "Forensic interviewing training" not in busy
    assert found.group(0).count("Busy: All-day room D") == 2
    assert 'class="chip ev ev-busy"' in found.group(0)

    month = pbso.get("/calendar?view=month&date=2027-03-14").get_data(as_text=True)
    assert month.count('<span class="chip-time">All day</span>') == 3
    agenda = pbso.get("/calendar?view=agenda&date=2027-03-12").get_data(as_text=True)
    assert agenda.count('<span class="ag-time">All day</span>') == 3

    # a week without one has no band
    empty = pbso.get("/calendar?view=week&date=2027-04-14").get_data(as_text=True)
    assert 'class="tg-allday"' not in empty


@pytest.mark.parametrize(
    ("first", "last", "status"),
    [
        ("2027-11-01", "2027-11-14", 302),  # 14 office days, an hour more when clocks fall back
        ("2027-03-07", "2027-03-20", 302),  # 14 office days, an hour less when they spring on
        ("2027-11-01", "2027-11-15", 400),
    ],
)
def test_fourteen_days_are_counted_in_office_days_across_a_change_of_the_clocks(
    app: Flask, frozen: None, login: Login, first: str, last: str, status: int
) -> None:
    pbso = login(own_investigator("PBSO").username)
    answer = pbso.post("/events/new", data=form(None, starts_at=first, ends_at=last))
    assert answer.status_code == status, answer.get_data(as_text=True)[:2000]


def test_a_three_day_training_is_an_all_day_meeting_of_two_agencies(
    app: Flask, frozen: None, login: Login
) -> None:
    """Whole office days across the change of the clocks, no room and no address: chips in the
    meeting's colour and tag for both agencies, dates and the office's words in feeds."""
    lead, fbi = own_investigator("PBSO"), own_investigator("FBI")
    data = form(
        None,
        kind="meeting",
        subtype="training",
        title="Task force training Zq7201",
        investigators=str(fbi.id),
    )
    made = login(lead.username).post("/events/new", data=data)
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    event = db.session.get_one(Event, created_id(made))
    assert (event.kind, event.subtype, event.all_day) == ("meeting", "training", True)
    assert (event.starts_at, event.ends_at) == TRAINING and event.bookings == []

    band = re.compile(r'<div class="tg-allday".*?</div>\s*<div class="tg-body"', re.S)
    for who in (lead.username, fbi.username):
        week = login(who).get("/calendar?view=week&date=2027-03-14").get_data(as_text=True)
        found = band.search(week)
        assert found is not None, who
        tag = r'<a class="chip ([^"]*)"[^>]*>\s*<span class="ev-tag">(\w+)</span>'
        chips = re.findall(tag, found[0])
        assert chips and all("ev-meeting" in c.split() and t == "MTG" for c, t in chips), chips
        assert found[0].count("Task force training Zq7201") == 2

    with app.test_request_context():
        text = feed_text(user(fbi.username), Scope.parse("personal")).decode()
    assert "DTSTART;VALUE=DATE:20270313\r\n" in text and "DTEND;VALUE=DATE:20270316\r\n" in text
    assert "SUMMARY:Meeting: Training\r\n" in text and "Zq7201" not in text
