"""Target, case and re-validation forms; the target rules live in ``targets.service``."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from jointops.forms import DayField, optional_int
from jointops.models import Case, Target, User
from jointops.targets.service import (
    IDENTIFIER_FIELDS,
    TargetDraft,
    TargetErrors,
    agency_cases,
    draft_from_values,
)


def _identifier_field(label: str, example: str) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=10_000)], description=example)


class TargetForm(FlaskForm):
    """A target and its identifiers; values one per line (or separated by ``;``)."""

    case_id = SelectField(
        "Case",
        coerce=optional_int,
        validators=[InputRequired("Choose the case this target belongs to.")],
    )
    target_ref = StringField(
        "Target reference",
        validators=[DataRequired("A reference is required."), Length(max=64)],
        filters=[lambda v: v and v.strip()],
    )
    first_name = StringField("First name", validators=[Optional(), Length(max=100)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=100)])
    aliases = TextAreaField("Aliases and nicknames", validators=[Optional(), Length(max=3000)])
    dob = DayField("Date of birth", validators=[Optional()], example="1990-04-12")
    phones = _identifier_field("Phones", "(561) 555-0134")
    emails = _identifier_field("E-mail addresses", "name@example.com")
    plates = _identifier_field("Plates", "FL ABC123 or ABC-123 (Florida): the state is needed")
    vins = _identifier_field("VINs", "17 characters")
    addresses = _identifier_field("Addresses", "4700 Okeechobee Blvd, West Palm Beach, FL 33409")
    handles = _identifier_field("Online handles", "IG @name, @name on TikTok, or a profile link")
    businesses = _identifier_field("Businesses", "Sunrise Spa LLC")
    justification = TextAreaField(
        "Justification (reasonable suspicion)",
        validators=[
            DataRequired(
                "State the reasonable suspicion of criminal activity (28 CFR 23.20): "
                "it is required."
            ),
            Length(max=5000),
        ],
    )

    def __init__(self, actor: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case_id.choices = [(None, "— choose a case —")] + [
            (c.id, c.label()) for c in agency_cases(actor.agency_id)
        ]
        self._draft: TargetDraft | None = None
        self._warnings: dict[str, list[str]] = {}

    @classmethod
    def for_target(cls, actor: User, target: Target) -> TargetForm:
        by_kind: dict[str, list[str]] = {}
        for i in target.identifiers:
            by_kind.setdefault(i.kind, []).append(i.raw)
        data = {
            "case_id": target.case_id,
            "target_ref": target.ref,
            "first_name": target.first_name,
            "last_name": target.last_name,
            "aliases": "\n".join(target.aliases or []),
            "dob": target.dob,
            "justification": target.justification,
        } | {name: "\n".join(by_kind.get(kind, [])) for name, kind in IDENTIFIER_FIELDS.items()}
        return cls(actor, data=data)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.case_id.data is None and not self.case_id.errors:
            self.case_id.errors = [*self.case_id.errors, "Choose the case this target belongs to."]
        try:
            self._draft = draft_from_values(
                case_id=self.case_id.data or 0,
                ref=self.target_ref.data or "",
                first_name=self.first_name.data or "",
                last_name=self.last_name.data or "",
                aliases=self.aliases.data or "",
                dob=self.dob.data,
                justification=self.justification.data or "",
                identifiers={name: getattr(self, name).data or "" for name in IDENTIFIER_FIELDS},
            )
        except TargetErrors as refused:
            self._warnings = refused.warnings
            for name, messages in refused.errors.items():
                field = self[name] if name in self else self.target_ref
                for message in messages:
                    if message not in field.errors:
                        field.errors = [*field.errors, message]
        else:
            self._warnings = self._draft.warnings
        return ok and not any(f.errors for f in self)

    def warning_messages(self) -> list[str]:
        """Doubts about values that are stored all the same (a VIN whose check digit does not
        match), each with its field's label; known once ``validate()`` ran."""
        return [
            f"{self[name].label.text if name in self else name}: {message}"
            for name, messages in self._warnings.items()
            for message in messages
        ]

    def to_draft(self) -> TargetDraft:
        """The checked and normalised values; call only after ``validate()`` succeeded."""
        if self._draft is None:
            raise RuntimeError("validate() first")
        return self._draft


class CaseForm(FlaskForm):
    """A case's number and title; ``targets.service.check_case_values`` says what is refused."""

    number = StringField("Case number", filters=[lambda v: v and v.strip()])
    title = StringField("Title", filters=[lambda v: v and v.strip()])

    @classmethod
    def for_case(cls, case: Case) -> CaseForm:
        return cls(data={"number": case.number, "title": case.title})

    def show_errors(self, refused: TargetErrors) -> None:
        for name, messages in refused.errors.items():
            field = self[name] if name in self else self.number
            field.errors = [*field.errors, *messages]


class RevalidateForm(FlaskForm):
    reason = TextAreaField(
        "Reason for re-validating",
        validators=[
            DataRequired("Give the reason the target is still justified: it is kept on record."),
            Length(min=10, max=2000, message="Between 10 and 2,000 characters."),
        ],
    )
