"""The web app signing people in against a real OpenLDAP slapd.

Each test starts its own slapd from the demo LDIF (about 0.1 s; the tests
change the directory under the app) and an app configured the way an
operator would, from ``JOINTOPS_LDAP_*`` variables, pointed at it. The
app's database is seeded from the same LDIF, so the two agree at the start.
Where the database plays no part (an outage, the memberOf mode) a test runs
on SQLite only.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from auth.demo import DEMO_PASSWORD, LDIF_PATH, demo_settings
from auth.directory import UNAVAILABLE_MESSAGE
from jointops import create_app
from jointops.config import load_config
from jointops.extensions import db
from jointops.identity.directory import sync_directory
from jointops.models import Event
from tests.conftest import IsolatedClient, base_config, need, user
from tests.ldap_server import SLAPD, SlapdServer

pytestmark = pytest.mark.slow

BAD_LOGIN = "Unknown username or wrong password."
GROUPS = "ou=groups,dc=jointops,dc=test"
PEOPLE = "ou=people,dc=jointops,dc=test"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def person(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group(cn: str) -> str:
    return f"cn={cn},{GROUPS}"


def ldap_environment(server: SlapdServer, **extra: str) -> dict[str, str]:
    """What an operator would put in the environment for this directory."""
    demo = demo_settings()
    return {
        "JOINTOPS_LDAP_URL": server.url,
        "JOINTOPS_LDAP_BIND_USER_DN": str(demo.bind_dn),
        "JOINTOPS_LDAP_BIND_USER_PASSWORD": str(demo.bind_password),
        "JOINTOPS_LDAP_USER_BASE_DN": demo.user_base_dn,
        "JOINTOPS_LDAP_USER_LOGIN_ATTR": "uid",
        "JOINTOPS_LDAP_GROUP_BASE_DN": demo.group_base_dn,
        "JOINTOPS_LDAP_ROLES_MAPPING": json.dumps(dict(demo.roles_mapping)),
        "JOINTOPS_LDAP_AGENCY_ATTR": "departmentNumber",
        "JOINTOPS_LDAP_AGENCY_BASE_DN": demo.agency_base_dn,
        "JOINTOPS_LDAP_TIMEOUT": "2",
    } | {f"JOINTOPS_LDAP_{name.upper()}": value for name, value in extra.items()}


def need_slapd() -> None:
    need(Path(SLAPD).exists(), f"{SLAPD} not installed (Debian package slapd)")


@pytest.fixture
def slapd() -> Iterator[SlapdServer]:
    need_slapd()
    with SlapdServer(LDIF_PATH) as server:
        yield server


@pytest.fixture
def slapd_member_of() -> Iterator[SlapdServer]:
    need_slapd()
    with SlapdServer(LDIF_PATH, member_of=True) as server:
        yield server


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """``make_app(server, group_membership="member_of")``: the app on that directory."""
    contexts: list[Any] = []

    def make(server: SlapdServer, **extra: str) -> Flask:
        ldap = {
            key: value
            for key, value in load_config(ldap_environment(server, **extra)).items()
            if key.startswith("LDAP_")
        }
        app = create_app(base_config(database_url) | ldap)
        app.test_client_class = IsolatedClient
        context = app.app_context()
        context.push()
        contexts.append(context)
        return app

    yield make
    for context in reversed(contexts):
        db.session.remove()
        db.engine.dispose()
        context.pop()


@pytest.fixture
def app(make_app: Callable[..., Flask], slapd: SlapdServer) -> Flask:
    """Replaces conftest's ``app``: the same seeded database, the directory on slapd."""
    return make_app(slapd)


def sign_in(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password})


def signed_in(client: FlaskClient) -> bool:
    return bool(client.get("/calendar").status_code == 200)


PASSWORD_ERROR = re.compile(r'<p class="error" id="password-error">(.*?)</p>', re.S)


def password_error(response: Any) -> str:
    """The message the login form shows under the password field."""
    found = PASSWORD_ERROR.search(response.get_data(as_text=True))
    assert found is not None, "no error under the password field"
    return html.unescape(found.group(1)).strip()


def roles_of(username: str) -> set[str]:
    db.session.expire_all()
    return set(user(username).roles)


