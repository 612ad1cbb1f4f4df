"""The rules an event must keep, whoever saves it: the form, the API, the demo, anything later.

``validate_draft`` is the one place they live. It names the field at fault and
says why (``EventErrors``), and returns the draft as it will be stored (an
appointment's title from its type, an operation's default radius, the lead's
part). Forms and the API only parse what was typed and show these errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from auth.policy import DECONFLICTION_OFFICER, may_create, may_take_part
from jointops.catalog import (
    KIND_LABELS,
    MAX_EVENT_DURATION,
    PARTS,
    SENSITIVITY_LABELS,
    STATUS_LABELS,
    VICTIM_INTERVIEWS,
    subtype,
    subtype_label,
)
from jointops.deconfliction.records import event_rules
from jointops.extensions import db
from jointops.models import Case, EventStatus, KnownPlace, Resource, ResourceKind, User
from jointops.officetime import to_local
from jointops.visibility import viewer_of

LATITUDE = (-90.0, 90.0)
LONGITUDE = (-180.0, 180.0)
RADIUS_M = (10, 50_000)
TITLE_MAX = 200
NOTES_MAX = 5000
ADDRESS_MAX = 300
PLACE_TEXT_MAX = 300
#: the error key of a part's participants: ``participants:advocate``
PARTICIPANTS = "participants"
#: what confirms a place outside the service area (a form's checkbox, the API's flag)
CONFIRM_OUTSIDE_AREA = "confirm_outside_area"
APPOINTMENT_PLACE_ONLY = (
    "An appointment’s place is chosen under “Where (appointments)”: a known place or words, "
    "never an address or coordinates. Clear this field."
)
MEETING_HAS_NO_PLACE = (
    "A meeting has no address or coordinates: only operations are placed and deconflicted. "
    "Book a room, or say where in the notes. Clear this field."
)
#: the kinds that never carry an operation's address, coordinates or radius, and why
UNPLACED_KINDS = {"appointment": APPOINTMENT_PLACE_ONLY, "meeting": MEETING_HAS_NO_PLACE}
#: the kinds that never carry a client code (victims are named on interviews and appointments)
WITHOUT_CLIENT_CODE = frozenset({"operation", "meeting"})


@dataclass
class EventDraft:
    """The values of an event, times in UTC, before and after ``validate_draft``."""

    kind: str
    subtype: str
    title: str
    owner_agency_id: int
    lead_id: int | None
    starts_at: datetime
    ends_at: datetime
    status: str = EventStatus.PLANNED.value
    sensitivity: str = "normal"
    case_id: int | None = None
    location_address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int | None = None
    client_code: str | None = None
    notes: str = ""
    resource_ids: list[int] = field(default_factory=list)
    #: (user id, part) pairs, the lead included; one person, one part
    participants: list[tuple[int, str]] = field(default_factory=list)
    #: an appointment's place: a known place, or words typed by victim services
    place_id: int | None = None
    place_text: str | None = None
    #: the appointment's place stays as stored (its editor may not see it)
    keep_place: bool = False
    #: the place lies outside the service area, and the scheduler says that is right
    outside_area_confirmed: bool = False
    #: the case the stored event is on: it may stay there once the case is closed
    stored_case_id: int | None = None
    #: whole office days: ``starts_at`` and ``ends_at`` are local midnights
    all_day: bool = False


class EventErrors(Exception):
    """The draft breaks rules: field name -> messages (participants as ``participants:<part>``).

    ``confirmable`` names the confirmations (``CONFIRM_OUTSIDE_AREA``) that would lift some of
    the errors: a form shows their checkboxes with the errors, the API lists them.
    """

    def __init__(
        self, errors: dict[str, list[str]], confirmable: frozenset[str] = frozenset()
    ) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors
        self.confirmable = confirmable


def participants_key(part: str) -> str:
    return f"{PARTICIPANTS}:{part}"


def validate_draft(draft: EventDraft, actor: User) -> EventDraft:
    """Check every rule; returns the draft to store, or raises ``EventErrors`` naming each field."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    _check_kind(draft, actor, fail)
    _check_times(draft, fail)
    _check_place(draft, fail)
    outside = _check_service_area(draft, fail)
    _check_appointment_place(draft, fail)
    _check_operation_bounds(draft, actor, fail)
    _check_people(draft, fail)
    _check_resources(draft, fail)
    _check_victims(draft, fail)
    _check_case(draft, fail)
    if errors:
        raise EventErrors(errors, frozenset({CONFIRM_OUTSIDE_AREA}) if outside else frozenset())
    return _completed(draft)


