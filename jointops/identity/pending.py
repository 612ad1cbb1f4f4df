"""A sign-in between the password and the second factor.

The password step stores a ``PendingSignIn`` row and puts a random token in the cookie; the
user is not signed in (``current_user`` stays anonymous), so only the second-factor pages,
guarded by ``@allow(SECOND_FACTOR)``, answer. The row lives ``JOINTOPS_MFA_PENDING_MINUTES``.
Completing it deletes the row, clears the cookie's session and opens a ``UserSession`` under
a new id. Each attempt at the second factor counts toward the lockout of the account (its name
and directory DN) before it is checked, and only a completed sign-in clears the count; parallel
attempts take turns, and one that finds its pending sign-in ended meanwhile (completed, locked
out, expired) changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, session
from flask_login import login_user
from sqlalchemy import delete, select

from jointops import audit
from jointops.extensions import db
from jointops.identity import kept_forms, lockout, sessions
from jointops.models import PendingSignIn, User, utcnow

COOKIE_KEY = "pending_sign_in"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def begin(user: User, *, enrol: bool) -> None:
    """Start waiting for ``user``'s second factor (or first enrolment), in the caller's unit
    of work."""
    now = utcnow()
    db.session.execute(
        delete(PendingSignIn).where(
            (PendingSignIn.user_id == user.id) & (PendingSignIn.expires_at <= now)
        )
    )
    token = secrets.token_urlsafe(32)
    minutes = current_app.config["MFA_PENDING_MINUTES"]
    db.session.add(
        PendingSignIn(
            token_hash=_hash(token),
            user_id=user.id,
            enrol=enrol,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    session[COOKIE_KEY] = token


def waiting() -> bool:
    """Whether this browser holds a sign-in that waits for its second factor (no query)."""
    return COOKIE_KEY in session


def current() -> PendingSignIn | None:
    """This browser's pending sign-in while it is live (cached for the request)."""
    if "pending_sign_in" not in g:
        token = session.get(COOKIE_KEY)
        row = None
        if isinstance(token, str):
            row = db.session.scalar(
                select(PendingSignIn).where(PendingSignIn.token_hash == _hash(token))
            )
        if row is not None and (row.expires_at <= utcnow() or not row.user.active):
            row = None
        g.pending_sign_in = row
    pending: PendingSignIn | None = g.pending_sign_in
    return pending


class Ended(Exception):
    """The pending sign-in ended while this request waited: completed, locked out or expired."""


@dataclass(frozen=True)
class FactorAttempt:
    """An attempt at the second factor, counted: the pending sign-in as it is now, and whether
    this attempt reached the lockout's limit."""

    row: PendingSignIn
    last: bool


def live(row_id: int) -> PendingSignIn:
    """The pending sign-in ``row_id`` as the database holds it now, in the caller's unit of
    work; raises ``Ended`` when it is gone or expired."""
    row = db.session.scalar(
        select(PendingSignIn)
        .where(PendingSignIn.id == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or row.expires_at <= utcnow():
        raise Ended
    return row


def attempt(row_id: int, username: str) -> FactorAttempt:
    """Count an attempt at the second factor of the pending sign-in ``row_id`` (of the user
    ``username``) toward the lockout, before it is checked, in the caller's unit of work.

    Raises ``lockout.Locked`` when the account is locked, and ``Ended`` when the sign-in ended
    while this request waited for its turn; the caller's unit of work then rolls back the count.
    """
    last = lockout.count_attempt(username)
    return FactorAttempt(live(row_id), last)


def finish(row: PendingSignIn, factor: str) -> User:
    """The second factor is good: forget the pending row and open a session under a new id.

    In the caller's unit of work; audited as the sign-in, with the kind of factor used.
    """
    user = row.user
    db.session.delete(row)
    lockout.clear(user.username, user.dn)
    kept_forms.clear_session(user)
    session["sid"] = sessions.start(user)
    login_user(user)
    audit.record("login", actor=user, factor=factor)
    g.pop("pending_sign_in", None)
    return user


def fail(attempt: FactorAttempt, factor: str) -> bool:
    """A wrong second factor (already counted by ``attempt``): audited, in the caller's unit of
    work; True when it locked the account, which also ends the pending sign-in."""
    audit.record(
        "login.second_factor",
        outcome="locked" if attempt.last else "failure",
        actor=attempt.row.user,
        factor=factor,
    )
    if attempt.last:
        abandon(attempt.row)
    return attempt.last


def abandon(row: PendingSignIn) -> None:
    db.session.delete(row)
    session.pop(COOKIE_KEY, None)
    g.pop("pending_sign_in", None)
