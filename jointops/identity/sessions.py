"""Server-side sessions (CJIS-style): idle and absolute limits, ended at once everywhere.

The signed cookie holds only a random session id; the database holds its
SHA-256 and the session's life. Logout, an administrator's "end session", a
directory deactivation or a newer login (one live session per user by
default) end the row, and the next request of that cookie, on any worker or
host, finds it ended.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request, session
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from jointops.extensions import db, login_manager
from jointops.models import User, UserSession, utcnow
from jointops.transactions import unit_of_work

#: last_seen_at is written at most this often, so that reads stay reads
TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User) -> str:
    """Open a session for ``user`` and return the token for the cookie (not stored)."""
    limit = current_app.config["SESSIONS_PER_USER"]
    live = list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.created_at.desc())
        )
    )
    for old in live[max(0, limit - 1) :]:
        end(old, "superseded")
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            token_hash=_hash(token),
            user_id=user.id,
            remote_addr=request.remote_addr or "",
            user_agent=(request.user_agent.string or "")[:200],
        )
    )
    return token


def expiry_reason(row: UserSession, now: datetime) -> str | None:
    """Why ``row`` is no longer valid at ``now``, or ``None`` while it is."""
    config = current_app.config
    if row.ended_at is not None:
        return row.end_reason or "ended"
    if now - row.last_seen_at > timedelta(minutes=config["SESSION_IDLE_MINUTES"]):
        return "idle"
    if now - row.created_at > timedelta(hours=config["SESSION_MAX_HOURS"]):
        return "expired"
    if not row.user.active:
        return "deactivated"
    return None


def resume(token: str | None, user_id: str) -> tuple[User | None, str | None]:
    """The user of a live session (refreshing its idle clock), or why there is none."""
    if not token:
        return None, None
    row = _live_row(token)
    if row is None or str(row.user_id) != user_id:
        return None, "ended"
    now = utcnow()
    reason = expiry_reason(row, now)
    if reason is not None:
        if row.ended_at is None:
            _write_now(
                update(UserSession).where(UserSession.id == row.id), ended_at=now, end_reason=reason
            )
        return None, reason
    if now - row.last_seen_at >= TOUCH_EVERY:
        _write_now(update(UserSession).where(UserSession.id == row.id), last_seen_at=now)
    return row.user, None


#: built once: every signed-in request runs it
LIVE_ROW = (
    select(UserSession)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .options(
        joinedload(UserSession.user).options(joinedload(User.agency), joinedload(User.role_rows))
    )
)


def _live_row(token: str) -> UserSession | None:
    """The session row of ``token`` with its user, the user's agency and roles, in one query:
    every page reads all three (the guard, the header, the policy)."""
    return db.session.scalars(LIVE_ROW, {"token_hash": _hash(token)}).unique().first()


def _write_now(statement: Any, **values: Any) -> None:
    """A small write during a request that otherwise only reads."""
    with unit_of_work():
        db.session.execute(statement.values(**values))


def end(row: UserSession, reason: str) -> None:
    row.ended_at = utcnow()
    row.end_reason = reason


def end_by_token(token: str | None, reason: str) -> None:
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
        )


def end_all(user: User, reason: str) -> int:
    """End every live session of ``user``; returns how many there were."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def live_sessions(user: User) -> list[UserSession]:
    now = utcnow()
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    )
    return [r for r in rows if expiry_reason(r, now) is None]


def end_message(reason: str) -> str:
    """What the sign-in page says about why a session ended, from the configured limits."""
    config = current_app.config
    if reason == "idle":
        minutes = config["SESSION_IDLE_MINUTES"]
        return f"You were signed out after {minutes} minutes without activity."
    if reason == "expired":
        hours = config["SESSION_MAX_HOURS"]
        return f"Your session reached its {hours:g}-hour limit. Sign in again."
    return REASON_MESSAGES.get(reason, REASON_MESSAGES["ended"])


REASON_MESSAGES = {
    "superseded": "You signed in somewhere else, so this session ended.",
    "ended": "Your session was ended.",
    "ended_by_admin": "An administrator ended your session.",
    "deactivated": "Your account is no longer active in the directory.",
    "no_access": "Your account no longer has a JointOps role or agency.",
    "logout": "You are signed out.",
}


def init_app(app: Flask) -> None:
    """Flask-Login finds the signed-in user through the server-side session."""
    login_manager.user_loader(_load_user)


def _load_user(user_id: str) -> User | None:
    user, reason = resume(session.get("sid"), user_id)
    if reason is not None:
        g.session_end_reason = reason
        session.pop("sid", None)
    return user
