"""The calendar's agenda view (``view=agenda``) and the "Open alert" flag on its lines and on the
grid's blocks.

The agenda lists the same tiles as the grid: an event seen in full links to its page with its
times, kind, title, room and flags; a busy block is a line "Busy: <rooms>" with no link and
nothing of the event. The flag tells a viewer of an alert on an event only where the policy
would show them the alert (``auth.policy.told_of_alert_on``): never on a busy block, never to
an advocate.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from auth.policy import AlertParty, EventFacts, Viewer, told_of_alert_on
from jointops.extensions import db
from jointops.models import Alert, Event, Participant
from jointops.officetime import local_day_bounds, office_zone, today_local
from jointops.visibility import events_between
from tests.conftest import user
from tests.test_calendar_queries import (
    VIEWERS,
    counted_queries,
    crowd_week,
    far_week,
    local,
)

Login = Callable[[str], FlaskClient]

GRID_BLOCK = re.compile(r'<a class="ev [^"]*"\s+href="/events/(\d+)"[^>]*>(.*?)</a>', re.S)
AGENDA_LINK = re.compile(r'<a class="ag-ev [^"]*" href="/events/(\d+)">(.*?)</a>', re.S)
BUSY_LINE = re.compile(r'<div class="ag-ev ev ev-busy">(.*?)</div>', re.S)
DAY_HEADING = re.compile(r'<h2 class="ag-day[^"]*" id="ag-([0-9-]+)">(.*?)</h2>', re.S)
TAG = re.compile(r"<[^>]+>")


def text(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


def link_names(page: str) -> list[tuple[int, str]]:
    """Each grid block's event and its accessible name (its text)."""
    return [(int(i), text(body)) for i, body in GRID_BLOCK.findall(page)]


def agenda(client: FlaskClient, first: date, extra: str = "") -> str:
    response = client.get(f"/calendar?view=agenda&date={first.isoformat()}{extra}")
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return response.get_data(as_text=True)


def event_id(title: str) -> int:
    found = db.session.scalar(select(Event.id).where(Event.title == title))
    assert found is not None, title
    return found


@pytest.mark.parametrize("username", VIEWERS)
def test_the_agenda_lists_what_the_grid_shows_each_viewer(login: Login, username: str) -> None:
    first = far_week()
    crowd_week(first)
    client = login(username)
    page = agenda(client, first)
    start, end = local_day_bounds(first, 14)
    seen = events_between(user(username), start, end)
    linked = {int(i): text(body) for i, body in AGENDA_LINK.findall(page)}
    busy = [text(body) for body in BUSY_LINE.findall(page)]
    assert sorted(linked) == sorted(s.event.id for s in seen if s.full)
    assert len(busy) == sum(1 for s in seen if not s.full)
    for s in seen:
        if s.full:
            assert s.event.title in linked[s.event.id]
        else:
            # nothing of a busy block but its time and the rooms the viewer shares
            assert s.event.title not in page
    for line in busy:
        assert re.match(r"\d\d:\d\d–\d\d:\d\d BUSY Busy: \S", line), line
    # the grid of the same week agrees
    week = client.get(f"/calendar?view=week&date={first.isoformat()}").get_data(as_text=True)
    assert {i for i, _name in link_names(week)} == {s.event.id for s in seen}
    # one heading per day that holds something, in order, in the office's dates
    days = [d for d, _title in DAY_HEADING.findall(page)]
    assert days == [(first + timedelta(days=n)).isoformat() for n in range(7)]
    for day, heading in DAY_HEADING.findall(page):
        noon = datetime.combine(date.fromisoformat(day), time(12), tzinfo=office_zone())
        assert text(heading).endswith(f"times in {noon.tzname()}"), heading


