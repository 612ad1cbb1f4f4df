"""The second factor from the browser's scripts (JSON): codes and passkeys, at sign-in and on
the settings page. ``static/webauthn.js`` drives the passkey ceremonies; every POST carries
the session's CSRF token (``X-CSRFToken``), which ``POST /api/login`` hands out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from jointops.identity import pending
from jointops.identity.mfa import service as mfa
from jointops.identity.permissions import SECOND_FACTOR, SIGNED_IN, allow
from jointops.models import PendingSignIn, User

bp = Blueprint("mfa_api", __name__, url_prefix="/api")

Reply = tuple[dict[str, Any], int]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        abort(400, "Send a JSON object as application/json.")
    return body


def _row() -> PendingSignIn:
    row = pending.current()
    if row is None:
        abort(401)
    return row


def _refused(refused: mfa.FactorRefused) -> Reply:
    reply: dict[str, Any] = {"error": refused.message, "status": refused.status}
    if refused.field:
        reply["errors"] = {refused.field: [refused.message]}
    return reply, refused.status


def _signed_in(user: User) -> Reply:
    return {
        "user": {
            "username": user.username,
            "agency": user.agency.code if user.agency else None,
            "roles": sorted(user.roles),
        },
        "csrf_token": generate_csrf(),
    }, 200


@bp.post("/login/second-factor")
@allow(SECOND_FACTOR)
def second_factor() -> Reply:
    """``{"code": "123456"}``: an authenticator app's code or a recovery code."""
    try:
        return _signed_in(mfa.sign_in_with_code(_row(), _body().get("code")))
    except mfa.FactorRefused as refused:
        return _refused(refused)


@bp.post("/login/passkey/options")
@allow(SECOND_FACTOR)
def passkey_options() -> Reply:
    try:
        return {"publicKey": mfa.passkey_sign_in_options(_row())}, 200
    except mfa.FactorRefused as refused:
        return _refused(refused)


@bp.post("/login/passkey")
@allow(SECOND_FACTOR)
def passkey() -> Reply:
    """``{"credential": <PublicKeyCredential as JSON>}``."""
    try:
        return _signed_in(mfa.sign_in_with_passkey(_row(), _body().get("credential")))
    except mfa.FactorRefused as refused:
        return _refused(refused)


@bp.post("/login/enrol/passkey/options")
@allow(SECOND_FACTOR)
def enrol_passkey_options() -> Reply:
    row = _row()
    try:
        return {"publicKey": mfa.passkey_registration_options(row.user, _body().get("name"))}, 200
    except mfa.FactorRefused as refused:
        return _refused(refused)


@bp.post("/login/enrol/passkey")
@allow(SECOND_FACTOR)
def enrol_passkey() -> Reply:
    body = _body()
    try:
        user, codes = mfa.enrol_passkey_at_sign_in(_row(), body.get("name"), body.get("credential"))
    except mfa.FactorRefused as refused:
        return _refused(refused)
    reply, status = _signed_in(user)
    return reply | {"recovery_codes": codes}, status


@bp.post("/settings/passkeys/options")
@allow(SIGNED_IN)
def settings_passkey_options() -> Reply:
    user = current_user._get_current_object()
    try:
        return {"publicKey": mfa.passkey_registration_options(user, _body().get("name"))}, 200
    except mfa.FactorRefused as refused:
        return _refused(refused)


@bp.post("/settings/passkeys")
@allow(SIGNED_IN)
def settings_passkey() -> Reply:
    body = _body()
    try:
        codes = mfa.add_passkey(
            current_user._get_current_object(), body.get("name"), body.get("credential")
        )
    except mfa.FactorRefused as refused:
        return _refused(refused)
    return {"added": True, "recovery_codes": codes or []}, 200
