"""Server-side sessions (CJIS-style): idle and absolute limits, ended at once everywhere.

The signed cookie holds only a random session id; the database holds its
SHA-256 and the session's life. Logout, an administrator's "end session", a
directory deactivation, the user's own "sign out" of one session from another,
or a sign-in beyond the few a user may hold side by side (desk and phone) end
the row, and the next request of that cookie, on any worker or host, finds it
ended.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request, session
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from jointops import audit
from jointops.extensions import db, login_manager
from jointops.models import User, UserSession, utcnow
from jointops.transactions import unit_of_work

#: last_seen_at is written at most this often, so that reads stay reads
TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User) -> str:
    """Open a session for ``user`` and return the token for the cookie (not stored).

    Rows past their idle or absolute limit are ended for that reason first, so that a
    forgotten session on the phone never costs the one in use at the desk its place; of the
    live rest, the oldest beyond ``SESSIONS_PER_USER`` end as superseded.
    """
    limit = current_app.config["SESSIONS_PER_USER"]
    now = utcnow()
    live = []
    for row in db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.created_at.desc(), UserSession.id.desc())
    ):
        stale = expiry_reason(row, now)
        if stale is None:
            live.append(row)
        else:
            end(row, stale)
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
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.created_at.desc(), UserSession.id.desc())
    )
    return [r for r in rows if expiry_reason(r, now) is None]


# --- the user's own sessions page -------------------------------------------------------------

#: why a session ended when its owner signed it out from another one
SIGNED_OUT_ELSEWHERE = "signed_out_elsewhere"


@dataclass(frozen=True)
class Listed:
    """What the owner is shown of one live session: never its token nor the token's hash."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    remote_addr: str
    user_agent: str
    browser: str
    current: bool


class SessionRefused(Exception):
    """A refused "sign out" of one session: the message is safe to show, the status fits HTTP.

    404 for a session that is not the user's (or does not exist), the same in both cases.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


NOT_FOUND = "There is no such session of yours."
IS_CURRENT = "That is the session you are using: sign out with Sign out in the header."


def listed(user: User, token: str | None) -> list[Listed]:
    """The live sessions of ``user``, the one of ``token`` (this browser's) first."""
    mine = _hash(token) if token else None
    shown = [
        Listed(
            id=row.id,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            remote_addr=row.remote_addr,
            user_agent=row.user_agent,
            browser=browser_of(row.user_agent),
            current=row.token_hash == mine,
        )
        for row in live_sessions(user)
    ]
    return sorted(shown, key=lambda s: not s.current)


def sign_out_others(user: User, token: str) -> int:
    """End every live session of ``user`` but the one of ``token``, in one statement; audited.

    Returns how many ended. Their next request, on whatever worker, finds them ended.
    """
    with unit_of_work():
        result = db.session.execute(
            update(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.token_hash != _hash(token),
            )
            .values(ended_at=utcnow(), end_reason=SIGNED_OUT_ELSEWHERE)
        )
        ended = int(getattr(result, "rowcount", 0) or 0)
        audit.record(
            "session.end_others", actor=user, object_type="user", object_id=user.id, ended=ended
        )
    return ended


def sign_out_one(user: User, token: str, session_id: int) -> bool:
    """End one other session of ``user``; False when it had ended already. Audited.

    Another user's session, or none, is refused with 404 and changes nothing but the audit
    trail (the denial is recorded: probing for other people's sessions is seen).
    """
    live = False
    with unit_of_work():
        row = db.session.get(UserSession, session_id)
        if row is None or row.user_id != user.id:
            audit.record(
                "session.end",
                outcome="denied",
                actor=user,
                object_type="user_session",
                object_id=session_id,
            )
            refused: SessionRefused | None = SessionRefused(NOT_FOUND, 404)
        elif row.token_hash == _hash(token):
            refused = SessionRefused(IS_CURRENT, 400)
        else:
            refused = None
            live = row.ended_at is None and expiry_reason(row, utcnow()) is None
            if live:
                end(row, SIGNED_OUT_ELSEWHERE)
                audit.record(
                    "session.end", actor=user, object_type="user_session", object_id=row.id
                )
    if refused is not None:
        raise refused
    return live


_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)
_PRODUCT = re.compile(r"[A-Za-z][\w.-]{0,39}")


def browser_of(user_agent: str) -> str:
    """``Firefox on Windows`` from a User-Agent header, enough to tell one's devices apart.

    The browsers are tried most specific first: Edge and Opera also say Chrome and Safari.
    Anything else (a script, a test client) is named by its product token.
    """
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser is None:
        product = _PRODUCT.match(user_agent)
        browser = product.group() if product else "Unknown browser"
    return f"{browser} on {system}" if system else browser


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
    SIGNED_OUT_ELSEWHERE: "You signed this session out from another one.",
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
