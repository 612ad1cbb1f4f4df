"""The directory contract and its ldap3 implementation.

JointOps keeps no passwords: who a user is, which agency they belong to and
which roles they hold come from an LDAP directory (OpenLDAP, Active
Directory). :class:`Directory` is the small contract the application uses;
:class:`LdapDirectory` implements it with ldap3, against a real server or, for
the demo, against ldap3's in-process mock (see :mod:`auth.demo`).

Login is search-then-bind: bind as the service account (or anonymously),
find exactly one user entry by login name, then bind again as that entry with
the password the user typed. Only the directory ever checks a password.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import ssl
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import ldap3
from ldap3.core.exceptions import LDAPException, LDAPInvalidCredentialsResult
from ldap3.utils.conv import escape_filter_chars

log = logging.getLogger(__name__)

ROLES = (
    "investigator",
    "prosecutor",
    "advocate",
    "supervisor",
    "deconfliction_officer",
    "admin",
    "interpreter",
    "forensic_interviewer",
)
AGENCY_KINDS = ("local", "state", "federal", "prosecution", "victim_services")
#: an agency's code: capitals, digits, "-" and "_", 2 to 16 characters (PBSO, SAO15)
AGENCY_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{1,15}$"

PAGE_SIZE = 500

# Agency entries: one `organization` per agency directly below agency_base_dn,
# o = code, description = full name, businessCategory = kind.
AGENCY_FILTER = "(objectClass=organization)"
AGENCY_CODE_ATTR = "o"
AGENCY_NAME_ATTR = "description"
AGENCY_KIND_ATTR = "businessCategory"

# How a user's groups are found (DirectorySettings.group_membership):
#   "search"     search the groups below group_base_dn whose members attribute
#                holds the user's DN (groupOfNames/member, groupOfUniqueNames/
#                uniqueMember, AD group/member);
#   "member_of"  read the group DNs from the user entry's own memberOf
#                attribute (Active Directory; OpenLDAP with the memberof overlay).
GROUP_MEMBERSHIP_MODES = ("search", "member_of")

# Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: a member filter with it
# matches a group the user belongs to directly or through nested groups.
# Other servers do not know the rule and match nothing (OpenLDAP) or refuse it.
MATCHING_RULE_IN_CHAIN = "1.2.840.113556.1.4.1941"

UNAVAILABLE_MESSAGE = "Directory unavailable, try again"
INVALID_CREDENTIALS_MESSAGE = "Invalid username or password"


@dataclass(frozen=True)
class DirectoryAgency:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class DirectoryUser:
    username: str
    dn: str
    display_name: str
    email: str | None
    phone: str | None
    agency_code: str | None
    roles: frozenset[str]
    active: bool = True


class DirectoryError(Exception):
    """Base of the errors the directory raises."""


class DirectoryUnavailable(DirectoryError):
    """The directory is down, slow or misconfigured (including the service account)."""

    def __init__(self, message: str = UNAVAILABLE_MESSAGE) -> None:
        super().__init__(message)


class InvalidCredentials(DirectoryError):
    """Login refused.

    One message for an unknown user, a wrong or empty password and an ambiguous
    login name, so that the answer does not reveal which accounts exist.
    """

    def __init__(self, message: str = INVALID_CREDENTIALS_MESSAGE) -> None:
        super().__init__(message)


def any_account(_dn: str) -> None:
    """The default ``before_bind``: every account the login name resolves to may try."""


class Directory(Protocol):
    def authenticate(
        self, username: str, password: str, *, before_bind: Callable[[str], None] = any_account
    ) -> DirectoryUser: ...

    def users(self) -> Iterator[DirectoryUser]: ...

    def agencies(self) -> list[DirectoryAgency]: ...


@dataclass(frozen=True)
class DirectorySettings:
    urls: tuple[str, ...]
    bind_dn: str | None
    bind_password: str | None
    user_base_dn: str
    user_login_attr: str = "uid"
    user_object_filter: str = "(objectClass=inetOrgPerson)"
    group_base_dn: str = ""
    group_object_filter: str = "(objectClass=groupOfNames)"
    group_members_attr: str = "member"
    group_membership: str = "search"
    member_of_attr: str = "memberOf"
    nested_groups: bool = False
    roles_mapping: Mapping[str, str] = field(default_factory=dict)
    agency_attr: str = "departmentNumber"
    #: group DN -> agency code; when given, a user's agency is that of their mapped group
    #: and ``agency_attr`` is not read
    agency_mapping: Mapping[str, str] = field(default_factory=dict)
    agency_base_dn: str = ""
    start_tls: bool = False
    ca_file: str | None = None
    timeout: float = 5.0


ServerFactory = Callable[[str], Any]
"""Returns the ldap3 Server for one URL; called for every connection."""


class _VerifiedTls(ldap3.Tls):  # type: ignore[misc]
    """Certificate and host name checked by OpenSSL.

    ldap3 checks the host name itself with ``ssl.match_hostname()``, which is
    deprecated (a DeprecationWarning on every connection) and gone in
    Python 3.12. A default SSL context with ``server_hostname`` does the same
    check inside the handshake, and requires TLS 1.2 or later.
    """

    def __init__(self, ca_file: str | None) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file)
        self._context = ssl.create_default_context(cafile=ca_file)

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        connection.socket = self._context.wrap_socket(
            connection.socket,
            server_hostname=connection.server.host,
            do_handshake_on_connect=do_handshake,
        )


class LdapDirectory:
    """The directory over ldap3: search-then-bind login, group roles, paged listing.

    Every call opens its own connections and unbinds them before returning, so
    one instance can be shared by threads. ``client_strategy`` and
    ``server_factory`` exist for the demo, which passes ldap3's MOCK_SYNC and
    its one mock Server so that the same code runs against the in-memory DIT.
    """

    def __init__(
        self,
        settings: DirectorySettings,
        *,
        client_strategy: str = ldap3.SYNC,
        server_factory: ServerFactory | None = None,
    ) -> None:
        if not settings.urls:
            raise ValueError("DirectorySettings.urls is empty")
        unknown = sorted(set(settings.roles_mapping.values()) - set(ROLES))
        if unknown:
            raise ValueError(f"roles_mapping maps to unknown roles: {unknown}")
        bad_codes = sorted(
            code
            for code in set(settings.agency_mapping.values())
            if not re.fullmatch(AGENCY_CODE_PATTERN, code)
        )
        if bad_codes:
            raise ValueError(f"agency_mapping maps to malformed agency codes: {bad_codes}")
        if settings.group_membership not in GROUP_MEMBERSHIP_MODES:
            raise ValueError(
                f"group_membership must be one of {GROUP_MEMBERSHIP_MODES}, "
                f"not {settings.group_membership!r}"
            )
        if settings.group_membership == "member_of" and not settings.member_of_attr:
            raise ValueError("group_membership 'member_of' needs member_of_attr")
        if settings.nested_groups and settings.group_membership != "search":
            # memberOf holds direct groups only, on AD as on OpenLDAP
            raise ValueError("nested_groups needs group_membership 'search'")
        self._settings = settings
        self._client_strategy = client_strategy
        if server_factory is None:
            for url in settings.urls:
                self._server(url)  # a bad URL or CA file fails here, at start-up
        self._server_factory = server_factory or self._server
        self._roles_by_group = {
            _normalize_dn(dn): role for dn, role in settings.roles_mapping.items()
        }
        self._agency_by_group = {
            _normalize_dn(dn): code for dn, code in settings.agency_mapping.items()
        }
        self._mapped_groups = set(self._roles_by_group) | set(self._agency_by_group)

    @property
    def settings(self) -> DirectorySettings:
        return self._settings

    # -- the contract --------------------------------------------------------

    def authenticate(
        self, username: str, password: str, *, before_bind: Callable[[str], None] = any_account
    ) -> DirectoryUser:
        """Return the user whose login name and password these are.

        Raises InvalidCredentials (one message for every reason) or
        DirectoryUnavailable. Blank input is refused before any connection:
        an LDAP simple bind with an empty password is an *unauthenticated*
        bind that many servers accept as anonymous.

        ``before_bind`` is called with the DN the login name resolved to (the
        server's matching rules decide which spellings resolve to it) before the
        password is tried; whatever it raises ends the attempt there.
        """
        username = username.strip()
        if not username or not password or not password.strip():
            raise InvalidCredentials()
        s = self._settings
        with self._service_connection() as conn:
            search_filter = (
                f"(&{s.user_object_filter}({s.user_login_attr}={escape_filter_chars(username)}))"
            )
            conn.search(
                s.user_base_dn,
                search_filter,
                ldap3.SUBTREE,
                attributes=self._user_attributes(),
            )
            entries = _entries(conn.response)
            if len(entries) != 1:
                if entries:
                    log.warning("login name %r matches several directory entries", username)
                raise InvalidCredentials()
            entry = entries[0]
            before_bind(entry["dn"])
            with self._connection(entry["dn"], password, rejected=InvalidCredentials):
                pass
            groups = self._groups_of(conn, entry)
        user = self._user(entry, groups)
        if user is None:
            raise InvalidCredentials()
        return user

    def users(self) -> Iterator[DirectoryUser]:
        """Every user below user_base_dn, with roles, read page by page.

        Groups are found as at login (see :meth:`_groups_lookup`), so a sync and
        a login never disagree about roles and agencies.
        """
        s = self._settings
        with self._service_connection() as conn:
            groups_of = self._groups_lookup(conn)
            entries: Iterable[dict[str, Any]] = self._paged(
                conn, s.user_base_dn, s.user_object_filter, self._user_attributes()
            )
            if s.nested_groups:
                # groups_of searches per user: a search between two pages on
                # the same connection would abandon the paged search.
                entries = list(entries)
            for entry in entries:
                user = self._user(entry, groups_of(entry))
                if user is None:
                    log.warning("skipping user entry %s: no %s", entry["dn"], s.user_login_attr)
                    continue
                yield user

    def agencies(self) -> list[DirectoryAgency]:
        """The agency entries directly below agency_base_dn, sorted by code."""
        s = self._settings
        if not s.agency_base_dn:
            return []
        attributes = [AGENCY_CODE_ATTR, AGENCY_NAME_ATTR, AGENCY_KIND_ATTR]
        agencies = []
        with self._service_connection() as conn:
            conn.search(s.agency_base_dn, AGENCY_FILTER, ldap3.LEVEL, attributes=attributes)
            for entry in _entries(conn.response):
                attrs = entry["attributes"]
                code = _first(attrs, AGENCY_CODE_ATTR)
                kind = _first(attrs, AGENCY_KIND_ATTR)
                if not code or kind not in AGENCY_KINDS:
                    log.warning("skipping agency entry %s: no code or unknown kind", entry["dn"])
                    continue
                name = _first(attrs, AGENCY_NAME_ATTR) or code
                agencies.append(DirectoryAgency(code=code, name=name, kind=kind))
        return sorted(agencies, key=lambda agency: agency.code)

    # -- connections ---------------------------------------------------------

    def _server(self, url: str) -> Any:
        """A fresh Server per connection.

        ldap3 Servers remember failed addresses for several seconds and share
        that state between threads, which would keep a restarted directory
        "down"; a new one costs nothing.
        """
        s = self._settings
        tls = _VerifiedTls(s.ca_file) if url.lower().startswith("ldaps:") or s.start_tls else None
        return ldap3.Server(url, connect_timeout=s.timeout, get_info=ldap3.NONE, tls=tls)

    def _open(self, user: str | None, password: str | None) -> Any:
        """An open, not yet bound, connection to the first server that answers.

        Failover is a plain loop rather than ldap3's ServerPool: with
        ``active=True`` a pool whose servers are all down retries forever, and
        with a number of cycles it still sleeps POOLING_LOOP_TIMEOUT (10 s)
        before giving up. Here the worst case is one timeout per URL.
        """
        errors = []
        for url in self._settings.urls:
            conn = ldap3.Connection(
                self._server_factory(url),
                user=user,
                password=password,
                client_strategy=self._client_strategy,
                auto_bind=ldap3.AUTO_BIND_NONE,
                read_only=True,
                raise_exceptions=True,
                # Active Directory answers searches at the domain root with
                # references to other partitions; chasing them stalls logins.
                auto_referrals=False,
                # ldap3 packs this into SO_RCVTIMEO as whole seconds
                receive_timeout=max(1, math.ceil(self._settings.timeout)),
            )
            try:
                conn.open(read_server_info=False)
            except LDAPException as exc:
                errors.append(f"{url}: {exc}")
                _close_socket(conn)
                continue
            return conn
        log.warning("directory unreachable: %s", "; ".join(errors))
        raise DirectoryUnavailable()

    @contextmanager
    def _connection(
        self, user: str | None, password: str | None, *, rejected: type[DirectoryError]
    ) -> Iterator[Any]:
        """A bound connection, unbound on exit.

        A refused bind raises ``rejected``; any other ldap3 error, in the bind
        or in the body, raises DirectoryUnavailable.
        """
        conn = self._open(user, password)
        try:
            if self._settings.start_tls and not conn.server.ssl:
                if not conn.start_tls(read_server_info=False):
                    raise DirectoryUnavailable()
            try:
                conn.bind()
            except LDAPInvalidCredentialsResult as exc:
                if rejected is DirectoryUnavailable:
                    log.warning("the directory refused the service bind as %s", user or "anonymous")
                raise rejected() from exc
            yield conn
        except LDAPException as exc:
            log.warning("directory error: %s: %s", type(exc).__name__, exc)
            raise DirectoryUnavailable() from exc
        finally:
            try:
                conn.unbind()
            except LDAPException:
                _close_socket(conn)  # the server is gone; unbind cannot be sent

    def _service_connection(self) -> Any:
        """Bound as the service account; a refused service bind is a misconfiguration."""
        s = self._settings
        return self._connection(s.bind_dn, s.bind_password, rejected=DirectoryUnavailable)

    def _paged(
        self, conn: Any, base: str, search_filter: str, attributes: list[str]
    ) -> Iterator[dict[str, Any]]:
        results = conn.extend.standard.paged_search(
            base,
            search_filter,
            ldap3.SUBTREE,
            attributes=attributes,
            paged_size=PAGE_SIZE,
            generator=True,
        )
        for result in results:
            if result.get("type") == "searchResEntry":
                yield result

    # -- groups and entries --------------------------------------------------

    def _groups_of(self, conn: Any, entry: dict[str, Any]) -> frozenset[str]:
        """The mapped groups (normalised DNs) of one user entry, by the configured mode."""
        s = self._settings
        if s.group_membership == "member_of":
            return self._groups_from_member_of(entry)
        if not s.group_base_dn or not self._mapped_groups:
            return frozenset()
        search_filter = self.group_search_filter(entry["dn"])
        groups = self._paged(conn, s.group_base_dn, search_filter, [ldap3.NO_ATTRIBUTES])
        return self._mapped(group["dn"] for group in groups)

    def group_search_filter(self, user_dn: str) -> str:
        """The filter of the groups ``user_dn`` is a member of (nested too, with nested_groups)."""
        s = self._settings
        members_attr = s.group_members_attr
        if s.nested_groups:
            members_attr += f":{MATCHING_RULE_IN_CHAIN}:"
        return f"(&{s.group_object_filter}({members_attr}={escape_filter_chars(user_dn)}))"

    def _groups_lookup(self, conn: Any) -> Callable[[dict[str, Any]], frozenset[str]]:
        """How :meth:`users` finds the mapped groups of each entry.

        memberOf: from the entry itself. Group search: from one paged search
        of all groups, read up front; with nested groups, one in-chain group
        search per user, exactly as at login (memberOf holds direct groups
        only, so it cannot stand in for that).
        """
        s = self._settings
        if s.group_membership == "member_of":
            return self._groups_from_member_of
        if s.nested_groups:
            return functools.partial(self._groups_of, conn)
        groups_by_member = self._groups_by_member(conn)
        return lambda entry: groups_by_member.get(_normalize_dn(entry["dn"]), frozenset())

    def _groups_from_member_of(self, entry: dict[str, Any]) -> frozenset[str]:
        return self._mapped(_values(entry["attributes"], self._settings.member_of_attr))

    def _mapped(self, group_dns: Iterable[str]) -> frozenset[str]:
        """The normalised DNs of those groups that a mapping (roles or agencies) names."""
        return frozenset(
            dn for dn in (_normalize_dn(g) for g in group_dns) if dn in self._mapped_groups
        )

    def _groups_by_member(self, conn: Any) -> dict[str, frozenset[str]]:
        """Normalised member DN -> mapped groups, from one paged search of all groups."""
        s = self._settings
        if not s.group_base_dn or not self._mapped_groups:
            return {}
        groups: dict[str, set[str]] = {}
        found = self._paged(conn, s.group_base_dn, s.group_object_filter, [s.group_members_attr])
        for group in found:
            dn = _normalize_dn(group["dn"])
            if dn not in self._mapped_groups:
                continue
            for member in _values(group["attributes"], s.group_members_attr):
                groups.setdefault(_normalize_dn(member), set()).add(dn)
        return {member: frozenset(dns) for member, dns in groups.items()}

    def _agency_code(self, entry: dict[str, Any], groups: frozenset[str]) -> str | None:
        """The agency code of the mapped group (with an agency mapping) or of the attribute.

        Groups of two different agencies give no agency: a user belongs to one.
        """
        if not self._agency_by_group:
            return _first(entry["attributes"], self._settings.agency_attr)
        codes = {code for dn in groups if (code := self._agency_by_group.get(dn)) is not None}
        if len(codes) > 1:
            log.warning("%s is in groups of several agencies: %s", entry["dn"], sorted(codes))
            return None
        return codes.pop() if codes else None

    def _user_attributes(self) -> list[str]:
        s = self._settings
        attributes = [s.user_login_attr, "cn", "displayName", "mail", "telephoneNumber"]
        if not s.agency_mapping and s.agency_attr:
            attributes.append(s.agency_attr)
        if s.group_membership == "member_of":
            attributes.append(s.member_of_attr)  # operational on OpenLDAP: sent only if asked
        return attributes

    def _user(self, entry: dict[str, Any], groups: frozenset[str]) -> DirectoryUser | None:
        """The user of an entry; the login name is the directory's spelling of it."""
        attrs = entry["attributes"]
        username = _first(attrs, self._settings.user_login_attr)
        if username is None:
            return None
        return DirectoryUser(
            username=username,
            dn=entry["dn"],
            display_name=_first(attrs, "displayName") or _first(attrs, "cn") or username,
            email=_first(attrs, "mail"),
            phone=_first(attrs, "telephoneNumber"),
            agency_code=self._agency_code(entry, groups),
            roles=frozenset(role for dn in groups if (role := self._roles_by_group.get(dn))),
        )


def _close_socket(conn: Any) -> None:
    """Close the socket ldap3 leaves open when opening or unbinding fails."""
    sock = getattr(conn, "socket", None)
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass


def _entries(response: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [r for r in response or [] if r.get("type") == "searchResEntry"]


def _values(attributes: Mapping[str, Any], name: str) -> list[str]:
    """The values of one attribute as strings, whatever shape ldap3 returned.

    Without a schema ldap3 returns lists; with one, single-valued attributes
    come back as a bare value. Attribute names are compared case-insensitively.
    """
    lowered = {key.lower(): value for key, value in attributes.items()}
    value = lowered.get(name.lower())
    if value is None:
        return []
    values = value if isinstance(value, list | tuple) else [value]
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def _first(attributes: Mapping[str, Any], name: str) -> str | None:
    values = [v.strip() for v in _values(attributes, name) if v.strip()]
    return values[0] if values else None


_DN_SEPARATOR = re.compile(r"\s*(?<!\\),\s*")


def _normalize_dn(dn: str) -> str:
    """Lower-case the DN and drop blanks around RDN separators, for comparing DNs."""
    return _DN_SEPARATOR.sub(",", dn.strip()).lower()
