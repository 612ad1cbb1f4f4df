"""Database outages: 503 with Retry-After, never 500, and a committed save is never a failure.

Each test runs the app on a private PostgreSQL server (``tests.private_postgres``: ``initdb``
in a temporary directory, a free port) that it stops and starts, so other tests keep their
server. The faults are real: ``pg_ctl stop -m fast`` cuts every connection, at a moment the
test chooses by a SQLAlchemy event (right after a save's commit, or after a request's first
query).
"""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from jointops import create_app
from jointops.extensions import db
from jointops.jobs.tasks.deconfliction_sweep import sweep
from jointops.models import Booking, Event, PendingCheck, Resource, utcnow
from tests.alert_helpers import far_day, local
from tests.conftest import BACKENDS, IsolatedClient, base_config, migrate_and_seed, need
from tests.live_server import HttpClient, LiveServer
from tests.private_postgres import PrivatePostgres, find_bin_dir

pytestmark = pytest.mark.slow

Login = Callable[[str], FlaskClient]
UNAVAILABLE = "The database is unavailable"


class Outage:
    """The private server and the URL of the test's own database on it."""

    def __init__(self, server: PrivatePostgres, url: str) -> None:
        self.server = server
        self.url = url


@pytest.fixture(scope="module")
def private_server() -> Iterator[tuple[PrivatePostgres, str]]:
    if "postgresql" not in BACKENDS:
        pytest.skip("JOINTOPS_TEST_BACKENDS leaves PostgreSQL out")
    need(find_bin_dir() is not None, "PostgreSQL's initdb is not installed (postgresql package)")
    with PrivatePostgres() as server:
        template = server.create_database()
        migrate_and_seed(server.database_url(template))
        yield server, template


@pytest.fixture
def outage(private_server: tuple[PrivatePostgres, str]) -> Iterator[Outage]:
    server, template = private_server
    if not server.is_running():  # an earlier test failed with the server down
        server.start()
    yield Outage(server, server.database_url(server.create_database(template=template)))
    if not server.is_running():
        server.start()