# -- signing in --------------------------------------------------------------


def test_sign_in_through_the_login_form(app: Flask) -> None:
    client = app.test_client()
    response = sign_in(client, "agent.chen.fbi")
    assert response.status_code == 302
    assert response.headers["Location"] == "/calendar"
    page = client.get("/calendar")
    assert page.status_code == 200
    assert "Michael Chen" in page.get_data(as_text=True)
    found = user("agent.chen.fbi")
    assert found.last_login_at is not None
    assert found.roles == {"investigator"}
    assert found.agency is not None and found.agency.code == "FBI"


def test_wrong_password_and_unknown_user_get_the_same_answer(app: Flask) -> None:
    answers = [
        sign_in(app.test_client(), "investigator.pbso", "not-the-password"),
        sign_in(app.test_client(), "nobody.pbso"),
        # the demo's mock would take this; a real directory compares exactly
        sign_in(app.test_client(), "investigator.pbso", DEMO_PASSWORD.upper()),
    ]
    assert [r.status_code for r in answers] == [401, 401, 401]
    assert [password_error(r) for r in answers] == [BAD_LOGIN] * 3


@pytest.mark.parametrize("password", ["", "   "])
def test_an_empty_password_is_refused(app: Flask, password: str) -> None:
    client = app.test_client()
    response = sign_in(client, "investigator.pbso", password)
    assert response.status_code == 400
    assert password_error(response) == "This field is required."
    assert not signed_in(client)


@pytest.mark.parametrize("username", ["*)(uid=*))(|(uid=*", "admin*", "*"])
def test_filter_injection_does_not_sign_in(app: Flask, username: str) -> None:
    client = app.test_client()
    response = sign_in(client, username)
    assert response.status_code == 401
    assert password_error(response) == BAD_LOGIN
    assert not signed_in(client)


# -- the directory changes ---------------------------------------------------


def test_removed_from_a_group_the_user_loses_the_role_at_the_next_sign_in(
    app: Flask, slapd: SlapdServer
) -> None:
    client = app.test_client()
    assert sign_in(client, "investigator.pbso").status_code == 302
    assert roles_of("investigator.pbso") == {"investigator"}
    assert client.get("/events/new").status_code == 200

    with slapd.admin() as ldap:
        ldap.modify(
            group("jointops-investigators"),
            {"member": [("MODIFY_DELETE", [person("investigator.pbso")])]},
        )
        ldap.modify(
            group("jointops-deconfliction-officers"),
            {"member": [("MODIFY_ADD", [person("investigator.pbso")])]},
        )

    again = app.test_client()
    assert sign_in(again, "investigator.pbso").status_code == 302
    assert roles_of("investigator.pbso") == {"deconfliction_officer"}
    events = db.session.scalar(select(func.count()).select_from(Event))
    # a deconfliction officer schedules meetings, and nothing an investigator does
    form = again.get("/events/new")
    assert form.status_code == 200
    kinds = re.findall(r'<optgroup label="([^"]+)"', form.get_data(as_text=True))
    assert kinds == ["Meeting"]
    refused = again.post("/events/new", data={"kind": "operation", "title": "Knock and talk"})
    assert refused.status_code == 400  # the kind is not one this user may choose
    assert db.session.scalar(select(func.count()).select_from(Event)) == events


def test_removed_from_every_group_the_user_cannot_sign_in(app: Flask, slapd: SlapdServer) -> None:
    with slapd.admin() as ldap:
        ldap.modify(
            group("jointops-supervisors"),
            {"member": [("MODIFY_DELETE", [person("supervisor.vs")])]},
        )
    client = app.test_client()
    response = sign_in(client, "supervisor.vs")
    assert response.status_code == 403
    assert "no JointOps role" in password_error(response)
    assert not signed_in(client)


def test_losing_the_last_role_takes_effect_at_the_refused_sign_in(
    app: Flask, slapd: SlapdServer
) -> None:
    earlier = app.test_client()
    assert sign_in(earlier, "supervisor.vs").status_code == 302
    with slapd.admin() as ldap:
        ldap.modify(
            group("jointops-supervisors"),
            {"member": [("MODIFY_DELETE", [person("supervisor.vs")])]},
        )
    assert sign_in(app.test_client(), "supervisor.vs").status_code == 403
    assert roles_of("supervisor.vs") == set()
    assert earlier.get("/events/new").status_code != 200


