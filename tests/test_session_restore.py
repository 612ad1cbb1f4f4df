"""A form posted after its session ended is kept, and given back once after the next sign-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from jointops.extensions import db
from jointops.identity import kept_forms
from jointops.jobs.tasks.retention import apply_retention
from jointops.models import Event, KeptForm, User, UserSession, utcnow

PASSWORD = "demo-password"
NOTICE = "Your session had ended; what you typed was kept. Check it and save again."
TYPED = {
    "kind": "operation",
    "subtype": "surveillance",
    "title": "Stake-out at the motel on Dixie Hwy",
    "notes": "Blue sedan, second floor, room 214",
    "client_code": "",
    "location_address": "1200 S Dixie Hwy, West Palm Beach",
    "starts_at": "2026-12-03 09:00",
    "ends_at": "2026-12-03 11:00",
    "csrf_token": "the-form-token",
    "password": "hunter2",
    "api_token": "jot_secret",
    "confirm_warnings": "y",
}


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(datetime(2026, 12, 1, 15, 0, 5, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def sign_in(client: FlaskClient, username: str, where: str = "/login") -> str:
    """Sign in on the login page ``where`` (with its ``next``); the page it sends to."""
    reply = client.post(where, data={"username": username, "password": PASSWORD})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return reply.headers["Location"]


def signed_in_client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, username)
    return client


def end_sessions(username: str) -> None:
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None
    for row in db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)):
        row.ended_at, row.end_reason = utcnow(), "ended_by_admin"
    db.session.commit()


def post_after_the_end(client: FlaskClient, path: str = "/events/new") -> str:
    """Post the typed form without a live session: the login page it is sent to."""
    reply = client.post(path, data=TYPED)
    assert reply.status_code == 302
    login_page = reply.headers["Location"]
    assert urlsplit(login_page).path == "/login"
    assert parse_qs(urlsplit(login_page).query)["next"] == [f"{path}?"]
    return login_page


def kept_count() -> int:
    return db.session.scalar(select(func.count()).select_from(KeptForm)) or 0


def test_the_form_comes_back_once_after_signing_in_and_nothing_is_saved(
    app: Flask, clock: time_machine.Traveller
) -> None:
    client = signed_in_client(app, "investigator.hsi")
    end_sessions("investigator.hsi")
    login_page = post_after_the_end(client)
    shown = client.get(login_page).get_data(as_text=True)
    assert "An administrator ended your session." in shown
    assert kept_forms.KEPT_NOTICE in shown

    back = sign_in(client, "investigator.hsi", login_page)
    assert urlsplit(back).path == "/events/new"
    page = client.get(back)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert NOTICE in text
    assert 'value="Stake-out at the motel on Dixie Hwy"' in text
    assert "Blue sedan, second floor, room 214" in text
    assert 'value="2026-12-03 09:00"' in text
    assert '<option selected value="surveillance">' in text
    assert kept_count() == 0
    assert db.session.scalar(select(func.count()).where(Event.title == TYPED["title"])) == 0

    again = client.get(back).get_data(as_text=True)
    assert NOTICE not in again and TYPED["title"] not in again


def test_what_is_kept_is_never_a_password_token_csrf_token_or_confirmation(
    app: Flask, clock: time_machine.Traveller
) -> None:
    client = signed_in_client(app, "investigator.hsi")
    end_sessions("investigator.hsi")
    post_after_the_end(client)
    row = db.session.scalar(select(KeptForm))
    assert row is not None
    names = {name for name, _ in json.loads(row.fields)}
    assert {"title", "notes", "starts_at"} <= names
    assert not names & {"password", "api_token", "csrf_token", "confirm_warnings"}
    assert "hunter2" not in row.fields and "jot_secret" not in row.fields
    with client.session_transaction() as cookie:
        assert TYPED["title"] not in json.dumps(dict(cookie))


def test_another_user_signing_in_gets_nothing_and_it_is_discarded(
    app: Flask, clock: time_machine.Traveller
) -> None:
    client = signed_in_client(app, "investigator.hsi")
    end_sessions("investigator.hsi")
    login_page = post_after_the_end(client)
    assert kept_count() == 1

    back = sign_in(client, "supervisor.hsi", login_page)
    text = client.get(back).get_data(as_text=True)
    assert NOTICE not in text and TYPED["title"] not in text and TYPED["notes"] not in text
    assert kept_count() == 0


def test_kept_data_expires_after_thirty_minutes(app: Flask, clock: time_machine.Traveller) -> None:
    client = signed_in_client(app, "investigator.hsi")
    end_sessions("investigator.hsi")
    login_page = post_after_the_end(client)
    clock.shift(timedelta(minutes=kept_forms.KEEP_MINUTES, seconds=1))
    back = sign_in(client, "investigator.hsi", login_page)
    text = client.get(back).get_data(as_text=True)
    assert NOTICE not in text and TYPED["title"] not in text
    assert kept_count() == 0


def test_the_retention_job_deletes_what_expired(app: Flask, clock: time_machine.Traveller) -> None:
    client = signed_in_client(app, "investigator.hsi")
    end_sessions("investigator.hsi")
    post_after_the_end(client)
    assert apply_retention(utcnow())["purged_kept_forms"] == 0
    clock.shift(timedelta(minutes=kept_forms.KEEP_MINUTES))
    assert apply_retention(utcnow())["purged_kept_forms"] == 1
    assert kept_count() == 0


def test_an_idle_session_keeps_the_edit_form_of_an_event(
    app: Flask, clock: time_machine.Traveller
) -> None:
    client = signed_in_client(app, "investigator.hsi")
    event_id = db.session.scalar(
        select(Event.id)
        .join(User, User.id == Event.lead_id)
        .where(User.username == "investigator.hsi")
        .order_by(Event.id)
    )
    assert event_id is not None
    assert client.get(f"/events/{event_id}/edit").status_code == 200
    clock.shift(timedelta(minutes=31))
    login_page = post_after_the_end(client, f"/events/{event_id}/edit")
    assert "minutes without activity" in client.get(login_page).get_data(as_text=True)
    back = sign_in(client, "investigator.hsi", login_page)
    text = client.get(back).get_data(as_text=True)
    assert NOTICE in text and 'value="Stake-out at the motel on Dixie Hwy"' in text
    assert db.session.get(Event, event_id).title != TYPED["title"]  # type: ignore[union-attr]


def test_the_second_factor_step_comes_back_to_the_form(
    app: Flask, clock: time_machine.Traveller
) -> None:
    client = signed_in_client(app, "investigator.hsi")
    page = client.get("/settings/security/totp").get_data(as_text=True)
    secret = page.split('id="totp-seed">', 1)[1].split("<", 1)[0].replace(" ", "")
    enrolled = client.post(
        "/settings/security/totp", data={"name": "Phone", "code": pyotp.TOTP(secret).now()}
    )
    assert enrolled.status_code == 200
    end_sessions("investigator.hsi")
    login_page = post_after_the_end(client)

    second = sign_in(client, "investigator.hsi", login_page)
    assert urlsplit(second).path == "/login/second-factor"
    clock.shift(30)
    done = client.post(second, data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and urlsplit(done.headers["Location"]).path == "/events/new"
    text = client.get(done.headers["Location"]).get_data(as_text=True)
    assert NOTICE in text and "Blue sedan, second floor, room 214" in text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/events/1/move", {"starts_at": "2026-12-03 09:00", "ends_at": "2026-12-03 10:00"}),
        ("/logout", {"title": "x"}),
        ("/settings/notifications", {"title": "x"}),
    ],
)
def test_only_the_marked_page_forms_are_kept(
    app: Flask, clock: time_machine.Traveller, path: str, body: dict[str, str]
) -> None:
    client = signed_in_client(app, "investigator.hsi")
    end_sessions("investigator.hsi")
    client.post(path, data=body)
    assert kept_count() == 0


def test_json_bodies_and_oversized_forms_are_not_kept(
    app: Flask, clock: time_machine.Traveller
) -> None:
    client = signed_in_client(app, "investigator.hsi")
    end_sessions("investigator.hsi")
    client.post("/events/new", json={"title": "typed"})
    client.post("/events/new", data={"notes": "x" * (kept_forms.MAX_CHARS + 1)})
    client.post("/events/new", data={f"f{i}": "x" for i in range(kept_forms.MAX_FIELDS + 1)})
    assert kept_count() == 0


def test_a_browser_that_never_signed_in_keeps_nothing(app: Flask) -> None:
    reply = app.test_client().post("/events/new", data=TYPED)
    assert reply.status_code == 302
    assert kept_count() == 0
