"""A directory of another shape than the demo's, on a real OpenLDAP slapd.

``tests/data/other_shape_directory.ldif``: no agency entries (the agencies are added with
``jointops agency add``), users under ``ou=staff`` in an OU per office, groups of class
``groupOfUniqueNames`` (``uniqueMember``). The agency comes from a user attribute in one
test and from the group mapping in the other. The database starts empty: migrated, with
no demo data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops import create_app
from jointops.config import load_config
from jointops.extensions import db
from jointops.identity.directory import sync_directory
from jointops.models import Agency, AuditEntry
from tests.conftest import (
    BACKENDS,
    IsolatedClient,
    PostgresDatabases,
    _database_url,
    base_config,
    migrate_and_seed,
    user,
)
from tests.ldap_server import SlapdServer
from tests.test_directory_login import need_slapd, password_error, sign_in

pytestmark = pytest.mark.slow

LDIF = Path(__file__).parent / "data" / "other_shape_directory.ldif"
SUFFIX = "dc=county,dc=test"
ROLES = f"ou=roles,{SUFFIX}"
PASSWORD = "staff-password"


def group(cn: str) -> str:
    return f"cn={cn},{ROLES}"


def person(uid: str, office: str = "sheriff") -> str:
    return f"uid={uid},ou={office},ou=staff,{SUFFIX}"


def environment(server: SlapdServer, **extra: str) -> dict[str, str]:
    """What an operator of this directory would set."""
    return {
        "JOINTOPS_LDAP_URL": server.url,
        "JOINTOPS_LDAP_BIND_USER_DN": f"cn=svc-jointops,ou=services,{SUFFIX}",
        "JOINTOPS_LDAP_BIND_USER_PASSWORD": "svc-password",
        "JOINTOPS_LDAP_USER_BASE_DN": f"ou=staff,{SUFFIX}",
        "JOINTOPS_LDAP_GROUP_BASE_DN": ROLES,
        "JOINTOPS_LDAP_GROUP_OBJECT_FILTER": "(objectClass=groupOfUniqueNames)",
        "JOINTOPS_LDAP_GROUP_MEMBERS_ATTR": "uniqueMember",
        "JOINTOPS_LDAP_ROLES_MAPPING": json.dumps(
            {
                group("taskforce-investigators"): "investigator",
                group("taskforce-supervisors"): "supervisor",
                group("taskforce-admins"): "admin",
            }
        ),
        "JOINTOPS_LDAP_TIMEOUT": "2",
    } | extra


@pytest.fixture
def slapd() -> Iterator[SlapdServer]:
    need_slapd()
    with SlapdServer(LDIF, suffix=SUFFIX) as server:
        yield server


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database without the demo's agencies and people."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        migrate_and_seed(url, seed=False)
        yield url
        return
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    name = postgres.create()
    url = _database_url(name)
    migrate_and_seed(url, seed=False)
    yield url
    postgres.drop(name)


@pytest.fixture
def make_app(empty_database_url: str, slapd: SlapdServer) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(**extra: str) -> Flask:
        ldap = {
            key: value
            for key, value in load_config(environment(slapd, **extra)).items()
            if key.startswith("LDAP_")
        }
        app = create_app(base_config(empty_database_url) | ldap)
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


def add_agencies(app: Flask) -> None:
    runner = app.test_cli_runner()
    for code, name, kind in (
        ("PBSO", "Palm Beach County Sheriff's Office", "local"),
        ("FBI", "FBI Miami, Palm Beach resident agency", "federal"),
    ):
        result = runner.invoke(args=["agency", "add", code, "--name", name, "--kind", kind])
        assert result.exit_code == 0, result.output
        assert f"Added agency {code}" in result.output


def signs_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    response = sign_in(client, username, PASSWORD)
    assert response.status_code == 302, password_error(response)
    return client


def refusals(username: str) -> list[dict[str, Any]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "login",
            AuditEntry.outcome == "no_access",
            AuditEntry.actor_username == username,
        )
    )
    return [row.detail for row in rows]


def agency_of(username: str) -> str | None:
    db.session.expire_all()
    found = user(username)
    return found.agency.code if found.agency else None


def test_agency_from_a_user_attribute(make_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    assert app.config["LDAP_AGENCY_BASE_DN"] == ""

    before = sign_in(app.test_client(), "jdoe", PASSWORD)
    assert before.status_code == 403
    assert password_error(before) == (
        "Your directory account names the agency “PBSO”, which JointOps does not know. "
        "Ask your administrator to add it."
    )

    add_agencies(app)
    listed = app.test_cli_runner().invoke(args=["agency", "list"])
    assert listed.exit_code == 0
    assert listed.output.splitlines() == [
        "FBI\tfederal\tlocal\tFBI Miami, Palm Beach resident agency",
        "PBSO\tlocal\tlocal\tPalm Beach County Sheriff's Office",
    ]

    client = signs_in(app, "jdoe")
    assert client.get("/calendar").status_code == 200
    assert user("jdoe").roles == {"investigator"}
    assert agency_of("jdoe") == "PBSO"
    signs_in(app, "asmith")
    assert user("asmith").roles == {"supervisor"}
    signs_in(app, "bking")
    assert (set(user("bking").roles), agency_of("bking")) == ({"investigator"}, "FBI")

    caplog.set_level(logging.WARNING, logger="jointops.identity.directory")
    refused = sign_in(app.test_client(), "drift", PASSWORD)
    assert refused.status_code == 403
    assert "names the agency “XYZ”, which JointOps does not know" in password_error(refused)
    assert refusals("drift") == [{"reason": "unknown_agency", "agency_code": "XYZ"}]
    assert "drift carries agency code 'XYZ', which names no JointOps agency" in caplog.text

    report = sync_directory()
    assert report.agencies == 0
    assert sorted(report.created) == ["itadmin"]
    assert (set(user("itadmin").roles), agency_of("itadmin")) == ({"admin"}, "PBSO")
    assert agency_of("drift") is None
    assert {a.source for a in db.session.scalars(select(Agency))} == {"local"}

    admin = signs_in(app, "itadmin")
    page = admin.get("/admin/agencies").get_data(as_text=True)
    assert "Palm Beach County Sheriff&#39;s Office" in page
    assert page.count("<td>JointOps</td>") == 2
    assert "<td>the directory</td>" not in page


def test_agency_from_the_group_mapping(make_app: Any, slapd: SlapdServer) -> None:
    app = make_app(
        JOINTOPS_LDAP_AGENCY_MAPPING=json.dumps(
            {
                group("agency-pbso"): "PBSO",
                group("Agency-FBI").upper(): "FBI",  # DNs compare without regard to case
                group("agency-hsi"): "HSI",
            }
        )
    )
    add_agencies(app)

    signs_in(app, "drift")  # its attribute says XYZ: the mapping decides
    assert (set(user("drift").roles), agency_of("drift")) == ({"investigator"}, "PBSO")
    signs_in(app, "bking")
    assert agency_of("bking") == "FBI"

    with slapd.admin() as ldap:
        ldap.add(
            group("agency-hsi"),
            ["groupOfUniqueNames"],
            {"cn": "agency-hsi", "uniqueMember": [person("bking", "federal")]},
        )
        ldap.modify(group("agency-pbso"), {"uniqueMember": [("MODIFY_DELETE", [person("jdoe")])]})
    two = sign_in(app.test_client(), "bking", PASSWORD)  # FBI and HSI: no one agency
    assert two.status_code == 403
    assert "no JointOps role or agency" in password_error(two)
    none = sign_in(app.test_client(), "jdoe", PASSWORD)
    assert none.status_code == 403
    assert refusals("jdoe") == [{"reason": "no_agency"}]

    with slapd.admin() as ldap:
        ldap.delete(group("agency-fbi"))
    unknown = sign_in(app.test_client(), "bking", PASSWORD)
    assert "names the agency “HSI”, which JointOps does not know" in password_error(unknown)

    report = sync_directory()
    assert report.agencies == 0
    assert sorted(report.created) == ["asmith", "itadmin"]
    assert (set(user("asmith").roles), agency_of("asmith")) == ({"supervisor"}, "PBSO")
    assert agency_of("jdoe") is None
    assert agency_of("bking") is None
