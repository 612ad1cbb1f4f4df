"""Availability on the event form (``GET /api/events/availability``): free/busy of the chosen
room, resources and people on the day, the next free slots, the free rooms of the same kind;
no more than a save would tell, and every answer audited. On SQLite and PostgreSQL.

The days are four to five weeks after the seeded demo weeks and the clock is frozen on them,
so neither the demo's events nor the hour the tests run at matter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from jointops.events.rules import EventDraft
from jointops.events.service import booking_warnings, save_event
from jointops.extensions import db
from jointops.models import AuditEntry, Event, Resource
from jointops.officetime import local_to_utc, office_zone, today_local
from tests.conftest import user

URL = "/api/events/availability"
PLACE = ("1 Clematis St, West Palm Beach, FL", 26.7153, -80.0534)


@pytest.fixture
def monday(app: Flask) -> Iterator[date]:
    """A Monday weeks after the demo's events, with the clock frozen at 08:00 on it."""
    today = today_local()
    day = today + timedelta(days=35 - today.weekday())
    moment = datetime.combine(day, time(8), tzinfo=office_zone())
    with time_machine.travel(moment, tick=False):
        yield day


def resource(name: str) -> int:
    found = db.session.scalar(select(Resource.id).where(Resource.name == name))
    assert found is not None, name
    return found


def at(day: date, hhmm: str) -> datetime:
    return local_to_utc(datetime.combine(day, time.fromisoformat(hhmm)), fold=0)


def book(
    lead: str,
    start: datetime,
    end: datetime,
    *,
    rooms: tuple[str, ...] = (),
    people: tuple[tuple[str, str], ...] = (),
    kind: str = "interview",
    sensitivity: str = "normal",
    title: str = "Booked for the test",
) -> Event:
    who = user(lead)
    operation = kind == "operation"
    draft = EventDraft(
        kind=kind,
        subtype="surveillance" if operation else "witness_interview",
        title=title,
        owner_agency_id=who.agency_id or 0,
        lead_id=who.id,
        starts_at=start,
        ends_at=end,
        sensitivity=sensitivity,
        location_address=PLACE[0] if operation else None,
        latitude=PLACE[1] if operation else None,
        longitude=PLACE[2] if operation else None,
        resource_ids=[resource(name) for name in rooms],
        participants=[(who.id, "lead")] + [(user(u).id, part) for u, part in people],
    )
    return save_event(draft, who, confirmed=True)


def ask(client: FlaskClient, day: date, start: str, end: str, **more: Any) -> Any:
    query = {"starts_at": f"{day} {start}", "ends_at": f"{day} {end}"} | more
    return client.get(URL, query_string=query)


def spans(body: dict[str, Any]) -> list[str]:
    return [slot["label"] for slot in body["slots"]]


