"""Signing in through the directory and out again."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from jointops.identity import pending
from jointops.identity.forms import LoginForm
from jointops.identity.permissions import PUBLIC, SIGNED_IN, allow, safe_next
from jointops.identity.signin import SignInRefused, sign_in, sign_out

bp = Blueprint("auth", __name__)

Page = str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]


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
        getattr(form, refused.field or "password").errors = [refused.message]
        return render_template("login.html", form=form), refused.status, refused.headers
    if pending.waiting():
        return redirect(url_for("mfa.second_factor", next=request.args.get("next")))
    return redirect(safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
@allow(SIGNED_IN)
def logout() -> Response:
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
