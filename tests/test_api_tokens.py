"""Personal API tokens: made on the settings page or by the CLI, shown once, stored hashed,
acting as their owner with the owner's need-to-know, free of CSRF and cookies, and ended by
revocation, expiry and the owner's deactivation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from auth.directory import DirectoryAgency, DirectoryUser, any_account
from jointops.extensions import db
from jointops.identity import api_tokens
from jointops.identity.directory import get_directory, sync_directory
from jointops.models import ApiToken, AuditEntry, Event, Resource
from tests.conftest import user

INVALID = "Invalid or expired API token."
SHAPE = re.compile(r"jot_[A-Za-z0-9_-]{43}")


def make_token(username: str = "investigator.pbso", days: int | None = None) -> str:
    return api_tokens.create(user(username), "script", days).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_the_cli_shows_the_token_once_and_stores_only_its_hash(runner: FlaskCliRunner) -> None:
    made = runner.invoke(
        args=["api-token", "create", "--user", "advocate.vs", "--label", "Import", "--expires", "7"]
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert SHAPE.fullmatch(secret)
    row = db.session.scalars(select(ApiToken)).one()
    assert row.token_hash == api_tokens.hash_secret(secret) != secret
    stored = [str(getattr(row, c.key)) for c in ApiToken.__table__.columns] + [
        str(e.detail) for e in db.session.scalars(select(AuditEntry))
    ]
    assert not any(secret in value or secret[4:] in value for value in stored)
    assert row.expires_at - row.created_at == timedelta(days=7)

    listed = runner.invoke(args=["api-token", "list", "--user", "advocate.vs"])
    assert "Import" in listed.output and "live" in listed.output
    assert secret not in listed.output
    revoked = runner.invoke(args=["api-token", "revoke", str(row.id)])
    assert revoked.exit_code == 0 and "revoked token" in revoked.output
    assert "revoked" in runner.invoke(args=["api-token", "list", "--user", "advocate.vs"]).output


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--user", "nobody.here", "--label", "x"], "no user"),
        (["--user", "advocate.vs", "--label", " "], "label"),
        (["--user", "advocate.vs", "--label", "x", "--expires", "0"], "Between 1 and 90 days"),
        (["--user", "advocate.vs", "--label", "x", "--expires", "91"], "Between 1 and 90 days"),
    ],
)
def test_the_cli_refuses_bad_input_and_stores_nothing(
    runner: FlaskCliRunner, args: list[str], complaint: str
) -> None:
    result = runner.invoke(args=["api-token", "create", *args])
    assert result.exit_code != 0
    assert complaint in result.output
    assert db.session.scalars(select(ApiToken)).all() == []


def test_the_settings_page_shows_a_new_token_once(login: Callable[[str], FlaskClient]) -> None:
    client = login("investigator.pbso")
    page = client.post("/settings/tokens", data={"label": "Nightly export", "expires_days": "30"})
    assert page.status_code == 201
    assert page.headers["Cache-Control"] == "no-store"
    secret = SHAPE.search(page.get_data(as_text=True))
    assert secret is not None
    again = client.get("/settings/tokens").get_data(as_text=True)
    assert "Nightly export" in again and secret.group() not in again
    assert client.get("/api/events", headers=bearer(secret.group())).status_code == 200

    refused = client.post("/settings/tokens", data={"label": "Too long", "expires_days": "400"})
    assert refused.status_code == 400
    assert "Between 1 and 90 days." in refused.get_data(as_text=True)
    assert len(db.session.scalars(select(ApiToken)).all()) == 1


def test_a_token_is_its_owner_without_a_cookie_and_records_its_use(client: FlaskClient) -> None:
    secret = make_token("supervisor.hsi")
    reply = client.get("/api/events", headers=bearer(secret))
    assert reply.status_code == 200
    assert "Set-Cookie" not in reply.headers
    row = db.session.scalars(select(ApiToken)).one()
    assert row.last_used_at is not None
    assert client.get("/calendar", headers=bearer(secret)).status_code == 401


def test_a_token_carries_only_its_owners_need_to_know(client: FlaskClient) -> None:
    appointment = db.session.scalars(
        select(Event).where(Event.kind == "appointment").order_by(Event.id)
    ).first()
    assert appointment is not None and appointment.owner_agency.code == "VS"
    url = f"/api/events/{appointment.id}"
    assert client.get(url, headers=bearer(make_token("investigator.pbso"))).status_code == 404
    assert client.get(url, headers=bearer(make_token("advocate.vs"))).status_code == 200


def test_a_token_carries_only_its_owners_roles(client: FlaskClient) -> None:
    """Address search is for investigators and supervisors: an advocate's token is refused it,
    as the advocate would be, and the refusal is audited as theirs."""
    path = "/api/geocode?q=Clematis"
    assert client.get(path, headers=bearer(make_token("investigator.pbso"))).status_code == 200
    refused = client.get(path, headers=bearer(make_token("advocate.vs")))
    assert refused.status_code == 403
    denied = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied"))
    assert [e.actor_username for e in denied] == ["advocate.vs"]


def interview(room_id: int) -> dict[str, object]:
    day = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=45)
    start = datetime.combine(day, time(9, 0))
    return {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": "Token interview",
        "starts_at": f"{start:%Y-%m-%dT%H:%M}",
        "ends_at": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M}",
        "status": "planned",
        "sensitivity": "normal",
        "room_id": room_id,
        "confirm_warnings": True,
    }


@pytest.fixture
def csrf_app(app: Flask) -> Iterator[Flask]:
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


def test_a_token_posts_without_csrf_while_a_cookie_session_cannot(
    csrf_app: Flask, login: Callable[[str], FlaskClient]
) -> None:
    room = db.session.scalar(select(Resource.id).where(Resource.name == "Interview Room B"))
    assert room is not None
    cookie = login("investigator.pbso")
    refused = cookie.post("/api/events", json=interview(room))
    assert refused.status_code == 400
    assert "did not come from this site" in refused.get_json()["error"]
    made = csrf_app.test_client().post(
        "/api/events", json=interview(room), headers=bearer(make_token())
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["event"]["title"] == "Token interview"
    assert "Set-Cookie" not in made.headers


def test_revoked_expired_and_unknown_tokens_get_one_answer(
    client: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    revoked, expiring = make_token(), make_token(days=1)
    token_id = db.session.scalars(select(ApiToken.id).order_by(ApiToken.id)).first()
    owner = login("investigator.pbso")
    assert owner.post(f"/settings/tokens/{token_id}/revoke").status_code == 302
    assert login("investigator.hsi").post(f"/settings/tokens/{token_id}/revoke").status_code == 404
    answers = [client.get("/api/events", headers=bearer(revoked))]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1, seconds=1)):
        answers.append(client.get("/api/events", headers=bearer(expiring)))
    answers += [
        client.get("/api/events", headers=bearer("jot_" + "A" * 43)),
        client.get("/api/events", headers=bearer("nonsense")),
    ]
    assert [(r.status_code, r.get_json()) for r in answers] == [
        (401, {"error": INVALID, "status": 401})
    ] * 4
    assert all("invalid_token" in r.headers["WWW-Authenticate"] for r in answers)


class ShrunkDirectory:
    """The demo directory without one person, as after they left."""

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


def test_deactivation_by_directory_sync_ends_the_token(client: FlaskClient) -> None:
    secret = make_token("investigator.wpbpd")
    assert client.get("/api/events", headers=bearer(secret)).status_code == 200
    report = sync_directory(ShrunkDirectory("investigator.wpbpd"))
    assert report.deactivated == ["investigator.wpbpd"]
    row = db.session.scalars(select(ApiToken)).one()
    assert row.revoke_reason == "deactivated"
    assert client.get("/api/events", headers=bearer(secret)).status_code == 401
