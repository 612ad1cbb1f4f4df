"""Administration: users as the directory gave them, their locks and live sessions; agencies;
jobs; the audit log."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from auth.policy import AUDIT_REVIEW_ROLES
from jointops import audit
from jointops.admin import audit_log
from jointops.admin import service as admin
from jointops.admin.forms import AGENCY_KIND_LABELS, AgencyForm
from jointops.forms import InputRefused, row_id
from jointops.identity.agencies import AgencyErrors, add_agency, all_agencies
from jointops.identity.permissions import allow
from jointops.models import User

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@allow("admin")
def users() -> str | tuple[str, int]:
    """Accounts searched and filtered (kept in the URL); the signed-in admin's row has no
    "End sessions"."""
    try:
        chosen = admin.parse_search(request.args)
    except admin.SearchRefused as refused:
        page = render_template(
            "admin_users.html",
            args=request.args,
            errors=refused.errors,
            agencies=all_agencies(),
            states=admin.USER_STATES,
            users=[],
        )
        return page, 400
    overview = admin.users_overview(chosen)
    return render_template(
        "admin_users.html",
        args=request.args,
        errors={},
        agencies=all_agencies(),
        states=admin.USER_STATES,
        search=chosen,
        users=overview.users,
        locks=overview.locks,
        live=overview.live,
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
    try:
        ended = admin.end_sessions(user, current_user)
    except admin.OwnSessions as refused:
        abort(400, str(refused))
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
    """Who runs the background jobs, when each runs next, and how each job's last runs went."""
    overview = admin.jobs_overview()
    return render_template(
        "admin_jobs.html",
        lease=overview.lease,
        leading=overview.leading,
        mode=overview.mode,
        upcoming=overview.upcoming,
        runs=overview.runs,
        runs_per_job=admin.RUNS_PER_JOB,
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


def _cursor(name: str) -> int | None:
    raw = request.args.get(name, "")
    try:
        return row_id(raw, name) if raw else None
    except InputRefused as refused:
        raise audit_log.FilterRefused({name: refused.reason}) from None


def _audit_page(
    offered: audit_log.Choices, errors: dict[str, str], log: audit_log.LogPage | None = None
) -> str:
    return render_template(
        "admin_audit.html",
        args=request.args,
        offered=offered,
        errors=errors,
        log=log,
        export_limit=audit_log.EXPORT_LIMIT,
    )


@bp.get("/audit")
@allow(*AUDIT_REVIEW_ROLES)
def audit_entries() -> str | tuple[str, int]:
    """The audit log, filtered and paged; each view is itself audited with its filter."""
    offered = audit_log.choices()
    try:
        chosen = audit_log.parse_filter(request.args, offered)
        log = audit_log.page(chosen, before=_cursor("before"), after=_cursor("after"))
    except audit_log.FilterRefused as refused:
        return _audit_page(offered, refused.errors), 400
    audit.record_now("audit.view", object_type="audit", filters=chosen.as_args())
    return _audit_page(offered, {}, log)


@bp.get("/audit.csv")
@allow(*AUDIT_REVIEW_ROLES)
def audit_export() -> Response | tuple[str, int]:
    """The filtered entries as CSV (the same rows as the page, all of them up to a bound);
    the export is audited with its filter before the first row leaves."""
    offered = audit_log.choices()
    try:
        chosen = audit_log.parse_filter(request.args, offered)
    except audit_log.FilterRefused as refused:
        return _audit_page(offered, refused.errors), 400
    matched = audit_log.count(chosen)
    if matched > audit_log.EXPORT_LIMIT:
        audit.record_now(
            "audit.export",
            outcome="refused",
            object_type="audit",
            filters=chosen.as_args(),
            matched=matched,
        )
        message = (
            f"The filter matches {matched} entries; an export holds at most "
            f"{audit_log.EXPORT_LIMIT}. Narrow the days or another filter."
        )
        return _audit_page(offered, {"export": message}), 400
    audit.record_now("audit.export", object_type="audit", filters=chosen.as_args(), rows=matched)
    # bounded by EXPORT_LIMIT, so written whole: the answer holds no database cursor open
    return Response(
        "".join(audit_log.csv_lines(chosen)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="jointops-audit.csv"'},
    )
