"""Recurring events through the v1 API: ``repeat`` on create, ``scope: following`` on change,
and the pre-check of every occurrence. Dates fixed in March 2027 around the change to summer
time in New York, "now" frozen before them; rooms and people of the tests' own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from jointops.demo import SERIES as DEMO_SERIES
from jointops.extensions import db
from jointops.models import AuditEntry, Event, EventSeries
from tests.conftest import own_investigator
from tests.test_api_v1 import Api
from tests.test_recurring import BEFORE, own_room

NOW = BEFORE


@pytest.fixture
def frozen(app: Flask) -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api(app: Flask) -> Callable[[str], Api]:
    def make(username: str) -> Api:
        return Api(app.test_client(), username)

    return make


def meeting(room_id: int, **over: Any) -> dict[str, Any]:
    return {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": "Weekly case meeting",
        "starts_at": "2027-03-02T10:00",
        "ends_at": "2027-03-02T11:00",
        "room_id": room_id,
        "status": "planned",
        "sensitivity": "normal",
        "confirm_warnings": True,
    } | over


WEEKLY = {"frequency": "weekly", "interval": 1, "weekdays": ["TU"], "count": 4}


def series_count() -> int:
    """The series stored besides the demo's (``jointops.demo.SERIES``, in every test's data)."""
    stored = db.session.scalar(select(func.count()).select_from(EventSeries)) or 0
    return stored - len(DEMO_SERIES)


def test_a_repeat_creates_the_series_and_answers_it(
    frozen: None, api: Callable[[str], Api]
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("API series room A")
    made = api(lead.username).post("/api/v1/events", meeting(room.id, repeat=WEEKLY))
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    event, series = body["event"], body["series"]
    assert event["series_id"] == series["id"]
    assert event["recurrence_id"] == event["starts_at"] == "2027-03-02T15:00:00+00:00"
    assert series["rule"] == "Weekly on Tuesday, 4 times"
    hours = [datetime.fromisoformat(s).astimezone(UTC).hour for s in series["starts"]]
    assert hours == [15, 15, 14, 14]  # 10:00 in New York, before and after the change
    assert (
        db.session.scalar(
            select(func.count()).select_from(Event).where(Event.series_id == series["id"])
        )
        == 4
    )
    single = api(lead.username).post(
        "/api/v1/events", meeting(room.id, starts_at="2027-03-03T10:00", ends_at="2027-03-03T11:00")
    )
    assert single.status_code == 201
    assert single.get_json()["event"]["series_id"] is None
    assert single.get_json()["event"]["recurrence_id"] is None
    assert "series" not in single.get_json()


#: repeats refused, each with the field named: of a new event, and of "this and following"
BAD_REPEATS = [
    ("weekly", "repeat"),
    ([WEEKLY], "repeat"),
    (WEEKLY | {"count": "4"}, "repeat.count"),
    (WEEKLY | {"count": 10**30}, "repeat.count"),
    (WEEKLY | {"count": 300}, "repeat.count"),
    (WEEKLY | {"count": 1}, "repeat.count"),
    (WEEKLY | {"count": True}, "repeat.count"),
    (WEEKLY | {"count": None}, "repeat.count"),
    (WEEKLY | {"until": "2027-04-01"}, "repeat.count"),
    (WEEKLY | {"count": 200}, "repeat.count"),  # more than two years of Tuesdays
    (WEEKLY | {"frequency": "yearly"}, "repeat.frequency"),
    (WEEKLY | {"frequency": "weekly\x00"}, "repeat.frequency"),
    (WEEKLY | {"frequency": 7}, "repeat.frequency"),
    (WEEKLY | {"interval": 0}, "repeat.interval"),
    (WEEKLY | {"interval": 2**63}, "repeat.interval"),
    (WEEKLY | {"interval": 1.5}, "repeat.interval"),
    (WEEKLY | {"weekdays": ["XX"]}, "repeat.weekdays.0"),
    (WEEKLY | {"weekdays": "TU"}, "repeat.weekdays"),
    (WEEKLY | {"frequency": "daily"}, "repeat.weekdays"),
    ({"frequency": "daily", "count": None, "until": "2027-02-30"}, "repeat.until"),
    ({"frequency": "daily", "until": "2027-03-01\x00"}, "repeat.until"),
    ({"frequency": "daily", "until": "2027-03-01"}, "repeat.until"),  # before the first
    ({"frequency": "daily", "until": "2031-01-01"}, "repeat.until"),  # past two years
    (WEEKLY | {"every": 2}, "repeat.every"),
]


@pytest.mark.parametrize(("repeat", "field"), BAD_REPEATS)
def test_bad_repeats_answer_422_naming_the_field_and_store_nothing(
    frozen: None, api: Callable[[str], Api], repeat: Any, field: str
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("API series room B")
    answer = api(lead.username).post("/api/v1/events", meeting(room.id, repeat=repeat))
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["errors"], answer.get_json()
    assert series_count() == 0
    assert (
        db.session.scalar(
            select(func.count()).select_from(Event).where(Event.title == "Weekly case meeting")
        )
        == 0
    )


def test_a_room_taken_on_one_occurrence_answers_409_naming_its_date(
    frozen: None, api: Callable[[str], Api]
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("API series room C")
    other = api(own_investigator("FBI").username).post(
        "/api/v1/events",
        meeting(room.id, starts_at="2027-03-23T10:30", ends_at="2027-03-23T11:30"),
    )
    assert other.status_code == 201
    refused = api(lead.username).post("/api/v1/events", meeting(room.id, repeat=WEEKLY))
    assert refused.status_code == 409
    assert refused.get_json()["error"].startswith("Occurrence 4, Tue 23 Mar 2027: API series")
    assert series_count() == 0


def test_scope_following_changes_the_rest_and_is_refused_where_it_means_nothing(
    frozen: None, api: Callable[[str], Api]
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("API series room D")
    client = api(lead.username)
    made = client.post("/api/v1/events", meeting(room.id, repeat=WEEKLY)).get_json()
    second_start = made["series"]["starts"][1]
    second = db.session.scalar(
        select(Event.id).where(
            Event.series_id == made["series"]["id"],
            Event.starts_at == datetime.fromisoformat(second_start),
        )
    )
    changed = meeting(room.id, starts_at="2027-03-09T11:00", ends_at="2027-03-09T12:00")
    assert (
        client.put(f"/api/v1/events/{second}", changed | {"scope": "sometimes"}).status_code == 422
    )
    assert client.put(f"/api/v1/events/{second}", changed | {"repeat": WEEKLY}).status_code == 422
    assert client.post("/api/v1/events", changed | {"scope": "following"}).status_code == 422

    answer = client.put(f"/api/v1/events/{second}", changed | {"scope": "following"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["series"]["id"] != made["series"]["id"]
    assert body["series"]["rule"] == "Weekly on Tuesday, 3 times"
    hours = [datetime.fromisoformat(s).astimezone(UTC).hour for s in body["series"]["starts"]]
    assert hours == [16, 15, 15]  # 11:00 in New York
    old = client.get(f"/api/v1/events/{made['event']['id']}").get_json()["event"]
    assert old["series_id"] == made["series"]["id"] and old["starts_at"].startswith("2027-03-02T15")

    single = client.post(
        "/api/v1/events", meeting(room.id, starts_at="2027-03-04T10:00", ends_at="2027-03-04T11:00")
    ).get_json()["event"]
    alone = client.put(
        f"/api/v1/events/{single['id']}",
        meeting(
            room.id, starts_at="2027-03-04T12:00", ends_at="2027-03-04T13:00", scope="following"
        ),
    )
    assert alone.status_code == 400
    assert "scope" in alone.get_json()["errors"]


def weekly_meeting(client: Api, room_id: int) -> tuple[dict[str, Any], list[int]]:
    """Four Tuesdays from 2 March (the POST's answer) and their event ids, by start."""
    made = client.post("/api/v1/events", meeting(room_id, repeat=WEEKLY)).get_json()
    ids = db.session.scalars(
        select(Event.id).where(Event.series_id == made["series"]["id"]).order_by(Event.starts_at)
    ).all()
    return made, list(ids)


def stored(series_id: int) -> list[tuple[Any, ...]]:
    db.session.expire_all()
    rows = db.session.scalars(select(Event).where(Event.series_id == series_id).order_by(Event.id))
    return [(e.id, e.starts_at, e.status, e.version, e.recurrence_id) for e in rows]


def test_scope_following_with_a_repeat_makes_the_rest_again_by_it(
    frozen: None, api: Callable[[str], Api]
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("API series room E")
    client = api(lead.username)
    made, ids = weekly_meeting(client, room.id)
    second = meeting(room.id, starts_at="2027-03-09T10:00", ends_at="2027-03-09T11:00")

    # the series' own rule from the second on (three Tuesdays): a split, the same events
    same = client.put(
        f"/api/v1/events/{ids[1]}",
        second | {"scope": "following", "title": "Renamed", "repeat": WEEKLY | {"count": 3}},
    )
    assert same.status_code == 200, same.get_json()
    kept = same.get_json()["series"]
    assert kept["rule"] == "Weekly on Tuesday, 3 times"
    assert stored(kept["id"])[0][0] == ids[1] and [e[0] for e in stored(kept["id"])] == ids[1:]

    fortnightly = {"frequency": "weekly", "interval": 2, "count": 3}
    answer = client.put(
        f"/api/v1/events/{ids[1]}", second | {"scope": "following", "repeat": fortnightly}
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["event"]["id"] == ids[1]
    assert body["series"]["rule"] == "Every 2 weeks on Tuesday, 3 times"
    starts = [datetime.fromisoformat(s).astimezone(UTC) for s in body["series"]["starts"]]
    assert [f"{s:%d %H}" for s in starts] == ["09 15", "23 14", "06 14"]  # 10:00 in New York
    assert body["event"]["recurrence_id"] == body["event"]["starts_at"]
    old = client.get(f"/api/v1/events/{ids[3]}").get_json()["event"]
    assert (old["status"], old["series_id"], old["recurrence_id"]) == ("cancelled", None, None)
    first = client.get(f"/api/v1/events/{ids[0]}").get_json()["event"]
    assert first["series_id"] == made["series"]["id"] and first["status"] == "planned"


@pytest.mark.parametrize(("repeat", "field"), BAD_REPEATS)
def test_bad_repeats_of_scope_following_answer_422_and_change_nothing(
    frozen: None, api: Callable[[str], Api], repeat: Any, field: str
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("API series room F")
    client = api(lead.username)
    made, ids = weekly_meeting(client, room.id)
    before, series = stored(made["series"]["id"]), series_count()
    answer = client.put(
        f"/api/v1/events/{ids[1]}",
        meeting(room.id, starts_at="2027-03-09T10:00", ends_at="2027-03-09T11:00")
        | {"scope": "following", "repeat": repeat},
    )
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["errors"], answer.get_json()
    assert stored(made["series"]["id"]) == before and series_count() == series


def test_a_room_taken_on_a_new_date_answers_409_and_the_repeat_is_documented(
    frozen: None, api: Callable[[str], Api]
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("API series room G")
    client = api(lead.username)
    made, ids = weekly_meeting(client, room.id)
    fbi = api(own_investigator("FBI").username)
    taken = fbi.post(
        "/api/v1/events",
        meeting(room.id, starts_at="2027-04-06T10:30", ends_at="2027-04-06T11:30"),
    )
    assert taken.status_code == 201, taken.get_json()
    before, series = stored(made["series"]["id"]), series_count()
    refused = client.put(
        f"/api/v1/events/{ids[1]}",
        meeting(room.id, starts_at="2027-03-09T10:00", ends_at="2027-03-09T11:00")
        | {"scope": "following", "repeat": {"frequency": "weekly", "interval": 2, "count": 3}},
    )
    assert refused.status_code == 409
    assert refused.get_json()["error"].startswith("Occurrence 4, Tue 06 Apr 2027: API series")
    assert stored(made["series"]["id"]) == before and series_count() == series

    document = client.get("/api/openapi.json").get_json()
    repeat = document["components"]["schemas"]["EventIn"]["properties"]["repeat"]
    assert "`scope: following`" in repeat["description"]
    put = document["paths"]["/api/v1/events/{event_id}"]["put"]
    assert "with ``repeat``, how often they repeat" in " ".join(put["description"].split())


def warrant(day: str, **over: Any) -> dict[str, Any]:
    """An operation at 04:00, an hour at which the demo plans nothing."""
    return {
        "kind": "operation",
        "subtype": "search_warrant",
        "title": "Repeated warrant plan",
        "starts_at": f"{day}T04:00",
        "ends_at": f"{day}T05:00",
        "location_address": "100 Test Way, Lake Worth, FL",
        "latitude": 26.61,
        "longitude": -80.21,
        "status": "planned",
        "sensitivity": "normal",
        "confirm_warnings": True,
    } | over


def prechecks() -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "deconflict.precheck")
        )
        or 0
    )


def test_the_precheck_of_a_repeat_finds_a_hit_on_a_later_occurrence_only(
    frozen: None, api: Callable[[str], Api]
) -> None:
    fbi = api(own_investigator("FBI").username)
    theirs = fbi.post("/api/v1/events", warrant("2027-03-16", starts_at="2027-03-16T04:30"))
    assert theirs.status_code == 201, theirs.get_json()
    pbso = api(own_investigator("PBSO").username)

    alone = pbso.post("/api/v1/events/precheck", warrant("2027-03-02"))
    assert alone.status_code == 200
    assert alone.get_json()["pointers"] == []

    before = prechecks()
    repeated = pbso.post("/api/v1/events/precheck", warrant("2027-03-02", repeat=WEEKLY))
    assert repeated.status_code == 200, repeated.get_json()
    pointers = repeated.get_json()["pointers"]
    assert [(p["on"], p["agency"]) for p in pointers] == [("Tue 16 Mar 2027", "FBI")]
    assert prechecks() == before + 1  # one pre-check against the limits
    assert series_count() == 0
    bad = pbso.post("/api/v1/events/precheck", warrant("2027-03-02", repeat={"count": 3}))
    assert bad.status_code == 422 and "repeat.frequency" in bad.get_json()["errors"]
