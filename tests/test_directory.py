"""The directory, run twice: against the demo (ldap3 mock) and a real OpenLDAP slapd.

Both load auth/demo_directory.ldif, and both go through the same LdapDirectory
code with the same settings (only the URL differs), so a difference between
the mock and a real server shows up here rather than in production.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from ldif import LDIFParser

import auth.directory
from auth.demo import DEMO_PASSWORD, LDIF_PATH, demo_directory, demo_settings
from auth.directory import (
    INVALID_CREDENTIALS_MESSAGE,
    UNAVAILABLE_MESSAGE,
    DirectoryAgency,
    DirectorySettings,
    DirectoryUnavailable,
    DirectoryUser,
    InvalidCredentials,
    LdapDirectory,
)
from tests.ldap_server import SLAPD, SlapdServer, free_port

IN_CI = os.environ.get("CI", "").lower() == "true"
PEOPLE = "ou=people,dc=jointops,dc=test"


def require(condition: bool, reason: str) -> None:
    """Skip when a binary is missing, but fail under CI where it must be there."""
    if not condition:
        if IN_CI:
            pytest.fail(f"{reason} (required under CI)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def slapd() -> Iterator[SlapdServer]:
    require(Path(SLAPD).exists(), f"{SLAPD} not installed (Debian package slapd)")
    with SlapdServer(LDIF_PATH, tls=shutil.which("openssl") is not None) as server:
        yield server


def slapd_settings(server: SlapdServer, **changes: Any) -> DirectorySettings:
    """The demo settings, pointed at the real server."""
    changes.setdefault("urls", (server.url,))
    return replace(demo_settings(), **changes)


@pytest.fixture(params=["demo", "slapd"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_directory(backend: str, request: pytest.FixtureRequest, **changes: Any) -> LdapDirectory:
    """The demo directory or one on the real slapd, with the demo settings changed."""
    if backend == "demo":
        return demo_directory(replace(demo_settings(), **changes))
    return LdapDirectory(slapd_settings(request.getfixturevalue("slapd"), **changes))


@pytest.fixture
def directory(backend: str, request: pytest.FixtureRequest) -> LdapDirectory:
    return make_directory(backend, request)


def ldif_people() -> dict[str, dict[str, list[str]]]:
    with LDIF_PATH.open("rb") as ldif_file:
        return {
            entry["uid"][0]: entry
            for dn, entry in LDIFParser(ldif_file).parse()
            if dn.endswith("," + PEOPLE)
        }


# -- login -------------------------------------------------------------------

#: the people of the demo LDIF
DEMO_PEOPLE = 18

EXPECTED_USERS = [
    DirectoryUser(
        username="investigator.pbso",
        dn=f"uid=investigator.pbso,{PEOPLE}",
        display_name="Marisol Delgado",
        email="investigator.pbso@pbso.demo.test",
        phone="+1 561 555 0101",
        agency_code="PBSO",
        roles=frozenset({"investigator"}),
    ),
    DirectoryUser(
        username="supervisor.sao15",
        dn=f"uid=supervisor.sao15,{PEOPLE}",
        display_name="Curtis Jameson",
        email="supervisor.sao15@sao15.demo.test",
        phone="+1 561 555 0142",
        agency_code="SAO15",
        roles=frozenset({"supervisor", "prosecutor"}),
    ),
    DirectoryUser(
        username="advocate.vs",
        dn=f"uid=advocate.vs,{PEOPLE}",
        display_name="Rose-Andrée Pierre-Louis",
        email="advocate.vs@vs.demo.test",
        phone="+1 561 555 0151",
        agency_code="VS",
        roles=frozenset({"advocate"}),
    ),
    DirectoryUser(
        username="deconfliction_officer.pbso",
        dn=f"uid=deconfliction_officer.pbso,{PEOPLE}",
        display_name="Tamika Brooks",
        email="deconfliction_officer.pbso@pbso.demo.test",
        phone="+1 561 555 0103",
        agency_code="PBSO",
        roles=frozenset({"deconfliction_officer"}),
    ),
    DirectoryUser(
        username="agent.chen.fbi",
        dn=f"uid=agent.chen.fbi,{PEOPLE}",
        display_name="Michael Chen",
        email="agent.chen.fbi@fbi.demo.test",
        phone="+1 561 555 0122",
        agency_code="FBI",
        roles=frozenset({"investigator"}),
    ),
    DirectoryUser(
        username="det.rivera.pbso",
        dn=f"uid=det.rivera.pbso,{PEOPLE}",
        display_name="Luis Rivera",
        email="det.rivera.pbso@pbso.demo.test",
        phone="+1 561 555 0105",
        agency_code="PBSO",
        roles=frozenset({"investigator", "interpreter"}),
    ),
    DirectoryUser(
        username="interpreter.vs",
        dn=f"uid=interpreter.vs,{PEOPLE}",
        display_name="Nadège Joseph",
        email="interpreter.vs@vs.demo.test",
        phone="+1 561 555 0153",
        agency_code="VS",
        roles=frozenset({"interpreter"}),
    ),
    DirectoryUser(
        username="interviewer.fbi",
        dn=f"uid=interviewer.fbi,{PEOPLE}",
        display_name="Sarah Lindqvist",
        email="interviewer.fbi@fbi.demo.test",
        phone="+1 561 555 0124",
        agency_code="FBI",
        roles=frozenset({"forensic_interviewer"}),
    ),
]


@pytest.mark.parametrize("expected", EXPECTED_USERS, ids=lambda user: user.username)
def test_login_returns_the_directory_user(
    directory: LdapDirectory, expected: DirectoryUser
) -> None:
    assert directory.authenticate(expected.username, DEMO_PASSWORD) == expected


def test_login_name_is_matched_like_the_directory_does(directory: LdapDirectory) -> None:
    user = directory.authenticate("  Admin.PBSO ", DEMO_PASSWORD)
    assert user.username == "admin.pbso"
    assert user.roles == frozenset({"admin"})


def test_groups_that_map_to_no_role_are_ignored(directory: LdapDirectory) -> None:
    # supervisor.fbi is also in cn=parking-permits
    assert directory.authenticate("supervisor.fbi", DEMO_PASSWORD).roles == {"supervisor"}


def assert_refused(directory: LdapDirectory, username: str, password: str) -> None:
    with pytest.raises(InvalidCredentials) as refused:
        directory.authenticate(username, password)
    assert type(refused.value) is InvalidCredentials
    assert str(refused.value) == INVALID_CREDENTIALS_MESSAGE


def test_wrong_password_is_refused(directory: LdapDirectory) -> None:
    assert_refused(directory, "investigator.pbso", "not-the-password")


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(directory: LdapDirectory) -> None:
    assert_refused(directory, "nobody.pbso", DEMO_PASSWORD)


@pytest.mark.parametrize("username", ["*)(uid=*))(|(uid=*", "admin*", "*", "*)(|(objectClass=*"])
def test_filter_injection_is_refused(directory: LdapDirectory, username: str) -> None:
    assert_refused(directory, username, DEMO_PASSWORD)


def test_the_service_account_cannot_log_in_as_a_user(directory: LdapDirectory) -> None:
    assert_refused(directory, "jointops-service", "demo-service-password")


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("investigator.pbso", ""),
        ("investigator.pbso", "   "),
        ("investigator.pbso", "\t\n"),
        ("", DEMO_PASSWORD),
        ("   ", DEMO_PASSWORD),
    ],
)
def test_blank_input_is_refused_before_touching_the_directory(username: str, password: str) -> None:
    contacted: list[str] = []

    def server_factory(url: str) -> object:
        contacted.append(url)
        raise AssertionError("the directory must not be contacted")

    directory = LdapDirectory(demo_settings(), server_factory=server_factory)
    assert_refused(directory, username, password)
    assert contacted == []


# -- listing -----------------------------------------------------------------


def test_users_lists_every_demo_user(directory: LdapDirectory) -> None:
    users = {user.username: user for user in directory.users()}
    people = ldif_people()
    assert set(users) == set(people)
    assert len(users) == DEMO_PEOPLE
    for username, entry in people.items():
        assert users[username].agency_code == entry["departmentNumber"][0]
        assert users[username].email == entry["mail"][0]
        assert len(users[username].roles) >= 1
    for expected in EXPECTED_USERS:
        assert users[expected.username] == expected


def test_users_reads_page_by_page(
    directory: LdapDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth.directory, "PAGE_SIZE", 3)
    assert len(list(directory.users())) == DEMO_PEOPLE


def test_agencies(directory: LdapDirectory) -> None:
    assert directory.agencies() == [
        DirectoryAgency("FBI", "Federal Bureau of Investigation", "federal"),
        DirectoryAgency("HSI", "Homeland Security Investigations", "federal"),
        DirectoryAgency("PBSO", "Palm Beach County Sheriff's Office", "local"),
        DirectoryAgency("SAO15", "State Attorney's Office, 15th Judicial Circuit", "prosecution"),
        DirectoryAgency("VS", "Palm Beach Victim Services", "victim_services"),
        DirectoryAgency("WPBPD", "West Palm Beach Police Department", "local"),
    ]


# -- settings ----------------------------------------------------------------


def test_anonymous_search_works(backend: str, request: pytest.FixtureRequest) -> None:
    directory = make_directory(backend, request, bind_dn=None, bind_password=None)
    assert directory.authenticate("advocate.vs", DEMO_PASSWORD).roles == {"advocate"}


def test_a_refused_service_account_is_an_outage_not_a_bad_login(
    backend: str, request: pytest.FixtureRequest
) -> None:
    directory = make_directory(backend, request, bind_password="wrong")
    with pytest.raises(DirectoryUnavailable, match=UNAVAILABLE_MESSAGE):
        directory.authenticate("advocate.vs", DEMO_PASSWORD)
    with pytest.raises(DirectoryUnavailable):
        list(directory.users())


def test_roles_mapping_compares_group_dns_loosely(
    backend: str, request: pytest.FixtureRequest
) -> None:
    mapping = {"CN=JointOps-Advocates, OU=Groups, DC=JointOps, DC=Test": "advocate"}
    directory = make_directory(backend, request, roles_mapping=mapping)
    assert directory.authenticate("advocate.vs", DEMO_PASSWORD).roles == {"advocate"}
    assert directory.authenticate("supervisor.vs", DEMO_PASSWORD).roles == frozenset()


def test_roles_mapping_to_an_unknown_role_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        LdapDirectory(replace(demo_settings(), roles_mapping={"cn=x": "superuser"}))


# -- a real server: outages, failover, TLS -----------------------------------


def closed_port_url() -> str:
    return f"ldap://127.0.0.1:{free_port()}"


def test_unreachable_directory_is_unavailable_quickly() -> None:
    directory = LdapDirectory(replace(demo_settings(), urls=(closed_port_url(),), timeout=2))
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable, match=UNAVAILABLE_MESSAGE):
        directory.authenticate("investigator.pbso", DEMO_PASSWORD)
    with pytest.raises(DirectoryUnavailable):
        list(directory.users())
    with pytest.raises(DirectoryUnavailable):
        directory.agencies()
    assert time.monotonic() - started < 5


def test_silent_directory_times_out() -> None:
    """A server that accepts the connection but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        directory = LdapDirectory(replace(demo_settings(), urls=(url,), timeout=1))
        started = time.monotonic()
        with pytest.raises(DirectoryUnavailable):
            directory.authenticate("investigator.pbso", DEMO_PASSWORD)
        assert time.monotonic() - started < 4