_Fail = Callable[[str, str], None]


def _check_kind(draft: EventDraft, actor: User, fail: _Fail) -> None:
    if draft.kind not in KIND_LABELS or not may_create(viewer_of(actor), draft.kind):
        fail("kind", "You may not schedule this kind of event.")
        return
    if subtype(draft.kind, draft.subtype) is None:
        fail("subtype", f"Choose a type of {KIND_LABELS[draft.kind].lower()}.")
    if draft.kind != "appointment" and not draft.title.strip():
        fail("title", "A title is required.")
    if len(draft.title) > TITLE_MAX:
        fail("title", f"At most {TITLE_MAX} characters.")
    if draft.status not in STATUS_LABELS:
        fail("status", "Not a valid status.")
    if draft.sensitivity not in SENSITIVITY_LABELS:
        fail("sensitivity", "Not a valid sensitivity.")
    elif draft.sensitivity == "covert" and draft.kind != "operation":
        fail("sensitivity", "Only operations can be covert.")
    if len(draft.notes) > NOTES_MAX:
        fail("notes", f"At most {NOTES_MAX:,} characters.")


def _check_times(draft: EventDraft, fail: _Fail) -> None:
    if draft.ends_at <= draft.starts_at:
        fail("ends_at", "Must be after the start.")
    elif _wall(draft.ends_at) - _wall(draft.starts_at) > MAX_EVENT_DURATION:
        fail("ends_at", f"An event may last at most {MAX_EVENT_DURATION.days} days.")
    if draft.all_day:
        for name in ("starts_at", "ends_at"):
            local = to_local(getattr(draft, name))
            if (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0):
                fail(name, "An all-day event starts and ends at midnight in the office.")


def _wall(moment: datetime) -> datetime:
    """The office's wall-clock reading of ``moment``: spans in days are counted on it, so that
    14 days across a change of the clocks are 14 days, not 14 days and an hour."""
    return to_local(moment).replace(tzinfo=None)


def _check_place(draft: EventDraft, fail: _Fail) -> None:
    lat, lon = draft.latitude, draft.longitude
    if lat is not None and not LATITUDE[0] <= lat <= LATITUDE[1]:
        fail("latitude", "Must be between -90 and 90.")
    if lon is not None and not LONGITUDE[0] <= lon <= LONGITUDE[1]:
        fail("longitude", "Must be between -180 and 180.")
    if (lat is None) != (lon is None):
        fail(
            "longitude" if lat is not None else "latitude", "Give latitude and longitude together."
        )
    if draft.radius_m is not None and not RADIUS_M[0] <= draft.radius_m <= RADIUS_M[1]:
        fail("radius_m", f"Must be between {RADIUS_M[0]} and {RADIUS_M[1]:,} m.")
    if len(draft.location_address or "") > ADDRESS_MAX:
        fail("location_address", f"At most {ADDRESS_MAX} characters.")
    refusal = UNPLACED_KINDS.get(draft.kind)
    if refusal is not None:
        # a victim-related place (a shelter, a client's home) is never an address or a point
        # that could be searched, mapped or deconflicted: only a known place or words; a
        # meeting is not a field operation, held in a room (or where its notes say)
        given = {
            "location_address": (draft.location_address or "").strip(),
            "latitude": lat,
            "longitude": lon,
            "radius_m": draft.radius_m,
        }
        for name in (name for name, value in given.items() if value not in (None, "")):
            fail(name, refusal)
    if draft.kind == "operation":
        if not (draft.location_address or "").strip():
            fail("location_address", "An operation needs the address where it happens.")
        if lat is None and lon is None:
            fail("latitude", "An operation needs coordinates for deconfliction.")
            fail("longitude", "An operation needs coordinates for deconfliction.")


