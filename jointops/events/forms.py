"""The event form: parses what was typed, shows each error next to its field."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from auth.policy import LAW_ENFORCEMENT_KINDS, creatable_kinds
from jointops.catalog import (
    KIND_LABELS,
    MAX_EVENT_DURATION,
    SENSITIVITY_LABELS,
    STATUS_LABELS,
    SUBTYPES,
    VICTIM_INTERVIEWS,
    subtype,
    subtype_label,
)
from jointops.events.service import EventDraft
from jointops.extensions import db
from jointops.forms import optional_int
from jointops.models import Case, Event, Resource, User
from jointops.officetime import NonexistentLocalTime, local_to_utc, to_local
from jointops.visibility import viewer_of

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


PART_FIELDS = {
    "investigators": "investigator",
    "advocates": "advocate",
    "interpreters": "interpreter",
    "prosecutors": "prosecutor",
    "forensic_interviewers": "forensic_interviewer",
}


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Reason for cancelling",
        validators=[DataRequired("Give a reason: it goes to the audit trail."), Length(max=500)],
    )


class EventForm(FlaskForm):
    kind = SelectField("Kind", validators=[InputRequired()])
    subtype = SelectField("Type", validators=[InputRequired()])
    title = StringField("Title", validators=[Optional(), Length(max=200)])
    starts_at = DateTimeLocalField("Starts", format=LOCAL_FORMAT, validators=[InputRequired()])
    ends_at = DateTimeLocalField("Ends", format=LOCAL_FORMAT, validators=[InputRequired()])
    status = SelectField(
        "Status", choices={k: v for k, v in STATUS_LABELS.items() if k != "cancelled"}
    )
    sensitivity = SelectField("Sensitivity", choices=dict(SENSITIVITY_LABELS))
    case_id = SelectField("Case", coerce=optional_int, validators=[Optional()])
    location_address = StringField("Address", validators=[Optional(), Length(max=300)])
    latitude = FloatField(
        "Latitude", validators=[Optional(), NumberRange(-90, 90, "Must be between -90 and 90.")]
    )
    longitude = FloatField(
        "Longitude",
        validators=[Optional(), NumberRange(-180, 180, "Must be between -180 and 180.")],
    )
    radius_m = IntegerField(
        "Radius (m)",
        validators=[Optional(), NumberRange(10, 50_000, "Must be between 10 and 50,000 m.")],
    )
    room_id = SelectField("Room", coerce=optional_int, validators=[Optional()])
    resource_ids = SelectMultipleField("Vehicles and equipment", coerce=int)
    lead_id = SelectField("Lead", coerce=optional_int, validators=[Optional()])
    investigators = SelectMultipleField("Investigators", coerce=int)
    advocates = SelectMultipleField("Advocates", coerce=int)
    interpreters = SelectMultipleField("Interpreters", coerce=int)
    prosecutors = SelectMultipleField("Prosecutors", coerce=int)
    forensic_interviewers = SelectMultipleField("Forensic interviewers", coerce=int)
    client_code = StringField(
        "Client code", validators=[Optional(), Length(max=32)], filters=[lambda v: v and v.strip()]
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])
    confirm_warnings = BooleanField("I have read the warnings above and want to save anyway")

    def __init__(self, actor: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self._utc: dict[str, datetime] = {}
        self._populate_choices()

    def _populate_choices(self) -> None:
        viewer = viewer_of(self.actor)
        kinds = creatable_kinds(viewer)
        self.kind.choices = {k: KIND_LABELS[k] for k in kinds}
        self.subtype.choices = {
            KIND_LABELS[k]: {s.code: s.label for s in SUBTYPES[k]} for k in kinds
        }
        agency_id = self.actor.agency_id
        cases = db.session.scalars(
            select(Case).where(Case.agency_id == agency_id).order_by(Case.number)
        )
        self.case_id.choices = {None: "— none —"} | {c.id: f"{c.number} {c.title}" for c in cases}
        resources = db.session.scalars(
            select(Resource)
            .where(Resource.active.is_(True))
            .where((Resource.agency_id.is_(None)) | (Resource.agency_id == agency_id))
            .order_by(Resource.name)
        ).all()
        self.room_id.choices = {None: "— no room —"} | {
            r.id: r.name for r in resources if r.is_room
        }
        self.resource_ids.choices = {r.id: r.name for r in resources if not r.is_room}
        users = db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.display_name)
        ).all()

        def label(u: User) -> str:
            return f"{u.display_name} ({u.agency.code if u.agency else '—'})"

        self.lead_id.choices = {None: "— me —"} | {
            u.id: label(u) for u in users if u.agency_id == agency_id
        }
        self.investigators.choices = {
            u.id: label(u)
            for u in users
            if "investigator" in u.roles
            or ("supervisor" in u.roles and u.agency and u.agency.kind in LAW_ENFORCEMENT_KINDS)
        }
        self.advocates.choices = {u.id: label(u) for u in users if "advocate" in u.roles}
        self.prosecutors.choices = {u.id: label(u) for u in users if "prosecutor" in u.roles}
        self.interpreters.choices = {u.id: label(u) for u in users}
        self.forensic_interviewers.choices = {u.id: label(u) for u in users}

    @classmethod
    def for_event(cls, actor: User, event: Event, **kwargs: Any) -> EventForm:
        parts: dict[str, list[int]] = {name: [] for name in PART_FIELDS}
        for p in event.participants:
            for name, part in PART_FIELDS.items():
                if p.part == part:
                    parts[name].append(p.user_id)
        room = event.room
        data = {
            "kind": event.kind,
            "subtype": event.subtype,
            "title": event.title,
            "starts_at": to_local(event.starts_at).replace(tzinfo=None),
            "ends_at": to_local(event.ends_at).replace(tzinfo=None),
            "status": event.status,
            "sensitivity": event.sensitivity,
            "case_id": event.case_id,
            "location_address": event.location_address,
            "latitude": event.latitude,
            "longitude": event.longitude,
            "radius_m": event.radius_m,
            "room_id": room.id if room else None,
            "resource_ids": [r.id for r in event.resources if not r.is_room],
            "lead_id": event.lead_id,
            "client_code": event.client_code,
            "notes": event.notes,
            **parts,
        }
        return cls(actor, data=data, **kwargs)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        rules = (
            self._check_subtype,
            self._check_times,
            self._check_location,
            self._check_victim_interview,
            self._check_appointment,
            self._check_client_code,
            self._check_people,
            self._check_sensitivity,
        )
        for rule in rules:
            rule()
        return ok and not any(f.errors for f in self)

    def _fail(self, field: Any, message: str) -> None:
        field.errors = [*field.errors, message]

    def _check_subtype(self) -> None:
        if self.kind.data and subtype(self.kind.data, self.subtype.data or "") is None:
            self._fail(
                self.subtype,
                f"Choose a type of {KIND_LABELS.get(self.kind.data, 'event').lower()}.",
            )
        if self.kind.data != "appointment" and not (self.title.data or "").strip():
            self._fail(self.title, "A title is required.")

    def _check_times(self) -> None:
        for field in (self.starts_at, self.ends_at):
            if field.data is None or field.errors:
                continue
            try:
                self._utc[field.name] = local_to_utc(field.data)
            except NonexistentLocalTime as exc:
                self._fail(field, str(exc))
        start, end = self._utc.get("starts_at"), self._utc.get("ends_at")
        if start and end:
            if end <= start:
                self._fail(self.ends_at, "Must be after the start.")
            elif end - start > MAX_EVENT_DURATION:
                self._fail(self.ends_at, "An event may last at most 14 days.")

    def _check_location(self) -> None:
        has_lat, has_lon = self.latitude.data is not None, self.longitude.data is not None
        if has_lat != has_lon:
            missing = self.longitude if has_lat else self.latitude
            self._fail(missing, "Give latitude and longitude together.")
        if self.kind.data == "operation":
            if not (self.location_address.data or "").strip():
                self._fail(
                    self.location_address, "An operation needs the address where it happens."
                )
            if not has_lat and not self.latitude.errors:
                self._fail(self.latitude, "An operation needs coordinates for deconfliction.")
            if not has_lon and not self.longitude.errors:
                self._fail(self.longitude, "An operation needs coordinates for deconfliction.")

    def _check_victim_interview(self) -> None:
        if self.kind.data != "interview" or self.subtype.data not in VICTIM_INTERVIEWS:
            return
        if not self.room_id.data:
            self._fail(self.room_id, "A victim interview needs a room.")
        if not self.advocates.data:
            self._fail(self.advocates, "A victim interview needs an advocate.")
        if not self.client_code.data:
            self._fail(self.client_code, "A victim interview names the victim's client code.")

    def _check_appointment(self) -> None:
        if self.kind.data == "appointment" and not self.client_code.data:
            self._fail(self.client_code, "An appointment names the client code, never a name.")

    def _check_client_code(self) -> None:
        code = self.client_code.data
        if not code:
            return
        if self.kind.data == "operation":
            self._fail(self.client_code, "Operations do not carry a client code.")
        elif not re.fullmatch(current_app.config["CLIENT_CODE_PATTERN"], code):
            self._fail(
                self.client_code,
                "Use the client code issued by victim services (for example VS-0142), "
                "never a name.",
            )

    def _check_people(self) -> None:
        seen: dict[int, str] = {}
        for name in PART_FIELDS:
            field = getattr(self, name)
            for uid in field.data or []:
                if uid in seen:
                    self._fail(field, f"{self._user_label(uid)} is already listed as {seen[uid]}.")
                seen[uid] = field.label.text.lower()

    def _check_sensitivity(self) -> None:
        if self.sensitivity.data == "covert" and self.kind.data != "operation":
            self._fail(self.sensitivity, "Only operations can be covert.")

    def _user_label(self, uid: int) -> str:
        user = db.session.get(User, uid)
        return user.display_name if user else f"User {uid}"

    def to_draft(self) -> EventDraft:
        """The validated values, times in UTC; call only after ``validate()``."""
        actor = self.actor
        lead_id = self.lead_id.data or actor.id
        participants = {lead_id: "lead"}
        for name, part in PART_FIELDS.items():
            for uid in getattr(self, name).data or []:
                participants.setdefault(uid, part)
        kind, code = self.kind.data, self.subtype.data
        found = subtype(kind, code)
        title = (self.title.data or "").strip()
        if kind == "appointment":
            title = f"{subtype_label(kind, code)} appointment"
        radius = self.radius_m.data or (found.radius_m if found and kind == "operation" else None)
        resources = ([self.room_id.data] if self.room_id.data else []) + list(
            self.resource_ids.data or []
        )
        return EventDraft(
            kind=kind,
            subtype=code,
            title=title,
            owner_agency_id=actor.agency_id,  # type: ignore[arg-type]
            lead_id=lead_id,
            starts_at=self._utc["starts_at"],
            ends_at=self._utc["ends_at"],
            status=self.status.data,
            sensitivity=self.sensitivity.data,
            case_id=self.case_id.data,
            location_address=(self.location_address.data or "").strip() or None,
            latitude=self.latitude.data,
            longitude=self.longitude.data,
            radius_m=radius,
            client_code=self.client_code.data or None,
            notes=(self.notes.data or "").strip(),
            resource_ids=resources,
            participants=sorted(participants.items()),
        )
