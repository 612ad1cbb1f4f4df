"""Moving and resizing an event from the calendar (POST /events/<id>/move).

The move saves through the edit form's service: a taken room answers 409 naming it and when,
warnings wait for ``confirm_warnings``, bad times are refused by field, and who may move is who
may edit. Every refusal changes nothing. Dates lie 60 days and more after the (frozen) clock,
clear of the demo's weeks; times are office wall clock (America/New_York).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from jointops.extensions import db
from jointops.models import AuditEntry, Event, Resource, User
from jointops.officetime import fmt_range
from tests.conftest import without_csrf

OFFICE = ZoneInfo("America/New_York")


def later_day(days: int = 60) -> date:
    """A weekday ``days`` or more ahead whose daytime hours exist once each."""
    day = datetime.now(OFFICE).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def clocks_change(after: date, month: int) -> date:
    """The first Sunday after ``after`` in ``month`` on which New York changes its clocks."""
    day = after
    while True:
        day += timedelta(days=1)
        if day.month != month or day.weekday() != 6:
            continue
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=OFFICE)
        if noon.utcoffset() != (noon - timedelta(days=1)).utcoffset():
            return day


D = later_day()


def at(day: date, hhmm: str) -> str:
    return f"{day.isoformat()} {hhmm}"


def utc(day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=OFFICE).astimezone(UTC)


def room(name: str) -> int:
    found = db.session.scalar(select(Resource.id).where(Resource.name == name))
    assert found is not None, name
    return found


def user_id(username: str) -> int:
    found = db.session.scalar(select(User.id).where(User.username == username))
    assert found is not None, username
    return found


def interview(title: str, day: date, start: str, end: str, **over: Any) -> dict[str, Any]:
    return {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": title,
        "starts_at": at(day, start),
        "ends_at": at(day, end),
        "status": "planned",
        "sensitivity": "normal",
    } | over


def create(client: FlaskClient, data: dict[str, Any]) -> int:
    response = client.post("/events/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    found = re.fullmatch(r"/events/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found[1])


def as_stored(event_id: int) -> tuple[Any, ...]:
    """What a refused move must leave as it was: times, version and the bookings' windows."""
    db.session.rollback()
    event = db.session.get(Event, event_id, populate_existing=True)
    assert event is not None
    bookings = sorted((b.resource_id, b.starts_at, b.ends_at, b.active) for b in event.bookings)
    return event.starts_at, event.ends_at, event.version, tuple(bookings)


def move(client: FlaskClient, event_id: int, **fields: str) -> TestResponse:
    return client.post(f"/events/{event_id}/move", data=fields)


@pytest.fixture
def pbso(login: Callable[[str], FlaskClient]) -> FlaskClient:
    return login("investigator.pbso")


