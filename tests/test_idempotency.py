"""``Idempotency-Key`` on creates: a booking whose COMMIT's answer was lost, retried with its
key, answers the saved event instead of 409 against itself, and nothing is saved twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from jointops import idempotency
from jointops.extensions import db
from jointops.jobs.tasks.retention import apply_retention
from jointops.models import Event, IdempotentRequest, utcnow
from tests.alert_helpers import far_day
from tests.conftest import own_investigator
from tests.test_api_v1 import Api, operation
from tests.test_database_outage import room_id
from tests.test_recurring import BEFORE, own_room, series_stored
from tests.test_recurring_api import WEEKLY, meeting

Login = Callable[[str], FlaskClient]
KEY = "5d0c7a4e-9b1f-4c1e-8f00-2a6b1d3c9e77"


def booking(title: str, offset: int = 3, room: bool = True) -> dict[str, Any]:
    """A v1 search warrant 70+ days ahead, in the demo's Interview Room B unless ``room`` is
    false (then two of them never clash)."""
    body = operation(far_day(offset), title=title)
    if room:
        body["room_id"] = room_id()
    return body


def saved(title: str) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count(Event.id)).where(Event.title == title)) or 0)


def keyed(key: str = KEY) -> dict[str, str]:
    return {idempotency.HEADER: key}


@pytest.fixture
def answer_lost_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The next transaction that writes an event commits, then its answer is lost: the
    driver raises as when the connection drops after the server committed."""
    real_commit = Session.commit
    lost: list[bool] = []

    def flushed(session: Session, _context: Any) -> None:
        if any(isinstance(o, Event) for o in session.new):
            session.info["test.wrote_event"] = True

    def commit(session: Session) -> None:
        wrote = session.info.pop("test.wrote_event", False)
        real_commit(session)
        if wrote and not lost:
            lost.append(True)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    event.listen(Session, "after_flush", flushed)
    monkeypatch.setattr(Session, "commit", commit)
    yield
    event.remove(Session, "after_flush", flushed)
    assert lost, "no answer was lost"


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/events"])
def test_a_create_whose_answer_was_lost_is_answered_again_by_its_key(
    app: Flask, login: Login, answer_lost_once: None, path: str
) -> None:
    client = login("investigator.pbso")
    title = "Idempotent: answer lost"
    body = booking(title)

    lost = client.post(path, json=body, headers=keyed())
    assert lost.status_code == 503, lost.get_data(as_text=True)[:2000]
    assert saved(title) == 1  # committed all the same

    again = client.post(path, json=body, headers=keyed())
    assert again.status_code == 201, again.get_data(as_text=True)[:2000]
    assert again.headers[idempotency.REPLAYED] == "true"
    event_json = again.get_json()["event"]
    assert event_json["title"] == title and event_json["rooms"] == ["Interview Room B"]
    assert saved(title) == 1

    # without its key the retry is another booking of the same room: refused against itself
    assert client.post(path, json=body).status_code == 409
    assert saved(title) == 1


def test_the_first_answer_and_its_replay_agree(app: Flask, login: Login) -> None:
    client = login("investigator.pbso")
    body = booking("Idempotent: replay agrees")
    first = client.post("/api/v1/events", json=body, headers=keyed())
    assert first.status_code == 201 and idempotency.REPLAYED not in first.headers
    # the same request, its names in another order and spaced otherwise
    reordered = dict(reversed(list(body.items())))
    again = client.post("/api/v1/events", json=reordered, headers=keyed())
    assert again.status_code == 201 and again.headers[idempotency.REPLAYED] == "true"
    assert again.get_json() == first.get_json()
    assert saved("Idempotent: replay agrees") == 1


def test_a_key_names_one_request(app: Flask, login: Login) -> None:
    client = login("investigator.pbso")
    first = client.post("/api/v1/events", json=booking("Idempotent: one"), headers=keyed())
    assert first.status_code == 201
    other = client.post(
        "/api/v1/events", json=booking("Idempotent: other", offset=9), headers=keyed()
    )
    assert other.status_code == 422
    assert list(other.get_json()["errors"]) == [idempotency.HEADER]
    assert saved("Idempotent: other") == 0


def test_keys_are_each_users_own(app: Flask, login: Login) -> None:
    pbso, fbi = login("investigator.pbso"), login("investigator.fbi")
    mine = booking("Idempotent: PBSO's", room=False)
    theirs = booking("Idempotent: FBI's", room=False) | {"latitude": 26.9, "longitude": -80.1}
    assert pbso.post("/api/v1/events", json=mine, headers=keyed()).status_code == 201
    answer = fbi.post("/api/v1/events", json=theirs, headers=keyed())
    assert answer.status_code == 201, answer.get_data(as_text=True)[:2000]
    assert idempotency.REPLAYED not in answer.headers  # nothing of PBSO's request shows
    assert answer.get_json()["event"]["title"] == "Idempotent: FBI's"


