"""The alerts' JSON API: the list, one alert, and its workflow, with the pages' services,
need-to-know and audit records. ``/api/alerts`` (the first version) answers as before."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from flask import Blueprint, abort
from flask_login import current_user
from pydantic import AfterValidator, BaseModel, Field

from jointops import audit
from jointops.alerts import listing, workflow
from jointops.alerts.forms import ResolveForm
from jointops.alerts.items import SORTS, STATUS_FILTERS, AlertActionRefused
from jointops.alerts.listing import PER_PAGE, AlertFilters, AlertList
from jointops.alerts.pointer import AlertView, Side
from jointops.alerts.views import filters_of_query, load_alert
from jointops.catalog import ALERT_KIND_LABELS, OUTCOME_LABELS, STRENGTH_LABELS
from jointops.forms import form_data
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.models import Event
from jointops.openapi import (
    Body,
    Invalid,
    PageInfo,
    Problem,
    Query,
    Text,
    choice,
    operation,
    parse_body,
    parse_query,
)

bp = Blueprint("alerts_api", __name__, url_prefix="/api")

Reply = tuple[dict[str, Any], int]


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def side_json(side: Side) -> dict[str, Any]:
    """One party: the pointer always; the item itself only when the viewer may see it."""
    contact = side.contact
    body: dict[str, Any] = {
        "agency": side.agency.code,
        "agency_name": side.agency.name,
        "own": side.own,
        "contact": (
            {"name": contact.name, "phone": contact.phone, "email": contact.email}
            if contact
            else None
        ),
        "acknowledged_at": _when(side.acked_at),
    }
    if side.shown:
        body |= {"type": side.item_type, "ref": side.ref, "label": side.label}
        if isinstance(side.item, Event):
            body["starts_at"] = _when(side.item.starts_at)
    return body


def alert_json(view: AlertView) -> dict[str, Any]:
    alert = view.alert
    return {
        "id": alert.id,
        "kind": alert.kind,
        "status": alert.status,
        "strength": alert.strength,
        "score": alert.score,
        "explanation": view.explanation,
        "outcome": alert.outcome,
        "resolution_note": alert.resolution_note or None,
        "raised_at": _when(alert.raised_at),
        "resolved_at": _when(alert.resolved_at),
        "closed_at": _when(alert.closed_at),
        "waiting_seconds": int(view.waiting / timedelta(seconds=1)),
        "parties": [side_json(s) for s in view.sides],
    }


def _list_body(found: AlertList) -> dict[str, Any]:
    return {
        "alerts": [alert_json(v) for v in found.views],
        "counts": found.counts,
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
    }


@bp.get("/alerts")
@allow(SIGNED_IN)
def api_list() -> Reply:
    found = listing.list_alerts(current_user, filters_of_query())
    body = _list_body(found)
    listing.record_list_view(found.views, current_user, via="api")
    return body, 200


@bp.get("/alerts/<int:alert_id>")
@allow(SIGNED_IN)
def api_show(alert_id: int) -> Reply:
    view = load_alert(alert_id)
    listing.record_view(view, current_user, via="api")
    return {"alert": alert_json(view)}, 200


# --- version 1 ---------------------------------------------------------------------------


def _agency(value: str) -> str:
    value = value.strip().upper()
    if len(value) > 16:
        raise ValueError("expected an agency code.")
    return value


class AlertQuery(Query):
    status: str = choice("active", STATUS_FILTERS)
    kind: str | None = choice(None, [*ALERT_KIND_LABELS, None])
    strength: str | None = choice(None, [*STRENGTH_LABELS, None])
    agency: Annotated[str, Field(max_length=64), AfterValidator(_agency)] | None = None
    sort: str = choice("urgency", SORTS)
    page: int = Field(1, ge=1, le=100_000, description=f"Which page, from 1 ({PER_PAGE} a page).")


class ContactOut(BaseModel):
    name: str
    phone: str | None
    email: str | None


class PartyOut(BaseModel):
    """One side: its agency and who to call always; its item only when the viewer may see it."""

    agency: str
    agency_name: str
    own: bool
    contact: ContactOut | None
    acknowledged_at: str | None
    type: str | None = None
    ref: str | None = None
    label: str | None = None
    starts_at: str | None = None


class AlertOut(BaseModel):
    id: int
    kind: str
    status: str
    strength: str
    score: float
    explanation: str
    outcome: str | None
    resolution_note: str | None
    raised_at: str | None
    resolved_at: str | None
    closed_at: str | None
    waiting_seconds: int
    parties: list[PartyOut]


class AlertPage(BaseModel):
    alerts: list[AlertOut]
    counts: dict[str, int] = Field(description="How many alerts of each status the filters find.")
    paging: PageInfo


class OneAlert(BaseModel):
    alert: AlertOut


class Acknowledged(BaseModel):
    acknowledged_for: list[str] = Field(description="The agencies acknowledged for.")
    alert: AlertOut


class ResolveIn(Body):
    outcome: Text = choice(..., OUTCOME_LABELS)
    note: Text = Field(description="What was agreed, and with whom.")


@bp.get("/v1/alerts")
@operation("Alerts the user may see, by urgency", query=AlertQuery, responses={200: AlertPage})
@allow(SIGNED_IN)
def v1_list() -> Reply:
    """The review page's list: the same filters and order, 50 to a page; audited as it is."""
    query = parse_query(AlertQuery)
    filters = AlertFilters(
        status=query.status,
        kind=query.kind,
        strength=query.strength,
        agency=query.agency or None,
        sort=query.sort,
        page=query.page,
    )
    found = listing.list_alerts(current_user, filters)
    body = {
        "alerts": [alert_json(v) for v in found.views],
        "counts": found.counts,
        "paging": {
            "page": found.page,
            "limit": PER_PAGE,
            "total": found.total,
            "next_page": found.page + 1 if found.page < found.pages else None,
        },
    }
    listing.record_list_view(found.views, current_user, via="api")
    return body, 200