def test_fails_over_to_the_next_url(slapd: SlapdServer) -> None:
    directory = LdapDirectory(replace(slapd_settings(slapd), urls=(closed_port_url(), slapd.url)))
    assert directory.authenticate("investigator.hsi", DEMO_PASSWORD).agency_code == "HSI"


def test_directory_stopping_and_coming_back(slapd: SlapdServer) -> None:
    directory = LdapDirectory(slapd_settings(slapd, timeout=2))
    assert directory.authenticate("investigator.wpbpd", DEMO_PASSWORD).agency_code == "WPBPD"
    slapd.stop()
    try:
        started = time.monotonic()
        with pytest.raises(DirectoryUnavailable):
            directory.authenticate("investigator.wpbpd", DEMO_PASSWORD)
        assert time.monotonic() - started < 5
    finally:
        slapd.start()
    # the same instance works again at once: no "server down" state is cached
    assert directory.authenticate("investigator.wpbpd", DEMO_PASSWORD).agency_code == "WPBPD"


def require_tls(server: SlapdServer) -> None:
    require(server.tls, "the openssl command is needed to make test certificates")


def test_start_tls_with_the_ca(slapd: SlapdServer) -> None:
    require_tls(slapd)
    directory = LdapDirectory(slapd_settings(slapd, start_tls=True, ca_file=slapd.ca_file))
    assert directory.authenticate("prosecutor.sao15", DEMO_PASSWORD).roles == {"prosecutor"}


