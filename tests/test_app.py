"""The app shell: configuration, route permissions, headers, signing in and out."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.config import ConfigError, load_config, secret_key_weakness, validate_config
from jointops.extensions import db
from jointops.feeds import tokens as feed_tokens
from jointops.models import AuditEntry, User

GOOD_KEY = "5nWtGw2tmX8mylC7p_yBKhGf7wjexvuCFOwHI8t0eow"


def production(**env: str) -> dict[str, object]:
    base = {
        "JOINTOPS_ENV": "production",
        "JOINTOPS_SECRET_KEY": GOOD_KEY,
        "JOINTOPS_LDAP_URL": "ldaps://dc1.example.test",
        "JOINTOPS_BASE_URL": "https://jointops.example.test",
    }
    return load_config(base | env)


def test_production_accepts_a_safe_configuration() -> None:
    validate_config(production())


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"JOINTOPS_SECRET_KEY": ""}, "JOINTOPS_SECRET_KEY"),
        ({"JOINTOPS_SECRET_KEY": "short"}, "JOINTOPS_SECRET_KEY"),
        ({"JOINTOPS_LDAP_URL": "demo"}, "demo directory"),
        ({"JOINTOPS_LDAP_URL": "ldap://dc1.example.test"}, "unencrypted"),
        ({"JOINTOPS_TIMEZONE": "Mars/Olympus_Mons"}, "JOINTOPS_TIMEZONE"),
        ({"JOINTOPS_BASE_URL": ""}, "JOINTOPS_BASE_URL: production needs the address"),
    ],
)
def test_production_refuses_unsafe_settings(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        validate_config(production(**env))


@pytest.mark.parametrize(
    "key",
    [
        "k" * 40,  # one character repeated
        "ab" * 24,  # a short alphabet
        "0110100110010110100101100110100110010110",  # two symbols, however mixed
        "3f" + "a1b2" * 12,  # a repeated block
        "qwertyuiopasdfghjklzxcvbnm1234567890",  # keyboard rows
        "abcdefghijklmnopqrstuvwxyz0123456789ABCD",  # the alphabet
        "please-change-me-before-going-live-2026",  # placeholders
        "my-super-SECRET-key-for-jointops-production",
        "replace_me_with_something_random_0123456789",
        "dev-only-not-secret-dev-only-not-secret",
    ],
)
def test_production_refuses_predictable_secret_keys(key: str) -> None:
    assert len(key) >= 32
    with pytest.raises(ConfigError, match="JOINTOPS_SECRET_KEY"):
        validate_config(production(JOINTOPS_SECRET_KEY=key))


def test_production_takes_generated_secret_keys() -> None:
    """What ``secrets`` makes passes (here from a seeded generator, so the test repeats)."""
    rng = random.Random(13)  # noqa: S311 - the alphabets of secrets.token_*, not secrets
    urlsafe = string.ascii_letters + string.digits + "-_"
    for _ in range(200):
        for key in (
            "".join(rng.choice(urlsafe) for _ in range(43)),  # token_urlsafe(32)
            "".join(rng.choice("0123456789abcdef") for _ in range(64)),  # token_hex(32)
        ):
            assert secret_key_weakness(key) is None, key
    assert secret_key_weakness("correct horse battery staple on a blue moon") is None


def test_plain_ldap_is_allowed_with_start_tls_or_explicit_consent() -> None:
    validate_config(production(JOINTOPS_LDAP_URL="ldap://dc1", JOINTOPS_LDAP_START_TLS="true"))
    validate_config(production(JOINTOPS_LDAP_URL="ldap://dc1", JOINTOPS_LDAP_ALLOW_PLAIN="1"))


def test_defaults_are_sqlite_in_the_instance_folder_and_the_demo_directory(tmp_path: Path) -> None:
    config = load_config({}, instance_path=str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'jointops.sqlite3'}"
    assert config["LDAP_URL"] == "demo"
    assert config["TIMEZONE"] == "America/New_York"


def test_every_route_declares_who_may_use_it(app: Flask) -> None:
    undeclared = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if not getattr(app.view_functions[rule.endpoint], "access", None)
    ]
    assert undeclared == []


def test_pages_need_a_signed_in_user(client: FlaskClient) -> None:
    page = client.get("/calendar")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"]
    assert client.get("/events/1").status_code == 302
    for path in ("/api/events", "/api/alerts", "/api/geocode?q=Clematis"):
        answer = client.get(path)
        assert answer.status_code == 401 and answer.is_json, path
        assert "Sign in" in answer.get_json()["error"]


def test_security_headers_on_every_response(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def _audits(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_login_through_the_directory_signs_in_and_audits(client: FlaskClient) -> None:
    page = client.get("/login")
    assert b"demo directory" in page.data.lower()
    response = client.post(
        "/login", data={"username": "supervisor.fbi", "password": "demo-password"}
    )
    assert response.status_code == 302
    calendar = client.get("/calendar")
    assert calendar.status_code == 200
    assert "FBI" in calendar.get_data(as_text=True)
    [entry] = [a for a in _audits("login") if a.outcome == "success"]
    assert entry.actor_username == "supervisor.fbi"
    user = db.session.scalar(select(User).where(User.username == "supervisor.fbi"))
    assert user is not None and user.last_login_at is not None
    assert user.roles == frozenset({"supervisor"})


@pytest.mark.parametrize("username", ["supervisor.fbi", "nobody.here", "*)(uid=*))(|(uid=*"])
def test_failed_login_says_the_same_thing_and_is_audited(
    client: FlaskClient, username: str
) -> None:
    response = client.post("/login", data={"username": username, "password": "wrong"})
    assert response.status_code == 401
    assert "Unknown username or wrong password." in response.get_data(as_text=True)
    assert [a.outcome for a in _audits("login")] == ["failure"]
    assert client.get("/calendar").status_code == 302


def test_empty_password_is_refused_by_the_form(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "supervisor.fbi", "password": ""})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    assert _audits("login") == []


def test_login_never_redirects_off_site(client: FlaskClient) -> None:
    response = client.post(
        "/login?next=//evil.example/x",
        data={"username": "advocate.vs", "password": "demo-password"},
    )
    assert response.headers["Location"] == "/calendar"


def test_logout_is_a_post_and_ends_the_session(client: FlaskClient) -> None:
    client.post("/login", data={"username": "advocate.vs", "password": "demo-password"})
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/calendar").status_code == 302
    assert len(_audits("logout")) == 1


def test_csrf_is_enforced_when_enabled(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/login", data={"username": "advocate.vs", "password": "demo-password"})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)


def test_behind_a_proxy_the_client_address_is_audited(database_url: str) -> None:
    from jointops import create_app
    from tests.conftest import base_config

    app = create_app(base_config(database_url) | {"PROXY_HOPS": 1})
    with app.app_context():
        app.test_client().post(
            "/login",
            data={"username": "advocate.vs", "password": "demo-password"},
            headers={"X-Forwarded-For": "203.0.113.7"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login"))
        assert entry is not None and entry.remote_addr == "203.0.113.7"
        db.session.remove()
        db.engine.dispose()


def test_signed_in_pages_and_api_answers_are_not_stored(
    login: Callable[[str], FlaskClient],
) -> None:
    client = login("investigator.pbso")
    for path in ("/calendar", "/api/events", "/targets", "/alerts", "/events/999999", "/feeds"):
        response = client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path
    assert client.post("/api/events", json=[]).headers.get("Cache-Control") == "no-store"


def test_static_files_and_feeds_keep_their_own_caching(
    app: Flask, login: Callable[[str], FlaskClient]
) -> None:
    """A static file is the same for everyone. A feed is fetched by calendar apps with its
    token: ``private, no-cache`` lets the app keep it and poll with its ETag (304), and keeps
    it out of shared caches; a refused feed is not stored at all."""
    client = login("investigator.pbso")
    static = client.get("/static/app.css")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()
    me = db.session.scalar(select(User).where(User.username == "investigator.pbso"))
    assert me is not None
    _, secret = feed_tokens.create(me, "cache test", "personal")
    for who in (client, app.test_client()):
        feed = who.get(f"/feeds/{secret}.ics")
        assert feed.status_code == 200
        assert feed.headers["Cache-Control"] == "private, no-cache"
        again = who.get(f"/feeds/{secret}.ics", headers={"If-None-Match": feed.headers["ETag"]})
        assert again.status_code == 304
    assert app.test_client().get("/feeds/nope.ics").headers["Cache-Control"] == "no-store"


def test_pages_before_sign_in_may_be_cached(client: FlaskClient) -> None:
    assert "Cache-Control" not in client.get("/login").headers
