"""The page where users make, list and revoke their personal API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from jointops import audit
from jointops.identity import api_tokens
from jointops.identity.forms import ApiTokenForm
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.models import utcnow

bp = Blueprint("api_tokens", __name__, url_prefix="/settings/tokens")


def _page(
    form: ApiTokenForm, created: api_tokens.Created | None = None, status: int = 200
) -> Response:
    response = make_response(
        render_template(
            "settings_tokens.html",
            form=form,
            tokens=api_tokens.tokens_of(current_user),
            status_of=api_tokens.status,
            now=utcnow(),
            created=created,
            max_days=api_tokens.max_days(),
            max_tokens=api_tokens.MAX_LIVE_TOKENS,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"  # the page may hold a new token
    return response


@bp.get("")
@allow(SIGNED_IN)
def index() -> Response:
    return _page(ApiTokenForm(expires_days=api_tokens.max_days()))


@bp.post("")
@allow(SIGNED_IN)
def create() -> Response:
    form = ApiTokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        made = api_tokens.create(current_user, form.label.data, form.expires_days.data)
    except api_tokens.TokenRefused as exc:
        getattr(form, exc.field or "label").errors = [str(exc)]
        return _page(form, status=400)
    fresh = ApiTokenForm(formdata=None, expires_days=api_tokens.max_days())
    return _page(fresh, created=made, status=201)


@bp.post("/<int:token_id>/revoke")
@allow(SIGNED_IN)
def revoke(token_id: int) -> Response:
    token = api_tokens.find_token(token_id)
    if token is None or token.user_id != current_user.id:
        audit.record_now(
            "api_token.revoke", outcome="denied", object_type="api_token", object_id=token_id
        )
        abort(404)
    if api_tokens.revoke(token, "revoked by owner", actor=current_user):
        flash(f"Revoked “{token.label}”: scripts using it are refused from now on.", "success")
    return redirect(url_for("api_tokens.index"))
