"""The calendar page reads what it shows in at most six queries, however many events it holds.

A query count is deterministic, unlike a timing, so it is held here (timings are in
``bench/pages.py``). Counted is every statement the app sends through SQLAlchemy while the
page is served, from the session check to the header's badge, less transaction control:
SQLite's ``BEGIN`` is sent by the app (``transactions.tune_sqlite``) where psycopg begins
PostgreSQL's transactions itself, so the same page counts the same on both.

The page's events come from ``jointops.events.calendar_data``, which must agree with
``visibility.events_between`` (the policy's reader) on what each viewer sees.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from auth.policy import EventFacts, Visibility
from jointops.catalog import KIND_LABELS
from jointops.events.calendar_data import filter_choices, window
from jointops.events.grid import week_start
from jointops.extensions import db
from jointops.models import Agency, Booking, Event, Participant, PendingCheck, Resource, utcnow
from jointops.officetime import local_day_bounds, office_zone, today_local
from jointops.visibility import events_between, facts_of, shared_resources
from tests.conftest import user

Login = Callable[[str], FlaskClient]

MAX_QUERIES = 6
VIEWS = ("day", "week", "month")
VIEWERS = ("investigator.pbso", "advocate.vs", "supervisor.pbso", "deconfliction_officer.pbso")
TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)
COUNTS = re.compile(r'<p class="counts"[^>]*>(\d+) events?(?:, (\d+) busy blocks?)?</p>')


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    """The statements sent while the block runs, transaction control left out."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not TRANSACTION_CONTROL.match(statement):
            sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def page_queries(client: FlaskClient, view: str, day: date) -> tuple[str, list[str]]:
    with counted_queries() as sent:
        response = client.get(f"/calendar?view={view}&date={day.isoformat()}")
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return response.get_data(as_text=True), sent


def budget_message(view: str, sent: list[str]) -> str:
    listing = "\n".join(f"  {s[:160]}" for s in sent)
    return f"{view} view: {len(sent)} queries (at most {MAX_QUERIES}):\n{listing}"


@pytest.mark.parametrize("username", VIEWERS)
def test_the_demo_calendar_takes_at_most_six_queries(
    app: Flask, login: Login, username: str
) -> None:
    client = login(username)
    for view in VIEWS:
        _page, sent = page_queries(client, view, today_local())
        assert len(sent) <= MAX_QUERIES, budget_message(view, sent)


# A week of our own, far from the demo's, crowded with every kind of event.
CROWDED = [
    # title, agency, kind, sensitivity, local start and end, participants, resources
    ("PBSO op", "PBSO", "operation", "normal", "09:00", "10:30",
     ("investigator.pbso", "det.rivera.pbso"), ("Unmarked Sedan PB-14",)),
    ("FBI op", "FBI", "operation", "covert", "09:30", "11:00",
     ("investigator.fbi", "agent.chen.fbi"), ("Surveillance Van SV-2", "Interview Room A")),
    ("VS appt", "VS", "appointment", "normal", "11:00", "12:00",
     ("advocate.vs",), ("Soft Interview Room (observation)",)),
    ("HSI interview", "HSI", "interview", "restricted", "14:00", "15:00",
     ("investigator.hsi", "investigator.pbso"), ("Interview Room B",)),
    ("WPBPD op", "WPBPD", "operation", "normal", "16:00", "17:00",
     ("investigator.wpbpd",), ("Conference Room",)),
]  # fmt: skip


def local(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=office_zone())


def crowd_week(first: date) -> int:
    """Five events a day for the week from ``first``; returns the id of one awaiting its check."""
    agencies = {a.code: a.id for a in db.session.scalars(select(Agency))}
    resources = {r.name: r.id for r in db.session.scalars(select(Resource))}
    made: list[Event] = []
    for offset in range(7):
        day = first + timedelta(days=offset)
        for title, agency, kind, sensitivity, begins, ends, people, held in CROWDED:
            starts_at, ends_at = local(day, begins), local(day, ends)
            made.append(
                Event(
                    kind=kind,
                    subtype={"operation": "arrest", "interview": "witness_interview"}.get(
                        kind, "medical"
                    ),
                    title=f"{title} {offset}",
                    owner_agency_id=agencies[agency],
                    lead_id=user(people[0]).id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    status="confirmed",
                    sensitivity=sensitivity,
                    participants=[
                        Participant(user_id=user(p).id, part="lead" if i == 0 else "investigator")
                        for i, p in enumerate(people)
                    ],
                    bookings=[
                        Booking(resource_id=resources[r], starts_at=starts_at, ends_at=ends_at)
                        for r in held
                    ],
                )
            )
    db.session.add_all(made)
    db.session.flush()
    pending = made[0]
    now = utcnow()
    db.session.add(
        PendingCheck(item_type="event", item_id=pending.id, since=now, next_attempt_at=now)
    )
    db.session.commit()
    return pending.id


def far_week() -> date:
    return week_start(today_local() + timedelta(days=400))


