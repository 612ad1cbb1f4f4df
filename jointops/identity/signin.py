"""Signing in: lockout, the directory, the local mirror, and a fresh server-side session.

One service for the login page and the JSON API, so that both refuse the
same things with the same words and the same audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import session
from flask_login import login_user, logout_user

from auth.directory import (
    DirectoryAgency,
    DirectoryUnavailable,
    DirectoryUser,
    InvalidCredentials,
)
from jointops import audit
from jointops.extensions import db
from jointops.identity import lockout, sessions
from jointops.identity.directory import get_directory, mirror_user, record_login, upsert_agency
from jointops.models import User
from jointops.officetime import fmt_time
from jointops.transactions import end_read, unit_of_work

BAD_LOGIN = "Unknown username or wrong password."
NO_ACCESS = "Your account has no JointOps role or agency. Ask your administrator."


class SignInRefused(Exception):
    """A refused sign-in: the message is safe to show, the status fits HTTP."""

    def __init__(self, message: str, status: int, outcome: str) -> None:
        super().__init__(message)
        self.message, self.status, self.outcome = message, status, outcome


def sign_in(username: str, password: str) -> User:
    """Authenticate against the directory and open a session; audited either way.

    The directory is asked with no transaction open (no SQLite write lock held
    while it answers); what it said is then mirrored, and the session opened,
    in one unit of work.
    """
    username = username.strip()
    try:
        found = _ask_directory(username, password)
    except SignInRefused as exc:
        audit.record_now("login", outcome=exc.outcome, username=username[:128])
        raise
    refused: SignInRefused | None = None
    with unit_of_work():
        for agency in found.agencies:
            upsert_agency(agency)
        db.session.flush()
        user = mirror_user(found.user)
        if user.agency is None or not user.roles:
            # The directory has the last word: the mirror keeps no stale role, and
            # sessions opened under the old roles end now, not at the next sync.
            sessions.end_all(user, "no_access")
            refused = SignInRefused(NO_ACCESS, 403, "no_access")
            audit.record("login", outcome=refused.outcome, username=username[:128])
        else:
            lockout.clear(username)
            record_login(user)
            session.clear()
            session["sid"] = sessions.start(user)
            login_user(user)
            audit.record("login", actor=user)
    if refused is not None:
        raise refused
    return user


@dataclass(frozen=True)
class _Found:
    user: DirectoryUser
    agencies: list[DirectoryAgency]


def _ask_directory(username: str, password: str) -> _Found:
    until = lockout.locked_until(username)
    if until is not None:
        raise SignInRefused(
            f"Too many failed sign-ins. Try again after {fmt_time(until)}.", 429, "locked"
        )
    end_read()
    directory = get_directory()
    try:
        found = directory.authenticate(username, password)
        agencies = [a for a in directory.agencies() if a.code == found.agency_code]
    except InvalidCredentials:
        with unit_of_work():
            lockout.record_failure(username)
        raise SignInRefused(BAD_LOGIN, 401, "failure") from None
    except DirectoryUnavailable as exc:
        raise SignInRefused(str(exc), 503, "unavailable") from None
    return _Found(found, agencies)


def sign_out() -> None:
    with unit_of_work():
        sessions.end_by_token(session.get("sid"), "logout")
        audit.record("logout")
    logout_user()
    session.clear()
