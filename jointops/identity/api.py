"""Signing in and out from scripts (JSON): the same service as the login page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from flask_wtf.csrf import generate_csrf

from jointops.identity import pending
from jointops.identity.permissions import PUBLIC, SIGNED_IN, allow
from jointops.identity.signin import SignInRefused, sign_in, sign_out

bp = Blueprint("identity_api", __name__, url_prefix="/api")

Reply = tuple[dict[str, Any], int] | tuple[dict[str, Any], int, dict[str, str]]


@bp.post("/login")
@allow(PUBLIC)
def login() -> Reply:
    """Sign in from the browser's own scripts (a cookie session); other scripts send a
    personal API token instead (``jointops.identity.bearer``). A cross-site page cannot send
    JSON without CORS, which is off.

    Exempt from CSRF (``jointops.web``): there is no session yet whose token it could carry.
    """
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        abort(400, 'Send {"username": ..., "password": ...} as application/json.')
    errors = {
        name: ["This field is required."]
        for name in ("username", "password")
        if not isinstance(body.get(name), str) or not body[name].strip()
    }
    if errors:
        return {"errors": errors}, 400
    try:
        user = sign_in(body["username"], body["password"])
    except SignInRefused as refused:
        if refused.field is not None:
            return {"errors": {refused.field: [refused.message]}}, refused.status
        return {"error": refused.message, "status": refused.status}, refused.status, refused.headers
    if pending.waiting():
        return _second_factor_needed(), 202
    return {
        "user": {
            "username": user.username,
            "agency": user.agency.code if user.agency else None,
            "roles": sorted(user.roles),
        },
        "csrf_token": generate_csrf(),  # for X-CSRFToken on the session's later POSTs
    }, 200


def _second_factor_needed() -> dict[str, Any]:
    """Not signed in yet (202): the password was right; the browser completes the sign-in with
    ``POST /api/login/second-factor`` (a code) or the passkey endpoints, or, where a first
    factor must be enrolled, on the enrolment page."""
    row = pending.current()
    enrol = row is not None and row.enrol
    return {
        "second_factor": {
            "enrol": enrol,
            "methods": ["webauthn"] if enrol else ["totp", "recovery_code", "webauthn"],
            "complete": "/login/enrol" if enrol else "/api/login/second-factor",
            "passkey_options": (
                "/api/login/enrol/passkey/options" if enrol else "/api/login/passkey/options"
            ),
            "expires_at": row.expires_at.isoformat() if row is not None else None,
        },
        "csrf_token": generate_csrf(),
    }


@bp.post("/logout")
@allow(SIGNED_IN)
def logout() -> Reply:
    sign_out()
    return {"signed_out": True}, 200
