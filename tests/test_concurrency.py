"""Never double-book a room, even when 20 people try at once through 4 gunicorn workers.

The requests go over real HTTP to the app served by gunicorn (``live_server``),
each from its own signed-in session, released together by a barrier; the
database is then read directly with SQLAlchemy. Runs on SQLite (``BEGIN
IMMEDIATE``) and PostgreSQL (the exclusion constraint).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from jointops.models import Booking, Event, Resource
from tests.live_server import TIMEZONE, HttpClient, LiveServer, Reply, live_server  # noqa: F401

# The gunicorn under test runs on the machine's clock, not the test's frozen one.
pytestmark = pytest.mark.clockless

ATTEMPTS = 20
ROOM = "Interview Room B"
USER = "investigator.pbso"
ZONE = ZoneInfo(TIMEZONE)
# One live session per user is the default; here the same user signs in 20 times at once.
LIVE_SERVER_ENV = {"JOINTOPS_SESSIONS_PER_USER": str(ATTEMPTS)}


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    yield engine
    engine.dispose()


def room_id(engine: sa.Engine, name: str) -> int:
    with Session(engine) as session:
        found = session.scalar(sa.select(Resource.id).where(Resource.name == name))
    assert found is not None, name
    return found


def far_day() -> date:
    """A day 40 days ahead, clear of the demo calendar."""
    return datetime.now(ZONE).date() + timedelta(days=40)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An office wall-clock time on ``day``, aware."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def interview(
    title: str, start: datetime, end: datetime, room: int, **extra: object
) -> dict[str, Any]:
    return {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": title,
        "starts_at": f"{start:%Y-%m-%dT%H:%M}",
        "ends_at": f"{end:%Y-%m-%dT%H:%M}",
        "status": "confirmed",
        "sensitivity": "normal",
        "room_id": room,
        **extra,
    }


def signed_in(server: LiveServer) -> HttpClient:
    client = HttpClient(server.url)
    client.login(USER)
    return client


def test_concurrent_bookings_of_one_room_let_exactly_one_win(
    live_server: LiveServer,  # noqa: F811
    engine: sa.Engine,
) -> None:
    room = room_id(engine, ROOM)
    day = far_day()
    # Every window overlaps every other: starts 10:00..10:19, ends 11:00..11:19.
    windows = [(at(day, 10, i), at(day, 11, i)) for i in range(ATTEMPTS)]
    barrier = threading.Barrier(ATTEMPTS, timeout=60)
    # Each thread its own session, through the login form, one after another: sign-in lets
    # only a few attempts of one account reach the directory at once (the lockout's count).
    clients = [signed_in(live_server) for _ in range(ATTEMPTS)]

    def attempt(i: int) -> Reply:
        client = clients[i]
        start, end = windows[i]
        # The same lead in all 20: confirm the "person double-booked" warning so
        # that only the room decides.
        payload = interview(f"Race {i:02d}", start, end, room, confirm_warnings=True)
        barrier.wait()
        return client.post_json("/api/events", payload)

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        replies = list(pool.map(attempt, range(ATTEMPTS)))

    statuses = sorted(r.status for r in replies)
    assert statuses == [201] + [409] * (ATTEMPTS - 1), [(r.status, r.text[:300]) for r in replies]
    winner_index = next(i for i, r in enumerate(replies) if r.status == 201)
    winner = replies[winner_index].json()["event"]
    start, end = windows[winner_index]
    assert winner["title"] == f"Race {winner_index:02d}"
    assert datetime.fromisoformat(winner["starts_at"]) == start
    assert winner["rooms"] == [ROOM]

    # Each loser is told which room and the winner's time, in office time.
    for reply in replies:
        if reply.status == 201:
            continue
        body = reply.json()
        assert body["field"] == "room_id"
        assert ROOM in body["error"], body
        assert f"{start:%d %b %Y}" in body["error"], body
        assert f"{start:%H:%M}–{end:%H:%M}" in body["error"], body

    window_start, window_end = at(day, 0), at(day + timedelta(days=1), 0)
    with Session(engine) as session:
        bookings = session.scalars(
            sa.select(Booking).where(
                Booking.resource_id == room,
                Booking.active.is_(True),
                Booking.starts_at < window_end,
                Booking.ends_at > window_start,
            )
        ).all()
        races = session.scalars(sa.select(Event).where(Event.title.like("Race %"))).all()
        assert len(bookings) == 1, [(b.event_id, b.starts_at) for b in bookings]
        assert bookings[0].event_id == winner["id"]
        assert (bookings[0].starts_at, bookings[0].ends_at) == (
            start.astimezone(UTC),
            end.astimezone(UTC),
        )
        # The losers left nothing behind: no event without its room either.
        assert [e.id for e in races] == [winner["id"]]


def test_back_to_back_bookings_of_one_room_both_succeed(
    live_server: LiveServer,  # noqa: F811
    engine: sa.Engine,
) -> None:
    room = room_id(engine, ROOM)
    day = far_day()
    first, second = signed_in(live_server), signed_in(live_server)
    # Not confirmed: touching windows must not even warn that the lead is double-booked.
    a = first.post_json("/api/events", interview("First", at(day, 9), at(day, 10), room))
    b = second.post_json("/api/events", interview("Second", at(day, 10), at(day, 11), room))
    assert (a.status, b.status) == (201, 201), (a.text[:500], b.text[:500])

    with Session(engine) as session:
        windows = session.execute(
            sa.select(Booking.starts_at, Booking.ends_at)
            .where(Booking.resource_id == room, Booking.active.is_(True))
            .where(Booking.starts_at >= at(day, 0), Booking.starts_at < at(day, 23))
            .order_by(Booking.starts_at)
        ).all()
    assert [tuple(w) for w in windows] == [
        (at(day, 9).astimezone(UTC), at(day, 10).astimezone(UTC)),
        (at(day, 10).astimezone(UTC), at(day, 11).astimezone(UTC)),
    ]