def _check_service_area(draft: EventDraft, fail: _Fail) -> bool:
    """A place outside the office's service area (``JOINTOPS_SERVICE_AREA``) is saved only
    when confirmed: a slipped digit must not pass in silence. True when it needs confirming."""
    lat, lon = draft.latitude, draft.longitude
    if lat is None or lon is None or draft.outside_area_confirmed or draft.kind in UNPLACED_KINDS:
        return False
    if not (LATITUDE[0] <= lat <= LATITUDE[1] and LONGITUDE[0] <= lon <= LONGITUDE[1]):
        return False
    area = current_app.config["SERVICE_AREA"]
    if area.contains(lat, lon):
        return False
    message = (
        f"Outside the office’s service area (south {area.south:g}, west {area.west:g}, "
        f"north {area.north:g}, east {area.east:g}). Check the place; if it is right, "
        "confirm that it lies outside the service area."
    )
    fail("latitude", message)
    fail("longitude", message)
    return True


def _check_appointment_place(draft: EventDraft, fail: _Fail) -> None:
    """Only appointments name a place of this kind: a known place or typed words, not both."""
    text = (draft.place_text or "").strip()
    if draft.keep_place or (draft.place_id is None and not text):
        return
    if draft.kind != "appointment":
        fail("place_id", "Only appointments take a place from the known places.")
        return
    if draft.place_id is not None and text:
        fail("place_text", "Choose a known place or type one, not both.")
    if len(text) > PLACE_TEXT_MAX:
        fail("place_text", f"At most {PLACE_TEXT_MAX} characters.")
    if draft.place_id is not None:
        place = db.session.get(KnownPlace, draft.place_id)
        if place is None or not place.active:
            fail("place_id", "This place is not in use; choose another or type the place.")


def _check_operation_bounds(draft: EventDraft, actor: User, fail: _Fail) -> None:
    """An operation's area and time are bounded (a save, like a pre-check, answers only about
    a bounded place and window); a deconfliction officer may go wider."""
    if draft.kind != "operation" or DECONFLICTION_OFFICER in actor.roles:
        return
    config = current_app.config
    widest, longest = config["OPERATION_MAX_RADIUS_M"], config["OPERATION_MAX_HOURS"]
    if draft.radius_m is not None and draft.radius_m > widest:
        fail(
            "radius_m",
            f"At most {widest:,} m; a wider area needs a deconfliction officer.",
        )
    if draft.ends_at - draft.starts_at > timedelta(hours=longest):
        fail(
            "ends_at",
            f"An operation may last at most {longest} hours; a longer one needs a "
            "deconfliction officer.",
        )


def _check_people(draft: EventDraft, fail: _Fail) -> None:
    seen: dict[int, str] = {}
    for user_id, part in draft.participants:
        if part not in PARTS:
            fail(PARTICIPANTS, f"{part!r} is not a part in an event.")
            continue
        if part != "lead" and user_id in seen and seen[user_id] != "lead":
            fail(
                participants_key(part),
                f"{_name(user_id)} is already listed as {_plural(seen[user_id])}.",
            )
        seen.setdefault(user_id, part)
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(seen)))}
    for user_id, part in seen.items():
        person = people.get(user_id)
        if person is None or not person.active:
            fail(participants_key(part), f"User {user_id} is not an active account.")
        elif part != "lead" and not may_take_part(
            part, person.roles, person.agency.kind if person.agency else None
        ):
            fail(participants_key(part), f"{person.display_name} is not {_a(PARTS[part])}.")
    lead = people.get(draft.lead_id) if draft.lead_id is not None else None
    if draft.lead_id is not None and (lead is None or lead.agency_id != draft.owner_agency_id):
        fail("lead_id", "The lead must be someone of the event's agency.")


