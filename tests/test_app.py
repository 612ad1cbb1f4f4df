"""The app shell: configuration, route permissions, headers, signing in and out."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.config import ConfigError, load_config, validate_config
from jointops.extensions import db
from jointops.models import AuditEntry, User

GOOD_KEY = "k" * 40


def production(**env: str) -> dict[str, object]:
    base = {
        "JOINTOPS_ENV": "production",
        "JOINTOPS_SECRET_KEY": GOOD_KEY,
        "JOINTOPS_LDAP_URL": "ldaps://dc1.example.test",
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
    ],
)
def test_production_refuses_unsafe_settings(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        validate_config(production(**env))


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
    assert client.get("/api/events").status_code == 401
    assert client.get("/events/1").status_code == 302


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