@pytest.mark.parametrize("key", ["", " ", "a b", "x" * 256, "clé", "tab\there"])
def test_a_malformed_key_is_refused_naming_the_header_and_saves_nothing(
    app: Flask, login: Login, key: str
) -> None:
    client = login("investigator.pbso")
    answer = client.post("/api/v1/events", json=booking("Idempotent: bad key"), headers=keyed(key))
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]) == [idempotency.HEADER]
    assert saved("Idempotent: bad key") == 0


def test_a_race_between_two_requests_with_one_key_saves_once(
    app: Flask, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second request looked its key up before the first committed: its own save then
    fails on the key (no room to refuse it first) and it answers the first's event."""
    client = login("investigator.pbso")
    body = booking("Idempotent: race", room=False)
    first = client.post("/api/v1/events", json=body, headers=keyed())
    assert first.status_code == 201
    real = idempotency._stored
    looked = iter([None])
    monkeypatch.setattr(idempotency, "_stored", lambda asked: next(looked, real(asked)))
    second = client.post("/api/v1/events", json=body, headers=keyed())
    assert second.status_code == 201, second.get_data(as_text=True)[:2000]
    assert second.headers[idempotency.REPLAYED] == "true"
    assert second.get_json()["event"]["id"] == first.get_json()["event"]["id"]
    assert saved("Idempotent: race") == 1


def test_a_race_refused_by_the_room_answers_the_first_save(
    app: Flask, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = login("investigator.pbso")
    body = booking("Idempotent: room race")
    first = client.post("/api/v1/events", json=body, headers=keyed())
    real = idempotency._stored
    looked = iter([None])
    monkeypatch.setattr(idempotency, "_stored", lambda asked: next(looked, real(asked)))
    second = client.post("/api/v1/events", json=body, headers=keyed())
    assert second.status_code == 201, second.get_data(as_text=True)[:2000]
    assert second.headers[idempotency.REPLAYED] == "true"
    assert second.get_json()["event"]["id"] == first.get_json()["event"]["id"]


def test_keys_are_kept_a_day_then_purged(app: Flask, login: Login) -> None:
    client = login("investigator.pbso")
    body = booking("Idempotent: kept a day", room=False)
    assert client.post("/api/v1/events", json=body, headers=keyed()).status_code == 201
    db.session.execute(  # a day and a minute later
        update(IdempotentRequest).values(
            created_at=utcnow() - timedelta(hours=idempotency.KEEP_HOURS, minutes=1)
        )
    )
    db.session.commit()
    # past its day, before the purge: the key is free again, its old row replaced
    again = client.post("/api/v1/events", json=body, headers=keyed())
    assert again.status_code == 201 and idempotency.REPLAYED not in again.headers
    assert saved("Idempotent: kept a day") == 2
    assert apply_retention(utcnow())["purged_idempotency_keys"] == 0
    later = utcnow() + timedelta(hours=idempotency.KEEP_HOURS, minutes=1)
    assert apply_retention(later)["purged_idempotency_keys"] == 1
    assert db.session.scalar(select(func.count(IdempotentRequest.id))) == 0


def test_the_document_offers_the_header_on_creates_only(app: Flask, client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    offered = {
        (path, method)
        for path, item in paths.items()
        for method, op in item.items()
        if any(p["name"] == idempotency.HEADER for p in op.get("parameters", []))
    }
    assert offered == {("/api/v1/events", "post")}


def test_a_repeated_create_is_answered_again_with_its_series(
    app: Flask, answer_lost_once: None
) -> None:
    with time_machine.travel(BEFORE, tick=False):
        lead = own_investigator("PBSO")
        room = own_room("Idempotent series room")
        client = Api(app.test_client(), lead.username)
        body = meeting(room.id, repeat=WEEKLY)
        client.headers |= keyed()
        assert client.post("/api/v1/events", body).status_code == 503
        again = client.post("/api/v1/events", body)
        assert again.status_code == 201, again.get_json()
        assert again.headers[idempotency.REPLAYED] == "true"
        answer = again.get_json()
        assert answer["series"]["rule"] == "Weekly on Tuesday, 4 times"
        assert len(answer["series"]["starts"]) == 4
        db.session.rollback()
        assert series_stored() == 1
