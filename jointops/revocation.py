"""Revoking a user's secret tokens (calendar feeds, API tokens): at once, audited, and all of a
user's when the directory deactivates them. One rule for every kind of token."""

from __future__ import annotations

from sqlalchemy import select

from jointops import audit
from jointops.extensions import db
from jointops.models import ApiToken, FeedToken, User, utcnow
from jointops.transactions import unit_of_work

Token = FeedToken | ApiToken
#: the audit name of each kind of token (``<kind>.revoke``, object type ``<kind>``)
KINDS: dict[type[Token], str] = {FeedToken: "feed_token", ApiToken: "api_token"}


def revoke(token: Token, reason: str, *, actor: User | None = None, via: str = "web") -> bool:
    """Revoke ``token`` at once; False when it already was."""
    if token.revoked:
        return False
    kind = KINDS[type(token)]
    with unit_of_work():
        token.revoked_at = utcnow()
        token.revoke_reason = reason[:32]
        audit.record(
            f"{kind}.revoke",
            object_type=kind,
            object_id=token.id,
            actor=actor,
            username=None if actor else via,
            owner=token.user.username,
            reason=reason,
        )
    return True


def revoke_of_inactive_users(model: type[Token]) -> int:
    """Revoke every live token of ``model`` whose owner is no longer active; the caller
    commits (connected to ``directory_synced``: leaving the directory ends them at once)."""
    kind = KINDS[model]
    rows: list[Token] = list(
        db.session.scalars(
            select(model)
            .join(User, model.user_id == User.id)
            .where(model.revoked_at.is_(None), User.active.is_(False))
        )
    )
    now = utcnow()
    for token in rows:
        token.revoked_at, token.revoke_reason = now, "deactivated"
        audit.record(
            f"{kind}.revoke",
            object_type=kind,
            object_id=token.id,
            username="directory",
            owner=token.user.username,
            reason="deactivated",
        )
    return len(rows)
