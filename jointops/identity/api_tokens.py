"""Personal API tokens: scripts act as their owner, sent as ``Authorization: Bearer <token>``.

A token is ``jot_`` and 256 random bits (``secrets.token_urlsafe(32)``), shown once when it is
made. Only its HMAC-SHA256 is stored, keyed from the app's secret key. A fast hash is enough
here, unlike for passwords: with 256 random bits there is nothing to guess, however fast each
guess, and a constant-time lookup by hash costs a request nothing (a slow hash would make each
API call a CPU-bound target). The key means that a copy of the database alone does not even
let anyone check a candidate token; rotating the secret key ends every token.

A token carries its owner's roles and need-to-know (the request *is* the owner), opens the JSON
API under ``/api/`` only, and ends when it expires, is revoked, or its owner is deactivated
(directory sync revokes it then; every use checks the owner is active too).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from jointops import audit, revocation
from jointops.extensions import db
from jointops.models import ApiToken, User, utcnow
from jointops.transactions import unit_of_work

PREFIX = "jot_"
#: ``jot_`` and the shape of ``secrets.token_urlsafe(32)``: 43 URL-safe characters
TOKEN_SHAPE = re.compile(r"jot_[A-Za-z0-9_-]{43}")
LABEL_MAX = 80
MAX_LIVE_TOKENS = 20
#: last_used_at is written at most this often, so that reads stay reads
TOUCH_EVERY = timedelta(seconds=60)


class TokenRefused(ValueError):
    """A token cannot be made as asked; ``field`` names the input at fault, if one is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def hash_secret(secret: str) -> str:
    secret_key = str(current_app.config["SECRET_KEY"]).encode()
    key = hashlib.sha256(b"jointops api token\0" + secret_key).digest()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def tokens_of(user: User) -> list[ApiToken]:
    """All of ``user``'s tokens, live first, newest first."""
    rows = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    now = utcnow()
    return sorted(rows, key=lambda t: not t.live_at(now))


def max_days() -> int:
    return int(current_app.config["API_TOKEN_MAX_DAYS"])


@dataclass(frozen=True)
class Created:
    """A token just made, with its secret: the only time the secret exists outside a script."""

    token: ApiToken
    secret: str


def create(
    user: User,
    label: str,
    expires_days: int | None = None,
    *,
    actor: User | None = None,
    via: str = "web",
) -> Created:
    """Make a token for ``user``; raises ``TokenRefused`` (nothing stored) when it may not be."""
    label = " ".join(label.split())
    if not label or len(label) > LABEL_MAX or not label.isprintable():
        raise TokenRefused(f"A label of 1 to {LABEL_MAX} printable characters is needed.", "label")
    days = max_days() if expires_days is None else expires_days
    if not 1 <= days <= max_days():
        raise TokenRefused(f"Between 1 and {max_days()} days.", "expires_days")
    if not user.active:
        raise TokenRefused("The account is not active.")
    with unit_of_work():
        live = db.session.scalar(
            select(func.count())
            .select_from(ApiToken)
            .where(
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > utcnow(),
            )
        )
        if (live or 0) >= MAX_LIVE_TOKENS:
            raise TokenRefused(f"At most {MAX_LIVE_TOKENS} live API tokens; revoke one first.")
        secret = PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        token = ApiToken(
            token_hash=hash_secret(secret),
            user=user,
            label=label,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        db.session.add(token)
        db.session.flush()
        audit.record(
            "api_token.create",
            object_type="api_token",
            object_id=token.id,
            actor=actor or user,
            owner=user.username,
            expires_days=days,
            via=via,
        )
    return Created(token, secret)


def revoke(token: ApiToken, reason: str, *, actor: User | None = None, via: str = "web") -> bool:
    """Revoke ``token`` at once; False when it already was."""
    return revocation.revoke(token, reason, actor=actor, via=via)


def revoke_of_inactive_users(_sender: object = None) -> int:
    """Revoke every live token whose owner is no longer active; the caller commits."""
    return revocation.revoke_of_inactive_users(ApiToken)


def status(token: ApiToken, now: datetime) -> str:
    """``live``, ``revoked``, ``expired`` or ``owner inactive``: what a listing says."""
    if token.revoked:
        return "revoked"
    if now >= token.expires_at:
        return "expired"
    return "live" if token.user.active else "owner inactive"


def find_token(token_id: int) -> ApiToken | None:
    return db.session.get(ApiToken, token_id)


def owner_of(secret: str) -> User | None:
    """The user a presented token acts as, or None when it is not a live token (whatever the
    reason: unknown, malformed, expired, revoked, owner deactivated). Records its use."""
    if not TOKEN_SHAPE.fullmatch(secret):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    now = utcnow()
    if token is None or not token.live_at(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        with unit_of_work():
            db.session.execute(
                update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
            )
    return token.user
