"""The targets' and cases' JSON API (version 1): the target pages' forms, services, need-to-know
and audit records. Another agency's target or case answers 404, as a missing one does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint
from flask_login import current_user
from pydantic import BaseModel, Field

from jointops import audit
from jointops.deconfliction.precheck import PointerOut, PrecheckRefused, precheck_target
from jointops.forms import form_data
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.models import Case, Target, utcnow
from jointops.openapi import (
    MAX_KEY,
    Body,
    Flag,
    Id,
    Invalid,
    PageInfo,
    Paging,
    Problem,
    Responses,
    Text,
    choice,
    operation,
    page_of,
    parse_body,
    parse_query,
)
from jointops.targets.forms import CaseForm, RevalidateForm, TargetForm
from jointops.targets.service import (
    TargetErrors,
    agency_cases,
    agency_targets,
    case_counts,
    create_case,
    revalidate,
    save_target,
    set_case_closed,
    update_case,
)
from jointops.targets.views import load_case, load_target, require_target_access

bp = Blueprint("targets_api", __name__, url_prefix="/api/v1")

Reply = tuple[dict[str, Any], int]
MAX_VALUES = 100


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def target_json(target: Target, now: datetime) -> dict[str, Any]:
    return {
        "id": target.id,
        "ref": target.ref,
        "case_id": target.case_id,
        "case": target.case.number,
        "first_name": target.first_name,
        "last_name": target.last_name,
        "aliases": list(target.aliases or []),
        "dob": target.dob.isoformat() if target.dob else None,
        "identifiers": [{"kind": i.kind, "value": i.raw} for i in target.identifiers],
        "justification": target.justification,
        "submitter": target.submitter.username,
        "validated_at": _when(target.validated_at),
        "expires_at": _when(target.expires_at),
        "expired": target.is_expired(now),
    }


def case_json(case: Case, targets: int | None = None) -> dict[str, Any]:
    body = {
        "id": case.id,
        "number": case.number,
        "title": case.title,
        "lead": case.lead.username if case.lead else None,
        "closed_at": _when(case.closed_at),
    }
    return body | ({"targets": targets} if targets is not None else {})


Values = list[Text]


class TargetIn(Body):
    """A target as the target form takes it; several values of a kind as a list."""

    case_id: Id
    target_ref: Text
    justification: Text = Field(description="The reasonable suspicion (28 CFR 23.20).")
    first_name: Text | None = None
    last_name: Text | None = None
    aliases: Values = Field(default_factory=list, max_length=MAX_VALUES)
    dob: Text | None = Field(None, description="YYYY-MM-DD")
    phones: Values = Field(default_factory=list, max_length=MAX_VALUES)
    emails: Values = Field(default_factory=list, max_length=MAX_VALUES)
    plates: Values = Field(default_factory=list, max_length=MAX_VALUES)
    vins: Values = Field(default_factory=list, max_length=MAX_VALUES)
    addresses: Values = Field(default_factory=list, max_length=MAX_VALUES)
    handles: Values = Field(default_factory=list, max_length=MAX_VALUES)
    businesses: Values = Field(default_factory=list, max_length=MAX_VALUES)
    precheck: Flag = Field(
        False, description="Only deconflict it (as “Deconflict this plan”): nothing is stored."
    )


class ReasonIn(Body):
    reason: Text = Field(description="Why the target is still justified; kept on record.")


class CaseIn(Body):
    number: Text
    title: Text


class CaseStateIn(Body):
    closed: Flag


class IdentifierOut(BaseModel):
    kind: str
    value: str


class TargetOut(BaseModel):
    id: int
    ref: str
    case_id: int
    case: str
    first_name: str
    last_name: str
    aliases: list[str]
    dob: str | None
    identifiers: list[IdentifierOut]
    justification: str
    submitter: str
    validated_at: str | None
    expires_at: str | None
    expired: bool


class OneTarget(BaseModel):
    target: TargetOut
    warnings: list[str] = Field(description="Doubts about values stored all the same.")


class TargetSaved(BaseModel):
    """A save (``target``), or with ``precheck`` what saving would match (``pointers``)."""

    target: TargetOut | None = None
    warnings: list[str] | None = None
    pointers: list[PointerOut] | None = None


class TargetPage(BaseModel):
    targets: list[TargetOut]
    paging: PageInfo


class TargetQuery(Paging):
    validity: str = choice("live", ("live", "expired", "all"))
    case_id: int | None = Field(None, ge=1, le=MAX_KEY)


class CaseOut(BaseModel):
    id: int
    number: str
    title: str
    lead: str | None
    closed_at: str | None
    targets: int | None = None


class OneCase(BaseModel):
    case: CaseOut


class CaseList(BaseModel):
    cases: list[CaseOut]


def _as_form(body: BaseModel) -> dict[str, Any]:
    """Lists as the form's lines, as a person would type them."""
    values = body.model_dump(exclude_none=True, exclude={"precheck"})
    return {k: "\n".join(v) if isinstance(v, list) else v for k, v in values.items()}


def _errors(form: Any) -> dict[str, list[str]]:
    return {name: list(messages) for name, messages in form.errors.items()}


def _submit(body: TargetIn, target: Target | None) -> Reply:
    form = TargetForm(current_user, formdata=form_data(_as_form(body)), meta={"csrf": False})
    if not form.validate():
        return {"errors": _errors(form)}, 400
    draft = form.to_draft()
    if body.precheck:
        try:
            pointers = precheck_target(draft, current_user, target.id if target else None)
        except PrecheckRefused as refused:
            return {"error": str(refused), "status": refused.status}, refused.status
        return {"pointers": [p.as_json() for p in pointers]}, 200
    try:
        saved = save_target(draft, current_user, target)
    except TargetErrors as refused:
        return {"errors": refused.errors}, 400
    body_out = {"target": target_json(saved, utcnow()), "warnings": form.warning_messages()}
    return body_out, 201 if target is None else 200