def test_ldaps_with_the_ca(slapd: SlapdServer) -> None:
    require_tls(slapd)
    settings = slapd_settings(slapd, ca_file=slapd.ca_file)
    directory = LdapDirectory(replace(settings, urls=(slapd.ldaps_url,)))
    assert directory.authenticate("supervisor.hsi", DEMO_PASSWORD).agency_code == "HSI"
    assert len(directory.agencies()) == 6


@pytest.mark.parametrize("mode", ["ldaps", "start_tls"])
def test_an_untrusted_certificate_is_refused(slapd: SlapdServer, mode: str) -> None:
    require_tls(slapd)
    if mode == "ldaps":
        settings = slapd_settings(slapd, urls=(slapd.ldaps_url,))
    else:
        settings = slapd_settings(slapd, start_tls=True)
    directory = LdapDirectory(replace(settings, timeout=2))  # system CAs only
    with pytest.raises(DirectoryUnavailable):
        directory.authenticate("supervisor.hsi", DEMO_PASSWORD)


def test_passwords_are_case_sensitive_on_a_real_server(slapd: SlapdServer) -> None:
    # The ldap3 mock compares case-insensitively (see auth.demo); slapd does not.
    directory = LdapDirectory(slapd_settings(slapd))
    assert_refused(directory, "investigator.pbso", DEMO_PASSWORD.upper())


