"""Signing in through the directory and out again."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from auth.directory import DirectoryUnavailable, InvalidCredentials
from jointops import audit
from jointops.directory import get_directory, mirror_user, record_login, upsert_agency
from jointops.extensions import db
from jointops.forms import LoginForm
from jointops.permissions import PUBLIC, SIGNED_IN, allow

bp = Blueprint("auth", __name__)

BAD_LOGIN = "Unknown username or wrong password."


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("schedule.calendar")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("schedule.calendar"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        directory = get_directory()
        try:
            found = directory.authenticate(username, form.password.data)
        except InvalidCredentials:
            audit.record_now("login", outcome="failure", username=username[:128])
            form.password.errors = [BAD_LOGIN]
            return render_template("login.html", form=form), 401
        except DirectoryUnavailable:
            audit.record_now("login", outcome="unavailable", username=username[:128])
            flash("The directory is unavailable. Try again in a moment.", "error")
            return render_template("login.html", form=form), 503
        for agency in directory.agencies():
            if agency.code == found.agency_code:
                upsert_agency(agency)
        db.session.flush()
        user = mirror_user(found)
        if user.agency is None or not user.roles:
            db.session.rollback()
            audit.record_now("login", outcome="no_access", username=username[:128])
            form.password.errors = [
                "Your account has no JointOps role or agency. Ask your administrator."
            ]
            return render_template("login.html", form=form), 403
        record_login(user)
        db.session.flush()
        session.clear()
        login_user(user)
        audit.record("login", actor=user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    status = 400 if form.errors else 200
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@allow(SIGNED_IN)
def logout() -> Response:
    audit.record("logout")
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
