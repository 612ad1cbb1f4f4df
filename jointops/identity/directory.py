"""The app's side of the directory: which one to use, how many sign-ins may wait on it at once,
and the local mirror of its accounts."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from blinker import Namespace
from flask import Flask, current_app
from sqlalchemy import select

from auth.directory import (
    Directory,
    DirectoryAgency,
    DirectorySettings,
    DirectoryUser,
    LdapDirectory,
)
from jointops.config import DEMO_DIRECTORY
from jointops.extensions import db
from jointops.identity import sessions
from jointops.models import Agency, AgencySource, User, UserRole, utcnow
from jointops.transactions import unit_of_work

log = logging.getLogger(__name__)

EXTENSION_KEY = "jointops.identity.directory"
SLOTS_KEY = "jointops.identity.directory.slots"
NO_ACCESS = "Your account has no JointOps role or agency. Ask your administrator."
BUSY_MESSAGE = (
    "Too many sign-ins are waiting for the directory right now. Try again in a few seconds."
)

_building = threading.Lock()


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = None  # built on first use: the demo DIT costs a parse
    configured = app.config["DIRECTORY_MAX_CONCURRENT"]
    app.extensions[SLOTS_KEY] = SignInSlots(configured) if configured else None


class DirectoryBusy(Exception):
    """Every sign-in slot of this process is waiting on the directory; nothing was asked."""


class SignInSlots:
    """How many sign-ins of one process may wait on the directory at once.

    A hung directory holds each sign-in for its timeouts; unbounded, such sign-ins would take
    every thread of a worker, and signed-in users' pages (which never ask the directory) would
    queue behind them. A sign-in that finds no free slot is refused at once instead of waiting
    for one. Per process by nature: it bounds this process's threads, nothing shared.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("at least one slot")
        self.size = size
        self._free = threading.BoundedSemaphore(size)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """One slot for the body; ``DirectoryBusy`` at once when there is none."""
        if not self._free.acquire(blocking=False):
            raise DirectoryBusy()
        try:
            yield
        finally:
            self._free.release()


def slots_for_threads(threads: int) -> int:
    """The default bound: half the worker's threads (at least 1), the rest for everyone else."""
    return max(1, threads // 2)


def bound_sign_ins(app: Flask, threads: int) -> None:
    """gunicorn's ``post_worker_init``: size the slots from the worker's threads, unless
    ``DIRECTORY_MAX_CONCURRENT`` set them."""
    if not app.config["DIRECTORY_MAX_CONCURRENT"]:
        app.extensions[SLOTS_KEY] = SignInSlots(slots_for_threads(threads))


@contextmanager
def sign_in_slot() -> Iterator[None]:
    """Hold one of this process's sign-in slots (none to hold where no bound is set)."""
    slots: SignInSlots | None = current_app.extensions.get(SLOTS_KEY)
    if slots is None:
        yield
        return
    with slots.hold():
        yield


def retry_after_s() -> int:
    """What ``Retry-After`` says when the directory did not answer or was busy: a slot frees,
    or a directory comes back, on the scale of one timeout."""
    return max(1, math.ceil(float(current_app.config["LDAP_TIMEOUT"])))


def uses_demo_directory() -> bool:
    return bool(current_app.config["LDAP_URL"] == DEMO_DIRECTORY)


def get_directory() -> Directory:
    directory: Directory | None = current_app.extensions.get(EXTENSION_KEY)
    if directory is None:
        with _building:  # a worker's threads share one directory
            directory = current_app.extensions.get(EXTENSION_KEY)
            if directory is None:
                directory = _build(current_app.config)
                current_app.extensions[EXTENSION_KEY] = directory
    return directory


def _build(config: dict) -> Directory:  # type: ignore[type-arg]
    if config["LDAP_URL"] == DEMO_DIRECTORY:
        from auth.demo import demo_directory

        return demo_directory()
    settings = DirectorySettings(
        urls=tuple(u.strip() for u in config["LDAP_URL"].split(",") if u.strip()),
        bind_dn=config["LDAP_BIND_USER_DN"],
        bind_password=config["LDAP_BIND_USER_PASSWORD"],
        user_base_dn=config["LDAP_USER_BASE_DN"],
        user_login_attr=config["LDAP_USER_LOGIN_ATTR"],
        user_object_filter=config["LDAP_USER_OBJECT_FILTER"],
        group_base_dn=config["LDAP_GROUP_BASE_DN"],
        group_object_filter=config["LDAP_GROUP_OBJECT_FILTER"],
        group_members_attr=config["LDAP_GROUP_MEMBERS_ATTR"],
        group_membership=config["LDAP_GROUP_MEMBERSHIP"],
        member_of_attr=config["LDAP_MEMBER_OF_ATTR"],
        nested_groups=config["LDAP_NESTED_GROUPS"],
        roles_mapping=config["LDAP_ROLES_MAPPING"],
        agency_attr=config["LDAP_AGENCY_ATTR"],
        agency_mapping=config["LDAP_AGENCY_MAPPING"],
        agency_base_dn=config["LDAP_AGENCY_BASE_DN"],
        start_tls=config["LDAP_START_TLS"],
        ca_file=config["LDAP_CA_FILE"],
        timeout=config["LDAP_TIMEOUT"],
    )
    return LdapDirectory(settings)


def upsert_agency(found: DirectoryAgency) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == found.code))
    if agency is None:
        agency = Agency(code=found.code)
        db.session.add(agency)
    agency.name, agency.kind = found.name, found.kind
    agency.source = AgencySource.DIRECTORY.value
    return agency