@pytest.fixture
def app(outage: Outage) -> Iterator[Flask]:
    """The app on this test's database of the private server (overrides conftest's ``app``,
    so that ``login`` signs in here)."""
    app = create_app(base_config(outage.url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def idle() -> None:
    """The test's own session lets go of its connection, as a request's does when it ends."""
    db.session.rollback()


def room_id(name: str = "Interview Room B") -> int:
    found = db.session.scalar(select(Resource.id).where(Resource.name == name))
    assert found is not None, name
    return found


def operation_with_room(title: str, room: int, offset: int) -> dict[str, Any]:
    day = far_day(offset)
    return {
        "kind": "operation",
        "subtype": "search_warrant",
        "title": title,
        "starts_at": local(day, "09:00"),
        "ends_at": local(day, "11:00"),
        "status": "planned",
        "sensitivity": "normal",
        "location_address": "100 Test Way, Lake Worth, FL",
        "latitude": "26.6000",
        "longitude": "-80.2000",
        "room_id": str(room),
        "confirm_warnings": "y",
    }


def as_json(form: dict[str, Any]) -> dict[str, Any]:
    return form | {
        "latitude": float(form["latitude"]),
        "longitude": float(form["longitude"]),
        "room_id": int(form["room_id"]),
        "confirm_warnings": True,
    }


def events_titled(title: str) -> list[Event]:
    idle()
    return list(db.session.scalars(select(Event).where(Event.title == title)))


def assert_unavailable_json(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/json"
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == 503 and body["error"].startswith(UNAVAILABLE)
    assert set(body) == {"error", "status"}  # nothing of the server, the query or the driver


def test_while_the_database_is_down_api_and_pages_answer_503_and_then_recover(
    app: Flask, login: Login, outage: Outage
) -> None:
    client = login("investigator.pbso")
    assert client.get("/api/events").status_code == 200
    room = room_id()
    title = "Outage: refused while down"
    idle()

    outage.server.stop()
    assert_unavailable_json(client.get("/api/events"))
    assert_unavailable_json(
        client.post("/api/events", json=as_json(operation_with_room(title, room, 3)))
    )
    page = client.get("/calendar")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert page.headers["Retry-After"] == "5"
    text = page.get_data(as_text=True)
    assert UNAVAILABLE in text and "Traceback" not in text and "psycopg" not in text
    form = client.post("/events/new", data=operation_with_room(title, room, 3))
    assert form.status_code == 503
    assert app.test_client().get("/login").status_code in (200, 503)  # never a 500

    outage.server.start()
    # the same app and pool, nothing restarted: stale connections are replaced before use
    assert client.get("/api/events").status_code == 200
    assert client.get("/calendar").status_code == 200
    assert events_titled(title) == []  # what was refused changed nothing


@pytest.fixture
def stop_after_save(outage: Outage) -> Iterator[None]:
    """Stops the server as soon as a transaction that wrote an event has committed: the
    deconfliction check and everything after the commit then find the database gone."""

    def flushed(session: Session, _context: Any) -> None:
        if any(isinstance(o, Event) for o in [*session.new, *session.dirty]):
            session.info["test.wrote_event"] = True

    def committed(session: Session) -> None:
        if session.info.pop("test.wrote_event", False):
            outage.server.stop()

    event.listen(Session, "after_flush", flushed)
    event.listen(Session, "after_commit", committed)
    yield
    event.remove(Session, "after_commit", committed)
    event.remove(Session, "after_flush", flushed)


def assert_saved_and_left_pending(title: str, room: int) -> int:
    (saved,) = events_titled(title)
    booking = db.session.scalar(select(Booking).where(Booking.event_id == saved.id))
    assert booking is not None and booking.active and booking.resource_id == room
    pending = db.session.get(PendingCheck, ("event", saved.id))
    assert pending is not None, "the check that could not run is left for the sweep"
    return saved.id


@pytest.mark.usefixtures("stop_after_save")
def test_an_api_save_committed_before_the_database_went_is_answered_201(
    app: Flask, login: Login, outage: Outage
) -> None:
    client = login("investigator.pbso")
    room = room_id()
    title = "Outage: API save committed"
    form = operation_with_room(title, room, 5)

    response = client.post("/api/events", json=as_json(form))

    assert not outage.server.is_running()  # the fault happened, after the commit
    assert response.status_code == 201, response.get_data(as_text=True)[:3000]
    body = response.get_json()["event"]
    assert body["title"] == title and body["rooms"] == ["Interview Room B"]
    assert body["owner_agency"] == "PBSO" and body["version"] == 1

    outage.server.start()
    saved_id = assert_saved_and_left_pending(title, room)
    assert body["id"] == saved_id
    swept = sweep(utcnow() + timedelta(hours=2))  # past the check's grace and back-off
    assert swept["checked"] >= 1, swept
    idle()
    assert db.session.get(PendingCheck, ("event", saved_id)) is None  # checked by the sweep


@pytest.mark.usefixtures("stop_after_save")
def test_a_form_save_committed_before_the_database_went_redirects_to_the_event(
    app: Flask, login: Login, outage: Outage
) -> None:
    client = login("investigator.pbso")
    room = room_id()
    title = "Outage: form save committed"

    response = client.post("/events/new", data=operation_with_room(title, room, 7))

    assert not outage.server.is_running()
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    found = re.fullmatch(r"/events/(\d+)", response.headers["Location"])
    assert found is not None, response.headers["Location"]
    outage.server.start()
    assert int(found[1]) == assert_saved_and_left_pending(title, room)
    shown = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert f"Saved “{title}”." in shown


@pytest.mark.usefixtures("stop_after_save")
def test_a_cancel_committed_before_the_database_went_redirects_to_the_event(
    app: Flask, login: Login, outage: Outage
) -> None:
    client = login("investigator.pbso")
    room = room_id()
    title = "Outage: cancelled"
    made = client.post("/api/events", json=as_json(operation_with_room(title, room, 9)))
    assert made.status_code == 201 and not outage.server.is_running()
    outage.server.start()
    event_id = made.get_json()["event"]["id"]

    response = client.post(f"/events/{event_id}/cancel", data={"reason": "Target moved away"})

    assert not outage.server.is_running()
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"] == f"/events/{event_id}"
    outage.server.start()
    (cancelled,) = events_titled(title)
    assert cancelled.status == "cancelled"


def test_a_request_cut_off_mid_way_answers_503_and_recovers(
    app: Flask, login: Login, outage: Outage
) -> None:
    """The server goes while the request holds a transaction: its later queries fail."""
    client = login("investigator.pbso")
    idle()
    cut = {"done": False}

    def after_first_query(_conn: Connection, *_args: Any) -> None:
        if not cut["done"]:
            cut["done"] = True
            outage.server.stop()

    event.listen(db.engine, "after_cursor_execute", after_first_query)
    try:
        response = client.get("/api/events")
    finally:
        event.remove(db.engine, "after_cursor_execute", after_first_query)
    assert cut["done"]
    assert_unavailable_json(response)

    outage.server.start()
    assert client.get("/api/events").status_code == 200


def test_a_database_lost_after_the_answer_is_made_leaves_the_answer_alone(
    app: Flask, login: Login, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    """The server goes once the answer is made, while the request still holds its read
    transaction: ending the session (a rollback on the dead connection) fails, and must not
    escape the app. Under gunicorn it would replace the answer with gunicorn's own error page;
    here the test client would raise."""
    client = login("investigator.pbso")
    idle()

    @app.after_request
    def database_goes(response: Response) -> Response:
        if request.path == "/api/events":
            outage.server.stop()
        return response

    response = client.get("/api/events")

    assert not outage.server.is_running()
    assert response.status_code == 200 and "events" in response.get_json()
    assert "ending a request's database session failed" in caplog.text
    outage.server.start()
    assert client.get("/api/events").status_code == 200


def test_under_gunicorn_an_outage_is_503_json_and_the_workers_recover(
    outage: Outage, tmp_path: Path
) -> None:
    """Production's server: no worker answers 500 or gunicorn's own error page."""
    with LiveServer(outage.url, tmp_path / "gunicorn.log", workers=2) as live:
        browser = HttpClient(live.url)
        browser.login("investigator.pbso")
        assert browser.get("/api/events").status == 200

        outage.server.stop()
        for _ in range(4):  # more requests than workers: each worker meets the outage
            status, headers, body = fetch(live.url + "/api/events", browser)
            assert status == 503, body[:2000]
            assert headers["Retry-After"] == "5"
            assert json.loads(body)["error"].startswith(UNAVAILABLE)
        page = browser.get("/calendar")
        assert page.status == 503 and UNAVAILABLE in page.text

        outage.server.start()
        for _ in range(4):
            assert browser.get("/api/events").status == 200


def fetch(url: str, client: HttpClient) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a GET with ``client``'s cookies (``HttpClient`` keeps no
    headers)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(client.cookies))
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()
