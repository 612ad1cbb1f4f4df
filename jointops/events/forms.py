"""The event form: parses what was typed, shows each error next to its field."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateTimeField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import TextInput

from auth.policy import creatable_kinds, may_create, may_take_part
from jointops.catalog import (
    KIND_LABELS,
    SENSITIVITY_LABELS,
    STATUS_LABELS,
    SUBTYPES,
)
from jointops.events.rules import (
    CONFIRM_OUTSIDE_AREA,
    PARTICIPANTS,
    EventDraft,
    EventErrors,
    validate_draft,
)
from jointops.extensions import db
from jointops.forms import optional_int
from jointops.models import Case, Event, User
from jointops.officetime import (
    AmbiguousLocalTime,
    NonexistentLocalTime,
    TimeRefused,
    check_day,
    local_day_bounds,
    local_to_utc,
    to_local,
)
from jointops.places.known import choice_label, may_see_place, places_to_choose
from jointops.visibility import known_resources, viewer_of

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
#: how a time is shown and typed in the form: the 24-hour clock of the grid, whatever the
#: browser's language (a ``datetime-local`` input would show AM/PM in US English)
WALL_CLOCK_FORMAT = "%Y-%m-%d %H:%M"
#: a day alone, as an all-day event's first and last day are typed
DAY_FORMAT = "%Y-%m-%d"
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class WallClockField(DateTimeField):
    """A wall-clock time in the office, typed ``2026-12-02 14:30`` (a ``T`` is read too)."""

    widget = TextInput()
    #: what was typed is a day alone (read as its midnight): an all-day event's form wants one
    date_only = False
    #: shown as a day alone: the field of an all-day event
    shows_days = False

    def __init__(self, label: str, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {}).update(
            placeholder="YYYY-MM-DD HH:MM",
            pattern=r"\s*\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}\s*",
            title="Date and 24-hour time, for example 2026-12-02 14:30",
            autocomplete="off",
        )
        super().__init__(label, format=[WALL_CLOCK_FORMAT, LOCAL_FORMAT], **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            valuelist = [" ".join(str(v).split()) for v in valuelist]
        self.date_only = bool(valuelist) and DAY.fullmatch(valuelist[0]) is not None
        try:
            if self.date_only:
                self.data = datetime.strptime(valuelist[0], DAY_FORMAT)
                return
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(
                "Type the date and the 24-hour time, for example 2026-12-02 14:30."
            ) from None

    def _value(self) -> str:
        if self.shows_days and self.data is not None and not self.raw_data:
            return str(self.data.strftime(DAY_FORMAT))
        return str(super()._value())


def _fold_field(label: str) -> RadioField:
    """Which of the two readings of a time that happens twice (shown only when it does)."""
    return RadioField(label, choices={"0": "the first", "1": "the second"}, validators=[Optional()])


PART_FIELDS = {
    "investigators": "investigator",
    "advocates": "advocate",
    "interpreters": "interpreter",
    "prosecutors": "prosecutor",
    "forensic_interviewers": "forensic_interviewer",
}


def _part_field(label: str) -> SelectMultipleField:
    """The people in one part: ids of those who hold it (``auth.policy.may_take_part``)."""
    return SelectMultipleField(
        label,
        coerce=int,
        invalid_choice_message=(
            "Not a valid choice: '%(value)s'. Only people who hold this part may be chosen."
        ),
    )


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Reason for cancelling",
        validators=[DataRequired("Give a reason: it goes to the audit trail."), Length(max=500)],
    )


class EventForm(FlaskForm):
    kind = SelectField("Kind", validators=[InputRequired()])
    subtype = SelectField("Type", validators=[InputRequired()])
    title = StringField("Title", validators=[Optional()])
    starts_at = WallClockField("Starts", validators=[InputRequired()])
    ends_at = WallClockField("Ends", validators=[InputRequired()])
    all_day = BooleanField("All day")
    starts_at_fold = _fold_field("Which start?")
    ends_at_fold = _fold_field("Which end?")
    status = SelectField(
        "Status", choices={k: v for k, v in STATUS_LABELS.items() if k != "cancelled"}
    )
    sensitivity = SelectField("Sensitivity", choices=dict(SENSITIVITY_LABELS))
    case_id = SelectField("Case", coerce=optional_int, validators=[Optional()])
    location_address = StringField("Address", validators=[Optional()])
    latitude = FloatField("Latitude", validators=[Optional()])
    longitude = FloatField("Longitude", validators=[Optional()])
    radius_m = IntegerField("Radius (m)", validators=[Optional()])
    room_id = SelectField("Room", coerce=optional_int, validators=[Optional()])
    resource_ids = SelectMultipleField("Vehicles and equipment", coerce=int)
    lead_id = SelectField("Lead", coerce=optional_int, validators=[Optional()])
    investigators = _part_field("Investigators")
    advocates = _part_field("Advocates")
    interpreters = _part_field("Interpreters")
    prosecutors = _part_field("Prosecutors")
    forensic_interviewers = _part_field("Forensic interviewers")
    client_code = StringField(
        "Client code", validators=[Optional(), Length(max=32)], filters=[lambda v: v and v.strip()]
    )
    place_id = SelectField("Known place", coerce=optional_int, validators=[Optional()])
    place_text = StringField(
        "Or another place", validators=[Optional()], filters=[lambda v: v and v.strip()]
    )
    notes = TextAreaField("Notes", validators=[Optional()])
    confirm_warnings = BooleanField("I have read the warnings above and want to save anyway")
    confirm_outside_area = BooleanField(
        "The place is outside the service area, and that is right: save it anyway"
    )

    def __init__(self, actor: User, *args: Any, event: Event | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self._stored_case_id = event.case_id if event is not None else None
        self._utc: dict[str, datetime] = {}
        #: whether the appointment's place is shown (and so may be changed) in this form: to
        #: those who schedule appointments, and for a stored appointment to its participants
        self.shows_place = may_create(viewer_of(actor), "appointment") and (
            event is None or event.appointment_place is None or may_see_place(actor, event)
        )
        #: the confirmations that would lift an error shown (their checkboxes are shown too)
        self.confirmable: set[str] = set()
        #: the time fields whose time happens twice: their choice of reading is shown
        self.folds_offered: set[str] = set()
        #: the time fields whose time the clocks skip: the first time after, offered to take
        self.gaps_offered: dict[str, str] = {}
        self.starts_at.shows_days = self.ends_at.shows_days = bool(self.all_day.data)
        self._populate_choices(event)

    def _populate_choices(self, event: Event | None) -> None:
        viewer = viewer_of(self.actor)
        stored = event.appointment_place if event is not None and self.shows_place else None
        places = places_to_choose(self.actor, stored.known_place_id if stored else None)
        self.place_id.choices = {None: "— none —"} | {p.id: choice_label(p) for p in places}
        kinds = creatable_kinds(viewer)
        self.kind.choices = {k: KIND_LABELS[k] for k in kinds}
        #: covert, its hint and the pre-check are for operations: not offered to those who
        #: schedule none (an advocate's form shows what applies to appointments)
        self.offers_operations = "operation" in kinds
        if not self.offers_operations:
            self.sensitivity.choices = {
                k: v for k, v in SENSITIVITY_LABELS.items() if k != "covert"
            }
        self.subtype.choices = {
            KIND_LABELS[k]: {s.code: s.label for s in SUBTYPES[k]} for k in kinds
        }
        agency_id = self.actor.agency_id
        cases = db.session.scalars(
            select(Case).where(Case.agency_id == agency_id).order_by(Case.number)
        )
        self.case_id.choices = {None: "— none —"} | {c.id: c.label() for c in cases}
        #: an agency without cases (victim services) is not asked for one
        self.offers_case = len(self.case_id.choices) > 1
        resources = known_resources(self.actor)
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
        on_event = {(p.user_id, p.part) for p in event.participants} if event else set()
        for name, part in PART_FIELDS.items():
            # those who hold the part; someone already on the event in it stays listed, so that
            # an edit shows them and the rules say why they may no longer stay
            getattr(self, name).choices = {
                u.id: label(u)
                for u in users
                if (u.id, part) in on_event
                or may_take_part(part, u.roles, u.agency.kind if u.agency else None)
            }

    @property
    def offers_area_confirmation(self) -> bool:
        return CONFIRM_OUTSIDE_AREA in self.confirmable or bool(self.confirm_outside_area.data)

    @classmethod
    def for_event(cls, actor: User, event: Event, **kwargs: Any) -> EventForm:
        parts: dict[str, list[int]] = {name: [] for name in PART_FIELDS}
        for p in event.participants:
            for name, part in PART_FIELDS.items():
                if p.part == part:
                    parts[name].append(p.user_id)
        room = event.room
        # an all-day event shows its first and last day
        last = to_local(event.ends_at) - timedelta(days=1 if event.all_day else 0)
        data = {
            "kind": event.kind,
            "subtype": event.subtype,
            "title": event.title,
            "starts_at": to_local(event.starts_at).replace(tzinfo=None),
            "ends_at": last.replace(tzinfo=None),
            "all_day": event.all_day,
            # the repeated hour's second reading, kept when the event is saved again
            "starts_at_fold": str(to_local(event.starts_at).fold),
            "ends_at_fold": str(to_local(event.ends_at).fold),
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
        place = event.appointment_place
        if place is not None and may_see_place(actor, event):
            data |= {"place_id": place.known_place_id, "place_text": place.place_text}
        return cls(actor, data=data, event=event, **kwargs)

    def validate(self, extra_validators: Any = None) -> bool:
        """Parse every field, then ask the events service's rules (``validate_draft``)."""
        ok = super().validate(extra_validators)
        if self.all_day.data:
            self._read_days()
        for field in () if self.all_day.data else (self.starts_at, self.ends_at):
            if field.data is None or field.errors:
                continue
            if field.date_only:
                self._fail(
                    field,
                    "Type the 24-hour time too, for example 2026-12-02 14:30, or tick All day.",
                )
                continue
            fold = self[f"{field.name}_fold"]
            try:
                chosen = int(fold.data) if fold.data in ("0", "1") else None
                self._utc[field.name] = local_to_utc(field.data, fold=chosen)
            except NonexistentLocalTime as exc:
                self.gaps_offered[field.name] = f"{exc.after:%Y-%m-%d %H:%M}"
                self._fail(field, str(exc))
            except AmbiguousLocalTime as exc:
                fold.choices = {
                    "0": f"{exc.choices[0]} (the first)",
                    "1": f"{exc.choices[1]} (the second)",
                }
                self.folds_offered.add(field.name)
                self._fail(field, str(exc))
            except TimeRefused as exc:
                self._fail(field, str(exc))
        if not self.shows_place and self.place_text.data:
            self._fail(self.place_text, "You may not set an appointment’s place here.")
        if "starts_at" in self._utc and "ends_at" in self._utc:
            try:
                validate_draft(self.to_draft(), self.actor)
            except EventErrors as refused:
                self.refused_by(refused, only_where_parsed=True)
        return ok and not any(f.errors for f in self)

    def _read_days(self) -> None:
        """An all-day event's first and last day, inclusive, as the UTC instants of local
        midnight on the first and after the last. A time typed with a day is read by its day
        alone (ticking "All day" keeps what was typed)."""
        first, last = self.starts_at, self.ends_at
        for field in (first, last):
            if field.process_errors:
                field.errors = ["Type the day as YYYY-MM-DD, for example 2027-03-13."]
        if first.data is None or last.data is None or first.errors or last.errors:
            return
        first_day, last_day = first.data.date(), last.data.date()
        if last_day < first_day:
            self._fail(last, "The last day cannot be before the first.")
            return
        for field, day in ((first, first_day), (last, last_day)):
            try:
                check_day(day)
            except TimeRefused as exc:
                self._fail(field, str(exc))
        if first.errors or last.errors:
            return
        start, end = local_day_bounds(first_day, (last_day - first_day).days + 1)
        self._utc = {"starts_at": start, "ends_at": end}

    def refused_by(self, refused: EventErrors, *, only_where_parsed: bool = False) -> None:
        """Show the rules' errors, and offer the confirmations that would lift some of them."""
        self.confirmable |= refused.confirmable
        self.show_errors(refused.errors, only_where_parsed=only_where_parsed)

    def show_errors(self, errors: dict[str, list[str]], *, only_where_parsed: bool = False) -> None:
        """Put the service's errors next to their fields (skipping fields that failed to parse)."""
        for key, messages in errors.items():
            field = self._field_for(key)
            if only_where_parsed and field.errors:
                continue
            for message in messages:
                if message not in field.errors:
                    self._fail(field, message)

    def _field_for(self, key: str) -> Any:
        name, _, part = key.partition(":")
        if name == PARTICIPANTS:
            by_part = {p: f for f, p in PART_FIELDS.items()}
            return self[by_part.get(part, "investigators")] if part != "lead" else self.lead_id
        return self[key] if key in self else self.kind

    def _fail(self, field: Any, message: str) -> None:
        field.errors = [*field.errors, message]

    def to_draft(self) -> EventDraft:
        """What was typed, times in UTC; the events service validates and completes it."""
        actor = self.actor
        lead_id = self.lead_id.data or actor.id
        participants = [(lead_id, "lead")]
        for name, part in PART_FIELDS.items():
            participants += [(uid, part) for uid in getattr(self, name).data or []]
        resources = ([self.room_id.data] if self.room_id.data else []) + list(
            self.resource_ids.data or []
        )
        return EventDraft(
            kind=self.kind.data or "",
            subtype=self.subtype.data or "",
            # an appointment takes its title from its type: nothing typed can name a client
            title="" if self.kind.data == "appointment" else self.title.data or "",
            owner_agency_id=actor.agency_id,  # type: ignore[arg-type]
            lead_id=lead_id,
            starts_at=self._utc["starts_at"],
            ends_at=self._utc["ends_at"],
            status=self.status.data,
            sensitivity=self.sensitivity.data,
            case_id=self.case_id.data,
            location_address=self.location_address.data,
            latitude=self.latitude.data,
            longitude=self.longitude.data,
            radius_m=self.radius_m.data,
            client_code=self.client_code.data or None,
            notes=self.notes.data or "",
            resource_ids=resources,
            participants=participants,
            place_id=self.place_id.data if self.shows_place else None,
            place_text=(self.place_text.data or None) if self.shows_place else None,
            keep_place=not self.shows_place,
            outside_area_confirmed=bool(self.confirm_outside_area.data),
            stored_case_id=self._stored_case_id,
            all_day=bool(self.all_day.data),
        )
