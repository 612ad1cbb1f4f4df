"""A sign-in between the password and the second factor.

The password step stores a ``PendingSignIn`` row and puts a random token in the cookie; the
user is not signed in (``current_user`` stays anonymous), so only the second-factor pages,
guarded by ``@allow(SECOND_FACTOR)``, answer. The row lives ``JOINTOPS_MFA_PENDING_MINUTES``.
Completing it deletes the row, clears the cookie's session and opens a ``UserSession`` under
a new id. Second-factor failures count toward the lockout of the account (its name and
directory DN), which only a completed sign-in clears.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, session
from flask_login import login_user
from sqlalchemy import delete, select

from jointops import audit
from jointops.extensions import db
from jointops.identity import lockout, sessions
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


def locked_until(row: PendingSignIn) -> datetime | None:
    return lockout.locked_until(row.user.username)


def finish(row: PendingSignIn, factor: str) -> User:
    """The second factor is good: forget the pending row and open a session under a new id.

    In the caller's unit of work; audited as the sign-in, with the kind of factor used.
    """
    user = row.user
    db.session.delete(row)
    lockout.clear(user.username, user.dn)
    session.clear()
    session["sid"] = sessions.start(user)
    login_user(user)
    audit.record("login", actor=user, factor=factor)
    g.pop("pending_sign_in", None)
    return user


def fail(row: PendingSignIn, factor: str) -> bool:
    """Count a wrong second factor toward the lockout, in the caller's unit of work; True when
    it locked the account, which also ends the pending sign-in."""
    locks = lockout.record_failure(row.user.username)
    audit.record(
        "login.second_factor",
        outcome="locked" if locks else "failure",
        actor=row.user,
        factor=factor,
    )
    if locks:
        abandon(row)
    return locks


def abandon(row: PendingSignIn) -> None:
    db.session.delete(row)
    session.pop(COOKIE_KEY, None)
    g.pop("pending_sign_in", None)
