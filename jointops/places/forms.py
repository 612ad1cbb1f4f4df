"""The known-place form: parses what an administrator typed, shows each error at its field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import InputRequired, Optional

from jointops.catalog import PLACE_KIND_LABELS
from jointops.places.known import KnownPlaceDraft


class KnownPlaceForm(FlaskForm):
    name = StringField("Name", validators=[Optional()])
    address = StringField("Address", validators=[Optional()])
    kind = SelectField("Kind", choices=dict(PLACE_KIND_LABELS), validators=[InputRequired()])
    confidential = BooleanField("Confidential (a shelter, a safe house): shown marked as such")
    active = BooleanField("In use: appointments may choose it", default=True)

    def to_draft(self) -> KnownPlaceDraft:
        return KnownPlaceDraft(
            name=self.name.data or "",
            address=self.address.data or "",
            kind=self.kind.data or "",
            confidential=bool(self.confidential.data),
            active=bool(self.active.data),
        )

    def show_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            field = self[name]
            field.errors = [*field.errors, *messages]
