"""Signing in from a script: the same refusals as the login page, as JSON."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from jointops import create_app
from tests.conftest import base_config


def test_a_script_signs_in_and_reads_the_calendar(client: FlaskClient) -> None:
    reply = client.post(
        "/api/login", json={"username": "supervisor.hsi", "password": "demo-password"}
    )
    assert reply.status_code == 200
    assert reply.get_json()["user"] == {
        "username": "supervisor.hsi",
        "agency": "HSI",
        "roles": ["supervisor"],
    }
    assert len(reply.get_json()["csrf_token"]) > 20
    assert client.get("/api/events").status_code == 200
    assert client.post("/api/logout").status_code == 200
    assert client.get("/api/events").status_code == 401


@pytest.mark.parametrize("username", ["supervisor.hsi", "no.such.user", "admin*"])
def test_refusals_do_not_tell_which_usernames_exist(client: FlaskClient, username: str) -> None:
    reply = client.post("/api/login", json={"username": username, "password": "nope"})
    assert reply.status_code == 401
    assert reply.get_json()["error"] == "Unknown username or wrong password."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "supervisor.hsi"}, "password"),
        ({"username": " ", "password": "x"}, "username"),
    ],
)
def test_missing_fields_are_named(client: FlaskClient, body: dict[str, str], field: str) -> None:
    reply = client.post("/api/login", json=body)
    assert reply.status_code == 400
    assert field in reply.get_json()["errors"]


def test_form_encoded_login_is_refused(client: FlaskClient) -> None:
    reply = client.post("/api/login", data={"username": "supervisor.hsi", "password": "x"})
    assert reply.status_code == 400
    assert "application/json" in reply.get_json()["error"]


def test_lockout_answers_429(client: FlaskClient) -> None:
    for _ in range(5):
        client.post("/api/login", json={"username": "supervisor.hsi", "password": "nope"})
    reply = client.post(
        "/api/login", json={"username": "supervisor.hsi", "password": "demo-password"}
    )
    assert reply.status_code == 429
    assert "Too many failed sign-ins" in reply.get_json()["error"]


def test_directory_down_answers_503_quickly(database_url: str) -> None:
    config = base_config(database_url) | {
        "LDAP_URL": "ldap://127.0.0.1:9",
        "LDAP_USER_BASE_DN": "ou=people,dc=jointops,dc=test",
        "LDAP_TIMEOUT": 2.0,
    }
    app: Flask = create_app(config)
    with app.app_context():
        client = app.test_client()
        started = time.monotonic()
        reply = client.post("/api/login", json={"username": "supervisor.hsi", "password": "x"})
        elapsed = time.monotonic() - started
        from jointops.extensions import db

        db.session.remove()
        db.engine.dispose()
    assert reply.status_code == 503
    assert reply.get_json()["error"] == "Directory unavailable, try again"
    assert elapsed < 5


def test_production_sets_hsts_and_secure_cookies(database_url: str) -> None:
    config = base_config(database_url) | {
        "PRODUCTION": True,
        "SECRET_KEY": "5nWtGw2tmX8mylC7p_yBKhGf7wjexvuCFOwHI8t0eow",
        "BASE_URL": "https://jointops.example.test",
        "LDAP_URL": "ldaps://dc1.example.test",
        "SESSION_COOKIE_SECURE": True,
    }
    app = create_app(config)
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