TARGET_SAVE: Responses = {400: Invalid, 403: Problem, 429: Problem}


@bp.get("/targets")
@operation("The agency's targets", query=TargetQuery, responses={200: TargetPage, 403: Problem})
@allow(SIGNED_IN)
def list_targets() -> Reply:
    """Live ones by default; audited as the targets page is."""
    require_target_access()
    query = parse_query(TargetQuery)
    now = utcnow()
    listed = [
        t
        for t in agency_targets(current_user.agency_id)
        if (query.case_id is None or t.case_id == query.case_id)
        and (query.validity == "all" or (query.validity == "expired") == t.is_expired(now))
    ]
    shown, paging = page_of(listed, query)
    audit.record_now("target.list", object_type="target", count=len(listed))
    return {"targets": [target_json(t, now) for t in shown], "paging": paging}, 200


@bp.get("/targets/<int:target_id>")
@operation("One target", responses={200: OneTarget})
@allow(SIGNED_IN)
def get_target(target_id: int) -> Reply:
    target = load_target(target_id)
    audit.record_now("target.view", object_type="target", object_id=target.id, ref=target.ref)
    return {"target": target_json(target, utcnow()), "warnings": []}, 200


@bp.post("/targets")
@operation(
    "Store a target (or only pre-check it)",
    body=TargetIn,
    responses={201: TargetSaved, 200: TargetSaved, **TARGET_SAVE},
)
@allow(SIGNED_IN)
def create_target() -> Reply:
    """Checked against every other agency's and case's targets once stored; with
    ``precheck: true`` the same check runs without storing (rate-limited: 429)."""
    require_target_access(edit=True)
    return _submit(parse_body(TargetIn), None)


@bp.put("/targets/<int:target_id>")
@operation(
    "Change a target (or only pre-check the change)",
    body=TargetIn,
    responses={200: TargetSaved, **TARGET_SAVE},
)
@allow(SIGNED_IN)
def update_target(target_id: int) -> Reply:
    """The whole target, as the edit form sends it (a field left out is emptied)."""
    target = load_target(target_id, edit=True)
    return _submit(parse_body(TargetIn), target)


@bp.post("/targets/<int:target_id>/revalidate")
@operation(
    "Re-validate a target for five more years",
    body=ReasonIn,
    responses={200: OneTarget, 400: Invalid, 403: Problem},
)
@allow(SIGNED_IN)
def revalidate_target(target_id: int) -> Reply:
    target = load_target(target_id, edit=True)
    form = RevalidateForm(
        formdata=form_data(parse_body(ReasonIn).model_dump()), meta={"csrf": False}
    )
    if not form.validate():
        return {"errors": _errors(form)}, 400
    saved = revalidate(target, current_user, form.reason.data.strip())
    return {"target": target_json(saved, utcnow()), "warnings": []}, 200


@bp.get("/cases")
@operation("The agency's cases", responses={200: CaseList, 403: Problem})
@allow(SIGNED_IN)
def list_cases() -> Reply:
    require_target_access()
    listed = agency_cases(current_user.agency_id)
    counts = case_counts([c.id for c in listed])
    return {"cases": [case_json(c, counts.get(c.id, 0)) for c in listed]}, 200


@bp.get("/cases/<int:case_id>")
@operation("One case", responses={200: OneCase})
@allow(SIGNED_IN)
def get_case(case_id: int) -> Reply:
    case = load_case(case_id)
    return {"case": case_json(case, case_counts([case.id]).get(case.id, 0))}, 200


def _case_values(body: CaseIn) -> CaseForm:
    return CaseForm(formdata=form_data(body.model_dump()), meta={"csrf": False})


@bp.post("/cases")
@operation("Open a case", body=CaseIn, responses={201: OneCase, 400: Invalid, 403: Problem})
@allow(SIGNED_IN)
def open_case() -> Reply:
    require_target_access(edit=True)
    form = _case_values(parse_body(CaseIn))
    if not form.validate():
        return {"errors": _errors(form)}, 400
    try:
        case = create_case(
            current_user.agency_id, form.number.data or "", form.title.data or "", current_user
        )
    except TargetErrors as refused:
        return {"errors": refused.errors}, 400
    return {"case": case_json(case)}, 201


@bp.put("/cases/<int:case_id>")
@operation("Rename a case", body=CaseIn, responses={200: OneCase, 400: Invalid, 403: Problem})
@allow(SIGNED_IN)
def rename_case(case_id: int) -> Reply:
    case = load_case(case_id, manage=True)
    form = _case_values(parse_body(CaseIn))
    if not form.validate():
        return {"errors": _errors(form)}, 400
    try:
        saved = update_case(case, form.number.data or "", form.title.data or "", current_user)
    except TargetErrors as refused:
        return {"errors": refused.errors}, 400
    return {"case": case_json(saved)}, 200


@bp.put("/cases/<int:case_id>/closed")
@operation(
    "Close or reopen a case",
    body=CaseStateIn,
    responses={200: OneCase, 403: Problem},
)
@allow(SIGNED_IN)
def close_case(case_id: int) -> Reply:
    """A closed case takes no new targets or operations; what it holds stays."""
    case = load_case(case_id, manage=True)
    saved = set_case_closed(case, parse_body(CaseStateIn).closed, current_user)
    return {"case": case_json(saved)}, 200
