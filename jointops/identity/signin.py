"""Signing in: lockout, the directory, the local mirror, and a fresh server-side session.

One service for the login page and the JSON API, so that both refuse the
same things with the same words and the same audit trail.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask import request, session
from flask_login import login_user, logout_user

from auth.directory import (
    DirectoryAgency,
    DirectoryUnavailable,
    DirectoryUser,
    InvalidCredentials,
)
from jointops import audit
from jointops.extensions import db
from jointops.identity import kept_forms, lockout, pending, sessions
from jointops.identity.directory import (
    BUSY_MESSAGE,
    DirectoryBusy,
    get_directory,
    mirror_user,
    no_access,
    record_login,
    retry_after_s,
    sign_in_slot,
    upsert_agency,
)
from jointops.identity.directory import (
    NO_ACCESS as NO_ACCESS,
)
from jointops.identity.mfa.policy import step_after_password
from jointops.models import User
from jointops.officetime import fmt_time
from jointops.transactions import end_read, unit_of_work

BAD_LOGIN = "Unknown username or wrong password."
#: longer input is refused before the directory or the lockout sees it (every sign-in path)
USERNAME_MAX = 128
PASSWORD_MAX = 256


class SignInRefused(Exception):
    """A refused sign-in: the message is safe to show, the status fits HTTP."""

    def __init__(
        self,
        message: str,
        status: int,
        outcome: str,
        field: str | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.status, self.outcome = message, status, outcome
        #: the input field at fault, when the input itself was refused (400)
        self.field = field
        #: seconds for ``Retry-After`` (503: the directory did not answer, or was busy)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        """The response headers the refusal comes with (``Retry-After`` on a 503)."""
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


def _too_long(username: str, password: str) -> SignInRefused | None:
    for name, value, limit in (
        ("username", username, USERNAME_MAX),
        ("password", password, PASSWORD_MAX),
    ):
        if len(value) > limit:
            return SignInRefused(f"At most {limit} characters.", 400, "malformed", name)
    return None


def _unreadable(text: str) -> bool:
    """Control characters (NUL included) and lone surrogates: no directory takes them as typed,
    and each answers them differently, so they are refused before it."""
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


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
        shown = "".join(c if c.isprintable() else "\ufffd" for c in username[:USERNAME_MAX])
        audit.record_now("login", outcome=exc.outcome, username=shown)
        raise
    refused: SignInRefused | None = None
    with unit_of_work():
        for agency in found.agencies:
            upsert_agency(agency)
        db.session.flush()
        user = mirror_user(found.user)
        denied = no_access(found.user, user)
        if denied is not None:
            # The directory has the last word: the mirror keeps no stale role, and
            # sessions opened under the old roles end now, not at the next sync.
            sessions.end_all(user, "no_access")
            refused = SignInRefused(denied.message, 403, "no_access")
            audit.record(
                "login", outcome=refused.outcome, username=username[:128], **denied.details
            )
        else:
            record_login(user)
            kept_forms.clear_session(user)
            step = step_after_password(user)
            if step == "none":
                lockout.clear(username, found.user.dn)
                session["sid"] = sessions.start(user)
                login_user(user)
                audit.record("login", actor=user)
            else:
                # not signed in yet: the failures in a row keep counting until the second factor
                pending.begin(user, enrol=step == "enrol")
                audit.record("login.password", actor=user, then=step)
    if refused is not None:
        raise refused
    return user


@dataclass(frozen=True)
class _Found:
    user: DirectoryUser
    agencies: list[DirectoryAgency]


def _ask_directory(username: str, password: str) -> _Found:
    """A sign-in slot of this process, the lockout's count, then the directory.

    The attempt counts as a failure only when the directory refused the password (or the
    account turned out locked): not when no slot was free (then nothing was counted), nor when
    the directory did not answer or anything else went wrong.
    """
    too_long = _too_long(username, password)
    if too_long is not None:
        raise too_long
    end_read()
    try:
        with sign_in_slot():
            return _count_and_ask(username, password)
    except DirectoryBusy:
        raise SignInRefused(BUSY_MESSAGE, 503, "busy", retry_after=retry_after_s()) from None


def _count_and_ask(username: str, password: str) -> _Found:
    try:
        attempt = lockout.begin(username, request.remote_addr)
    except lockout.Locked as locked:
        raise _locked(locked) from None
    if _unreadable(username) or _unreadable(password):
        raise SignInRefused(BAD_LOGIN, 401, "failure")
    failed = False
    try:
        directory = get_directory()
        found = directory.authenticate(
            username, password, before_bind=lambda dn: lockout.account(attempt, dn)
        )
        agencies = [a for a in directory.agencies() if a.code == found.agency_code]
    except lockout.Locked as locked:
        failed = True
        raise _locked(locked) from None
    except InvalidCredentials:
        failed = True
        raise SignInRefused(BAD_LOGIN, 401, "failure") from None
    except DirectoryUnavailable as exc:
        raise SignInRefused(str(exc), 503, "unavailable", retry_after=retry_after_s()) from None
    finally:
        if not failed:
            lockout.take_back(attempt)
    return _Found(found, agencies)


def _locked(locked: lockout.Locked) -> SignInRefused:
    source = " from your network address" if locked.address else ""
    return SignInRefused(
        f"Too many failed sign-ins{source}. Try again after {fmt_time(locked.until)}.",
        429,
        "locked",
    )


def sign_out() -> None:
    with unit_of_work():
        sessions.end_by_token(session.get("sid"), "logout")
        audit.record("logout")
    logout_user()
    session.clear()
