"""Target pages: the agency's targets, the target form with its pre-check, re-validation, cases.

Targets are criminal intelligence: only the agency's own staff see them, never
advocates (``auth.policy.may_see_targets``); a target of another agency answers
404, as if it did not exist. Every view of a target is audited.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from auth.policy import may_edit_targets, may_manage_cases, may_see_targets
from jointops import audit
from jointops.alerts.listing import active_counts, alerts_for_item
from jointops.deconfliction.precheck import Pointer, PrecheckRefused, precheck_target
from jointops.forms import InputRefused, json_body, takes_json
from jointops.identity.kept_forms import keeps_typed_input, typed_again
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.models import Case, Target, utcnow
from jointops.targets.forms import CaseForm, RevalidateForm, TargetForm
from jointops.targets.service import (
    IDENTIFIER_FIELDS,
    TargetErrors,
    agency_cases,
    agency_targets,
    case_counts,
    create_case,
    find_case,
    find_target,
    read_field,
    revalidate,
    save_target,
    set_case_closed,
    update_case,
)
from jointops.visibility import viewer_of

bp = Blueprint("targets", __name__)

Page = str | Response | tuple[str, int]
EXPIRING_DAYS = 90


def _agency_code() -> str | None:
    return current_user.agency.code if current_user.agency else None


def require_target_access(edit: bool = False) -> None:
    """403 (audited) unless the user may see (or change) their agency's targets."""
    viewer = viewer_of(current_user)
    allowed = (may_edit_targets if edit else may_see_targets)(viewer, _agency_code())
    if not allowed:
        audit.record_now(
            "target.list" if not edit else "target.edit",
            outcome="denied",
            object_type="target",
            path=request.path,
        )
        abort(403)


def load_target(target_id: int, *, edit: bool = False) -> Target:
    """The target if it is the user's agency's and they may see it; else 404 (audited)."""
    target = find_target(target_id)
    viewer = viewer_of(current_user)
    code = target.agency.code if target is not None else None
    rule = may_edit_targets if edit else may_see_targets
    if target is None or not may_see_targets(viewer, code):
        audit.record_now("target.view", outcome="denied", object_type="target", object_id=target_id)
        abort(404)
    if not rule(viewer, code):
        audit.record_now(
            "target.update", outcome="denied", object_type="target", object_id=target_id
        )
        abort(403)
    return target


@bp.get("/targets")
@allow(SIGNED_IN)
def index() -> str:
    require_target_access()
    cases = agency_cases(current_user.agency_id)
    case_id = request.args.get("case", type=int)
    validity = request.args.get("validity", "live")
    if validity not in ("live", "expired", "all"):
        abort(400, "validity: expected live, expired or all.")
    rows = agency_targets(current_user.agency_id)
    now = utcnow()
    counts = {
        "live": sum(1 for t in rows if not t.is_expired(now)),
        "expired": sum(1 for t in rows if t.is_expired(now)),
    }
    listed = [
        t
        for t in rows
        if (case_id is None or t.case_id == case_id)
        and (validity == "all" or (validity == "expired") == t.is_expired(now))
    ]
    audit.record_now("target.list", object_type="target", count=len(listed))
    return render_template(
        "targets.html",
        targets=listed,
        cases=cases,
        case_id=case_id,
        validity=validity,
        counts=counts,
        alert_counts=active_counts("target", [t.id for t in listed]),
        now=now,
        expiring_days=EXPIRING_DAYS,
        can_edit=may_edit_targets(viewer_of(current_user), _agency_code()),
    )


def _submit(form: TargetForm, target: Target | None) -> tuple[Target | None, list[Pointer] | None]:
    """Validate, then either pre-check (nothing saved) or save."""
    if not form.validate_on_submit():
        return None, None
    draft = form.to_draft()
    if "precheck" in request.form:
        try:
            return None, precheck_target(draft, current_user, target.id if target else None)
        except PrecheckRefused as refused:
            g.precheck_refused = str(refused)
            return None, None
    try:
        saved = save_target(draft, current_user, target)
    except TargetErrors as refused:
        for name, messages in refused.errors.items():
            field = form[name] if name in form else form.target_ref
            field.errors = [*field.errors, *messages]
        return None, None
    for message in form.warning_messages():
        flash(f"Stored with a warning: {message}", "info")
    return saved, None


def _render_form(form: TargetForm, target: Target | None, pointers: list[Pointer] | None) -> Page:
    refused = g.get("precheck_refused")
    status = 429 if refused else 400 if request.method == "POST" and form.errors else 200
    return render_template(
        "target_form.html", form=form, target=target, pointers=pointers, refused=refused
    ), status


def _saved(target: Target) -> Response:
    active = [
        v
        for v in alerts_for_item("target", target.id, current_user, via="target-page")
        if v.alert.is_active
    ]
    flash(f"Saved target {target.ref}.", "success")
    if active:
        flash(
            f"Deconfliction: {target.ref} matches {len(active)} target"
            f"{'' if len(active) == 1 else 's'} of another agency or case. See the alerts below.",
            "info",
        )
    return redirect(url_for("targets.show", target_id=target.id))


@bp.route("/targets/new", methods=["GET", "POST"])
@allow(SIGNED_IN)
@keeps_typed_input
def create() -> Page:
    require_target_access(edit=True)
    kept = typed_again()
    form = TargetForm(current_user, **kept)
    case_id = request.args.get("case", type=int)
    if request.method == "GET" and case_id and not kept:
        form.case_id.data = case_id
    saved, pointers = _submit(form, None)
    if saved is not None:
        return _saved(saved)
    return _render_form(form, None, pointers)


