"""CJIS-style sessions and lockout, with the clock moved by time-machine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from auth.directory import DirectoryAgency, DirectoryUser, any_account
from jointops.config import Settings
from jointops.extensions import db
from jointops.identity.directory import get_directory, sync_directory
from jointops.models import AuditEntry, User, UserSession

PASSWORD = "demo-password"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(datetime(2026, 12, 1, 15, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def sign_in(app: Flask, username: str, password: str = PASSWORD) -> tuple[FlaskClient, int]:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    return client, response.status_code


def signed_in(client: FlaskClient) -> bool:
    return client.get("/calendar").status_code == 200


def test_five_failures_lock_the_account_for_ten_minutes(
    app: Flask, clock: time_machine.Traveller
) -> None:
    for _ in range(5):
        assert sign_in(app, "investigator.hsi", "wrong")[1] == 401
    client = app.test_client()
    locked = client.post("/login", data={"username": "investigator.hsi", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    clock.shift(timedelta(minutes=9, seconds=59))
    assert sign_in(app, "investigator.hsi")[1] == 429
    clock.shift(timedelta(seconds=2))
    client, status = sign_in(app, "investigator.hsi")
    assert status == 302 and signed_in(client)


def test_a_success_resets_the_failure_count(app: Flask, clock: time_machine.Traveller) -> None:
    for _ in range(4):
        sign_in(app, "investigator.hsi", "wrong")
    assert sign_in(app, "investigator.hsi")[1] == 302
    for _ in range(4):
        sign_in(app, "investigator.hsi", "wrong")
    assert sign_in(app, "investigator.hsi")[1] == 302


def test_unknown_usernames_lock_the_same_way(app: Flask, clock: time_machine.Traveller) -> None:
    """The lock must not tell an attacker which usernames exist."""
    replies = set()
    for name in ("nobody.here", "investigator.hsi"):
        for _ in range(5):
            sign_in(app, name, "wrong")
        client = app.test_client()
        reply = client.post("/login", data={"username": name, "password": "x"})
        replies.add((reply.status_code, "Too many failed sign-ins" in reply.get_data(as_text=True)))
    assert replies == {(429, True)}


def test_thirty_idle_minutes_end_the_session(app: Flask, clock: time_machine.Traveller) -> None:
    client, _ = sign_in(app, "advocate.vs")
    clock.shift(timedelta(minutes=29))
    assert signed_in(client)
    clock.shift(timedelta(minutes=29))
    assert signed_in(client), "activity restarts the idle clock"
    clock.shift(timedelta(minutes=31))
    response = client.get("/calendar")
    assert response.status_code == 302
    assert "30 minutes without activity" in client.get("/login").get_data(as_text=True)
    row = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
    assert row is not None and row.end_reason == "idle"


def test_twelve_hours_end_the_session_however_active(
    app: Flask, clock: time_machine.Traveller
) -> None:
    client, _ = sign_in(app, "advocate.vs")
    for _ in range(35):
        clock.shift(timedelta(minutes=20))
        assert signed_in(client)
    clock.shift(timedelta(minutes=21))
    assert not signed_in(client)


def test_logout_ends_the_session_on_the_server(app: Flask) -> None:
    client, _ = sign_in(app, "supervisor.hsi")
    stolen = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    stolen.set_cookie("session", cookie.value)
    assert signed_in(stolen)
    client.post("/logout")
    assert not signed_in(stolen), "a copied cookie must die with the session"


def test_a_new_login_ends_the_older_session(app: Flask) -> None:
    app.config["SESSIONS_PER_USER"] = 1
    first, _ = sign_in(app, "supervisor.hsi")
    second, _ = sign_in(app, "supervisor.hsi")
    assert signed_in(second)
    assert not signed_in(first)


def default_limit(app: Flask) -> int:
    """The configured default, in place of the suite's own (several roles sign in at once)."""
    app.config["SESSIONS_PER_USER"] = Settings().SESSIONS_PER_USER
    return int(app.config["SESSIONS_PER_USER"])


def test_desk_and_phone_stay_signed_in_side_by_side(app: Flask) -> None:
    assert default_limit(app) == 3
    desk, _ = sign_in(app, "advocate.vs")
    phone, _ = sign_in(app, "advocate.vs")
    assert signed_in(desk) and signed_in(phone)
    assert signed_in(desk), "the phone's sign-in ended the desk's session"


def test_a_sign_in_beyond_the_limit_ends_the_oldest(
    app: Flask, clock: time_machine.Traveller
) -> None:
    limit = default_limit(app)
    clients = []
    for _ in range(limit + 1):
        clients.append(sign_in(app, "advocate.vs")[0])
        clock.shift(timedelta(minutes=1))
    oldest, *rest = clients
    assert [signed_in(c) for c in rest] == [True] * limit
    assert not signed_in(oldest)
    assert "You signed in somewhere else" in oldest.get("/login").get_data(as_text=True)
    ended = db.session.scalars(
        select(UserSession.end_reason).where(UserSession.ended_at.is_not(None))
    ).all()
    assert ended == ["superseded"]


def test_a_session_past_its_idle_limit_makes_room_before_a_live_one(
    app: Flask, clock: time_machine.Traveller
) -> None:
    """The oldest session is in use at the desk; a newer one on the phone went idle. The next
    sign-in ends the idle one, not the desk's."""
    limit = default_limit(app)
    desk, _ = sign_in(app, "advocate.vs")
    clock.shift(timedelta(minutes=1))
    forgotten = [sign_in(app, "advocate.vs")[0] for _ in range(limit - 1)]
    for _ in range(2):
        clock.shift(timedelta(minutes=20))
        assert signed_in(desk)
    sign_in(app, "advocate.vs")
    assert signed_in(desk)
    reasons = db.session.scalars(
        select(UserSession.end_reason).where(UserSession.ended_at.is_not(None))
    ).all()
    assert reasons == ["idle"] * len(forgotten)


def test_the_session_id_changes_at_login(app: Flask) -> None:
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        session["sid"] = "planted-by-an-attacker"
    client.post("/login", data={"username": "supervisor.hsi", "password": PASSWORD})
    with client.session_transaction() as session:
        assert session["sid"] != "planted-by-an-attacker"
        assert len(session["sid"]) >= 40


class ShrunkDirectory:
    """The demo directory without one person, as after they left their agency."""

    def __init__(self, gone: str) -> None:
        self.inner, self.gone = get_directory(), gone

    def authenticate(
        self, username: str, password: str, *, before_bind: Callable[[str], None] = any_account
    ) -> DirectoryUser:
        return self.inner.authenticate(username, password, before_bind=before_bind)

    def users(self) -> Iterator[DirectoryUser]:
        return (u for u in self.inner.users() if u.username != self.gone)

    def agencies(self) -> list[DirectoryAgency]:
        return self.inner.agencies()


def test_directory_deactivation_ends_sessions_at_once(app: Flask) -> None:
    client, _ = sign_in(app, "investigator.wpbpd")
    assert signed_in(client)
    report = sync_directory(ShrunkDirectory("investigator.wpbpd"))
    assert report.deactivated == ["investigator.wpbpd"]
    assert not signed_in(client)
    user = db.session.scalar(select(User).where(User.username == "investigator.wpbpd"))
    assert user is not None and not user.active


def test_failures_and_locks_are_audited(app: Flask) -> None:
    for _ in range(6):
        sign_in(app, "investigator.hsi", "wrong")
    outcomes = [
        a.outcome
        for a in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "login"))
    ]
    assert outcomes == ["failure"] * 5 + ["locked"]
