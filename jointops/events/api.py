"""The events' JSON API: the same service and the same need-to-know rules as the pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from flask import Blueprint, abort, request
from flask_login import current_user
from pydantic import BaseModel, Field, field_validator

from auth.policy import Visibility, creatable_kinds
from calendars.recurrence import (
    MAX_OCCURRENCES,
    REPEAT,
    REPEAT_COUNT,
    REPEAT_UNTIL,
    Rule,
    RuleRefused,
)
from jointops import audit, idempotency
from jointops.catalog import KIND_LABELS
from jointops.deconfliction.precheck import PointerOut, PrecheckRefused, precheck_occurrences
from jointops.events.availability import AvailabilityDenied, availability_for
from jointops.events.forms import CancelForm, EventForm
from jointops.events.occurrences import dated_occurrences
from jointops.events.rules import EventDraft, EventErrors
from jointops.events.series import (
    FOLLOWING,
    ONLY_THIS,
    SCOPE,
    change_following_and_read,
    occurrence_starts,
    save_series_and_read,
)
from jointops.events.service import (
    BookingConflict,
    NeedsConfirmation,
    cancel_event,
    find_event,
    save_event_and_read,
)
from jointops.events.views import load_editable, load_event
from jointops.forms import InputRefused, form_data, json_body
from jointops.idempotency import idempotent
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.models import Event
from jointops.officetime import TimeRefused, parse_instant, to_local
from jointops.openapi import (
    ApiInvalid,
    Body,
    Flag,
    Id,
    Instant,
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
        "all_day": event.all_day,
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
        "series_id": event.series_id,
        "recurrence_id": event.recurrence_id.isoformat() if event.recurrence_id else None,
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


@bp.get("/events/availability")
@allow(SIGNED_IN)
def availability() -> Reply:
    """The event form's free/busy: its fields as the query (``starts_at``, ``ends_at``,
    ``room_id``, ``resource_ids``, ``lead_id`` and the parts' people, ``event_id`` when
    editing); 400 naming the field at fault, 403 for those who schedule nothing."""
    try:
        found = availability_for(request.args, current_user)
    except AvailabilityDenied:
        abort(403)
    except InputRefused as refused:
        return {"error": str(refused), "field": refused.field, "status": 400}, 400
    return found.as_data(), 200


def _refused(form: EventForm) -> dict[str, Any]:
    """The errors by field, and the flags that would confirm some of them away."""
    body: dict[str, Any] = {"errors": {name: list(errs) for name, errs in form.errors.items()}}
    if form.confirmable:
        body["confirm"] = sorted(form.confirmable)
    return body


def _replayed(event_id: int) -> tuple[Event, Visibility]:
    """A create's event again, for its ``Idempotency-Key``, as the user may see it now."""
    event, seen = load_event(event_id)
    audit.record_now("event.view", object_type="event", object_id=event.id, replayed=True)
    return event, seen


def _replay(event_id: int) -> Reply:
    event, seen = _replayed(event_id)
    return {"event": event_json(event, seen)}, 200


def _created_json(event: Event) -> dict[str, Any]:
    """The saved event's answer, read in the save's transaction, which records the request's
    ``Idempotency-Key`` (if it has one) with it."""
    idempotency.remember("event", event.id)
    return event_json(event, Visibility.FULL)


@bp.post("/events")
@allow(SIGNED_IN)
@idempotent("event", _replay)
def create_event() -> Reply:
    if not request.is_json:
        abort(400, "Send the event as JSON (Content-Type: application/json).")
    _require_creator()
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
            read=_created_json,
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


# --- version 1 ---------------------------------------------------------------------------
#
# The same form (its parsing and the events service's rules) and the same service as the
# pages; the body's shape is checked first by its model (422), the rules answer 400.

