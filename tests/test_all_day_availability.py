"""Availability on the event form (``GET /api/events/availability``) and all-day events.

A room or person held by an all-day event is busy the whole day (a hidden event of another
agency's person only as the save's warning says: at the proposed time); the free slots step
past those days and the free rooms leave out a room taken all day. An all-day form is answered
in days: a week of them on the timeline, free runs of as many whole days. Dates are fixed around
the change to summer time in New York (Sunday 14 March 2027), "now" frozen before them, with the
test's own rooms and people.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from jointops.events.rules import EventDraft
from jointops.events.service import booking_warnings, save_event
from jointops.extensions import db
from jointops.models import AuditEntry, Event, Resource, User
from jointops.officetime import local_day_bounds, local_to_utc
from tests.conftest import own_investigator
from tests.test_all_day import BEFORE, shared_room

URL = "/api/events/availability"
#: Friday 12 March: the day an all-day event takes the room
FRIDAY = date(2027, 3, 12)
Login = Callable[[str], FlaskClient]


@pytest.fixture
def frozen(app: Flask) -> Iterator[None]:
    with time_machine.travel(BEFORE, tick=False):
        yield


def book(
    lead: User,
    start: datetime,
    end: datetime,
    *,
    rooms: tuple[Resource, ...] = (),
    people: tuple[User, ...] = (),
    all_day: bool = False,
    title: str = "Booked all day",
) -> Event:
    draft = EventDraft(
        kind="interview",
        subtype="witness_interview",
        title=title,
        owner_agency_id=lead.agency_id or 0,
        lead_id=lead.id,
        starts_at=start,
        ends_at=end,
        resource_ids=[r.id for r in rooms],
        participants=[(lead.id, "lead")] + [(p.id, "investigator") for p in people],
        all_day=all_day,
    )
    return save_event(draft, lead, confirmed=True)


def at(day: date, hhmm: str) -> datetime:
    return local_to_utc(datetime.combine(day, time.fromisoformat(hhmm)), fold=0)


def row(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [r for r in body["rows"] if r["name"] == name]
    assert len(found) == 1, body["rows"]
    return found[0]


def test_a_room_booked_all_day_is_busy_all_day_skipped_and_not_offered(
    app: Flask, frozen: None, login: Login
) -> None:
    taken, free, also_taken = (shared_room(f"All-day panel room {n}") for n in "ABC")
    fbi = own_investigator("FBI")
    book(fbi, *local_day_bounds(FRIDAY, 1), rooms=(taken,), all_day=True)
    book(fbi, *local_day_bounds(FRIDAY, 3), rooms=(also_taken,), all_day=True)
    pbso = login(own_investigator("PBSO").username)

    query = {"starts_at": f"{FRIDAY} 10:00", "ends_at": f"{FRIDAY} 11:00", "room_id": taken.id}
    answer = pbso.get(URL, query_string=query)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["unit"] == "hour"
    line = row(body, taken.name)
    assert line["free"] is False
    assert line["busy"] == [{"from": 0, "to": 1440, "label": "all day", "clash": True}]
    assert "Booked all day" not in answer.get_data(as_text=True)  # another agency's title
    # the next free hours are Monday's: Friday is taken all day, the weekend has no office hours
    assert [s["starts_at"] for s in body["slots"]] == [
        "2027-03-15 07:00",
        "2027-03-15 08:00",
        "2027-03-15 09:00",
    ]
    rooms = [r["name"] for r in body["rooms"]]
    assert free.name in rooms and also_taken.name not in rooms and taken.name not in rooms
    assert f"{taken.name} is busy all day." in body["summary"]

    # a day of the three-day booking, seen from its middle: named by its days
    sunday = {"starts_at": "2027-03-13 10:00", "ends_at": "2027-03-13 11:00"}
    middle = pbso.get(URL, query_string=sunday | {"room_id": also_taken.id}).get_json()
    assert [b["label"] for b in row(middle, also_taken.name)["busy"]] == ["Fri 12 Mar – Sun 14 Mar"]


def test_a_person_on_another_agencys_all_day_event_is_busy_only_as_warned(
    app: Flask, frozen: None, login: Login
) -> None:
    fbi, colleague = own_investigator("FBI"), own_investigator("HSI")
    book(fbi, *local_day_bounds(FRIDAY, 1), people=(colleague,), all_day=True)
    pbso_user = own_investigator("PBSO")
    pbso = login(pbso_user.username)
    query = {
        "starts_at": f"{FRIDAY} 10:00",
        "ends_at": f"{FRIDAY} 11:00",
        "investigators": colleague.id,
    }
    body = pbso.get(URL, query_string=query).get_json()
    # the save's warning: "not available then", nothing of the event's own (whole-day) time
    assert [b["label"] for b in row(body, colleague.display_name)["busy"]] == ["10:00–11:00"]
    assert set(row(body, colleague.display_name)["busy"][0]) == {"from", "to", "label", "clash"}
    draft = EventDraft(
        kind="interview",
        subtype="witness_interview",
        title="x",
        owner_agency_id=pbso_user.agency_id or 0,
        lead_id=pbso_user.id,
        starts_at=at(FRIDAY, "10:00"),
        ends_at=at(FRIDAY, "11:00"),
        participants=[(pbso_user.id, "lead"), (colleague.id, "investigator")],
    )
    assert [w.message for w in booking_warnings(draft, pbso_user, None)] == [
        f"{colleague.display_name} is not available then."
    ]
    # the slots step past the proposed time only, as for a hidden timed event: skipping the
    # whole day would tell that the hidden event lasts all day
    assert [s["starts_at"] for s in body["slots"]][0] == "2027-03-12 11:00"

    # the person's own agency sees the event all day, with its title
    seen = login(fbi.username).get(URL, query_string=query).get_json()
    busy = row(seen, colleague.display_name)["busy"]
    assert [(b["label"], b["title"]) for b in busy] == [("all day", "Booked all day")]


def test_an_all_day_form_is_answered_in_days(app: Flask, frozen: None, login: Login) -> None:
    room, other = shared_room("All-day panel room D"), shared_room("All-day panel room E")
    fbi = own_investigator("FBI")
    book(fbi, at(date(2027, 3, 15), "10:00"), at(date(2027, 3, 15), "11:00"), rooms=(room,))
    book(fbi, *local_day_bounds(date(2027, 3, 19), 1), rooms=(room,), all_day=True)
    pbso = login(own_investigator("PBSO").username)
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0

    query = {"all_day": "y", "starts_at": "2027-03-13", "ends_at": "2027-03-15", "room_id": room.id}
    answer = pbso.get(URL, query_string=query)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["unit"] == "day" and body["hours"] == []
    assert body["day_label"] == "Sat 13 Mar – Fri 19 Mar 2027"
    assert [d["label"] for d in body["days"]] == [
        "Sat 13",
        "Sun 14",
        "Mon 15",
        "Tue 16",
        "Wed 17",
        "Thu 18",
        "Fri 19",
    ]
    assert body["minutes"] == 7 * 1440 - 60  # a week with the hour the clocks skip
    assert [d["minute"] for d in body["days"]][:3] == [0, 1440, 2820]
    assert body["proposed"] == {
        "from": 0,
        "to": 3 * 1440 - 60,
        "label": "Sat 13 Mar – Mon 15 Mar",
        "free": False,
    }
    busy = row(body, room.name)["busy"]
    assert [(b["label"], b["clash"]) for b in busy] == [
        ("Mon 15 Mar 10:00–11:00", True),
        ("Fri 19 Mar", False),
    ]
    assert body["summary"].startswith(
        f"Whole days, midnight to midnight: {room.name} is busy Mon 15 Mar 10:00–11:00."
    )
    # free runs of three whole days: past Monday's booking, then around Friday's
    assert [(s["starts_at"], s["ends_at"], s["label"]) for s in body["slots"]] == [
        ("2027-03-16", "2027-03-18", "Tue 16 Mar – Thu 18 Mar"),
        ("2027-03-20", "2027-03-22", "Sat 20 Mar – Mon 22 Mar"),
        ("2027-03-23", "2027-03-25", "Tue 23 Mar – Thu 25 Mar"),
    ]
    assert other.name in [r["name"] for r in body["rooms"]]
    assert (db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0) == audits + 1


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"starts_at": "13/03/2027"}, "starts_at"),
        ({"ends_at": "2027-02-30"}, "ends_at"),
        ({"ends_at": "2027-03-12"}, "ends_at"),
        ({"ends_at": "2027-04-30"}, "ends_at"),
    ],
)
def test_bad_days_are_refused_by_field(
    app: Flask, frozen: None, login: Login, over: dict[str, str], field: str
) -> None:
    pbso = login(own_investigator("PBSO").username)
    query = {"all_day": "y", "starts_at": "2027-03-13", "ends_at": "2027-03-15"} | over
    answer = pbso.get(URL, query_string=query)
    assert answer.status_code == 400
    assert answer.get_json()["field"] == field