def row(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [r for r in body["rows"] if r["name"] == name]
    assert len(found) == 1, body["rows"]
    return found[0]


@pytest.fixture
def wpbpd(login: Callable[[str], FlaskClient], monday: date) -> FlaskClient:
    """Signed in once the clock is on ``monday`` (a session idle for weeks has ended)."""
    return login("investigator.wpbpd")


def test_free_slots_right_around_a_booking(app: Flask, wpbpd: FlaskClient, monday: date) -> None:
    book("investigator.pbso", at(monday, "10:00"), at(monday, "11:00"), rooms=("Interview Room A",))
    room_a = resource("Interview Room A")

    body = ask(wpbpd, monday, "10:00", "11:00", room_id=room_a).get_json()
    assert body["proposed"] == {"from": 600, "to": 660, "label": "10:00–11:00", "free": False}
    assert row(body, "Interview Room A")["busy"] == [
        {"from": 600, "to": 660, "label": "10:00–11:00", "clash": True}
    ]
    assert row(body, user("investigator.wpbpd").display_name)["free"]
    assert spans(body) == ["11:00–12:00", "12:00–13:00", "13:00–14:00"]
    # the other interview room, not the conference room or the soft room (other kinds)
    assert [r["name"] for r in body["rooms"]] == ["Interview Room B"]
    assert body["summary"].startswith("Interview Room A is busy 10:00–11:00.")

    later = ask(wpbpd, monday, "09:30", "10:30", room_id=room_a).get_json()
    assert spans(later) == ["11:00–12:00", "12:00–13:00", "13:00–14:00"]
    before = ask(wpbpd, monday, "09:00", "10:00", room_id=room_a).get_json()
    assert before["proposed"]["free"] and spans(before)[0] == "09:00–10:00"
    assert row(before, "Interview Room A")["busy"][0]["clash"] is False
    odd = ask(wpbpd, monday, "10:50", "11:20", room_id=room_a).get_json()
    assert spans(odd) == ["11:00–11:30", "11:30–12:00", "12:00–12:30"]


def test_no_slot_in_the_past_of_the_clock(
    app: Flask, login: Callable[[str], FlaskClient], monday: date
) -> None:
    book("investigator.pbso", at(monday, "10:00"), at(monday, "11:00"), rooms=("Interview Room A",))
    with time_machine.travel(datetime.combine(monday, time(12, 10), tzinfo=office_zone())):
        wpbpd = login("investigator.wpbpd")
        body = ask(wpbpd, monday, "10:00", "11:00", room_id=resource("Interview Room A"))
    assert spans(body.get_json()) == ["12:15–13:15", "13:15–14:15", "14:15–15:15"]


def test_across_midnight_and_over_the_weekend(app: Flask, wpbpd: FlaskClient, monday: date) -> None:
    friday, next_monday = monday + timedelta(days=4), monday + timedelta(days=7)
    saturday = friday + timedelta(days=1)
    book(
        "investigator.pbso", at(friday, "20:00"), at(saturday, "02:00"), rooms=("Conference Room",)
    )
    room = resource("Conference Room")

    evening = ask(wpbpd, friday, "20:30", "21:30", room_id=room).get_json()
    assert row(evening, "Conference Room")["busy"] == [
        {"from": 1200, "to": 1440, "label": "Fri 20:00–Sat 02:00", "clash": True}
    ]
    # nothing later that Friday within office hours; the weekend is skipped
    assert evening["slots"][0] == {
        "starts_at": f"{next_monday} 07:00",
        "ends_at": f"{next_monday} 08:00",
        "label": f"{next_monday:%a %d %b}, 07:00–08:00",
    }

    query = {"starts_at": f"{saturday} 01:00", "ends_at": f"{saturday} 02:00", "room_id": room}
    night = wpbpd.get(URL, query_string=query).get_json()
    assert night["day"] == saturday.isoformat()
    assert row(night, "Conference Room")["busy"] == [
        {"from": 0, "to": 120, "label": "Fri 20:00–Sat 02:00", "clash": True}
    ]
    # the asked time itself is free from 02:00: an event crossing midnight needs no office hours
    overnight = {"starts_at": f"{friday} 23:00", "ends_at": f"{saturday} 03:00", "room_id": room}
    crossing = wpbpd.get(URL, query_string=overnight).get_json()
    assert crossing["proposed"] == {
        "from": 1380,
        "to": 1440,
        "label": "Fri 23:00–Sat 03:00",
        "free": False,
    }


def test_the_edited_event_is_not_in_its_own_way(
    app: Flask, wpbpd: FlaskClient, monday: date
) -> None:
    own = book(
        "investigator.wpbpd",
        at(monday, "10:00"),
        at(monday, "11:00"),
        rooms=("Interview Room A",),
        title="Our own interview",
    )
    room = resource("Interview Room A")
    fresh = ask(wpbpd, monday, "10:00", "11:00", room_id=room).get_json()
    busy = row(fresh, "Interview Room A")["busy"][0]
    assert busy["title"] == "Our own interview" and busy["event_id"] == own.id
    assert not row(fresh, user("investigator.wpbpd").display_name)[
        "free"
    ]  # the lead, as a save would warn

    editing = ask(wpbpd, monday, "10:00", "11:00", room_id=room, event_id=own.id).get_json()
    assert editing["proposed"]["free"]
    assert all(r["busy"] == [] for r in editing["rows"])


def test_another_agencys_covert_booking_is_busy_only(
    app: Flask, login: Callable[[str], FlaskClient], monday: date
) -> None:
    covert = book(
        "investigator.fbi",
        at(monday, "14:00"),
        at(monday, "16:00"),
        rooms=("Conference Room",),
        people=(("agent.chen.fbi", "investigator"),),
        kind="operation",
        sensitivity="covert",
        title="Covert hotel watch",
    )
    restricted = book(
        "investigator.hsi",
        at(monday, "17:00"),
        at(monday, "18:00"),
        people=(("agent.chen.fbi", "investigator"),),
        kind="operation",
        sensitivity="restricted",
        title="Restricted recruiter meet",
    )
    pbso = login("investigator.pbso")
    chen = user("agent.chen.fbi")
    answer = ask(
        pbso,
        monday,
        "14:30",
        "15:30",
        room_id=resource("Conference Room"),
        investigators=chen.id,
    )
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    for secret in ("Covert hotel watch", "Restricted recruiter meet", "operation", "FBI", "HSI"):
        assert secret not in text
    body = json.loads(text)
    for line in body["rows"]:
        for busy in line["busy"]:
            assert set(busy) == {"from", "to", "label", "clash"}
    assert [b["label"] for b in row(body, "Conference Room")["busy"]] == ["14:00–16:00"]
    # the person busy only as a save would warn ("not available then"): at the proposed time,
    # with neither the hidden events' own times nor the one that does not overlap it
    assert [b["label"] for b in row(body, chen.display_name)["busy"]] == ["14:30–15:30"]
    earlier = ask(pbso, monday, "10:00", "11:00", investigators=chen.id).get_json()
    assert row(earlier, chen.display_name)["busy"] == []
    # the slots step past the proposed time, not to the end of the hidden operation (16:00)
    clash = ask(pbso, monday, "14:30", "15:30", investigators=chen.id).get_json()
    assert clash["slots"][0]["starts_at"] == f"{monday} 15:30"
    draft = EventDraft(
        kind="interview",
        subtype="witness_interview",
        title="x",
        owner_agency_id=user("investigator.pbso").agency_id or 0,
        lead_id=user("investigator.pbso").id,
        starts_at=at(monday, "14:30"),
        ends_at=at(monday, "17:30"),
        participants=[(chen.id, "investigator")],
    )
    warned = booking_warnings(draft, user("investigator.pbso"), None)
    assert [w.message for w in warned] == [f"{chen.display_name} is not available then."] * 2

    # their own agency sees the title, the kind and the id
    fbi = ask(
        login("supervisor.fbi"), monday, "14:30", "15:30", room_id=resource("Conference Room")
    )
    seen = row(fbi.get_json(), "Conference Room")["busy"][0]
    assert (seen["title"], seen["kind"], seen["event_id"], seen["covert"]) == (
        "Covert hotel watch",
        "operation",
        covert.id,
        True,
    )
    assert restricted.id != covert.id


@pytest.mark.parametrize(
    ("name", "field"),
    [("Surveillance Van SV-2", "resource_ids"), ("Interview Room B", "resource_ids")],
)
def test_a_resource_the_user_may_not_book_is_refused(
    app: Flask, login: Callable[[str], FlaskClient], monday: date, name: str, field: str
) -> None:
    pbso = login("investigator.pbso")
    answer = ask(pbso, monday, "10:00", "11:00", resource_ids=resource(name))
    assert answer.status_code == 400
    assert answer.get_json()["field"] == field
    vehicle_as_room = ask(pbso, monday, "10:00", "11:00", room_id=resource("Pole Camera Kit"))
    assert vehicle_as_room.status_code == 400
    assert vehicle_as_room.get_json()["field"] == "room_id"
    denied = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "event.availability")
    ).all()
    assert [(e.outcome, e.detail["field"]) for e in denied] == [
        ("denied", field),
        ("denied", "room_id"),
    ]