@bp.post("/targets/understood")
@allow(SIGNED_IN)
@takes_json
def understood() -> dict[str, Any]:
    """What the target form would store of one identifier field, shown while typing.

    ``{"field": "plates", "text": "..."}`` -> each value as it would be stored, or why it
    would be refused. Nothing is looked up or kept; the typed values travel in the body,
    not the URL, so no access log holds them.
    """
    require_target_access(edit=True)
    body = json_body()
    name, text = body.get("field"), body.get("text")
    if not isinstance(name, str) or name not in IDENTIFIER_FIELDS:
        raise InputRefused("field", f"one of {', '.join(IDENTIFIER_FIELDS)}.")
    if not isinstance(text, str) or len(text) > 10_000:
        raise InputRefused("text", "the field's text, at most 10,000 characters.")
    return {"field": name} | read_field(name, text).as_data()


@bp.get("/targets/<int:target_id>")
@allow(SIGNED_IN)
def show(target_id: int) -> str:
    target = load_target(target_id)
    audit.record_now("target.view", object_type="target", object_id=target.id, ref=target.ref)
    return render_template(
        "target.html",
        target=target,
        alerts=alerts_for_item("target", target.id, current_user, via="target-page"),
        revalidate_form=RevalidateForm(),
        can_edit=may_edit_targets(viewer_of(current_user), _agency_code()),
        now=utcnow(),
    )


@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
@allow(SIGNED_IN)
@keeps_typed_input
def edit(target_id: int) -> Page:
    target = load_target(target_id, edit=True)
    kept = typed_again()
    form = (
        TargetForm.for_target(current_user, target)
        if request.method == "GET" and not kept
        else TargetForm(current_user, **kept)
    )
    saved, pointers = _submit(form, target)
    if saved is not None:
        return _saved(saved)
    return _render_form(form, target, pointers)


@bp.post("/targets/<int:target_id>/revalidate")
@allow(SIGNED_IN)
def revalidate_target(target_id: int) -> Page:
    target = load_target(target_id, edit=True)
    form = RevalidateForm()
    if form.validate_on_submit():
        revalidate(target, current_user, form.reason.data.strip())
        flash(f"Re-validated {target.ref} for five years from today.", "success")
        return redirect(url_for("targets.show", target_id=target.id))
    return render_template(
        "target.html",
        target=target,
        alerts=alerts_for_item("target", target.id, current_user, via="target-page"),
        revalidate_form=form,
        can_edit=True,
        now=utcnow(),
    ), 400


def load_case(case_id: int, *, manage: bool = False) -> Case:
    """The case if it is the user's agency's and they may see (or manage) it; else 404 / 403."""
    case = find_case(case_id)
    viewer = viewer_of(current_user)
    code = case.agency.code if case is not None else None
    if case is None or not may_see_targets(viewer, code):
        audit.record_now("case.view", outcome="denied", object_type="case", object_id=case_id)
        abort(404)
    if manage and not may_manage_cases(viewer, code):
        audit.record_now("case.update", outcome="denied", object_type="case", object_id=case_id)
        abort(403)
    return case


@bp.get("/cases")
@allow(SIGNED_IN)
def cases() -> str:
    require_target_access()
    listed = agency_cases(current_user.agency_id)
    return render_template(
        "cases.html",
        cases=listed,
        counts=case_counts([c.id for c in listed]),
        can_manage=may_manage_cases(viewer_of(current_user), _agency_code()),
    )


@bp.route("/cases/new", methods=["GET", "POST"])
@allow(SIGNED_IN)
@keeps_typed_input
def new_case() -> Page:
    require_target_access(edit=True)
    form = CaseForm(**typed_again())
    if form.validate_on_submit():
        try:
            case = create_case(
                current_user.agency_id, form.number.data or "", form.title.data or "", current_user
            )
        except TargetErrors as refused:
            form.show_errors(refused)
        else:
            flash(f"Created case {case.number}.", "success")
            return redirect(url_for("targets.create", case=case.id))
    status = 400 if form.errors else 200
    return render_template("case_form.html", form=form, case=None), status


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@allow(SIGNED_IN)
@keeps_typed_input
def edit_case(case_id: int) -> Page:
    case = load_case(case_id, manage=True)
    kept = typed_again()
    form = CaseForm.for_case(case) if request.method == "GET" and not kept else CaseForm(**kept)
    if form.validate_on_submit():
        try:
            update_case(case, form.number.data or "", form.title.data or "", current_user)
        except TargetErrors as refused:
            form.show_errors(refused)
        else:
            flash(f"Saved case {case.number}.", "success")
            return redirect(url_for("targets.cases"))
    status = 400 if form.errors else 200
    return render_template("case_form.html", form=form, case=case), status


@bp.post("/cases/<int:case_id>/close")
@allow(SIGNED_IN)
def close_case(case_id: int) -> Response:
    case = load_case(case_id, manage=True)
    set_case_closed(case, True, current_user)
    flash(f"Closed case {case.number}: it takes no new targets or events.", "success")
    return redirect(url_for("targets.cases"))


@bp.post("/cases/<int:case_id>/reopen")
@allow(SIGNED_IN)
def reopen_case(case_id: int) -> Response:
    case = load_case(case_id, manage=True)
    set_case_closed(case, False, current_user)
    flash(f"Reopened case {case.number}.", "success")
    return redirect(url_for("targets.cases"))
