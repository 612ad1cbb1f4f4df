"""The user's own sessions: listed on /settings/sessions, signed out one by one or all others."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from jointops import create_app
from jointops.extensions import db
from jointops.identity.sessions import browser_of
from jointops.models import AuditEntry, UserSession
from jointops.officetime import fmt_datetime
from tests.conftest import IsolatedClient, base_config, user, without_csrf
from tests.live_server import csrf_token

PASSWORD = "demo-password"
DESK = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def device(app: Flask) -> Callable[..., FlaskClient]:
    """``device("advocate.vs", PHONE, "10.0.0.7")``: a client signed in through /login."""

    def sign_in(username: str, agent: str = DESK, address: str = "10.0.0.1") -> FlaskClient:
        client = app.test_client()
        client.environ_base.update(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


def signed_in(client: FlaskClient) -> bool:
    return client.get("/calendar").status_code == 200


def rows(username: str) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user(username).id)
            .order_by(UserSession.id)
        )
    )


def live_count() -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.ended_at.is_(None))
        )
        or 0
    )


def audit_of(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def test_the_page_lists_the_users_live_sessions(
    app: Flask, device: Callable[..., FlaskClient]
) -> None:
    desk = device("advocate.vs", DESK, "10.0.0.1")
    device("advocate.vs", PHONE, "10.0.0.7")
    device("investigator.hsi", LAPTOP, "10.9.9.9")
    response = desk.get("/settings/sessions")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Edge on Windows" in page and "Safari on iPhone" in page
    assert "10.0.0.1" in page and "10.0.0.7" in page
    assert "Firefox" not in page and "10.9.9.9" not in page, "another user's session shown"
    assert page.count("This session") == 1
    assert page.index("This session") < page.index("Safari on iPhone"), "this session comes first"
    mine = rows("advocate.vs")
    assert fmt_datetime(mine[0].created_at) in page, "times in the office time zone"
    assert page.count('/sign-out"') == 1, "a sign-out button for the other session only"
    assert f"/settings/sessions/{mine[1].id}/sign-out" in page
    for row in mine:
        assert row.token_hash not in page
    with desk.session_transaction() as cookie:
        assert cookie["sid"] not in page
    assert response.headers["Cache-Control"] == "no-store"


def test_sign_out_others_ends_them_everywhere_and_keeps_this_one(
    app: Flask, device: Callable[..., FlaskClient]
) -> None:
    desk = device("advocate.vs", DESK)
    phone = device("advocate.vs", PHONE)
    laptop = device("advocate.vs", LAPTOP)
    someone_else = device("investigator.hsi")
    response = desk.post("/settings/sessions/sign-out-others")
    assert response.status_code == 302
    assert "Signed out 2 other sessions" in desk.get("/settings/sessions").get_data(as_text=True)
    assert signed_in(desk) and signed_in(someone_else)
    for other in (phone, laptop):
        sent = other.get("/calendar")
        assert sent.status_code == 302 and "/login" in sent.headers["Location"]
        assert "You signed this session out from another one" in other.get("/login").get_data(
            as_text=True
        )
    assert [r.end_reason for r in rows("advocate.vs")] == [
        None,
        "signed_out_elsewhere",
        "signed_out_elsewhere",
    ]
    [entry] = audit_of("session.end_others")
    assert entry.actor_username == "advocate.vs" and entry.detail == {"ended": 2}
    assert desk.post("/settings/sessions/sign-out-others").status_code == 302
    assert "You had no other session" in desk.get("/settings/sessions").get_data(as_text=True)


def test_another_worker_refuses_a_signed_out_session_at_once(
    app: Flask, database_url: str, device: Callable[..., FlaskClient]
) -> None:
    """A second app on the same database stands for another worker or host: nothing of the
    sign-out lives in the memory of the process that did it."""
    desk = device("advocate.vs", DESK)
    phone = device("advocate.vs", PHONE)
    worker = create_app(base_config(database_url))
    worker.test_client_class = IsolatedClient
    on_worker = worker.test_client()
    on_worker.environ_base.update(phone.environ_base)
    cookie = phone.get_cookie("session")
    assert cookie is not None
    on_worker.set_cookie("session", cookie.value)
    with worker.app_context():
        try:
            assert on_worker.get("/calendar").status_code == 200
            desk.post("/settings/sessions/sign-out-others")
            assert on_worker.get("/calendar").status_code == 302
        finally:
            db.session.remove()
            db.engine.dispose()


def test_sign_out_one_other_session(app: Flask, device: Callable[..., FlaskClient]) -> None:
    desk = device("advocate.vs", DESK)
    phone = device("advocate.vs", PHONE)
    laptop = device("advocate.vs", LAPTOP)
    phone_row = rows("advocate.vs")[1]
    response = desk.post(f"/settings/sessions/{phone_row.id}/sign-out")
    assert response.status_code == 302
    assert not signed_in(phone)
    assert signed_in(desk) and signed_in(laptop)
    assert [e.object_id for e in audit_of("session.end")] == [str(phone_row.id)]
    again = desk.post(f"/settings/sessions/{phone_row.id}/sign-out")
    assert again.status_code == 302
    assert "had already ended" in desk.get("/settings/sessions").get_data(as_text=True)
    assert len(audit_of("session.end")) == 1


def test_another_users_session_is_404_and_stays_live(
    app: Flask, device: Callable[..., FlaskClient]
) -> None:
    mine = device("advocate.vs")
    theirs = device("investigator.hsi")
    [their_row] = rows("investigator.hsi")
    response = mine.post(f"/settings/sessions/{their_row.id}/sign-out")
    assert response.status_code == 404
    missing = mine.post("/settings/sessions/999999/sign-out")
    assert missing.status_code == 404
    assert without_csrf(response.get_data(as_text=True)) == without_csrf(
        missing.get_data(as_text=True)
    ).replace("999999", str(their_row.id)), (
        "someone else's session answers as one that does not exist"
    )
    assert signed_in(theirs)
    assert rows("investigator.hsi")[0].ended_at is None
    denied = audit_of("session.end")
    assert [(e.outcome, e.object_id) for e in denied] == [
        ("denied", str(their_row.id)),
        ("denied", "999999"),
    ]


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "1.5", "99999999999999999999", "%00"])
def test_malformed_session_ids_are_404_and_change_nothing(
    app: Flask, device: Callable[..., FlaskClient], bad: str
) -> None:
    client = device("advocate.vs")
    device("advocate.vs", PHONE)
    response = client.post(f"/settings/sessions/{bad}/sign-out")
    assert response.status_code == 404
    assert live_count() == 2


def test_signing_out_this_session_from_the_list_is_refused(
    app: Flask, device: Callable[..., FlaskClient]
) -> None:
    client = device("advocate.vs")
    [row] = rows("advocate.vs")
    response = client.post(f"/settings/sessions/{row.id}/sign-out")
    assert response.status_code == 400
    assert "the session you are using" in response.get_data(as_text=True)
    assert signed_in(client)


def test_a_post_without_its_csrf_token_changes_nothing(
    app: Flask, device: Callable[..., FlaskClient]
) -> None:
    desk = device("advocate.vs", DESK)
    phone = device("advocate.vs", PHONE)
    [_, phone_row] = rows("advocate.vs")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        paths = (
            "/settings/sessions/sign-out-others",
            f"/settings/sessions/{phone_row.id}/sign-out",
        )
        for path in paths:
            assert desk.post(path).status_code == 400
            assert desk.post(path, data={"csrf_token": "forged"}).status_code == 400
        assert signed_in(phone)
        token = csrf_token(desk.get("/settings/sessions").get_data(as_text=True))
        signed_out = desk.post(paths[0], data={"csrf_token": token})
        assert signed_out.status_code == 302
        assert not signed_in(phone)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_signed_out_visitors_are_sent_to_sign_in(
    app: Flask, device: Callable[..., FlaskClient]
) -> None:
    device("advocate.vs")
    [row] = rows("advocate.vs")
    anonymous = app.test_client()
    for response in (
        anonymous.get("/settings/sessions"),
        anonymous.post("/settings/sessions/sign-out-others"),
        anonymous.post(f"/settings/sessions/{row.id}/sign-out"),
    ):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert live_count() == 1


@pytest.mark.clockless
@pytest.mark.parametrize(
    ("agent", "shown"),
    [
        (DESK, "Edge on Windows"),
        (PHONE, "Safari on iPhone"),
        (LAPTOP, "Firefox on Linux"),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.5 Safari/605.1.15",
            "Safari on macOS",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown browser"),
    ],
)
def test_browser_of_names_the_device(agent: str, shown: str) -> None:
    assert browser_of(agent) == shown
