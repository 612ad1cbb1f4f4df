"""The page where users see where they are signed in and sign other sessions out."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from jointops.forms import CsrfOnlyForm
from jointops.identity import sessions
from jointops.identity.permissions import SIGNED_IN, allow

bp = Blueprint("user_sessions", __name__, url_prefix="/settings/sessions")


def _token() -> str:
    token = session.get("sid")
    if not token:  # the guard lets only a server-side session through
        abort(401)
    return str(token)


def _checked_form() -> None:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)


@bp.get("")
@allow(SIGNED_IN)
def index() -> str:
    return render_template(
        "settings_sessions.html",
        listed=sessions.listed(current_user._get_current_object(), _token()),
    )


@bp.post("/sign-out-others")
@allow(SIGNED_IN)
def sign_out_others() -> Response:
    _checked_form()
    ended = sessions.sign_out_others(current_user._get_current_object(), _token())
    if ended:
        plural = "session" if ended == 1 else "sessions"
        flash(f"Signed out {ended} other {plural}: they must sign in again.", "success")
    else:
        flash("You had no other session.", "info")
    return redirect(url_for("user_sessions.index"))


@bp.post("/<int:session_id>/sign-out")
@allow(SIGNED_IN)
def sign_out_one(session_id: int) -> Response:
    _checked_form()
    try:
        ended = sessions.sign_out_one(current_user._get_current_object(), _token(), session_id)
    except sessions.SessionRefused as refused:
        abort(refused.status, refused.message)
    if ended:
        flash("Signed out that session: it must sign in again.", "success")
    else:
        flash("That session had already ended.", "info")
    return redirect(url_for("user_sessions.index"))