def test_bad_times_are_refused_by_field(app: Flask, wpbpd: FlaskClient, monday: date) -> None:
    events = db.session.scalar(select(func.count()).select_from(Event))
    day = f"{monday}"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ends_at": f"{day} 11:00"}, "starts_at"),
        ({"starts_at": "tomorrow at ten", "ends_at": f"{day} 11:00"}, "starts_at"),
        ({"starts_at": f"{monday.year}-13-01 10:00", "ends_at": f"{day} 11:00"}, "starts_at"),
        ({"starts_at": "0999-01-01 10:00", "ends_at": f"{day} 11:00"}, "starts_at"),
        ({"starts_at": f"{day} 10:00", "ends_at": f"{day} 10:00"}, "ends_at"),
        ({"starts_at": f"{day} 10:00", "ends_at": "soon"}, "ends_at"),
        (
            {"starts_at": f"{day} 10:00", "ends_at": f"{monday + timedelta(days=15)} 10:00"},
            "ends_at",
        ),
        (
            {"starts_at": f"{day} 10:00", "ends_at": f"{day} 11:00", "starts_at_fold": "2"},
            "starts_at_fold",
        ),
        ({"starts_at": f"{day} 10:00", "ends_at": f"{day} 11:00", "room_id": "A"}, "room_id"),
        (
            {"starts_at": f"{day} 10:00", "ends_at": f"{day} 11:00", "advocates": "99999"},
            "advocates",
        ),
        (
            {
                "starts_at": f"{day} 10:00",
                "ends_at": f"{day} 11:00",
                "advocates": str(user("investigator.pbso").id),
            },
            "advocates",
        ),
        (
            {
                "starts_at": f"{day} 10:00",
                "ends_at": f"{day} 11:00",
                "lead_id": str(user("investigator.pbso").id),
            },
            "lead_id",
        ),
    ]
    for query, field in cases:
        answer = wpbpd.get(URL, query_string=query)
        assert answer.status_code == 400, query
        body = answer.get_json()
        assert body["field"] == field, (query, body)
        assert body["error"].startswith(f"{field}: "), body
    assert db.session.scalar(select(func.count()).select_from(Event)) == events


