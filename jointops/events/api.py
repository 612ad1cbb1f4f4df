"""The events' JSON API: the same service and the same need-to-know rules as the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user

from auth.policy import Visibility, creatable_kinds
from jointops import audit
from jointops.events.forms import EventForm
from jointops.events.rules import EventErrors
from jointops.events.service import (
    BookingConflict,
    NeedsConfirmation,
    find_event,
    save_event_and_read,
)
from jointops.forms import form_data, json_body
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.models import Event
from jointops.officetime import TimeRefused, parse_instant
from jointops.visibility import Seen, events_between, shared_resources, viewer_of, visibility

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_WINDOW = timedelta(days=92)
Reply = tuple[dict[str, Any], int]


def event_json(event: Event, seen: Visibility) -> dict[str, Any]:
    """What the viewer may know of ``event``: a busy block carries only time and resources."""
    body: dict[str, Any] = {
        "id": event.id,
        "busy": seen is not Visibility.FULL,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
    }
    if seen is not Visibility.FULL:
        return body | {"resources": [r.name for r in shared_resources(current_user, event)]}
    return body | {
        "rooms": [r.name for r in event.resources if r.is_room],
        "kind": event.kind,
        "subtype": event.subtype,
        "title": event.title,
        "status": event.status,
        "sensitivity": event.sensitivity,
        "owner_agency": event.owner_agency.code,
        "lead": event.lead.username if event.lead else None,
        "case": event.case.number if event.case else None,
        "location": {
            "address": event.location_address,
            "latitude": event.latitude,
            "longitude": event.longitude,
            "radius_m": event.radius_m,
        },
        "client_code": event.client_code,
        "notes": event.notes,
        "resources": [r.name for r in event.resources],
        "participants": [{"username": p.user.username, "part": p.part} for p in event.participants],
        "version": event.version,
    }


def _instant(name: str, default: datetime) -> datetime:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return parse_instant(raw)
    except TimeRefused as refused:
        abort(400, f"{name}: {refused}")


@bp.get("/events")
@allow(SIGNED_IN)
def list_events() -> Reply:
    now = datetime.now(UTC)
    start = _instant("start", now - timedelta(days=7))
    end = _instant("end", start + timedelta(days=28))
    if end <= start:
        abort(400, "end: must be after start.")
    if end - start > MAX_WINDOW:
        abort(400, "end: the window may span at most 92 days.")
    seen: list[Seen] = events_between(current_user, start, end)
    return {"events": [event_json(s.event, s.visibility) for s in seen]}, 200


@bp.get("/events/<int:event_id>")
@allow(SIGNED_IN)
def get_event(event_id: int) -> Reply:
    event = find_event(event_id)
    seen = visibility(current_user, event) if event is not None else Visibility.NONE
    if event is None or seen is Visibility.NONE:
        audit.record_now("event.view", outcome="denied", object_type="event", object_id=event_id)
        abort(404)
    audit.record_now("event.view", object_type="event", object_id=event.id, level=seen.name.lower())
    return {"event": event_json(event, seen)}, 200


def _refused(form: EventForm) -> dict[str, Any]:
    """The errors by field, and the flags that would confirm some of them away."""
    body: dict[str, Any] = {"errors": {name: list(errs) for name, errs in form.errors.items()}}
    if form.confirmable:
        body["confirm"] = sorted(form.confirmable)
    return body


@bp.post("/events")
@allow(SIGNED_IN)
def create_event() -> Reply:
    if not request.is_json:
        abort(400, "Send the event as JSON (Content-Type: application/json).")
    if not creatable_kinds(viewer_of(current_user)):
        audit.record_now("event.create", outcome="denied", path=request.path)
        abort(403)
    # CSRFProtect checked the header
    form = EventForm(current_user, formdata=form_data(json_body()), meta={"csrf": False})
    if not form.validate():
        return _refused(form), 400
    try:
        # the answer is read in the save's transaction: once committed, the save is reported
        body = save_event_and_read(
            form.to_draft(),
            current_user,
            confirmed=form.confirm_warnings.data,
            read=lambda event: event_json(event, Visibility.FULL),
        )
    except NeedsConfirmation as pending:
        return {
            "error": "Confirm the warnings by sending confirm_warnings: true.",
            "warnings": [{"code": w.code, "message": w.message} for w in pending.warnings],
        }, 422
    except EventErrors as refused:
        form.refused_by(refused)
        return _refused(form), 400
    except BookingConflict as conflict:
        return {"error": str(conflict), "field": conflict.field}, 409
    return {"event": body}, 201
