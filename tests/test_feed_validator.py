"""The feeds' cheap validator: a revalidation reads no event, yet every change is seen.

For each kind of change a feed depends on, a subscriber's ``ETag`` changes, and
a revalidation after it (no further change) is a ``304`` answered without
reading the events table. On SQLite and PostgreSQL, like every database test.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, event, select, update

from jointops.events.service import cancel_event
from jointops.extensions import db
from jointops.feeds import tokens as feed_tokens
from jointops.feeds import validator
from jointops.models import (
    Agency,
    Event,
    FeedGeneration,
    FeedSnapshot,
    FeedToken,
    Participant,
    utcnow,
)
from jointops.transactions import unit_of_work
from tests.test_feeds import edit, fetch, own_room, plan, subscribe, user
from tests.test_feeds import room as find_room

SUBSCRIBER = "investigator.fbi"
READS_EVENTS = re.compile(r"\bevents\b", re.IGNORECASE)


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL the app sends while the block runs."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def revalidated_without_reading_events(client: FlaskClient, secret: str, etag: str) -> None:
    with statements() as sent:
        response = fetch(client, secret, **{"If-None-Match": etag})
    assert response.status_code == 304 and response.headers["ETag"] == etag
    assert sent and not [s for s in sent if READS_EVENTS.search(s)], sent


def served_without_reading_events(client: FlaskClient, secret: str, body: bytes) -> None:
    """A whole fetch of an unchanged feed: the kept body, as served before."""
    with statements() as sent:
        response = fetch(client, secret)
    assert response.status_code == 200 and response.data == body
    assert not [s for s in sent if READS_EVENTS.search(s)], sent


@dataclass
class Scene:
    """What a change acts on: the subscriber's feed, and events made before its first fetch."""

    app: Flask
    secret: str
    mine: Event
    theirs: Event
    with_me: Event
    extra: dict[str, Any] = field(default_factory=dict)


def committed(change: Callable[[], object]) -> None:
    with unit_of_work():
        change()


def _add(scene: Scene) -> None:
    plan(SUBSCRIBER, "interview", "witness_interview", timedelta(days=3))


def _edit(scene: Scene) -> None:
    edit(scene.mine, SUBSCRIBER, ends_at=scene.mine.ends_at + timedelta(minutes=30))


def _cancel(scene: Scene) -> None:
    cancel_event(scene.mine, user(SUBSCRIBER), "test")


def _delete_in_bulk(scene: Scene) -> None:
    """As a retention purge would: a bulk ``DELETE`` (its people and bookings cascade)."""
    event_id = scene.mine.id
    committed(lambda: db.session.execute(delete(Event).where(Event.id == event_id)))


def _delete_one(scene: Scene) -> None:
    committed(lambda: db.session.delete(db.session.get_one(Event, scene.mine.id)))


def _join(scene: Scene) -> None:
    """The subscriber is added to another agency's interview: it enters their feed."""
    participants = [(p.user_id, p.part) for p in scene.theirs.participants]
    edit(
        scene.theirs,
        "investigator.wpbpd",
        participants=[*participants, (user(SUBSCRIBER).id, "investigator")],
    )


def _leave(scene: Scene) -> None:
    """The subscriber is taken off another agency's interview: it leaves their feed."""
    keep = [
        (p.user_id, p.part) for p in scene.with_me.participants if p.user.username != SUBSCRIBER
    ]
    edit(scene.with_me, "investigator.wpbpd", participants=keep)


def _leave_in_bulk(scene: Scene) -> None:
    subscriber_id = user(SUBSCRIBER).id
    committed(
        lambda: db.session.execute(
            delete(Participant).where(
                Participant.event_id == scene.with_me.id, Participant.user_id == subscriber_id
            )
        )
    )


def _scope(scene: Scene) -> None:
    room_id = scene.extra["room_id"]

    def rescope() -> None:
        token = db.session.scalars(select(FeedToken)).one()
        token.scope = f"room:{room_id}"

    committed(rescope)


def _rights(scene: Scene) -> None:
    """The subscriber moves to another agency: their old agency's events leave the feed."""
    hsi = db.session.scalars(select(Agency).where(Agency.code == "HSI")).one()

    def move() -> None:
        user(SUBSCRIBER).agency_id = hsi.id

    committed(move)


def _time_zone(scene: Scene) -> None:
    scene.app.config["TIMEZONE"] = "America/Chicago"


def _format_version(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        importlib.import_module("calendars.render"), "FORMAT_VERSION", "test-format"
    )


def _code_version(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validator, "FEED_CODE_VERSION", "test-code")


CHANGES: dict[str, Callable[..., None]] = {
    "event added": _add,
    "event edited": _edit,
    "event cancelled": _cancel,
    "event deleted in bulk (retention)": _delete_in_bulk,
    "event deleted": _delete_one,
    "participant added": _join,
    "participant removed": _leave,
    "participant deleted in bulk": _leave_in_bulk,
    "token's scope": _scope,
    "viewer's agency": _rights,
    "office time zone": _time_zone,
    "calendars' format version": _format_version,
    "feed code version": _code_version,
}