def seen_by_policy(username: str, first: date, days: int) -> list[tuple[int, Visibility]]:
    start, end = local_day_bounds(first, days)
    return [(s.event.id, s.visibility) for s in events_between(user(username), start, end)]


@pytest.mark.parametrize("username", VIEWERS)
def test_the_calendar_reads_what_the_policy_lets_each_viewer_see(app: Flask, username: str) -> None:
    first = far_week()
    crowd_week(first)
    start, end = local_day_bounds(first, 7)
    db.session.expire_all()
    read = window(filter_choices(user(username)), start, end)
    shown = [(s.event.id, s.visibility) for s in read]
    assert shown == seen_by_policy(username, first, 7)
    assert len(shown) >= 7  # every viewer sees something of the crowded week
    # the page reads rows, not mapped events: the policy's facts of each are the same
    events = {
        e.id: e
        for e in db.session.scalars(select(Event).where(Event.id.in_([s.event.id for s in read])))
    }
    assert [unordered(s.facts) for s in read] == [
        unordered(facts_of(events[s.event.id])) for s in read
    ]


def unordered(facts: EventFacts) -> EventFacts:
    """The facts with their bookings' agencies in one order (a collection's has none)."""
    return replace(facts, resource_agencies=tuple(sorted(facts.resource_agencies, key=str)))


@pytest.mark.parametrize("username", VIEWERS)
def test_a_crowded_calendar_takes_no_more_queries(app: Flask, login: Login, username: str) -> None:
    first = far_week()
    pending = crowd_week(first)
    client = login(username)
    for view, days in (("day", 1), ("week", 7)):
        page, sent = page_queries(client, view, first)
        assert len(sent) <= MAX_QUERIES, budget_message(view, sent)
        seen = seen_by_policy(username, first, days)
        counts = COUNTS.search(page)
        assert counts is not None, page[:2000]
        full = sum(1 for _, v in seen if v is Visibility.FULL)
        assert (int(counts[1]), int(counts[2] or 0)) == (full, len(seen) - full)
    _page, sent = page_queries(client, "month", first)
    assert len(sent) <= MAX_QUERIES, budget_message("month", sent)

    page, _sent = page_queries(client, "week", first)
    names = [name for _id, name in link_names(page)]
    flagged = [n for n in names if "PBSO op 0" in n and "Not yet deconflicted" in n]
    sees_it = (pending, Visibility.FULL) in seen_by_policy(username, first, 7)
    assert len(flagged) == (1 if sees_it else 0), names
    assert sum("Not yet deconflicted" in n for n in names) == (1 if sees_it else 0)


#: a block's link, whatever it carries after its address (a movable one its times)
BLOCK = re.compile(r'<a class="ev [^"]*"\s+href="/events/(\d+)"[^>]*>(.*?)</a>', re.S)
TAG = re.compile(r"<[^>]+>")
ROOM = re.compile(r'<span class="ev-room">([^<]*)</span>')


def link_names(page: str) -> list[tuple[int, str]]:
    """Each block's link and its accessible name: its text, screen-reader words included."""
    return [
        (int(event_id), " ".join(html.unescape(TAG.sub(" ", body)).split()))
        for event_id, body in BLOCK.findall(page)
    ]


@pytest.mark.parametrize("username", VIEWERS)
def test_each_block_says_what_the_viewer_may_know(login: Login, username: str) -> None:
    """The blocks worked out once per page say what ``visibility`` tells each viewer: an event
    seen in full by its kind, title and room; a busy block by its time and only the resources
    the viewer shares (``visibility.shared_resources``, the per-event rule). A block's link
    is named by its text (WCAG 2.5.3), so the name is what is checked."""
    first = far_week()
    crowd_week(first)
    page, _sent = page_queries(login(username), "week", first)
    labels = dict(link_names(page))
    rooms = {int(event_id): ROOM.findall(body) for event_id, body in BLOCK.findall(page)}
    start, end = local_day_bounds(first, 7)
    viewer = user(username)
    seen = events_between(viewer, start, end)
    assert sorted(labels) == sorted(s.event.id for s in seen)
    for s in seen:
        event, label = s.event, labels[s.event.id]
        if s.full:
            assert event.title in label and f", {KIND_LABELS[event.kind]}, " in label, label
            assert rooms[event.id] == ([event.room.name] if event.room else []), label
        else:
            shared = sorted(r.name for r in shared_resources(viewer, event))
            assert label.startswith("BUSY Busy "), label
            assert sorted(html.unescape(r) for r in rooms[event.id]) == shared, label
            assert event.title not in label


def test_a_title_is_escaped_in_its_block_and_label(app: Flask, login: Login) -> None:
    first = far_week()
    crowd_week(first)
    event = db.session.scalar(select(Event).where(Event.title == "PBSO op 0"))
    assert event is not None
    event.title = '<b>"Ops" & co</b>'
    db.session.commit()
    page, _sent = page_queries(login("investigator.pbso"), "week", first)
    assert "<b>" not in page
    assert '<span class="ev-title">&lt;b&gt;&#34;Ops&#34; &amp; co&lt;/b&gt;</span>' in page
