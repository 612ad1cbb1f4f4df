"""Requests that present a personal API token, and CSRF for every request that does not.

A request with ``Authorization: Bearer <token>`` is its token's owner and nothing else: the
session cookie it may carry is neither read nor written (no cookie is ever set for it), and it
needs no CSRF token, since a cross-site page cannot send that header (CORS is off). A token
that is not live answers 401, the same whatever the reason. Every other request that changes
state is checked for its CSRF token here, in place of Flask-WTF's default hook, so that the two
cases are decided in one place.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

from jointops.extensions import csrf, login_manager
from jointops.identity import api_tokens
from jointops.models import User

INVALID = "Invalid or expired API token."
ONLY_API = "API tokens open the JSON API under /api/ only."


def presented(req: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None when there is none."""
    scheme, _, value = req.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


class _NoCookieForTokens(SecureCookieSessionInterface):
    """The signed-cookie session, except for token requests: an empty session, never saved."""

    def open_session(self, app: Flask, req: Request) -> SecureCookieSession | None:
        if presented(req) is not None:
            return self.session_class()
        return super().open_session(app, req)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if presented(request) is None:
            super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = _NoCookieForTokens()
    login_manager.request_loader(_token_owner)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # first of all before_request hooks, where Flask-WTF's own check would have run
    app.before_request_funcs.setdefault(None, []).insert(0, _guard)


def _token_owner(req: Request) -> User | None:
    if "api_token_owner" not in g:
        token = presented(req)
        g.api_token_owner = api_tokens.owner_of(token) if token is not None else None
    owner: User | None = g.api_token_owner
    return owner


def _refuse(message: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    challenge = 'Bearer realm="jointops", error="invalid_token"'
    return {"error": message, "status": 401}, 401, {"WWW-Authenticate": challenge}


def _guard() -> Any:
    if presented(request) is None:
        if current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)
        return None
    if not request.path.startswith("/api/"):
        return _refuse(ONLY_API)
    if _token_owner(request) is None:
        return _refuse(INVALID)
    return None
