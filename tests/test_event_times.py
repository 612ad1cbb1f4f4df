"""Times in the event form: one 24-hour clock, and a time that happens twice is never guessed.

On the night the clocks go back, 01:00–01:59 happens twice: the form refuses such a time
with the two readings to choose from (the office's zone abbreviations), stores the one
chosen, and keeps it when the event is edited again. The JSON API takes the same choice
(``starts_at_fold``: 0 the first, 1 the second). Days are found from the zone's own rules,
at least 60 days ahead, so the tests hold whenever they run.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from jointops.extensions import db
from jointops.models import Event
from tests.test_event_forms import (
    fresh,
    interview,
    new_event_id,
    spring_forward_day,
    winter_day,
)

OFFICE = ZoneInfo("America/New_York")
Login = Callable[[str], FlaskClient]


def fall_back_day() -> date:
    """The next day, at least 60 days ahead, on which the office's 01:30 happens twice."""
    day = datetime.now(OFFICE).date() + timedelta(days=60)
    for _ in range(800):
        first = datetime(day.year, day.month, day.day, 1, 30, tzinfo=OFFICE, fold=0)
        if first.utcoffset() != first.replace(fold=1).utcoffset():
            return day
        day += timedelta(days=1)
    raise AssertionError("the office's zone never turns its clocks back")


def field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="{re.escape(name)}-error">(.*?)</p>', page, re.S)
    return html.unescape(found[1]) if found else ""


def events_count() -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(Event)) or 0)


def test_the_form_shows_and_reads_the_24_hour_clock(login: Login) -> None:
    client = login("investigator.pbso")
    day = winter_day()
    page = client.get(f"/events/new?start={day.isoformat()}T23:30").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="starts_at"[^>]*>', page)
    assert field is not None
    assert 'type="text"' in field[0] and f'value="{day.isoformat()} 23:30"' in field[0]
    ends = re.search(r'<input[^>]*id="ends_at"[^>]*>', page)
    assert ends is not None and f'value="{(day + timedelta(days=1)).isoformat()} 00:30"' in ends[0]

    for weeks, spelling in enumerate(("{} 14:30", "{}T14:30", " {}  14:30 ")):
        other = day + timedelta(weeks=weeks)
        typed = spelling.format(other.isoformat())
        response = client.post(
            "/events/new", data=interview(other, starts_at=typed, ends_at=f"{other} 15:45")
        )
        event = fresh(new_event_id(response))
        assert event.starts_at.astimezone(OFFICE).strftime("%H:%M") == "14:30", typed


@pytest.mark.parametrize("typed", ["2:30 PM", "14.30", "tomorrow", "2031-13-01 10:00"])
def test_a_time_not_on_the_24_hour_clock_is_refused_by_name(login: Login, typed: str) -> None:
    client = login("investigator.pbso")
    before = events_count()
    day = winter_day()
    page = client.post("/events/new", data=interview(day, starts_at=typed)).get_data(as_text=True)
    assert "24-hour time, for example" in field_error(page, "starts_at")
    assert f'value="{typed}"' in page, "the form keeps what was typed"
    assert events_count() == before


def test_a_repeated_time_is_refused_with_both_readings_to_choose(login: Login) -> None:
    client = login("investigator.pbso")
    day = fall_back_day()
    before = events_count()
    data = interview(day, starts_at=f"{day} 01:30", ends_at=f"{day} 03:00")
    response = client.post("/events/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    first, second = (
        datetime(day.year, day.month, day.day, 1, 30, tzinfo=OFFICE, fold=f).tzname()
        for f in (0, 1)
    )
    message = field_error(page, "starts_at")
    assert "happens twice" in message and f"01:30 {first}" in message
    assert f"01:30 {second}" in message
    assert 'name="starts_at_fold"' in page and 'name="ends_at_fold"' not in page
    assert events_count() == before, "nothing stored until the reading is chosen"

    for fold, offset in (("0", first), ("1", second)):
        # the second reading overlaps the first for its lead: that warning is confirmed
        answer = client.post(
            "/events/new", data=data | {"starts_at_fold": fold, "confirm_warnings": "y"}
        )
        event = fresh(new_event_id(answer))
        assert event.starts_at.astimezone(OFFICE).tzname() == offset
        # the earlier reading is an hour before the later one, in UTC
        expected = datetime(day.year, day.month, day.day, 1, 30, tzinfo=OFFICE, fold=int(fold))
        assert event.starts_at == expected.astimezone(UTC)


def test_the_chosen_reading_is_kept_when_the_event_is_edited(login: Login) -> None:
    client = login("investigator.pbso")
    day = fall_back_day()
    data = interview(day, starts_at=f"{day} 01:30", ends_at=f"{day} 03:00", starts_at_fold="1")
    event_id = new_event_id(client.post("/events/new", data=data))
    stored = fresh(event_id).starts_at

    page = client.get(f"/events/{event_id}/edit").get_data(as_text=True)
    assert '<input type="hidden" name="starts_at_fold" value="1">' in page
    edit = data | {"title": "Renamed after the clocks went back", "version": "1"}
    response = client.post(f"/events/{event_id}/edit", data=edit)
    assert response.status_code == 302, field_error(response.get_data(as_text=True), "starts_at")
    assert fresh(event_id).starts_at == stored


def test_a_skipped_time_names_the_first_time_after_the_change(login: Login) -> None:
    client = login("investigator.pbso")
    day = spring_forward_day()
    page = client.post(
        "/events/new", data=interview(day, starts_at=f"{day} 02:30", ends_at=f"{day} 04:00")
    ).get_data(as_text=True)
    message = field_error(page, "starts_at")
    assert "does not exist" in message and "the first time after the change is 03:00" in message


@pytest.mark.parametrize(("typed", "offered"), [("02:00", "03:00"), ("02:59", "03:00")])
def test_a_skipped_time_is_refused_with_the_time_after_it_to_take(
    login: Login, typed: str, offered: str
) -> None:
    client = login("investigator.pbso")
    day = spring_forward_day()
    before = events_count()
    data = interview(day, starts_at=f"{day} 01:00", ends_at=f"{day} {typed}")
    page = html.unescape(client.post("/events/new", data=data).get_data(as_text=True))
    assert f'data-take-time="ends_at" data-value="{day} {offered}"' in page
    assert 'data-take-time="starts_at"' not in page  # only the field at fault offers one
    assert events_count() == before
    taken = client.post(
        "/events/new", data=data | {"ends_at": f"{day} {offered}", "confirm_warnings": "y"}
    )
    assert taken.status_code == 302, field_error(taken.get_data(as_text=True), "ends_at")
    event = db.session.get_one(Event, new_event_id(taken))
    assert f"{event.ends_at.astimezone(OFFICE):%H:%M %Z}" == f"{offered} EDT"


def test_the_api_takes_the_same_choice(login: Login) -> None:
    client = login("investigator.pbso")
    day = fall_back_day()
    body = interview(day, starts_at=f"{day}T01:30", ends_at=f"{day}T03:00")
    refused = client.post("/api/events", json=body)
    assert refused.status_code == 400
    assert "happens twice" in " ".join(refused.get_json()["errors"]["starts_at"])
    created = client.post("/api/events", json=body | {"starts_at_fold": "1"})
    assert created.status_code == 201, created.get_json()
    event = fresh(created.get_json()["event"]["id"])
    assert event.starts_at.astimezone(OFFICE).fold == 1