def test_a_move_and_a_resize_save_as_the_form_does(app: Flask, pbso: FlaskClient) -> None:
    room_a = room("Interview Room A")
    event_id = create(pbso, interview("Move me Zm1001", D, "09:00", "10:00", room_id=str(room_a)))

    response = move(pbso, event_id, starts_at=at(D, "11:15"), ends_at=at(D, "12:15"))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    when = fmt_range(utc(D, "11:15"), utc(D, "12:15"))
    assert body["event"] == {
        "id": event_id,
        "title": "Move me Zm1001",
        "all_day": False,
        "starts_at": at(D, "11:15"),
        "ends_at": at(D, "12:15"),
        "starts": "11:15",
        "ends": "12:15",
        "when": when,
        "label": f"Interview, {when}",
    }
    assert body["message"] == f"Moved “Move me Zm1001” to {when}."
    starts, ends, version, bookings = as_stored(event_id)
    assert (starts, ends, version) == (utc(D, "11:15"), utc(D, "12:15"), 2)
    assert bookings == ((room_a, starts, ends, True),)  # the room moves with it

    # the bottom edge: only the end changes
    response = move(pbso, event_id, starts_at=at(D, "11:15"), ends_at=at(D, "13:00"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert as_stored(event_id)[:3] == (utc(D, "11:15"), utc(D, "13:00"), 3)

    # another day, the T of the form's other spelling read too
    next_day = D + timedelta(days=1)
    response = move(
        pbso, event_id, starts_at=f"{next_day}T08:00", ends_at=f"{next_day.isoformat()} 09:45"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert as_stored(event_id)[:2] == (utc(next_day, "08:00"), utc(next_day, "09:45"))

    updates = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "event.update", AuditEntry.object_id == str(event_id))
        .order_by(AuditEntry.id)
    ).all()
    assert [(u.outcome, u.actor_username) for u in updates] == [
        ("success", "investigator.pbso")
    ] * 3
    assert sorted(updates[0].detail["changed"]) == ["ends_at", "resources", "starts_at"]
    assert sorted(updates[1].detail["changed"]) == ["ends_at", "resources"]


def test_a_taken_room_is_409_naming_it_and_when_and_changes_nothing(
    app: Flask, pbso: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    room_a = str(room("Interview Room A"))
    mine = create(pbso, interview("Mine Zm2001", D, "09:00", "10:00", room_id=room_a))
    fbi = login("investigator.fbi")
    create(fbi, interview("Other agency's Zm2002", D, "13:00", "14:30", room_id=room_a))
    before = as_stored(mine)

    response = move(pbso, mine, starts_at=at(D, "14:00"), ends_at=at(D, "15:00"))
    assert response.status_code == 409
    when = fmt_range(utc(D, "13:00"), utc(D, "14:30"))
    assert response.get_json() == {
        "error": f"Interview Room A is already booked for {when}.",
        "field": "room_id",
    }
    assert "Zm2002" not in response.get_data(as_text=True)
    assert as_stored(mine) == before

    # back to back is free
    response = move(pbso, mine, starts_at=at(D, "14:30"), ends_at=at(D, "15:30"))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_who_may_not_edit_is_refused_as_by_the_edit_page(
    app: Flask, pbso: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    shared = create(
        pbso,
        interview("Shared room Zm3001", D, "09:00", "10:00", room_id=str(room("Interview Room B"))),
    )
    unseen = create(pbso, interview("No room Zm3002", D, "11:00", "12:00"))
    times = {"starts_at": at(D, "15:00"), "ends_at": at(D, "16:00")}
    before = {shared: as_stored(shared), unseen: as_stored(unseen)}

    # another agency: a busy block where the room is shared, nothing otherwise; a member of
    # the agency who may see but not schedule; each answered as the edit page answers them
    for username, expected in (
        ("investigator.fbi", 404),
        ("advocate.vs", 404),
        ("admin.pbso", 403),
    ):
        client = login(username)
        for event_id in (shared, unseen):
            edit_page = client.get(f"/events/{event_id}/edit")
            moved = client.post(f"/events/{event_id}/move", data=times)
            assert (edit_page.status_code, moved.status_code) == (expected, expected), username
            assert without_csrf(moved.get_data(as_text=True)) == without_csrf(
                edit_page.get_data(as_text=True)
            )
            assert moved.get_json(silent=True) is None  # an error page, nothing of the event
    for event_id, stored in before.items():
        assert as_stored(event_id) == stored

    # a missing event answers as another agency's
    assert move(login("investigator.fbi"), 2**31 - 1, **times).status_code == 404

    denied = db.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.outcome == "denied",
            AuditEntry.object_id == str(shared),
            AuditEntry.actor_username == "admin.pbso",
        )
    ).all()
    assert denied.count("event.update") == 2  # the edit page's and the move's


def test_bad_times_are_refused_by_field_and_change_nothing(app: Flask, pbso: FlaskClient) -> None:
    event_id = create(pbso, interview("Times Zm4001", D, "09:00", "10:00"))
    before = as_stored(event_id)
    spring = clocks_change(D, 3)
    autumn = clocks_change(D, 11)

    def refused(fields: dict[str, str]) -> dict[str, list[str]]:
        response = move(pbso, event_id, **fields)
        assert response.status_code == 400, (fields, response.get_data(as_text=True))
        assert as_stored(event_id) == before
        errors: dict[str, list[str]] = response.get_json()["errors"]
        return errors

    assert refused({"ends_at": at(D, "10:00")}) == {
        "starts_at": ["Required: the date and 24-hour time, for example 2026-12-02 14:30."]
    }
    typed = "Type the date and the 24-hour time, for example 2026-12-02 14:30."
    assert refused({"starts_at": "tomorrow 9am", "ends_at": at(D, "25:00")}) == {
        "starts_at": [typed],
        "ends_at": [typed],
    }
    assert refused({"starts_at": at(D, "11:00"), "ends_at": at(D, "10:30")}) == {
        "ends_at": ["Must be after the start."]
    }
    assert refused({"starts_at": "3000-01-01 09:00", "ends_at": "3000-01-01 10:00"}) == {
        "starts_at": ["Must be between 1900-01-01 and 2999-12-31."],
        "ends_at": ["Must be between 1900-01-01 and 2999-12-31."],
    }
    skipped = refused({"starts_at": at(spring, "02:30"), "ends_at": at(spring, "03:30")})
    assert list(skipped) == ["starts_at"]
    assert skipped["starts_at"][0].startswith("02:30 does not exist on ")
    assert skipped["starts_at"][0].endswith("the first time after the change is 03:00 EDT.")
    twice = refused({"starts_at": at(autumn, "01:30"), "ends_at": at(autumn, "03:00")})
    assert list(twice) == ["starts_at"]
    assert twice["starts_at"][0].endswith(
        "choose 01:30 EDT (the first) or 01:30 EST (the second) in the event’s form."
    )


def test_an_event_in_the_repeated_hour_keeps_its_reading_when_resized(
    app: Flask, pbso: FlaskClient
) -> None:
    autumn = clocks_change(D, 11)
    event_id = create(
        pbso,
        interview(
            "Repeated hour Zm4101", autumn, "01:15", "01:45", starts_at_fold="1", ends_at_fold="1"
        ),
    )
    starts, ends, _, _ = as_stored(event_id)
    assert ends - starts == timedelta(minutes=30)
    response = move(pbso, event_id, starts_at=at(autumn, "01:15"), ends_at=at(autumn, "02:30"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert as_stored(event_id)[:2] == (starts, utc(autumn, "02:30"))


def test_warnings_wait_for_confirmation(
    app: Flask, pbso: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    rivera = str(user_id("det.rivera.pbso"))
    create(pbso, interview("First Zm5001", D, "09:00", "10:00", investigators=[rivera]))
    second = create(pbso, interview("Second Zm5002", D, "11:00", "12:00", investigators=[rivera]))
    before = as_stored(second)
    times = {"starts_at": at(D, "09:30"), "ends_at": at(D, "10:30")}

    response = move(pbso, second, **times)
    assert response.status_code == 400
    body = response.get_json()
    assert body["confirm"] == ["confirm_warnings"]
    first = f"“First Zm5001”, {fmt_range(utc(D, '09:00'), utc(D, '10:00'))}."
    assert sorted(body["errors"]["confirm_warnings"]) == [
        f"Luis Rivera is already booked for {first}",
        f"Marisol Delgado is already booked for {first}",
    ]
    assert as_stored(second) == before

    response = move(pbso, second, **times, confirm_warnings="y")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert as_stored(second)[:2] == (utc(D, "09:30"), utc(D, "10:30"))


@pytest.fixture
def csrf_app(app: Flask) -> Iterator[Flask]:
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


def test_a_move_needs_the_pages_csrf_token(csrf_app: Flask, pbso: FlaskClient) -> None:
    csrf_app.config["WTF_CSRF_ENABLED"] = False
    event_id = create(pbso, interview("Forged Zm6001", D, "09:00", "10:00"))
    csrf_app.config["WTF_CSRF_ENABLED"] = True
    before = as_stored(event_id)
    times = {"starts_at": at(D, "15:00"), "ends_at": at(D, "16:00")}

    for headers in ({}, {"X-CSRFToken": "not-the-token"}):
        response = pbso.post(f"/events/{event_id}/move", data=times, headers=headers)
        assert response.status_code == 400
        assert "did not come from this site" in response.get_data(as_text=True)
        assert as_stored(event_id) == before

    page = pbso.get(f"/calendar?view=week&date={D.isoformat()}")
    token = re.search(r'id="move-messages" data-csrf="([^"]+)"', page.get_data(as_text=True))
    assert token is not None
    response = pbso.post(f"/events/{event_id}/move", data=times, headers={"X-CSRFToken": token[1]})
    assert response.status_code == 200, response.get_data(as_text=True)


def block_of(page: str, event_id: int) -> str:
    """The opening tag of the event's block on the grid."""
    found = re.search(rf'<a class="ev [^"]*"\s+href="/events/{event_id}"[^>]*>', page)
    assert found, f"no block of event {event_id}"
    return found[0]


def test_only_blocks_the_viewer_may_edit_are_movable(
    app: Flask, pbso: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    room_b = str(room("Interview Room B"))
    mine = create(pbso, interview("Movable Zm7001", D, "09:00", "10:30", room_id=room_b))
    cancelled = create(pbso, interview("Cancelled Zm7002", D, "11:00", "12:00"))
    assert pbso.post(f"/events/{cancelled}/cancel", data={"reason": "No"}).status_code == 302
    overnight = create(
        pbso,
        interview("Overnight Zm7003", D, "22:00", "23:00", ends_at=at(D + timedelta(1), "01:00")),
    )
    week = f"/calendar?view=week&date={D.isoformat()}"

    page = pbso.get(week).get_data(as_text=True)
    tag = block_of(page, mine)
    assert "data-movable" in tag
    assert f'data-move="/events/{mine}/move"' in tag
    assert f'data-start="{at(D, "09:00")}" data-end="{at(D, "10:30")}"' in tag
    assert 'aria-describedby="move-help"' in tag
    assert 'id="move-help"' in page
    assert "data-movable" not in block_of(page, cancelled)
    assert "data-movable" not in block_of(page, overnight)  # cut over midnight: its form moves it

    for username in ("investigator.fbi", "admin.pbso"):
        page = login(username).get(week).get_data(as_text=True)
        if username == "investigator.fbi":
            assert "Zm7001" not in page
        tag = block_of(page, mine)
        assert "data-movable" not in tag and "data-start" not in tag, username

    day = pbso.get(f"/calendar?view=day&date={D.isoformat()}").get_data(as_text=True)
    assert "data-movable" in block_of(day, mine)
    assert "Alt+Left" not in day  # no other day to move to in the day view
    month = pbso.get(f"/calendar?view=month&date={D.isoformat()}").get_data(as_text=True)
    assert "data-movable" not in month and 'id="move-help"' not in month


def operation(title: str, day: date, start: str, end: str) -> dict[str, Any]:
    return interview(
        title,
        day,
        start,
        end,
        kind="operation",
        subtype="search_warrant",
        location_address="4700 Okeechobee Blvd, West Palm Beach, FL",
        latitude="26.7106",
        longitude="-80.1108",
    )


def test_a_move_is_deconflicted_again_and_says_so(
    app: Flask, pbso: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    create(login("investigator.fbi"), operation("FBI warrant Zm8001", D, "13:00", "15:00"))
    later = D + timedelta(days=3)
    mine = create(pbso, operation("PBSO warrant Zm8002", later, "13:00", "15:00"))

    response = move(pbso, mine, starts_at=at(later, "16:00"), ends_at=at(later, "17:00"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "deconfliction" not in response.get_json()

    response = move(pbso, mine, starts_at=at(D, "13:30"), ends_at=at(D, "14:30"))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["deconfliction"] == (
        "Deconfliction: this operation conflicts with 1 operation of another agency or case. "
        "Open the event for the point of contact to call."
    )
    assert "Zm8001" not in response.get_data(as_text=True)