@pytest.fixture
def scene(app: Flask) -> Scene:
    mine = plan(SUBSCRIBER, "interview", "witness_interview", timedelta(days=2))
    theirs = plan("investigator.wpbpd", "interview", "witness_interview", timedelta(days=4))
    with_me = plan(
        "investigator.wpbpd",
        "interview",
        "witness_interview",
        timedelta(days=5),
        people=((SUBSCRIBER, "investigator"),),
    )
    room = own_room("Validator Test Room")
    plan(SUBSCRIBER, "interview", "witness_interview", timedelta(days=6), rooms=(room,))
    return Scene(
        app, subscribe(SUBSCRIBER), mine, theirs, with_me, extra={"room_id": find_room(room).id}
    )


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_a_feed_shows_gives_a_new_etag_and_then_304(
    scene: Scene, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    first = fetch(client, scene.secret)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    revalidated_without_reading_events(client, scene.secret, etag)
    served_without_reading_events(client, scene.secret, first.data)

    act = CHANGES[change]
    if act in (_format_version, _code_version):
        act(scene, monkeypatch)
    else:
        act(scene)

    changed = fetch(client, scene.secret, **{"If-None-Match": etag})
    assert changed.status_code == 200, change
    assert changed.headers["ETag"] != etag, change
    revalidated_without_reading_events(client, scene.secret, changed.headers["ETag"])
    served_without_reading_events(client, scene.secret, changed.data)


def test_time_alone_moves_events_into_and_out_of_the_window(
    scene: Scene, client: FlaskClient
) -> None:
    now = utcnow()
    # Just beyond the window's end (365 days ahead), and just before it leaves at the start.
    plan(SUBSCRIBER, "interview", "witness_interview", timedelta(days=365, hours=2))
    with time_machine.travel(now, tick=False):
        etag = fetch(client, scene.secret).headers["ETag"]
        revalidated_without_reading_events(client, scene.secret, etag)
    with time_machine.travel(now + timedelta(hours=3), tick=False):
        entered = fetch(client, scene.secret, **{"If-None-Match": etag})
        assert entered.status_code == 200 and entered.headers["ETag"] != etag
        revalidated_without_reading_events(client, scene.secret, entered.headers["ETag"])
    # The earliest of the subscriber's events ends 2 days and an hour ahead: 30 days after
    # that it leaves.
    later = scene.mine.ends_at + timedelta(days=30, minutes=1)
    with time_machine.travel(later, tick=False):
        left = fetch(client, scene.secret, **{"If-None-Match": entered.headers["ETag"]})
        assert left.status_code == 200 and left.headers["ETag"] != entered.headers["ETag"]
        assert f"/events/{scene.mine.id}" not in left.data.decode().replace("\r\n ", "")


def test_a_change_the_subscriber_cannot_see_keeps_the_etag(
    scene: Scene, client: FlaskClient
) -> None:
    etag = fetch(client, scene.secret).headers["ETag"]
    edit(scene.theirs, "investigator.wpbpd", ends_at=scene.theirs.ends_at + timedelta(hours=1))
    assert fetch(client, scene.secret, **{"If-None-Match": etag}).status_code == 304
    revalidated_without_reading_events(client, scene.secret, etag)


def test_losing_the_right_to_a_feed_answers_404_at_the_next_fetch(
    app: Flask, client: FlaskClient
) -> None:
    secret = subscribe("supervisor.fbi", "team")
    etag = fetch(client, secret).headers["ETag"]
    revalidated_without_reading_events(client, secret, etag)

    def demote() -> None:
        user("supervisor.fbi").set_roles({"investigator"})

    committed(demote)
    assert fetch(client, secret, **{"If-None-Match": etag}).status_code == 404


def generation() -> int:
    return db.session.scalars(select(FeedGeneration.generation)).one()


def test_what_no_feed_reads_does_not_move_the_generation(app: Flask) -> None:
    before = generation()

    def signed_in() -> None:
        user(SUBSCRIBER).last_login_at = utcnow()

    committed(signed_in)
    committed(lambda: db.session.execute(update(FeedToken).values(rate_count=0)))
    assert generation() == before
    committed(lambda: db.session.execute(update(Event).values(notes="bulk")))
    assert generation() == before + 1

    # A rolled-back write tells nothing; the next commit of anything else neither.
    with pytest.raises(RuntimeError), unit_of_work():
        user(SUBSCRIBER).display_name = "Changed"
        db.session.flush()
        raise RuntimeError("give up")
    committed(signed_in)
    assert generation() == before + 1


def test_savepoints_move_the_generation_once_at_the_commit(app: Flask) -> None:
    """A transaction of many savepoints (an import raising alerts) counts one change, when it
    commits: a savepoint's release alone tells no subscriber anything."""
    before = generation()
    with unit_of_work():
        for text in ("first", "second", "third"):
            with db.session.begin_nested():
                db.session.execute(update(Event).values(notes=text))
        assert generation() == before
    assert generation() == before + 1


def test_revoking_a_token_drops_its_kept_feed(app: Flask, client: FlaskClient) -> None:
    secret = subscribe(SUBSCRIBER)
    assert fetch(client, secret).status_code == 200
    assert db.session.scalars(select(FeedSnapshot)).all() != []
    feed_tokens.revoke(db.session.scalars(select(FeedToken)).one(), "test")
    assert fetch(client, secret).status_code == 404
    assert db.session.scalars(select(FeedSnapshot)).all() == []
