"""Event forms and the JSON API: every rule refuses bad input by field and stores nothing.

Each bad input goes through the web form (POST /events/new) and the JSON API
(POST /api/events); both must answer 400 with a message on the named field, and
the events, bookings and participants tables must be exactly as before. Then
the things that do get stored: creating, editing (version), cancelling (reason,
room freed), warnings to confirm, room conflicts and the audit trail.

Times typed in the form are office-local (America/New_York); dates are computed
from today and lie well after the demo data.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from auth.policy import CREATE_RIGHTS
from jointops.catalog import KIND_LABELS, KIND_TAGS, SUBTYPES
from jointops.extensions import db
from jointops.models import AuditEntry, Booking, Event, EventKind, Participant, Resource, User
from jointops.officetime import next_half_hour

OFFICE = ZoneInfo("America/New_York")


# --- dates ---------------------------------------------------------------------------


def winter_day() -> date:
    """A weekday at least 60 days ahead on which New York keeps standard time (EST)."""
    day = datetime.now(OFFICE).date() + timedelta(days=60)
    while day.month not in (12, 1, 2) or day.weekday() >= 5:
        day += timedelta(days=1)
    assert datetime(day.year, day.month, day.day, 12, tzinfo=OFFICE).tzname() == "EST"
    return day


def spring_forward_day() -> date:
    """The next spring-forward Sunday at least 60 days ahead (02:00–03:00 does not exist)."""
    soonest = datetime.now(OFFICE).date() + timedelta(days=60)
    year = soonest.year
    while True:
        march = date(year, 3, 1)
        second_sunday = march + timedelta(days=(6 - march.weekday()) % 7 + 7)
        if second_sunday >= soonest:
            return second_sunday
        year += 1


# --- helpers -------------------------------------------------------------------------


@pytest.fixture
def signed_in(login: Callable[[str], FlaskClient]) -> Callable[[str], FlaskClient]:
    return login


@dataclass(frozen=True)
class Ids:
    users: dict[str, int]
    rooms: dict[str, int]

    def user(self, username: str) -> int:
        return self.users[username]


@pytest.fixture
def ids(app: Flask) -> Ids:
    return Ids(
        users={u.username: u.id for u in db.session.scalars(select(User))},
        rooms={r.name: r.id for r in db.session.scalars(select(Resource))},
    )


def stored() -> tuple[int, int, int]:
    """Rows in events, bookings and participants (read fresh, not from the session)."""
    db.session.rollback()
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Event, Booking, Participant)
    )


def local(day: date, hhmm: str) -> str:
    return f"{day.isoformat()}T{hhmm}"


def interview(day: date, **over: Any) -> dict[str, Any]:
    data = {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": "Form test witness interview",
        "starts_at": local(day, "09:00"),
        "ends_at": local(day, "10:00"),
        "status": "planned",
        "sensitivity": "normal",
    }
    return data | over


def operation(day: date, **over: Any) -> dict[str, Any]:
    return (
        interview(
            day,
            kind="operation",
            subtype="search_warrant",
            title="Form test search warrant",
            location_address="4700 Okeechobee Blvd, West Palm Beach, FL",
            latitude="26.7106",
            longitude="-80.1108",
        )
        | over
    )


def victim_interview(day: date, ids: Ids, **over: Any) -> dict[str, Any]:
    return (
        interview(
            day,
            subtype="forensic_interview",
            title="Form test forensic interview",
            room_id=str(ids.rooms["Soft Interview Room (observation)"]),
            advocates=[str(ids.user("advocate.vs"))],
            client_code="VS-4400101",
        )
        | over
    )


def appointment(day: date, **over: Any) -> dict[str, Any]:
    data = interview(day, kind="appointment", subtype="medical", client_code="VS-4400202")
    del data["title"]
    return data | over


def meeting(day: date, **over: Any) -> dict[str, Any]:
    data = interview(day, kind="meeting", subtype="case_meeting", title="Form test case review")
    return data | over


def as_json(data: dict[str, Any]) -> dict[str, Any]:
    """The same values as a JSON client sends them: numbers as numbers, flags as booleans."""
    body: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("latitude", "longitude") and value not in ("", None):
            try:
                value = float(value)
            except ValueError:
                pass
        elif key == "confirm_warnings":
            value = value == "y"
        body[key] = value
    return body


def field_errors(page: str, name: str) -> str:
    """The error text the form shows next to field ``name`` ('' if none)."""
    found = re.search(rf'<p class="error" id="{re.escape(name)}-error">(.*?)</p>', page, re.S)
    return html.unescape(found[1]) if found else ""


def new_event_id(response: TestResponse) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    found = re.fullmatch(r"/events/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found[1])


def fresh(event_id: int) -> Event:
    db.session.rollback()
    event = db.session.get(Event, event_id, populate_existing=True)
    assert event is not None
    return event


# --- bad input: one case per rule, through the form and the API -----------------------

D = winter_day()


@dataclass(frozen=True)
class Bad:
    user: str
    data: Callable[[Ids], dict[str, Any]]
    fields: tuple[str, ...]
    message: str


BAD = {
    "end_before_start": Bad(
        "investigator.pbso",
        lambda i: interview(D, starts_at=local(D, "10:00"), ends_at=local(D, "09:00")),
        ("ends_at",),
        "Must be after the start",
    ),
    "end_equals_start": Bad(
        "investigator.pbso",
        lambda i: interview(D, starts_at=local(D, "09:00"), ends_at=local(D, "09:00")),
        ("ends_at",),
        "Must be after the start",
    ),
    "time_skipped_by_spring_forward": Bad(
        "investigator.pbso",
        lambda i: interview(
            D,
            starts_at=local(spring_forward_day(), "02:30"),
            ends_at=local(spring_forward_day(), "04:00"),
        ),
        ("starts_at",),
        "does not exist",
    ),
    "longer_than_14_days": Bad(
        "investigator.pbso",
        lambda i: interview(D, ends_at=local(D + timedelta(days=14), "09:01")),
        ("ends_at",),
        "at most 14 days",
    ),
    "operation_without_address": Bad(
        "investigator.pbso",
        lambda i: operation(D, location_address=""),
        ("location_address",),
        "needs the address",
    ),
    "operation_without_coordinates": Bad(
        "investigator.pbso",
        lambda i: operation(D, latitude="", longitude=""),
        ("latitude", "longitude"),
        "needs coordinates",
    ),
    "latitude_91": Bad(
        "investigator.pbso",
        lambda i: operation(D, latitude="91"),
        ("latitude",),
        "between -90 and 90",
    ),
    "longitude_minus_181": Bad(
        "investigator.pbso",
        lambda i: operation(D, longitude="-181"),
        ("longitude",),
        "between -180 and 180",
    ),
    "only_latitude": Bad(
        "investigator.pbso",
        lambda i: interview(D, latitude="26.7"),
        ("longitude",),
        "together",
    ),
    "only_longitude": Bad(
        "investigator.pbso",
        lambda i: interview(D, longitude="-80.1"),
        ("latitude",),
        "together",
    ),
    "victim_interview_without_room": Bad(
        "investigator.pbso",
        lambda i: victim_interview(D, i, room_id=""),
        ("room_id",),
        "needs a room",
    ),
    "victim_interview_without_advocate": Bad(
        "investigator.pbso",
        lambda i: victim_interview(D, i, advocates=[]),
        ("advocates",),
        "needs an advocate",
    ),
    "victim_interview_without_client_code": Bad(
        "investigator.pbso",
        lambda i: victim_interview(D, i, client_code=""),
        ("client_code",),
        "client code",
    ),
    "appointment_without_client_code": Bad(
        "advocate.vs",
        lambda i: appointment(D, client_code=""),
        ("client_code",),
        "client code",
    ),
    "client_code_that_is_a_name": Bad(
        "advocate.vs",
        lambda i: appointment(D, client_code="Maria Lopez"),
        ("client_code",),
        "never a name",
    ),
    "client_code_on_an_operation": Bad(
        "investigator.pbso",
        lambda i: operation(D, client_code="VS-4400303"),
        ("client_code",),
        "do not carry a client code",
    ),
    "covert_interview": Bad(
        "investigator.pbso",
        lambda i: interview(D, sensitivity="covert"),
        ("sensitivity",),
        "Only operations can be covert",
    ),
    "subtype_of_another_kind": Bad(
        "investigator.pbso",
        lambda i: operation(D, subtype="forensic_interview"),
        ("subtype",),
        "Choose a type of operation",
    ),
    "interview_without_title": Bad(
        "investigator.pbso",
        lambda i: interview(D, title="  "),
        ("title",),
        "title is required",
    ),
    "meeting_with_an_address": Bad(
        "investigator.pbso",
        lambda i: meeting(D, location_address="4700 Okeechobee Blvd, West Palm Beach, FL"),
        ("location_address",),
        "A meeting has no address or coordinates",
    ),
    "meeting_with_coordinates": Bad(
        "supervisor.vs",
        lambda i: meeting(D, latitude="26.7106", longitude="-80.1108"),
        ("latitude", "longitude"),
        "A meeting has no address or coordinates",
    ),
    "meeting_with_a_radius": Bad(
        "prosecutor.sao15",
        lambda i: meeting(D, radius_m="500"),
        ("radius_m",),
        "A meeting has no address or coordinates",
    ),
    "client_code_on_a_meeting": Bad(
        "advocate.vs",
        lambda i: meeting(D, client_code="VS-4400404"),
        ("client_code",),
        "Meetings do not carry a client code",
    ),
    "covert_meeting": Bad(
        "investigator.pbso",
        lambda i: meeting(D, sensitivity="covert"),
        ("sensitivity",),
        "Only operations can be covert",
    ),
    "meeting_without_title": Bad(
        "advocate.vs",
        lambda i: meeting(D, title=" "),
        ("title",),
        "title is required",
    ),
    "operation_type_on_a_meeting": Bad(
        "investigator.pbso",
        lambda i: meeting(D, subtype="search_warrant"),
        ("subtype",),
        "Choose a type of meeting",
    ),
    "advocate_creating_an_operation": Bad(
        "advocate.vs",
        lambda i: operation(D),
        ("kind",),
        "Not a valid choice",
    ),
    "investigator_creating_an_appointment": Bad(
        "investigator.pbso",
        lambda i: appointment(D),
        ("kind",),
        "Not a valid choice",
    ),
    "lead_from_another_agency": Bad(
        "investigator.pbso",
        lambda i: interview(D, lead_id=str(i.user("investigator.fbi"))),
        ("lead_id",),
        "Not a valid choice",
    ),
    "same_person_in_two_parts": Bad(
        "investigator.pbso",
        lambda i: interview(
            D,
            investigators=[str(i.user("det.rivera.pbso"))],
            interpreters=[str(i.user("det.rivera.pbso"))],
        ),
        ("interpreters",),
        "Luis Rivera is already listed as investigators",
    ),
    "non_numeric_room_id": Bad(
        "investigator.pbso",
        lambda i: interview(D, room_id="conference"),
        ("room_id",),
        "could not coerce",
    ),
    "room_id_past_64_bits": Bad(
        "investigator.pbso",
        lambda i: interview(D, room_id=str(2**64)),
        ("room_id",),
        "could not coerce",
    ),
    "room_id_not_whole": Bad(
        "investigator.pbso",
        lambda i: interview(D, room_id="1.5"),
        ("room_id",),
        "could not coerce",
    ),
    "year_9999": Bad(
        "investigator.pbso",
        lambda i: interview(D, starts_at="9999-12-31T22:00", ends_at="9999-12-31T23:59"),
        ("starts_at", "ends_at"),
        "must be between 1900-01-01 and 2999-12-31",
    ),
    "year_0001": Bad(
        "investigator.pbso",
        lambda i: interview(D, starts_at="0001-01-01T00:00", ends_at="0001-01-01T01:00"),
        ("starts_at", "ends_at"),
        "must be between 1900-01-01 and 2999-12-31",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_refused_by_field_and_stores_nothing(
    case: str, ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    bad = BAD[case]
    data = bad.data(ids)
    client = signed_in(bad.user)
    before = stored()

    response = client.post("/events/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[:2000]
    for name in bad.fields:
        assert bad.message in field_errors(page, name), (name, field_errors(page, name))
        assert f'href="#field-{name}"' in page  # the error summary links the field
    assert stored() == before

    response = client.post("/api/events", json=as_json(data))
    assert response.status_code == 400, response.get_data(as_text=True)
    errors = response.get_json()["errors"]
    for name in bad.fields:
        assert any(bad.message in e for e in errors.get(name, [])), errors
    assert stored() == before


def test_form_keeps_what_was_typed_after_an_error(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("investigator.pbso")
    data = operation(
        D,
        title="Typed title Zq4711",
        notes="Typed notes Zq4712",
        ends_at=local(D, "08:00"),
        investigators=[str(ids.user("det.rivera.pbso"))],
    )
    response = client.post("/events/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="Typed title Zq4711"' in page
    assert "Typed notes Zq4712</textarea>" in page
    assert f'value="{local(D, "09:00")}"' in page
    assert 'value="4700 Okeechobee Blvd, West Palm Beach, FL"' in page
    assert re.search(rf'<option selected value="{ids.user("det.rivera.pbso")}">', page)


def test_users_who_may_create_nothing_get_403(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    before = stored()
    for username in ("admin.pbso", "interpreter.vs"):
        client = signed_in(username)
        assert client.get("/events/new").status_code == 403
        assert client.post("/events/new", data=meeting(D)).status_code == 403
        assert client.post("/api/events", json=meeting(D)).status_code == 403
        denied = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "event.create",
                AuditEntry.outcome == "denied",
                AuditEntry.actor_id == ids.user(username),
            )
        ).all()
        assert len(denied) == 3
    assert stored() == before


def test_a_deconfliction_officer_schedules_meetings_and_nothing_else(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("deconfliction_officer.pbso")
    form = client.get("/events/new")
    assert form.status_code == 200
    kinds = re.search(
        r'<select[^>]*id="kind"[^>]*>(.*?)</select>', form.get_data(as_text=True), re.S
    )
    assert kinds is not None and re.findall(r'value="(\w+)"', kinds[1]) == ["meeting"]
    before = stored()
    refused = client.post("/events/new", data=interview(D))
    assert refused.status_code == 400
    assert "Not a valid choice" in field_errors(refused.get_data(as_text=True), "kind")
    assert stored() == before
    event = fresh(new_event_id(client.post("/events/new", data=meeting(D, subtype="briefing"))))
    assert (event.kind, event.subtype, event.owner_agency.code) == ("meeting", "briefing", "PBSO")


def test_every_kind_has_its_label_tag_types_and_schedulers() -> None:
    """One vocabulary: the kinds the database admits are those the pages label and tag, the
    form offers types of, and the policy lets someone schedule."""
    kinds = {kind.value for kind in EventKind}
    assert "meeting" in kinds
    assert kinds == set(KIND_LABELS) == set(KIND_TAGS) == set(SUBTYPES) == set(CREATE_RIGHTS)


# --- what does get stored ------------------------------------------------------------


def test_valid_form_creates_the_event_in_utc_and_redirects_to_it(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("investigator.pbso")
    events, bookings, participants = stored()
    data = operation(
        D,
        title="Warrant Zq5001",
        starts_at=local(D, "09:00"),
        ends_at=local(D, "11:30"),
        investigators=[str(ids.user("det.rivera.pbso"))],
        resource_ids=[str(ids.rooms["Unmarked Sedan PB-14"])],
    )
    event_id = new_event_id(client.post("/events/new", data=data))

    event = fresh(event_id)
    assert event.starts_at == datetime(D.year, D.month, D.day, 14, 0, tzinfo=UTC)
    assert event.ends_at == datetime(D.year, D.month, D.day, 16, 30, tzinfo=UTC)
    assert event.owner_agency.code == "PBSO"
    assert event.lead_id == ids.user("investigator.pbso")
    assert {(p.user.username, p.part) for p in event.participants} == {
        ("investigator.pbso", "lead"),
        ("det.rivera.pbso", "investigator"),
    }
    assert [b.resource.name for b in event.bookings] == ["Unmarked Sedan PB-14"]
    assert event.radius_m == 500  # the search-warrant default
    assert event.version == 1
    assert stored() == (events + 1, bookings + 1, participants + 2)

    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "Warrant Zq5001" in page
    assert "09:00" in page and "11:30 EST" in page


def test_valid_api_create_answers_201_with_utc_times(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("advocate.vs")
    events = stored()[0]
    response = client.post(
        "/api/events", json=appointment(D, starts_at=local(D, "09:00"), ends_at=local(D, "10:00"))
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()["event"]
    assert body["starts_at"] == f"{D.isoformat()}T14:00:00+00:00"
    assert body["title"] == "Medical appointment"
    assert body["client_code"] == "VS-4400202"
    assert body["owner_agency"] == "VS"
    assert stored()[0] == events + 1


def test_a_meeting_is_created_with_a_room_and_shown_as_a_meeting(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("supervisor.pbso")
    before = stored()
    data = meeting(
        D,
        title="Case review Zq6201",
        room_id=str(ids.rooms["Conference Room"]),
        prosecutors=[str(ids.user("prosecutor.sao15"))],
        advocates=[str(ids.user("advocate.vs"))],
        notes="Bring the charging memo",
    )
    event_id = new_event_id(client.post("/events/new", data=data))
    event = fresh(event_id)
    assert (event.kind, event.subtype, event.title) == (
        "meeting",
        "case_meeting",
        "Case review Zq6201",
    )
    assert (event.location_address, event.latitude, event.longitude, event.radius_m) == (
        None,
        None,
        None,
        None,
    )
    assert event.client_code is None and event.grid_cell is None
    assert [b.resource.name for b in event.bookings] == ["Conference Room"]
    assert stored() == (before[0] + 1, before[1] + 1, before[2] + 3)

    page = html.unescape(client.get(f"/events/{event_id}").get_data(as_text=True))
    assert '<span class="sw sw-meeting">MTG</span>' in page
    assert "Meeting · Case meeting" in page
    assert 'id="alerts-title"' not in page  # no deconfliction section: meetings are not checked
    # a participant of another agency sees it in full; her colleague a busy block
    assert "Case review Zq6201" in signed_in("prosecutor.sao15").get(
        f"/events/{event_id}"
    ).get_data(as_text=True)
    busy = signed_in("supervisor.sao15").get(f"/events/{event_id}").get_data(as_text=True)
    assert "<h1>Busy</h1>" in busy and "Zq6201" not in busy

    # the same room at an overlapping time is refused, as for any event
    clash = signed_in("investigator.fbi").post(
        "/events/new", data=meeting(D, title="Clash Zq6202", room_id=data["room_id"])
    )
    assert clash.status_code == 409
    assert "Conference Room is already booked" in clash.get_data(as_text=True)


def test_a_meeting_without_a_room_by_victim_services_through_the_api(
    signed_in: Callable[[str], FlaskClient],
) -> None:
    client = signed_in("advocate.vs")
    response = client.post(
        "/api/events", json=meeting(D, subtype="training", title="Training Zq6301")
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()["event"]
    assert (body["kind"], body["subtype"], body["title"]) == (
        "meeting",
        "training",
        "Training Zq6301",
    )
    assert body["rooms"] == [] and body["resources"] == []
    assert body["owner_agency"] == "VS" and body["client_code"] is None
    assert body["location"] == {
        "address": None,
        "latitude": None,
        "longitude": None,
        "radius_m": None,
    }


def test_editing_bumps_the_version_only_when_something_changes(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("investigator.pbso")
    data = interview(D, title="Before edit Zq6001", room_id=str(ids.rooms["Interview Room B"]))
    event_id = new_event_id(client.post("/events/new", data=data))
    assert fresh(event_id).version == 1

    form = client.get(f"/events/{event_id}/edit")
    assert form.status_code == 200
    assert 'value="Before edit Zq6001"' in form.get_data(as_text=True)

    new_event_id(client.post(f"/events/{event_id}/edit", data=data))
    assert fresh(event_id).version == 1  # nothing changed, nothing to resend to calendars

    changed = data | {"title": "After edit Zq6002", "ends_at": local(D, "10:30")}
    new_event_id(client.post(f"/events/{event_id}/edit", data=changed))
    event = fresh(event_id)
    assert event.version == 2
    assert event.title == "After edit Zq6002"
    assert [b.ends_at for b in event.bookings] == [event.ends_at]  # the booking follows
    update = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "event.update", AuditEntry.object_id == str(event_id)
        )
    ).all()
    assert [sorted(u.detail["changed"]) for u in update][-1] == ["ends_at", "resources", "title"]


def test_edit_with_bad_input_changes_nothing(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("investigator.pbso")
    data = interview(D, title="Stable Zq6101")
    event_id = new_event_id(client.post("/events/new", data=data))
    bad = data | {"title": "Broken Zq6102", "ends_at": local(D, "08:00")}
    response = client.post(f"/events/{event_id}/edit", data=bad)
    assert response.status_code == 400
    assert "Must be after the start" in field_errors(response.get_data(as_text=True), "ends_at")
    event = fresh(event_id)
    assert (event.title, event.version) == ("Stable Zq6101", 1)


def test_cancelling_needs_a_reason_and_frees_the_room(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("investigator.pbso")
    room = str(ids.rooms["Interview Room A"])
    data = interview(D, title="To cancel Zq7001", room_id=room)
    event_id = new_event_id(client.post("/events/new", data=data))

    response = client.post(f"/events/{event_id}/cancel", data={"reason": "   "})
    assert response.status_code == 400
    assert "Give a reason" in field_errors(response.get_data(as_text=True), "reason")
    event = fresh(event_id)
    assert event.status == "planned" and event.version == 1
    assert [b.active for b in event.bookings] == [True]

    # the room is taken until then (the lead's double booking is confirmed, the room is not)
    clash = {"title": "Same room Zq7002", "confirm_warnings": "y"}
    assert client.post("/events/new", data=data | clash).status_code == 409

    response = client.post(f"/events/{event_id}/cancel", data={"reason": "Witness withdrew"})
    assert response.status_code == 302
    event = fresh(event_id)
    assert event.status == "cancelled"
    assert event.version == 2
    assert [b.active for b in event.bookings] == [False]
    entry = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "event.cancel", AuditEntry.object_id == str(event_id)
        )
    ).one()
    assert entry.detail["reason"] == "Witness withdrew"

    # a cancelled event can be neither edited nor cancelled again
    assert client.get(f"/events/{event_id}/edit").status_code == 403
    assert client.post(f"/events/{event_id}/cancel", data={"reason": "again"}).status_code == 403

    other = new_event_id(client.post("/events/new", data=data | {"title": "Same room Zq7002"}))
    assert [b.resource_id for b in fresh(other).bookings] == [int(room)]


@pytest.mark.parametrize("channel", ["form", "api"])
def test_person_booked_twice_must_be_confirmed(
    channel: str, ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("investigator.pbso")
    rivera = str(ids.user("det.rivera.pbso"))
    new_event_id(
        client.post("/events/new", data=interview(D, title="First Zq8001", investigators=[rivera]))
    )
    second = interview(
        D,
        title="Second Zq8002",
        starts_at=local(D, "09:30"),
        ends_at=local(D, "10:30"),
        lead_id=str(ids.user("supervisor.pbso")),
        investigators=[rivera],
    )
    before = stored()
    if channel == "form":
        response = client.post("/events/new", data=second)
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 200
        assert re.findall(r'data-code="(\w+)"', page) == ["person_double_booked"]
        assert "Luis Rivera is already booked for “First Zq8001”" in page
        assert 'name="confirm_warnings"' in page
        assert 'value="Second Zq8002"' in page
        assert stored() == before
        new_event_id(client.post("/events/new", data=second | {"confirm_warnings": "y"}))
    else:
        response = client.post("/api/events", json=second)
        assert response.status_code == 422
        warnings = response.get_json()["warnings"]
        assert [w["code"] for w in warnings] == ["person_double_booked"]
        assert "First Zq8001" in warnings[0]["message"]
        assert stored() == before
        response = client.post("/api/events", json=second | {"confirm_warnings": True})
        assert response.status_code == 201
    assert stored()[0] == before[0] + 1


def test_double_booking_warning_hides_an_event_the_user_may_not_see(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    rivera = str(ids.user("det.rivera.pbso"))
    pbso = signed_in("investigator.pbso")
    new_event_id(
        pbso.post("/events/new", data=interview(D, title="Secret Zq8101", investigators=[rivera]))
    )
    fbi = signed_in("investigator.fbi")
    before = stored()
    response = fbi.post(
        "/events/new", data=interview(D, title="Joint Zq8102", investigators=[rivera])
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    # nothing of the event the FBI may not see: not its title, kind or time
    assert "Luis Rivera is not available then." in page
    warning = re.search(r'data-code="person_double_booked">(.*?)</li>', page, re.S)
    assert warning and not re.search(r"\d{1,2}:\d{2}", warning[1])
    assert "Secret Zq8101" not in page
    assert stored() == before


def test_repeat_victim_interview_within_7_days_warns(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("investigator.pbso")
    code = "VS-4400555"
    new_event_id(client.post("/events/new", data=victim_interview(D, ids, client_code=code)))
    later = D + timedelta(days=3)
    again = victim_interview(
        later, ids, client_code=code, room_id=str(ids.rooms["Interview Room A"])
    )
    before = stored()
    response = client.post("/events/new", data=again)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert re.findall(r'data-code="(\w+)"', page) == ["repeat_victim_interview"]
    assert f"Client {code} already has a victim interview" in page
    assert stored() == before
    new_event_id(client.post("/events/new", data=again | {"confirm_warnings": "y"}))
    assert stored()[0] == before[0] + 1

    # another client, or the same one eight days on, needs no confirmation
    afternoon = {"starts_at": local(later, "14:00"), "ends_at": local(later, "15:00")}
    new_event_id(
        client.post(
            "/events/new", data=victim_interview(later, ids, client_code="VS-4400556") | afternoon
        )
    )
    new_event_id(
        client.post(
            "/events/new",
            data=victim_interview(later + timedelta(days=8), ids, client_code=code),
        )
    )


def test_room_conflict_is_409_and_names_the_title_only_to_those_who_may_see_it(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    room = str(ids.rooms["Interview Room A"])
    pbso = signed_in("investigator.pbso")
    taken = interview(
        D,
        title="PBSO interview Zq9001",
        room_id=room,
        starts_at=local(D, "13:00"),
        ends_at=local(D, "14:30"),
    )
    new_event_id(pbso.post("/events/new", data=taken))
    attempt = interview(
        D,
        title="FBI interview Zq9002",
        room_id=room,
        starts_at=local(D, "14:00"),
        ends_at=local(D, "15:00"),
    )
    when = f"{D:%a %d %b %Y}, 13:00–14:30 EST"
    before = stored()

    fbi = signed_in("investigator.fbi")
    response = fbi.post("/events/new", data=attempt)
    message = field_errors(response.get_data(as_text=True), "room_id")
    assert response.status_code == 409
    assert message == f"Interview Room A is already booked for {when}."
    assert "Zq9001" not in html.unescape(response.get_data(as_text=True))
    assert stored() == before

    response = fbi.post("/api/events", json=attempt)
    assert response.status_code == 409
    assert response.get_json() == {
        "error": f"Interview Room A is already booked for {when}.",
        "field": "room_id",
    }
    assert stored() == before

    supervisor = signed_in("supervisor.pbso")
    response = supervisor.post("/events/new", data=attempt)
    assert response.status_code == 409
    assert field_errors(response.get_data(as_text=True), "room_id") == (
        f"Interview Room A is already booked by “PBSO interview Zq9001” for {when}."
    )
    assert stored() == before

    # back to back is not a conflict
    new_event_id(
        fbi.post(
            "/events/new",
            data=attempt | {"starts_at": local(D, "14:30"), "ends_at": local(D, "15:30")},
        )
    )


def test_audit_trail_of_create_update_cancel_view_and_denied_view(
    ids: Ids, signed_in: Callable[[str], FlaskClient]
) -> None:
    pbso = signed_in("investigator.pbso")
    data = interview(D, title="Audited Zq9101")
    event_id = new_event_id(pbso.post("/events/new", data=data))
    new_event_id(pbso.post(f"/events/{event_id}/edit", data=data | {"title": "Audited Zq9102"}))
    assert pbso.get(f"/events/{event_id}").status_code == 200
    assert pbso.post(f"/events/{event_id}/cancel", data={"reason": "Done"}).status_code == 302

    fbi = signed_in("investigator.fbi")
    covert = new_event_id(
        fbi.post("/events/new", data=operation(D, title="Covert Zq9103", sensitivity="covert"))
    )
    assert pbso.get(f"/events/{covert}").status_code == 404
    assert pbso.get(f"/api/events/{covert}").status_code == 404

    def trail(object_id: int) -> list[tuple[str, str, str]]:
        rows = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "event", AuditEntry.object_id == str(object_id))
            .order_by(AuditEntry.id)
        )
        return [(r.action, r.outcome, r.actor_username) for r in rows]

    db.session.rollback()
    assert trail(event_id) == [
        ("event.create", "success", "investigator.pbso"),
        ("event.update", "success", "investigator.pbso"),
        ("event.view", "success", "investigator.pbso"),
        ("event.cancel", "success", "investigator.pbso"),
    ]
    assert trail(covert) == [
        ("event.create", "success", "investigator.fbi"),
        ("event.view", "denied", "investigator.pbso"),
        ("event.view", "denied", "investigator.pbso"),
    ]


# --- what a new event proposes ---------------------------------------------------------------


def proposed(page: TestResponse) -> tuple[str, str]:
    text = page.get_data(as_text=True)
    found = [
        re.search(rf'name="{name}"[^>]*value="([^"]*)"', text) for name in ("starts_at", "ends_at")
    ]
    assert all(found), "the form proposes a start and an end"
    return found[0][1], found[1][1]  # type: ignore[index]


@pytest.mark.parametrize("clicked", ["23:30", "23:45", "00:00", "12:15"])
def test_a_clicked_slot_proposes_an_hour_even_past_midnight(
    signed_in: Callable[[str], FlaskClient], clicked: str
) -> None:
    day = winter_day()
    page = signed_in("investigator.pbso").get(f"/events/new?start={day}T{clicked}")
    starts = datetime.fromisoformat(f"{day}T{clicked}")
    assert proposed(page) == (
        f"{starts:%Y-%m-%d %H:%M}",
        f"{starts + timedelta(hours=1):%Y-%m-%d %H:%M}",
    )


@pytest.mark.parametrize(
    ("now", "starts"),
    [
        ("2026-12-10T14:10", "2026-12-10T14:30"),
        ("2026-12-10T14:30", "2026-12-10T15:00"),
        ("2026-12-10T14:59", "2026-12-10T15:00"),
        ("2026-12-31T23:40", "2027-01-01T00:00"),
        ("2027-03-14T01:45", "2027-03-14T03:00"),  # the spring-forward hour is skipped
    ],
)
def test_the_next_half_hour_is_on_the_office_clock(app: Flask, now: str, starts: str) -> None:
    moment = datetime.fromisoformat(now).replace(tzinfo=OFFICE).astimezone(UTC)
    expected = datetime.fromisoformat(starts)
    if expected.hour == 3 and expected.month == 3:
        expected = datetime.fromisoformat("2027-03-14T02:00")  # wall clock, refused on saving
    with app.app_context():
        assert next_half_hour(moment) == expected


def test_new_event_proposes_the_next_half_hour(signed_in: Callable[[str], FlaskClient]) -> None:
    now = datetime.now(OFFICE).replace(minute=10, second=0, microsecond=0)
    with time_machine.travel(now, tick=False):
        page = signed_in("investigator.pbso").get("/events/new")
    first = now.replace(minute=30, tzinfo=None)
    assert proposed(page) == (
        f"{first:%Y-%m-%d %H:%M}",
        f"{first + timedelta(hours=1):%Y-%m-%d %H:%M}",
    )