# -- group membership modes --------------------------------------------------


@pytest.fixture(scope="module")
def slapd_member_of() -> Iterator[SlapdServer]:
    """A slapd with the memberof overlay: every group member carries memberOf."""
    require(Path(SLAPD).exists(), f"{SLAPD} not installed (Debian package slapd)")
    with SlapdServer(LDIF_PATH, member_of=True) as server:
        yield server


def make_member_of_directory(
    backend: str, request: pytest.FixtureRequest, **changes: Any
) -> LdapDirectory:
    """member_of mode: on the mock (memberOf computed from the LDIF) or on slapd's overlay."""
    changes.setdefault("group_membership", "member_of")
    if backend == "demo":
        return demo_directory(replace(demo_settings(), **changes))
    server = request.getfixturevalue("slapd_member_of")
    return LdapDirectory(slapd_settings(server, **changes))


@pytest.fixture
def member_of_directory(backend: str, request: pytest.FixtureRequest) -> LdapDirectory:
    return make_member_of_directory(backend, request)


@pytest.mark.parametrize("expected", EXPECTED_USERS, ids=lambda user: user.username)
def test_member_of_mode_login(member_of_directory: LdapDirectory, expected: DirectoryUser) -> None:
    assert member_of_directory.authenticate(expected.username, DEMO_PASSWORD) == expected


def test_member_of_mode_lists_the_same_users_as_group_search(
    member_of_directory: LdapDirectory, directory: LdapDirectory
) -> None:
    by_member_of = sorted(member_of_directory.users(), key=lambda user: user.username)
    assert len(by_member_of) == DEMO_PEOPLE
    assert by_member_of == sorted(directory.users(), key=lambda user: user.username)


def test_member_of_mode_needs_no_group_base(backend: str, request: pytest.FixtureRequest) -> None:
    directory = make_member_of_directory(backend, request, group_base_dn="")
    assert directory.authenticate("supervisor.sao15", DEMO_PASSWORD).roles == {
        "supervisor",
        "prosecutor",
    }


def test_member_of_mode_without_the_overlay_finds_no_roles(slapd: SlapdServer) -> None:
    """Plain OpenLDAP keeps no memberOf: users log in, but with no role (see docs/directory.md)."""
    directory = LdapDirectory(slapd_settings(slapd, group_membership="member_of"))
    assert directory.authenticate("investigator.pbso", DEMO_PASSWORD).roles == frozenset()


def test_member_of_attribute_name_is_configurable(
    backend: str, request: pytest.FixtureRequest
) -> None:
    # the entries carry memberOf; an attribute they lack gives no roles
    directory = make_member_of_directory(backend, request, member_of_attr="isMemberOf")
    assert directory.authenticate("advocate.vs", DEMO_PASSWORD).roles == frozenset()


def test_nested_group_filter_uses_the_in_chain_matching_rule() -> None:
    directory = LdapDirectory(replace(demo_settings(), nested_groups=True))
    dn = "uid=o(brien)*,ou=people,dc=jointops,dc=test"
    assert directory.group_search_filter(dn) == (
        "(&(objectClass=groupOfNames)"
        "(member:1.2.840.113556.1.4.1941:=uid=o\\28brien\\29\\2a,ou=people,dc=jointops,dc=test))"
    )
    flat = LdapDirectory(replace(demo_settings(), group_members_attr="uniqueMember"))
    assert flat.group_search_filter(dn) == (
        "(&(objectClass=groupOfNames)"
        "(uniqueMember=uid=o\\28brien\\29\\2a,ou=people,dc=jointops,dc=test))"
    )