def mirror_user(found: DirectoryUser) -> User:
    """Create or refresh the local copy of a directory account (roles and agency included)."""
    user = db.session.scalar(select(User).where(User.username == found.username))
    if user is None:
        user = User(username=found.username)
        db.session.add(user)
    user.dn = found.dn
    user.display_name = found.display_name
    user.email = found.email
    user.phone = found.phone
    user.active = found.active
    user.agency = (
        db.session.scalar(select(Agency).where(Agency.code == found.agency_code))
        if found.agency_code
        else None
    )
    if found.agency_code and user.agency is None:
        log.warning(
            "directory user %s carries agency code %r, which names no JointOps agency: "
            "add it (jointops agency add) or correct the directory",
            found.username,
            found.agency_code,
        )
    user.set_roles(set(found.roles))
    return user


@dataclass(frozen=True)
class NoAccess:
    """Why a mirrored account may not sign in: the words for the user, the audit's details."""

    message: str
    details: dict[str, Any]


def no_access(found: DirectoryUser, user: User) -> NoAccess | None:
    """None if the account has an agency JointOps knows and at least one role."""
    if found.agency_code and user.agency is None:
        return NoAccess(
            f"Your directory account names the agency “{found.agency_code}”, which JointOps "
            "does not know. Ask your administrator to add it.",
            {"reason": "unknown_agency", "agency_code": found.agency_code[:64]},
        )
    if user.agency is None:
        return NoAccess(NO_ACCESS, {"reason": "no_agency"})
    if not user.roles:
        return NoAccess(NO_ACCESS, {"reason": "no_role"})
    return None


#: Sent by ``sync_directory`` before it commits, with its ``SyncReport``: features that must
#: end something with a deactivated account (feed tokens) connect here, in the same transaction.
directory_synced = Namespace().signal("directory-synced")


@dataclass
class SyncReport:
    agencies: int = 0
    created: list[str] = field(default_factory=list)
    updated: int = 0
    deactivated: list[str] = field(default_factory=list)


def sync_directory(directory: Directory | None = None) -> SyncReport:
    """Bring agencies and users in line with the directory; users who left are deactivated."""
    directory = directory or get_directory()
    report = SyncReport()
    agencies, users = directory.agencies(), list(directory.users())  # no lock held meanwhile
    with unit_of_work():
        for agency in agencies:
            upsert_agency(agency)
            report.agencies += 1
        db.session.flush()
        known = {u.username: u for u in db.session.scalars(select(User))}
        seen: set[str] = set()
        for found in users:
            seen.add(found.username)
            if found.username in known:
                report.updated += 1
            else:
                report.created.append(found.username)
            mirror_user(found)
        for username, user in known.items():
            if username not in seen and user.active:
                user.active = False
                sessions.end_all(user, "deactivated")
                report.deactivated.append(username)
        directory_synced.send(report)
    return report


def record_login(user: User) -> None:
    user.last_login_at = utcnow()


def agencies() -> list[Agency]:
    """Every agency of the mirror, by code: for filters and pickers."""
    return list(db.session.scalars(select(Agency).order_by(Agency.code)))


def active_people() -> list[User]:
    """Every active account, by name: for filters and pickers."""
    return list(
        db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name))
    )


def holders_of(role: str, *, agency_ids: Iterable[int] | None = None) -> list[User]:
    """Active accounts holding ``role`` (of these agencies, when given), by id."""
    query = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.active.is_(True), UserRole.role == role)
    )
    if agency_ids is not None:
        query = query.where(User.agency_id.in_(set(agency_ids)))
    return list(db.session.scalars(query.order_by(User.id)).unique())
