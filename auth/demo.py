"""The built-in demo directory: for demonstration only.

The agencies, people and groups of ``demo_directory.ldif`` served in-process
by ldap3's MOCK_SYNC strategy, through the same :class:`LdapDirectory` code
that talks to a real server. The integration tests load the same file into a
real OpenLDAP slapd. Every demo account has the password ``DEMO_PASSWORD``.

The mock is not a security boundary: it compares passwords (like every other
value) case-insensitively, so ``DEMO-PASSWORD`` works too.

Like Active Directory, or OpenLDAP with the memberof overlay, every member of
a group also carries the group's DN in ``memberOf``, so both group membership
modes work on the demo. (The mock refuses extensible-match filters, so
nested-group resolution does not: that is Active Directory's alone.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ldap3
from ldif import LDIFParser

from auth.directory import DirectorySettings, LdapDirectory

LDIF_PATH = Path(__file__).with_name("demo_directory.ldif")
BASE_DN = "dc=jointops,dc=test"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - public by design, demo only
SERVICE_DN = f"cn=jointops-service,{BASE_DN}"
SERVICE_PASSWORD = "demo-service-password"  # noqa: S105 - public by design, demo only

GROUP_ROLES = {
    "jointops-investigators": "investigator",
    "jointops-prosecutors": "prosecutor",
    "jointops-advocates": "advocate",
    "jointops-supervisors": "supervisor",
    "jointops-deconfliction-officers": "deconfliction_officer",
    "jointops-admins": "admin",
    "jointops-interpreters": "interpreter",
    "jointops-forensic-interviewers": "forensic_interviewer",
}


def demo_settings() -> DirectorySettings:
    """Settings for the demo tree; the tests point them at a real slapd too."""
    return DirectorySettings(
        # `.invalid` never resolves (RFC 2606): the mock needs no network.
        urls=("ldap://demo-directory.invalid",),
        bind_dn=SERVICE_DN,
        bind_password=SERVICE_PASSWORD,
        user_base_dn=f"ou=people,{BASE_DN}",
        group_base_dn=f"ou=groups,{BASE_DN}",
        roles_mapping={f"cn={cn},ou=groups,{BASE_DN}": role for cn, role in GROUP_ROLES.items()},
        agency_base_dn=f"ou=agencies,{BASE_DN}",
    )


def demo_directory(settings: DirectorySettings | None = None) -> LdapDirectory:
    """A directory over one in-memory copy of the demo LDIF.

    ``settings`` default to :func:`demo_settings`; their URLs are ignored.

    ldap3's mock keeps its DIT on the Server object, so every connection
    made to that one Server sees the entries loaded here, and its simple bind
    checks the entry's ``userPassword``.
    """
    server = ldap3.Server("demo-directory.invalid", get_info=ldap3.NONE)
    loader = ldap3.Connection(server, client_strategy=ldap3.MOCK_SYNC)
    for dn, attributes in demo_entries():
        if not loader.strategy.add_entry(dn, attributes):
            raise ValueError(f"{LDIF_PATH.name}: cannot load {dn}")
    return LdapDirectory(
        settings or demo_settings(),
        client_strategy=ldap3.MOCK_SYNC,
        server_factory=lambda _url: server,
    )


def demo_entries() -> Iterator[tuple[str, dict[str, Any]]]:
    """The entries of the demo LDIF, each group member given ``memberOf`` values."""
    with LDIF_PATH.open("rb") as ldif_file:
        entries = [
            (dn, dict(attributes))
            for dn, attributes in LDIFParser(ldif_file).parse()
            if dn is not None
        ]
    groups_of: dict[str, list[str]] = {}
    for dn, attributes in entries:
        for member in attributes.get("member", []):
            groups_of.setdefault(member.lower(), []).append(dn)
    for dn, attributes in entries:
        groups = groups_of.get(dn.lower())
        yield dn, ({**attributes, "memberOf": groups} if groups else attributes)