def test_a_skipped_hour_is_refused_by_field(app: Flask, wpbpd: FlaskClient) -> None:
    year = today_local().year + 1
    march = date(year, 3, 8)
    spring = march + timedelta(days=(6 - march.weekday()) % 7)  # second Sunday of March
    answer = ask(wpbpd, spring, "02:30", "03:30")
    assert answer.status_code == 400
    assert answer.get_json()["field"] == "starts_at"
    assert "does not exist" in answer.get_json()["error"]


def test_an_event_the_user_may_not_change_is_refused(
    app: Flask, wpbpd: FlaskClient, monday: date
) -> None:
    theirs = book(
        "investigator.pbso", at(monday, "10:00"), at(monday, "11:00"), rooms=("Interview Room A",)
    )
    answer = ask(wpbpd, monday, "10:00", "11:00", event_id=theirs.id)
    assert answer.status_code == 400
    assert answer.get_json()["field"] == "event_id"


def test_who_may_ask_and_every_answer_is_audited(
    app: Flask, client: FlaskClient, login: Callable[[str], FlaskClient], monday: date
) -> None:
    assert ask(client, monday, "10:00", "11:00").status_code == 401
    assert ask(login("admin.pbso"), monday, "10:00", "11:00").status_code == 403
    wpbpd = login("investigator.wpbpd")
    room = resource("Interview Room A")
    assert ask(wpbpd, monday, "10:00", "11:00", room_id=room).status_code == 200
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "event.availability").order_by(AuditEntry.id)
    ).all()
    assert [(e.actor_username, e.outcome) for e in entries] == [
        ("admin.pbso", "denied"),
        ("investigator.wpbpd", "success"),
    ]
    assert entries[1].detail["resources"] == [room]
    assert entries[1].detail["people"] == [user("investigator.wpbpd").id]
    assert entries[1].detail["day"] == monday.isoformat()
