"""Signing in: lockout, the directory, the local mirror, and a fresh server-side session.

One service for the login page and the JSON API, so that both refuse the
same things with the same words and the same audit trail.
"""

from __future__ import annotations

from flask import session
from flask_login import login_user, logout_user

from auth.directory import DirectoryUnavailable, InvalidCredentials
from jointops import audit
from jointops.extensions import db
from jointops.identity import lockout, sessions
from jointops.identity.directory import get_directory, mirror_user, record_login, upsert_agency
from jointops.models import User
from jointops.officetime import fmt_time

BAD_LOGIN = "Unknown username or wrong password."
NO_ACCESS = "Your account has no JointOps role or agency. Ask your administrator."


class SignInRefused(Exception):
    """A refused sign-in: the message is safe to show, the status fits HTTP."""

    def __init__(self, message: str, status: int, outcome: str) -> None:
        super().__init__(message)
        self.message, self.status, self.outcome = message, status, outcome


def sign_in(username: str, password: str) -> User:
    """Authenticate against the directory and open a session; audited either way."""
    username = username.strip()
    try:
        user = _authenticate(username, password)
    except SignInRefused as refused:
        audit.record_now("login", outcome=refused.outcome, username=username[:128])
        raise
    session.clear()
    session["sid"] = sessions.start(user)
    login_user(user)
    audit.record("login", actor=user)
    db.session.commit()
    return user


def _authenticate(username: str, password: str) -> User:
    until = lockout.locked_until(username)
    if until is not None:
        raise SignInRefused(
            f"Too many failed sign-ins. Try again after {fmt_time(until)}.", 429, "locked"
        )
    db.session.commit()  # hold no SQLite write lock while the directory answers
    directory = get_directory()
    try:
        found = directory.authenticate(username, password)
        agencies = [a for a in directory.agencies() if a.code == found.agency_code]
    except InvalidCredentials:
        lockout.record_failure(username)
        raise SignInRefused(BAD_LOGIN, 401, "failure") from None
    except DirectoryUnavailable as exc:
        raise SignInRefused(str(exc), 503, "unavailable") from None
    for agency in agencies:
        upsert_agency(agency)
    db.session.flush()
    user = mirror_user(found)
    if user.agency is None or not user.roles:
        # The directory has the last word: the mirror keeps no stale role, and
        # sessions opened under the old roles end now, not at the next sync.
        sessions.end_all(user, "no_access")
        db.session.commit()
        raise SignInRefused(NO_ACCESS, 403, "no_access")
    lockout.clear(username)
    record_login(user)
    db.session.flush()
    return user


def sign_out() -> None:
    sessions.end_by_token(session.get("sid"), "logout")
    audit.record("logout")
    db.session.commit()
    logout_user()
    session.clear()