def test_deleted_in_the_directory_a_sync_deactivates_and_signs_out_at_once(
    app: Flask, slapd: SlapdServer
) -> None:
    client = app.test_client()
    assert sign_in(client, "det.rivera.pbso").status_code == 302
    assert signed_in(client)

    with slapd.admin() as ldap:
        ldap.delete(person("det.rivera.pbso"))
    report = sync_directory()

    assert report.deactivated == ["det.rivera.pbso"]
    assert report.created == []
    assert user("det.rivera.pbso").active is False
    response = client.get("/calendar")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your account is no longer active in the directory." in page
    assert not signed_in(client)
    assert password_error(sign_in(client, "det.rivera.pbso")) == BAD_LOGIN


# -- the directory goes away -------------------------------------------------

STOPPED_WITHIN = 5.0  # seconds for the login page to say the directory is down


@SQLITE_ONLY
def test_directory_down_login_answers_503_and_signed_in_users_carry_on(
    app: Flask, slapd: SlapdServer
) -> None:
    signed = app.test_client()
    assert sign_in(signed, "supervisor.pbso").status_code == 302

    slapd.stop()
    started = time.monotonic()
    response = sign_in(app.test_client(), "investigator.pbso")
    elapsed = time.monotonic() - started
    print(f"login with the directory stopped answered in {elapsed:.3f} s")  # pytest -rP
    assert response.status_code == 503
    assert password_error(response) == UNAVAILABLE_MESSAGE == "Directory unavailable, try again"
    assert elapsed < STOPPED_WITHIN
    assert signed_in(signed)
    assert signed.get("/events/new").status_code == 200

    slapd.start()
    client = app.test_client()
    assert sign_in(client, "investigator.pbso").status_code == 302
    assert signed_in(client)


@SQLITE_ONLY
def test_hung_directory_login_answers_503_within_the_timeout(
    app: Flask, slapd: SlapdServer
) -> None:
    """slapd frozen (SIGSTOP): the port still accepts connections, nothing answers."""
    signed = app.test_client()
    assert sign_in(signed, "supervisor.pbso").status_code == 302
    slapd.pause()
    try:
        started = time.monotonic()
        response = sign_in(app.test_client(), "investigator.pbso")
        elapsed = time.monotonic() - started
        print(f"login with the directory hung answered in {elapsed:.3f} s")  # pytest -rP
        assert response.status_code == 503
        assert password_error(response) == UNAVAILABLE_MESSAGE
        assert elapsed < STOPPED_WITHIN  # JOINTOPS_LDAP_TIMEOUT=2
        assert signed_in(signed)
    finally:
        slapd.resume()
    assert sign_in(app.test_client(), "investigator.pbso").status_code == 302


# -- roles from memberOf -----------------------------------------------------


@SQLITE_ONLY
def test_member_of_mode_end_to_end(
    make_app: Callable[..., Flask], slapd_member_of: SlapdServer
) -> None:
    """OpenLDAP's memberof overlay keeps memberOf; the app reads roles from it alone."""
    app = make_app(slapd_member_of, group_membership="member_of", group_base_dn="")
    assert app.config["LDAP_GROUP_MEMBERSHIP"] == "member_of"
    client = app.test_client()
    assert sign_in(client, "supervisor.sao15").status_code == 302
    assert roles_of("supervisor.sao15") == {"supervisor", "prosecutor"}

    with slapd_member_of.admin() as ldap:
        ldap.modify(
            group("jointops-prosecutors"),
            {"member": [("MODIFY_DELETE", [person("supervisor.sao15")])]},
        )
        ldap.delete(person("investigator.hsi"))  # memberof-refint drops it from its groups

    assert sign_in(app.test_client(), "supervisor.sao15").status_code == 302
    assert roles_of("supervisor.sao15") == {"supervisor"}
    report = sync_directory()
    assert report.deactivated == ["investigator.hsi"]
    assert roles_of("agent.chen.fbi") == {"investigator"}
    assert roles_of("supervisor.sao15") == {"supervisor"}