def test_an_agenda_line_says_times_kind_title_room_and_flags(login: Login) -> None:
    first = far_week()
    pending = crowd_week(first)
    page = agenda(login("investigator.pbso"), first)
    lines = {int(i): text(body) for i, body in AGENDA_LINK.findall(page)}
    assert lines[pending].startswith("09:00–10:30 OP PBSO op 0 Not yet deconflicted")
    hsi = lines[event_id("HSI interview 2")]
    assert hsi.startswith("14:00–15:00 INT HSI interview 2 · Interview Room B Restricted"), hsi
    busy = [text(body) for body in BUSY_LINE.findall(page)]
    assert "09:30–11:00 BUSY Busy: Interview Room A" in busy[0], busy
    assert "FBI op" not in page


def test_an_event_across_midnight_is_listed_on_each_day(app: Flask, login: Login) -> None:
    first = far_week()
    crowd_week(first)
    night = db.session.get(Event, event_id("PBSO op 1"))
    assert night is not None
    night.starts_at = local(first + timedelta(days=1), "22:00")
    night.ends_at = local(first + timedelta(days=3), "03:30")
    night.bookings.clear()  # its car would be double-booked by the next days' operations
    db.session.commit()
    page = agenda(login("investigator.pbso"), first)
    times = [
        text(body).split(" OP ")[0] for i, body in AGENDA_LINK.findall(page) if int(i) == night.id
    ]
    assert times == ["from 22:00", "all day", "until 03:30"]


def test_previous_and_next_move_by_two_weeks_and_today_is_marked(login: Login) -> None:
    client = login("investigator.pbso")
    today = today_local()
    page = agenda(client, today)
    for step in (-14, 14):
        moved = (today + timedelta(days=step)).isoformat()
        assert f'href="/calendar?view=agenda&amp;date={moved}"' in page
    headings = dict(DAY_HEADING.findall(page))
    assert text(headings[today.isoformat()]).startswith("Today ")
    assert sum(text(h).startswith("Today") for h in headings.values()) == 1
    assert 'aria-current="page">Agenda</a>' in page
    # the days from the anchor, not the week's Sunday
    yesterday = (today - timedelta(days=1)).isoformat()
    assert yesterday not in headings


def test_an_empty_window_says_so(login: Login) -> None:
    empty = today_local() + timedelta(days=3000)
    page = agenda(login("investigator.pbso"), empty)
    assert "Nothing scheduled from" in page
    assert not DAY_HEADING.findall(page)


def test_the_filters_apply_to_the_agenda(login: Login) -> None:
    first = far_week()
    crowd_week(first)
    client = login("investigator.pbso")
    page = agenda(client, first, "&kind=operation")
    titles = [text(body) for _i, body in AGENDA_LINK.findall(page)]
    assert titles and all(" OP " in t for t in titles), titles
    assert not BUSY_LINE.findall(page)  # busy blocks say no kind: a kind filter drops them
    assert 'name="kind"' in page and 'value="operation" selected' in page


# --- open alerts -------------------------------------------------------------------------


def raise_alert(a: str, b: str, status: str = "open") -> Alert:
    """An alert between two events, as ``deconfliction.sync`` stores one (a < b by id)."""
    first, second = sorted(
        (db.session.get(Event, event_id(a)), db.session.get(Event, event_id(b))),
        key=lambda e: e.id if e else 0,
    )
    assert first is not None and second is not None
    alert = Alert(
        kind="event",
        score=0.9,
        strength="probable",
        explanation="near in place and time",
        status=status,
        item_a_type="event",
        item_a_id=first.id,
        item_b_type="event",
        item_b_id=second.id,
        agency_a_id=first.owner_agency_id,
        agency_b_id=second.owner_agency_id,
        starts_at=first.starts_at,
    )
    db.session.add(alert)
    db.session.commit()
    return alert


def flagged(page: str) -> set[int]:
    """The events whose grid block or agenda line says "Open alert"."""
    blocks = [(i, name) for i, name in link_names(page)]
    lines = [(int(i), text(body)) for i, body in AGENDA_LINK.findall(page)]
    busy = [text(body) for body in BUSY_LINE.findall(page)]
    assert not any("Open alert" in b for b in busy)
    return {i for i, name in blocks + lines if "Open alert" in name}


