"""Administration: users as the directory gave them, their locks and live sessions; agencies;
jobs."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from jointops.admin import service as admin
from jointops.admin.forms import AGENCY_KIND_LABELS, AgencyForm
from jointops.identity.agencies import AgencyErrors, add_agency, all_agencies
from jointops.identity.permissions import allow
from jointops.models import User

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@allow("admin")
def users() -> str:
    show_inactive = request.args.get("inactive") == "1"
    overview = admin.users_overview(show_inactive=show_inactive)
    return render_template(
        "admin_users.html",
        users=overview.users,
        locks=overview.locks,
        live=overview.live,
        show_inactive=show_inactive,
        counts=overview.counts,
        factors=admin.factor_counts(overview.users),
    )


def _target(user_id: int) -> User:
    user = admin.find_user(user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int:user_id>/unlock")
@allow("admin")
def unlock(user_id: int) -> Response:
    user = _target(user_id)
    admin.unlock(user, current_user)
    flash(f"Unlocked {user.username}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/end-sessions")
@allow("admin")
def end_sessions(user_id: int) -> Response:
    user = _target(user_id)
    ended = admin.end_sessions(user, current_user)
    flash(f"Ended {ended} session{'s' if ended != 1 else ''} of {user.username}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset-factors")
@allow("admin")
def reset_factors(user_id: int) -> Response:
    user = _target(user_id)
    removed = admin.reset_factors(user, current_user)
    flash(
        f"Reset the second factors of {user.username} ({removed} removed, recovery codes too); "
        "they were told by notice and e-mail.",
        "success",
    )
    return redirect(url_for("admin.users"))


@bp.get("/jobs")
@allow("admin")
def jobs() -> str:
    """Who runs the background jobs, when each runs next, and how the last runs went."""
    overview = admin.jobs_overview()
    return render_template(
        "admin_jobs.html",
        lease=overview.lease,
        leading=overview.leading,
        mode=overview.mode,
        upcoming=overview.upcoming,
        runs=overview.runs,
    )


@bp.route("/agencies", methods=["GET", "POST"])
@allow("admin")
def agencies() -> str | Response | tuple[str, int]:
    """Every agency; adding one kept in JointOps (for a directory without agency entries)."""
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            agency = add_agency(
                form.code.data or "", form.name.data or "", form.kind.data or "", current_user
            )
        except AgencyErrors as refused:
            for name, messages in refused.errors.items():
                form[name].errors = [*form[name].errors, *messages]
        else:
            flash(f"Added agency {agency.code}.", "success")
            return redirect(url_for("admin.agencies"))
    page = render_template(
        "admin_agencies.html", agencies=all_agencies(), form=form, kind_labels=AGENCY_KIND_LABELS
    )
    return (page, 400) if form.errors else page