def _check_resources(draft: EventDraft, fail: _Fail) -> None:
    if not draft.resource_ids:
        return
    found = {
        r.id: r
        for r in db.session.scalars(select(Resource).where(Resource.id.in_(draft.resource_ids)))
    }
    rooms = 0
    for resource_id in draft.resource_ids:
        resource = found.get(resource_id)
        if resource is None or not resource.active:
            fail("resource_ids", f"Resource {resource_id} does not exist or is out of use.")
        elif resource.is_room:
            rooms += 1
    if rooms > 1:
        fail("room_id", "Book one room per event.")


def _check_victims(draft: EventDraft, fail: _Fail) -> None:
    code = draft.client_code
    if draft.kind == "interview" and draft.subtype in VICTIM_INTERVIEWS:
        if not _has_room(draft):
            fail("room_id", "A victim interview needs a room.")
        if not any(part == "advocate" for _, part in draft.participants):
            fail(participants_key("advocate"), "A victim interview needs an advocate.")
        if not code:
            fail("client_code", "A victim interview names the victim's client code.")
    if draft.kind == "appointment" and not code:
        fail("client_code", "An appointment names the client code, never a name.")
    if not code:
        return
    if draft.kind in WITHOUT_CLIENT_CODE:
        fail("client_code", f"{KIND_LABELS[draft.kind]}s do not carry a client code.")
    elif not re.fullmatch(current_app.config["CLIENT_CODE_PATTERN"], code):
        fail(
            "client_code",
            "Use the client code issued by victim services (for example VS-0142), never a name.",
        )


def _check_case(draft: EventDraft, fail: _Fail) -> None:
    if draft.case_id is None:
        return
    case = db.session.get(Case, draft.case_id)
    if case is None or case.agency_id != draft.owner_agency_id:
        fail("case_id", "Choose a case of the event's agency.")
    elif closed := case.refusal_of_new(draft.stored_case_id):
        fail("case_id", closed)


def _completed(draft: EventDraft) -> EventDraft:
    """The draft as stored: one part per person (the lead's first), derived values filled in."""
    participants: dict[int, str] = {}
    if draft.lead_id is not None:
        participants[draft.lead_id] = "lead"
    for user_id, part in draft.participants:
        participants.setdefault(user_id, part)
    title = draft.title.strip()
    if draft.kind == "appointment" and not title:
        title = f"{subtype_label(draft.kind, draft.subtype)} appointment"
    radius = draft.radius_m
    if draft.kind == "operation" and radius is None:
        radius = event_rules().radius_for(draft.subtype, None)
    return replace(
        draft,
        title=title,
        radius_m=radius,
        location_address=(draft.location_address or "").strip() or None,
        client_code=draft.client_code or None,
        notes=draft.notes.strip(),
        place_text=(draft.place_text or "").strip() or None,
        participants=sorted(participants.items()),
    )


def _has_room(draft: EventDraft) -> bool:
    if not draft.resource_ids:
        return False
    return bool(
        db.session.scalar(
            select(Resource.id).where(
                Resource.id.in_(draft.resource_ids),
                Resource.kind.in_([k.value for k in ResourceKind if k.is_room]),
            )
        )
    )


def _name(user_id: int) -> str:
    person = db.session.get(User, user_id)
    return person.display_name if person else f"User {user_id}"


def _a(label: str) -> str:
    word = label.lower()
    return ("an " if word[0] in "aeiou" else "a ") + word


def _plural(part: str) -> str:
    return PARTS[part].lower() + "s"