@pytest.mark.parametrize(
    ("username", "told"),
    [
        ("investigator.pbso", {"PBSO op 0"}),
        ("supervisor.pbso", {"PBSO op 0"}),
        ("det.rivera.pbso", {"PBSO op 0"}),
        ("investigator.wpbpd", {"WPBPD op 0"}),
        ("supervisor.wpbpd", {"WPBPD op 0"}),
        ("deconfliction_officer.pbso", {"PBSO op 0"}),
        ("advocate.vs", set()),  # on the operation, but never told of deconfliction
        ("investigator.fbi", set()),  # sees WPBPD's operation as a busy block only
    ],
)
def test_an_open_alert_is_flagged_to_those_who_may_see_it(
    login: Login, username: str, told: set[str]
) -> None:
    first = far_week()
    crowd_week(first)
    operation = db.session.get(Event, event_id("PBSO op 0"))
    assert operation is not None
    operation.participants.append(Participant(user_id=user("advocate.vs").id, part="advocate"))
    db.session.commit()
    raise_alert("PBSO op 0", "WPBPD op 0")
    client = login(username)
    expected = {event_id(title) for title in told}
    with counted_queries() as sent:
        week = client.get(f"/calendar?view=week&date={first.isoformat()}").get_data(as_text=True)
    assert flagged(week) == expected
    assert len(sent) <= 6, sent  # the flag is read with the window, not once per block
    assert flagged(agenda(client, first)) == expected
    start, end = local_day_bounds(first, 7)
    seen = {s.event.id: s.full for s in events_between(user(username), start, end)}
    if username == "advocate.vs":
        assert seen[operation.id] is True  # seen in full, and still not flagged
    if username == "investigator.fbi":
        assert seen[event_id("WPBPD op 0")] is False  # the busy block is there, unflagged


@pytest.mark.parametrize(("status", "shown"), [("acknowledged", True), ("resolved", False)])
def test_only_an_unresolved_alert_is_flagged(login: Login, status: str, shown: bool) -> None:
    first = far_week()
    crowd_week(first)
    raise_alert("PBSO op 0", "WPBPD op 0", status=status)
    page = agenda(login("investigator.pbso"), first)
    assert flagged(page) == ({event_id("PBSO op 0")} if shown else set())


def test_the_legend_explains_the_flag(login: Login) -> None:
    page = login("investigator.pbso").get("/calendar").get_data(as_text=True)
    legend = page.split('<ul class="legend"', 1)[1].split("</ul>", 1)[0]
    assert '<span class="ev-flag ev-alert">Open alert</span>' in legend


@pytest.mark.parametrize(
    ("viewer", "told"),
    [
        (Viewer(1, "PBSO", "local", frozenset({"investigator"})), True),
        (Viewer(2, "PBSO", "local", frozenset({"supervisor"})), True),
        (Viewer(3, "PBSO", "local", frozenset({"deconfliction_officer"})), True),
        (Viewer(4, "PBSO", "local", frozenset({"prosecutor"})), True),
        (Viewer(30, "VS", "victim_services", frozenset({"advocate"})), False),  # on it
        (Viewer(31, "VS", "victim_services", frozenset({"supervisor"})), False),  # on it
        (Viewer(10, "FBI", "federal", frozenset({"investigator"})), False),  # busy at most
    ],
)
def test_the_policy_tells_of_an_alert_on_an_item_seen_in_full(viewer: Viewer, told: bool) -> None:
    facts = EventFacts(
        kind="operation",
        sensitivity="normal",
        owner_agency_code="PBSO",
        participant_ids=frozenset({30, 31}),
        resource_agencies=(None,),
    )
    assert told_of_alert_on(viewer, AlertParty("event", "PBSO", facts)) is told


@pytest.mark.parametrize("username", VIEWERS)
def test_the_agenda_takes_no_more_queries_than_the_grid(login: Login, username: str) -> None:
    first = far_week()
    crowd_week(first)
    client = login(username)
    with counted_queries() as sent:
        agenda(client, first)
    assert len(sent) <= 6, "\n".join(sent)