def test_nested_groups_resolve_per_user_at_login_and_in_the_listing(
    slapd: SlapdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nested code path against a real server.

    OpenLDAP does not know AD's in-chain rule, so the test swaps in a rule it
    does know (exact DN match): the filter shape, the per-user searches and
    their interplay with the paged listing then run for real, and must give
    exactly the direct memberships of the demo tree.
    """
    monkeypatch.setattr(auth.directory, "MATCHING_RULE_IN_CHAIN", "distinguishedNameMatch")
    monkeypatch.setattr(auth.directory, "PAGE_SIZE", 3)
    nested = LdapDirectory(slapd_settings(slapd, nested_groups=True))
    flat = LdapDirectory(slapd_settings(slapd))
    for expected in EXPECTED_USERS:
        assert nested.authenticate(expected.username, DEMO_PASSWORD) == expected
    users = sorted(nested.users(), key=lambda user: user.username)
    assert len(users) == DEMO_PEOPLE
    assert users == sorted(flat.users(), key=lambda user: user.username)


def test_nested_groups_find_nothing_on_openldap(slapd: SlapdServer) -> None:
    """AD's in-chain rule is unknown to OpenLDAP, which then matches no group at all."""
    directory = LdapDirectory(slapd_settings(slapd, nested_groups=True))
    assert directory.authenticate("investigator.pbso", DEMO_PASSWORD).roles == frozenset()


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"group_membership": "memberof"}, "group_membership must be one of"),
        ({"group_membership": "member_of", "member_of_attr": ""}, "needs member_of_attr"),
        ({"group_membership": "member_of", "nested_groups": True}, "nested_groups needs"),
    ],
)
def test_group_membership_settings_are_checked(changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        LdapDirectory(replace(demo_settings(), **changes))


# -- configuration -----------------------------------------------------------

SLAPD_ENV = {
    "JOINTOPS_LDAP_URL": "ldap://127.0.0.1:1, ldap://127.0.0.1:2",
    "JOINTOPS_LDAP_USER_BASE_DN": PEOPLE,
    "JOINTOPS_LDAP_ROLES_MAPPING": '{"cn=g,ou=groups,dc=jointops,dc=test": "advocate"}',
}


def test_config_builds_the_directory_settings() -> None:
    from jointops.config import load_config, validate_config
    from jointops.identity.directory import _build

    config = load_config(
        SLAPD_ENV
        | {
            "JOINTOPS_LDAP_GROUP_MEMBERSHIP": "member_of",
            "JOINTOPS_LDAP_MEMBER_OF_ATTR": "isMemberOf",
        }
    )
    validate_config(config)
    directory = _build(config)
    assert isinstance(directory, LdapDirectory)
    settings = directory.settings
    assert settings.urls == ("ldap://127.0.0.1:1", "ldap://127.0.0.1:2")
    assert (settings.group_membership, settings.member_of_attr) == ("member_of", "isMemberOf")
    assert settings.nested_groups is False
    assert settings.roles_mapping == {"cn=g,ou=groups,dc=jointops,dc=test": "advocate"}

    nested = _build(load_config(SLAPD_ENV | {"JOINTOPS_LDAP_NESTED_GROUPS": "true"}))
    assert isinstance(nested, LdapDirectory)
    assert nested.settings.nested_groups is True
    assert nested.settings.group_membership == "search"


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"JOINTOPS_LDAP_GROUP_MEMBERSHIP": "memberOf"}, "JOINTOPS_LDAP_GROUP_MEMBERSHIP"),
        (
            {"JOINTOPS_LDAP_GROUP_MEMBERSHIP": "member_of", "JOINTOPS_LDAP_MEMBER_OF_ATTR": " "},
            "JOINTOPS_LDAP_MEMBER_OF_ATTR",
        ),
        ({"JOINTOPS_LDAP_NESTED_GROUPS": "maybe"}, "JOINTOPS_LDAP_NESTED_GROUPS"),
        (
            {"JOINTOPS_LDAP_GROUP_MEMBERSHIP": "member_of", "JOINTOPS_LDAP_NESTED_GROUPS": "1"},
            "JOINTOPS_LDAP_NESTED_GROUPS",
        ),
        ({"JOINTOPS_LDAP_ROLES_MAPPING": "{'cn=g': 'advocate'}"}, "JOINTOPS_LDAP_ROLES_MAPPING"),
        ({"JOINTOPS_LDAP_ROLES_MAPPING": '["advocate"]'}, "JOINTOPS_LDAP_ROLES_MAPPING"),
        ({"JOINTOPS_LDAP_ROLES_MAPPING": '{"cn=g": "boss"}'}, "JOINTOPS_LDAP_ROLES_MAPPING"),
    ],
)
def test_bad_group_settings_are_config_errors(env: dict[str, str], complaint: str) -> None:
    from jointops.config import ConfigError, load_config, validate_config

    with pytest.raises(ConfigError, match=complaint):
        validate_config(load_config(SLAPD_ENV | env))