LocalTime = Annotated[
    Text,
    Field(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2})?$",
        description=(
            "Wall-clock time in the office time zone, YYYY-MM-DDTHH:MM (24-hour); of an "
            "all-day event the day, YYYY-MM-DD (a time given with it is read by its day)."
        ),
    ),
]


Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
#: the rule's errors (``calendars.recurrence``) by the fields of ``RepeatIn``
REPEAT_FIELDS = {REPEAT: "repeat", REPEAT_COUNT: "repeat.count", REPEAT_UNTIL: "repeat.until"}


class RepeatIn(Body):
    """How an event repeats: the event form's repeat (``calendars.recurrence.Rule``), with its
    bounds; ``count`` or ``until`` ends it. Of a new event, from its first occurrence; of an
    occurrence changed with ``scope: following``, from it on (``count`` counts it and the
    later ones)."""

    frequency: Text = choice(
        ..., ["daily", "weekly", "monthly"], "Monthly: on the first day's date."
    )
    interval: Annotated[int, Field(strict=True, ge=1, le=52)] = 1
    weekdays: list[Weekday] = Field(
        default_factory=list,
        max_length=7,
        description="Weekly only; default the first day's weekday.",
    )
    count: Annotated[int, Field(strict=True, ge=2, le=MAX_OCCURRENCES)] | None = Field(
        None, description="How many occurrences."
    )
    until: Text | None = Field(
        None,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        description="The last day (inclusive, office time zone), YYYY-MM-DD; at most two "
        "years after the first.",
    )

    @field_validator("until")
    @classmethod
    def _a_day(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError("not a day of the calendar.") from None
        return value

    def rule(self, first: datetime) -> Rule:
        """The rule for an event starting at ``first`` (UTC); ``ApiInvalid`` names the field."""
        if self.weekdays and self.frequency != "weekly":
            raise ApiInvalid({"repeat.weekdays": ["Days of the week are for weekly repeats."]})
        if (self.count is None) == (self.until is None):
            raise ApiInvalid({"repeat.count": ["Send count or until, not both."]})
        return Rule.starting(
            to_local(first).replace(tzinfo=None),
            self.frequency,
            interval=self.interval,
            weekdays=self.weekdays,
            count=self.count,
            until=date.fromisoformat(self.until) if self.until is not None else None,
        )


class EventIn(Body):
    """An event as the event form takes it; ids are those the form offers."""

    kind: Text = choice(
        ...,
        KIND_LABELS,
        "Meetings (case meetings, court dates, trainings, briefings) are never "
        "deconflicted and take no address, coordinates or client code.",
    )
    subtype: Text
    starts_at: LocalTime
    ends_at: LocalTime
    starts_at_fold: Text | None = choice(
        None,
        ["0", "1", None],
        "When starts_at happens twice (the clocks go back): 0 the first, 1 the second reading.",
    )
    ends_at_fold: Text | None = choice(None, ["0", "1", None], "As starts_at_fold, for ends_at.")
    all_day: Flag = Field(
        False,
        description=(
            "Whole office days: starts_at is the first day, ends_at the last (inclusive), "
            "both YYYY-MM-DD; held from local midnight to local midnight after the last day."
        ),
    )
    title: Text | None = None
    status: Text | None = None
    sensitivity: Text | None = None
    case_id: Id | None = None
    location_address: Text | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int | None = Field(None, ge=-(2**31), le=2**31 - 1)
    room_id: Id | None = None
    resource_ids: list[Id] = Field(default_factory=list, max_length=50)
    lead_id: Id | None = None
    investigators: list[Id] = Field(default_factory=list, max_length=100)
    advocates: list[Id] = Field(default_factory=list, max_length=100)
    interpreters: list[Id] = Field(default_factory=list, max_length=100)
    prosecutors: list[Id] = Field(default_factory=list, max_length=100)
    forensic_interviewers: list[Id] = Field(default_factory=list, max_length=100)
    client_code: Text | None = None
    place_id: Id | None = None
    place_text: Text | None = None
    notes: Text | None = None
    confirm_warnings: Flag = False
    confirm_outside_area: Flag = False
    repeat: RepeatIn | None = Field(
        None,
        description="Creating (or pre-checking): the event repeats, each occurrence an event "
        "of its own, booked and checked as the event form's repeat does. Changing an "
        "occurrence with `scope: following`: how often it and the later occurrences repeat "
        "from its (new) start on; left out, or the series' own rule, keeps the series' rule "
        "and its exceptions. Another rule ends the series before the occurrence, cancels the "
        "later occurrences and makes them again by it (those moved or cancelled on their own "
        "are not kept), all or nothing.",
    )
    scope: Text | None = choice(
        None,
        [ONLY_THIS, FOLLOWING, None],
        "Changing an occurrence of a series only: `following` changes it and every later "
        "occurrence still to come (the series is split there); default `one`.",
    )


class CancelIn(Body):
    reason: Text = Field(description="Why: it goes to the audit trail.")


class LocationOut(BaseModel):
    address: str | None
    latitude: float | None
    longitude: float | None
    radius_m: int | None


class ParticipantOut(BaseModel):
    username: str
    part: str


class EventOut(BaseModel):
    """An event as the viewer may know it: a busy block (``busy``) carries only its time and
    the resources the viewer shares with it."""

    id: int
    busy: bool
    starts_at: str
    ends_at: str
    resources: list[str]
    rooms: list[str] | None = None
    kind: str | None = choice(None, [*KIND_LABELS, None])
    subtype: str | None = None
    title: str | None = None
    all_day: bool | None = None
    status: str | None = None
    sensitivity: str | None = None
    owner_agency: str | None = None
    lead: str | None = None
    case: str | None = None
    location: LocationOut | None = None
    client_code: str | None = None
    notes: str | None = None
    participants: list[ParticipantOut] | None = None
    version: int | None = None
    series_id: int | None = Field(None, description="The series it is an occurrence of.")
    recurrence_id: str | None = Field(
        None, description="The start its series' rule gives it (kept when it is moved)."
    )


class OneEvent(BaseModel):
    event: EventOut


class SeriesOut(BaseModel):
    id: int
    rule: str = Field(description="In words: Weekly on Tuesday, 10 times.")
    starts: list[str] = Field(description="The start of each occurrence not cancelled.")


class Scheduled(BaseModel):
    """The event saved; of an occurrence of a series, the series too."""

    event: EventOut
    series: SeriesOut | None = None


class EventPage(BaseModel):
    events: list[EventOut]
    paging: PageInfo


class Cancelled(BaseModel):
    id: int
    status: str


class Precheck(BaseModel):
    deconflicted: bool = Field(description="False when the plan is not an operation.")
    pointers: list[PointerOut]


class Window(Paging):
    start: Instant | None = Field(None, description="Default: 7 days ago.")
    end: Instant | None = Field(None, description="Default: 28 days after start; at most 92.")


@bp.get("/v1/events")
@operation(
    "Events overlapping a window",
    query=Window,
    responses={200: EventPage},
    tag="events",
)
@allow(SIGNED_IN)
def v1_list_events() -> Reply:
    """Every event overlapping ``[start, end)`` the user may see, busy blocks included, by
    start; paged."""
    query = parse_query(Window)
    start = query.start or datetime.now(UTC) - timedelta(days=7)
    end = query.end or start + timedelta(days=28)
    if end <= start:
        return {"errors": {"end": ["must be after start."]}}, 422
    if end - start > MAX_WINDOW:
        return {"errors": {"end": ["the window may span at most 92 days."]}}, 422
    seen, paging = page_of(events_between(current_user, start, end), query)
    return {"events": [event_json(s.event, s.visibility) for s in seen], "paging": paging}, 200


@bp.get("/v1/events/<int:event_id>")
@operation("One event", responses={200: OneEvent}, tag="events")
@allow(SIGNED_IN)
def v1_get_event(event_id: int) -> Reply:
    """Another agency's event that the user may not see answers 404, as a missing one does;
    both are audited, as on the event's page."""
    event, seen = load_event(event_id)
    audit.record_now("event.view", object_type="event", object_id=event.id, level=seen.name.lower())
    return {"event": event_json(event, seen)}, 200


def _require_creator() -> None:
    """403 (audited) unless the user may create some kind of event."""
    if not creatable_kinds(viewer_of(current_user)):
        audit.record_now("event.create", outcome="denied", path=request.path)
        abort(403)


def _event_form(body: EventIn, event: Event | None) -> EventForm:
    """The event form over a v1 body (CSRFProtect checked the header; a token needs none)."""
    return EventForm(
        current_user,
        formdata=form_data(body.model_dump(exclude_none=True, exclude={"repeat", "scope"})),
        event=event,
        meta={"csrf": False},
    )


def _scheduled(event: Event, seen: Visibility = Visibility.FULL) -> dict[str, Any]:
    """``Scheduled``: read in the save's transaction (or again for a replayed create)."""
    body: dict[str, Any] = {"event": event_json(event, seen)}
    series = event.series
    if series is not None and seen is Visibility.FULL:
        body["series"] = {
            "id": series.id,
            "rule": Rule.parse(series.rule).describe(series.first_start),
            "starts": [s.isoformat() for s in occurrence_starts(series.id)],
        }
    return body


def _check_scope(body: EventIn, event: Event | None) -> None:
    """A repeat is chosen when creating or with ``scope: following``, a scope when changing
    (422 otherwise)."""
    if event is not None and body.repeat is not None and body.scope != FOLLOWING:
        raise ApiInvalid(
            {"repeat": ["Only when creating, or changing an occurrence with scope following."]}
        )
    if event is None and body.scope is not None:
        raise ApiInvalid({SCOPE: ["Only when changing an occurrence of a series."]})


def _rule_refused(refused: RuleRefused) -> ApiInvalid:
    return ApiInvalid({REPEAT_FIELDS.get(k, "repeat"): v for k, v in refused.errors.items()})


def _created(event: Event) -> dict[str, Any]:
    """``_scheduled`` of a new event, recording the request's ``Idempotency-Key`` with it."""
    idempotency.remember("event", event.id)
    return _scheduled(event)


def _store(body: EventIn, event: Event | None, draft: EventDraft, confirmed: bool) -> Any:
    """Save the event, its series, or it and the following occurrences (by ``repeat`` if
    sent); ``Scheduled``."""
    rule = body.repeat.rule(draft.starts_at) if body.repeat is not None else None
    if event is not None and body.scope == FOLLOWING:
        return change_following_and_read(
            draft, event, current_user, rule=rule, confirmed=confirmed, read=_scheduled
        )
    if rule is not None:
        return save_series_and_read(draft, rule, current_user, confirmed=confirmed, read=_created)
    read = _created if event is None else _scheduled
    return save_event_and_read(draft, current_user, event, confirmed=confirmed, read=read)


def _save(body: EventIn, event: Event | None) -> Reply:
    _check_scope(body, event)
    form = _event_form(body, event)
    if not form.validate():
        return _refused(form), 400
    draft = form.to_draft()
    if event is not None:
        draft.owner_agency_id = event.owner_agency_id
    try:
        saved = _store(body, event, draft, form.confirm_warnings.data)
    except RuleRefused as refused:
        raise _rule_refused(refused) from None
    except NeedsConfirmation as pending:
        return {
            "errors": {"confirm_warnings": [w.message for w in pending.warnings]},
            "confirm": ["confirm_warnings"],
        }, 400
    except EventErrors as refused:
        scope = refused.errors.pop(SCOPE, None)
        form.refused_by(refused)
        answer = _refused(form)
        if scope:
            answer["errors"] = {SCOPE: scope} | (answer["errors"] if refused.errors else {})
        return answer, 400
    except BookingConflict as conflict:
        return {"error": str(conflict), "field": conflict.field, "status": 409}, 409
    return saved, 201 if event is None else 200


@bp.post("/v1/events")
@operation(
    "Schedule an event",
    body=EventIn,
    responses={201: Scheduled, 400: Invalid, 403: Problem, 409: Problem},
    tag="events",
    idempotent=True,
)
@allow(SIGNED_IN)
@idempotent("event", lambda event_id: (_scheduled(*_replayed(event_id)), 200))
def v1_create_event() -> Reply:
    """As the event form: booking warnings (a person booked twice, a repeat interview) answer
    400 until sent again with ``confirm_warnings: true``; a taken room answers 409. With
    ``repeat``, the whole series or nothing: a room taken on any occurrence answers 409 naming
    its date, and a repeat out of bounds 422 naming the field (``repeat.count``)."""
    body = parse_body(EventIn)
    _require_creator()
    return _save(body, None)


@bp.put("/v1/events/<int:event_id>")
@operation(
    "Change an event",
    body=EventIn,
    responses={200: Scheduled, 400: Invalid, 403: Problem, 409: Problem},
    tag="events",
)
@allow(SIGNED_IN)
def v1_update_event(event_id: int) -> Reply:
    """The whole event, as the edit form sends it (a field left out is emptied). Of an
    occurrence, ``scope: following`` changes the later ones too, all or nothing; with
    ``repeat``, how often they repeat from it on (a repeat out of bounds answers 422 naming
    the field, a room taken on any new occurrence 409 naming its date)."""
    event = load_editable(event_id, "event.update")
    return _save(parse_body(EventIn), event)


@bp.post("/v1/events/<int:event_id>/cancel")
@operation(
    "Cancel an event",
    body=CancelIn,
    responses={200: Cancelled, 400: Invalid, 403: Problem},
    tag="events",
)
@allow(SIGNED_IN)
def v1_cancel_event(event_id: int) -> Reply:
    """Frees its rooms and vehicles; the reason goes to the audit trail."""
    event = load_editable(event_id, "event.cancel")
    body = parse_body(CancelIn)
    form = CancelForm(formdata=form_data(body.model_dump()), meta={"csrf": False})
    if not form.validate():
        return {"errors": {k: list(v) for k, v in form.errors.items()}}, 400
    cancel_event(event, current_user, form.reason.data.strip())
    return {"id": event_id, "status": "cancelled"}, 200


def _precheck(body: EventIn, event: Event | None) -> Reply:
    _check_scope(body, event)
    form = _event_form(body, event)
    if not form.validate():
        return _refused(form), 400
    draft = form.to_draft()
    if event is not None:
        draft.owner_agency_id = event.owner_agency_id
    try:
        plans = (
            dated_occurrences(draft, body.repeat.rule(draft.starts_at))
            if body.repeat is not None
            else [(None, draft)]
        )
        pointers = precheck_occurrences(plans, current_user, event.id if event else None)
    except RuleRefused as refused:
        raise _rule_refused(refused) from None
    except PrecheckRefused as refused:
        return {"error": str(refused), "status": refused.status}, refused.status
    return {
        "deconflicted": pointers is not None,
        "pointers": [p.as_json() for p in pointers or []],
    }, 200


PRECHECK_RESPONSES: Responses = {200: Precheck, 400: Invalid, 403: Problem, 429: Problem}


@bp.post("/v1/events/precheck")
@operation(
    "Deconflict a plan without saving it",
    body=EventIn,
    responses=PRECHECK_RESPONSES,
    tag="events",
)
@allow(SIGNED_IN)
def v1_precheck_new() -> Reply:
    """ "Deconflict this plan" of the event form: the same rules, limits (429 past them) and
    notices to the side it hits; nothing is stored. With ``repeat``, every occurrence is
    checked, each pointer naming its day (``on``); it counts as one pre-check."""
    body = parse_body(EventIn)
    _require_creator()
    return _precheck(body, None)


@bp.post("/v1/events/<int:event_id>/precheck")
@operation(
    "Deconflict a change to an event without saving it",
    body=EventIn,
    responses=PRECHECK_RESPONSES,
    tag="events",
)
@allow(SIGNED_IN)
def v1_precheck_change(event_id: int) -> Reply:
    event = load_editable(event_id, "event.update")
    return _precheck(parse_body(EventIn), event)
