"""Signing in through the directory and out again."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from jointops.identity.forms import LoginForm
from jointops.identity.permissions import PUBLIC, SIGNED_IN, allow
from jointops.identity.signin import SignInRefused, sign_in, sign_out

bp = Blueprint("auth", __name__)

Page = str | Response | tuple[str, int]


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("schedule.calendar")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login() -> Page:
    if current_user.is_authenticated:
        return redirect(url_for("schedule.calendar"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form), 400 if form.errors else 200
    try:
        sign_in(form.username.data, form.password.data)
    except SignInRefused as refused:
        form.password.errors = [refused.message]
        return render_template("login.html", form=form), refused.status
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
@allow(SIGNED_IN)
def logout() -> Response:
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
