"""Moving an all-day event from the calendar's band (POST /events/<id>/move with days).

An all-day event moves by its first and last day (``YYYY-MM-DD``, inclusive); a time is refused
for it, and a bare day for a timed event, naming the field; a room taken on a new day refuses
the move naming the room and the date; every refusal changes nothing. Dates are fixed around
the change to summer time in New York (Sunday 14 March 2027), "now" frozen before them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.extensions import db
from jointops.models import AuditEntry, Booking, Event, Resource
from tests.conftest import own_investigator
from tests.test_all_day import BEFORE, shared_room

#: Friday 12 March to Saturday 13 March (EST), and a day later: Saturday 13 to the DST Sunday
FRI_SAT = (datetime(2027, 3, 12, 5, 0, tzinfo=UTC), datetime(2027, 3, 14, 5, 0, tzinfo=UTC))
SAT_SUN = (datetime(2027, 3, 13, 5, 0, tzinfo=UTC), datetime(2027, 3, 15, 4, 0, tzinfo=UTC))
Login = Callable[[str], FlaskClient]


@pytest.fixture
def frozen(app: Flask) -> Iterator[None]:
    with time_machine.travel(BEFORE, tick=False):
        yield


def event_form(room: Resource, **over: str) -> dict[str, str]:
    data = {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": "Two-day training",
        "all_day": "y",
        "starts_at": "2027-03-12",
        "ends_at": "2027-03-13",
        "status": "confirmed",
        "sensitivity": "normal",
        "room_id": str(room.id),
    }
    return data | over


def create(client: FlaskClient, data: dict[str, str]) -> int:
    made = client.post("/events/new", data=data)
    assert made.status_code == 302, html.unescape(made.get_data(as_text=True))[:2000]
    return int(made.headers["Location"].rsplit("/", 1)[1])


def stored(event_id: int) -> tuple[datetime, datetime, bool, int]:
    db.session.expire_all()
    event = db.session.get_one(Event, event_id)
    return event.starts_at, event.ends_at, event.all_day, event.version


def move(client: FlaskClient, event_id: int, first: str, last: str) -> dict[str, object]:
    response = client.post(f"/events/{event_id}/move", data={"starts_at": first, "ends_at": last})
    body = response.get_json()
    body["status"] = response.status_code
    return body  # type: ignore[no-any-return]


def test_an_all_day_event_moves_by_days_across_the_dst_change(
    app: Flask, frozen: None, login: Login
) -> None:
    room = shared_room("Move all-day room A")
    pbso = login(own_investigator("PBSO").username)
    event_id = create(pbso, event_form(room))
    assert stored(event_id)[:3] == (*FRI_SAT, True)

    moved = move(pbso, event_id, "2027-03-13", "2027-03-14")
    assert moved["status"] == 200, moved
    assert moved["event"] == {
        "id": event_id,
        "title": "Two-day training",
        "all_day": True,
        "starts_at": "2027-03-13",
        "ends_at": "2027-03-14",
        "starts": "00:00",
        "ends": "00:00",
        "when": "All day, Sat 13 Mar – Sun 14 Mar 2027",
        "label": "Interview, All day, Sat 13 Mar – Sun 14 Mar 2027",
    }
    assert moved["message"] == "Moved “Two-day training” to All day, Sat 13 Mar – Sun 14 Mar 2027."
    assert stored(event_id)[:3] == (*SAT_SUN, True)  # 47 hours: the clocks go forward
    booking = db.session.scalars(select(Booking).where(Booking.event_id == event_id)).one()
    assert (booking.starts_at, booking.ends_at) == SAT_SUN
    audited = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == str(event_id))
    ).all()
    assert "event.update" in audited

    # a resize by its last day: three days from Saturday
    longer = move(pbso, event_id, "2027-03-13", "2027-03-15")
    assert longer["status"] == 200, longer
    assert stored(event_id)[1] == datetime(2027, 3, 16, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        ("2027-03-13 09:00", "2027-03-14", "starts_at", "This event is all day: send the day"),
        ("2027-03-13", "2027-03-14T17:00", "ends_at", "This event is all day: send the day"),
        ("", "2027-03-14", "starts_at", "Required: the day as YYYY-MM-DD."),
        ("2027-03-13", "2027-03-12", "ends_at", "The last day cannot be before the first."),
        ("2027-02-30", "2027-03-01", "starts_at", "Expected a date as YYYY-MM-DD"),
        ("2027-03-13", "2027-04-30", "ends_at", "An event may last at most 14 days."),
    ],
)
def test_bad_days_are_refused_by_field_and_change_nothing(
    app: Flask, frozen: None, login: Login, first: str, last: str, field: str, message: str
) -> None:
    pbso = login(own_investigator("PBSO").username)
    event_id = create(pbso, event_form(shared_room("Move all-day room B")))
    before = stored(event_id)
    refused = move(pbso, event_id, first, last)
    assert refused["status"] == 400, refused
    errors = refused["errors"]
    assert isinstance(errors, dict) and list(errors) == [field], errors
    assert message in errors[field][0]
    assert stored(event_id) == before


def test_a_timed_event_refuses_bare_days(app: Flask, frozen: None, login: Login) -> None:
    pbso = login(own_investigator("PBSO").username)
    timed = event_form(
        shared_room("Move all-day room C"),
        all_day="",
        starts_at="2027-03-12 09:00",
        ends_at="2027-03-12 10:00",
    )
    event_id = create(pbso, timed)
    before = stored(event_id)
    refused = move(pbso, event_id, "2027-03-13", "2027-03-13")
    assert refused["status"] == 400
    assert refused["errors"] == {
        name: [
            "This event has times, not whole days. Type the date and the 24-hour time, "
            "for example 2026-12-02 14:30."
        ]
        for name in ("starts_at", "ends_at")
    }
    assert stored(event_id) == before


def test_a_room_taken_on_the_new_day_refuses_naming_the_room_and_date(
    app: Flask, frozen: None, login: Login
) -> None:
    room = shared_room("Move all-day room D")
    pbso, fbi = login(own_investigator("PBSO").username), login(own_investigator("FBI").username)
    event_id = create(pbso, event_form(room))
    create(
        fbi,
        event_form(
            room,
            title="FBI interview",
            all_day="",
            starts_at="2027-03-15 10:00",
            ends_at="2027-03-15 11:00",
        ),
    )
    before = stored(event_id)
    refused = move(pbso, event_id, "2027-03-14", "2027-03-15")
    assert refused["status"] == 409
    assert refused["field"] == "room_id"
    error = str(refused["error"])
    assert error.startswith("Move all-day room D is already booked for Mon 15 Mar 2027")
    assert "FBI interview" not in error  # another agency's title never shows
    assert stored(event_id) == before


def test_the_band_marks_the_chips_the_viewer_may_move(
    app: Flask, frozen: None, login: Login
) -> None:
    room = shared_room("Move all-day room E")
    pbso, fbi = login(own_investigator("PBSO").username), login(own_investigator("FBI").username)
    event_id = create(pbso, event_form(room))
    chip = re.compile(rf'<a class="chip [^"]*" href="/events/{event_id}"[^>]*>')

    mine = chip.findall(pbso.get("/calendar?view=week&date=2027-03-12").get_data(as_text=True))
    assert len(mine) == 2  # Friday and Saturday
    for tag in mine:
        assert "data-movable data-allday" in tag
        assert f'data-move="/events/{event_id}/move"' in tag
        assert 'data-start="2027-03-12" data-end="2027-03-13"' in tag

    busy = chip.findall(fbi.get("/calendar?view=week&date=2027-03-12").get_data(as_text=True))
    assert len(busy) == 2 and not any("data-movable" in tag for tag in busy)
