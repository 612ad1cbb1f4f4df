"""The user's calendar feed tokens as JSON (version 1): the feeds page's form and service.

A new token's address is answered once, as the page shows it once; only its hash is kept.
Another user's token answers 404, as a missing one does (audited).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user
from pydantic import BaseModel, Field

from jointops import audit
from jointops.feeds import tokens as feed_tokens
from jointops.feeds.views import FeedTokenForm
from jointops.forms import form_data
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.models import FeedToken
from jointops.openapi import Body, Invalid, Text, operation, parse_body

bp = Blueprint("feeds_api", __name__, url_prefix="/api/v1")

Reply = tuple[dict[str, Any], int]


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def token_json(token: FeedToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "label": token.label,
        "scope": token.scope,
        "calendar": feed_tokens.describe(token.scope),
        "created_at": _when(token.created_at),
        "last_used_at": _when(token.last_used_at),
        "revoked_at": _when(token.revoked_at),
    }


class FeedTokenIn(Body):
    label: Text = Field(description="Such as “Work phone”.")
    scope: Text = Field(description="personal, team or room:NAME: one of `scopes` of the list.")


class FeedTokenOut(BaseModel):
    id: int
    label: str
    scope: str
    calendar: str
    created_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class ScopeOut(BaseModel):
    scope: str
    label: str


class FeedTokenList(BaseModel):
    tokens: list[FeedTokenOut] = Field(description="Live first, newest first.")
    scopes: list[ScopeOut] = Field(description="The calendars this user may subscribe to.")
    max_live: int


class FeedTokenCreated(BaseModel):
    token: FeedTokenOut
    url: str = Field(description="Shown once: the feed's address, holding its secret.")
    webcal: str


class FeedTokenRevoked(BaseModel):
    token: FeedTokenOut
    revoked: bool = Field(description="False when it was revoked already.")


@bp.get("/feeds")
@operation("The user's calendar feed tokens", responses={200: FeedTokenList})
@allow(SIGNED_IN)
def list_tokens() -> Reply:
    return {
        "tokens": [token_json(t) for t in feed_tokens.tokens_of(current_user)],
        "scopes": [
            {"scope": s, "label": label} for s, label in feed_tokens.scope_choices(current_user)
        ],
        "max_live": feed_tokens.MAX_LIVE_TOKENS,
    }, 200


@bp.post("/feeds")
@operation("Make a feed token", body=FeedTokenIn, responses={201: FeedTokenCreated, 400: Invalid})
@allow(SIGNED_IN)
def create_token() -> Reply:
    body = parse_body(FeedTokenIn)
    form = FeedTokenForm(current_user, formdata=form_data(body.model_dump()), meta={"csrf": False})
    if not form.validate():
        return {"errors": {k: list(v) for k, v in form.errors.items()}}, 400
    try:
        token, secret = feed_tokens.create(current_user, form.label.data, form.scope.data)
    except feed_tokens.ScopeError as exc:
        return {"errors": {"scope": [str(exc).capitalize() + "."]}}, 400
    except ValueError as exc:  # the label, or too many tokens
        field = "scope" if isinstance(exc, feed_tokens.TokenLimit) else "label"
        return {"errors": {field: [str(exc).capitalize() + "."]}}, 400
    root = request.root_url
    return {
        "token": token_json(token),
        "url": feed_tokens.feed_url(secret, root),
        "webcal": feed_tokens.webcal_url(secret, root),
    }, 201


@bp.post("/feeds/<int:token_id>/revoke")
@operation("Revoke a feed token", responses={200: FeedTokenRevoked})
@allow(SIGNED_IN)
def revoke_token(token_id: int) -> Reply:
    """Its address answers 404 at once."""
    token = feed_tokens.find_token(token_id)
    if token is None or token.user_id != current_user.id:
        audit.record_now(
            "feed_token.revoke", outcome="denied", object_type="feed_token", object_id=token_id
        )
        abort(404)
    done = feed_tokens.revoke(token, "revoked by owner", actor=current_user)
    return {"token": token_json(token), "revoked": done}, 200