@bp.get("/v1/alerts/<int:alert_id>")
@operation("One alert", responses={200: OneAlert})
@allow(SIGNED_IN)
def v1_show(alert_id: int) -> Reply:
    """Each side's own item and the other's pointer; an alert the user may not see answers
    404 as a missing one does (audited)."""
    return api_show(alert_id)


def _refused(action: str, alert_id: int, refused: AlertActionRefused) -> Reply:
    if refused.status in (403, 404):
        audit.record_now(action, outcome="denied", object_type="alert", object_id=alert_id)
        abort(refused.status)
    return {"error": str(refused), "status": refused.status}, refused.status


def _alert_after(alert_id: int) -> dict[str, Any]:
    view = load_alert(alert_id)
    listing.record_view(view, current_user, via="api")
    return alert_json(view)


@bp.post("/v1/alerts/<int:alert_id>/acknowledge")
@operation(
    "Acknowledge one's own side",
    responses={200: Acknowledged, 403: Problem, 409: Problem},
)
@allow(SIGNED_IN)
def v1_acknowledge(alert_id: int) -> Reply:
    """409 when the alert is no longer active or the user's side has acknowledged already."""
    try:
        codes = workflow.acknowledge(alert_id, current_user)
    except AlertActionRefused as refused:
        return _refused("alert.acknowledge", alert_id, refused)
    return {"acknowledged_for": codes, "alert": _alert_after(alert_id)}, 200


@bp.post("/v1/alerts/<int:alert_id>/resolve")
@operation(
    "Resolve an alert with an outcome",
    body=ResolveIn,
    responses={200: OneAlert, 400: Invalid, 403: Problem, 409: Problem},
)
@allow("supervisor", "deconfliction_officer")
def v1_resolve(alert_id: int) -> Reply:
    """Once both sides have acknowledged (409 before), by a supervisor of either side or a
    deconfliction officer."""
    view = load_alert(alert_id)
    body = parse_body(ResolveIn)
    form = ResolveForm(formdata=form_data(body.model_dump()), meta={"csrf": False})
    listing.record_view(view, current_user, via="resolve")
    if not form.validate():
        return {"errors": {k: list(v) for k, v in form.errors.items()}}, 400
    try:
        workflow.resolve(alert_id, current_user, form.outcome.data, form.note.data.strip())
    except AlertActionRefused as refused:
        return _refused("alert.resolve", alert_id, refused)
    return {"alert": _alert_after(alert_id)}, 200
