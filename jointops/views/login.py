"""Signing in through the directory and out again."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from auth.directory import DirectoryUnavailable, InvalidCredentials
from jointops import audit, lockout, sessions
from jointops.directory import get_directory, mirror_user, record_login, upsert_agency
from jointops.extensions import db
from jointops.forms import LoginForm
from jointops.officetime import fmt_time
from jointops.permissions import PUBLIC, SIGNED_IN, allow

bp = Blueprint("auth", __name__)

BAD_LOGIN = "Unknown username or wrong password."
Page = str | Response | tuple[str, int]


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("schedule.calendar")


def _refuse(form: LoginForm, message: str, status: int, outcome: str, username: str) -> Page:
    audit.record_now("login", outcome=outcome, username=username[:128])
    form.password.errors = [message]
    return render_template("login.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login() -> Page:
    if current_user.is_authenticated:
        return redirect(url_for("schedule.calendar"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form), 400 if form.errors else 200
    username = form.username.data.strip()
    until = lockout.locked_until(username)
    if until is not None:
        message = f"Too many failed sign-ins. Try again after {fmt_time(until)}."
        return _refuse(form, message, 429, "locked", username)
    db.session.commit()  # hold no SQLite write lock while the directory answers
    directory = get_directory()
    try:
        found = directory.authenticate(username, form.password.data)
        agencies = [a for a in directory.agencies() if a.code == found.agency_code]
    except InvalidCredentials:
        lockout.record_failure(username)
        return _refuse(form, BAD_LOGIN, 401, "failure", username)
    except DirectoryUnavailable as exc:
        return _refuse(form, str(exc), 503, "unavailable", username)
    for agency in agencies:
        upsert_agency(agency)
    db.session.flush()
    user = mirror_user(found)
    if user.agency is None or not user.roles:
        # The directory has the last word: the mirror keeps no stale role, and
        # sessions opened under the old roles end now, not at the next sync.
        sessions.end_all(user, "no_access")
        db.session.commit()
        message = "Your account has no JointOps role or agency. Ask your administrator."
        return _refuse(form, message, 403, "no_access", username)
    lockout.clear(username)
    record_login(user)
    db.session.flush()
    session.clear()
    session["sid"] = sessions.start(user)
    login_user(user)
    audit.record("login", actor=user)
    db.session.commit()
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
@allow(SIGNED_IN)
def logout() -> Response:
    sessions.end_by_token(session.get("sid"), "logout")
    audit.record("logout")
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
