"""The alert workflow's forms: acknowledge and resolve."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    SelectField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from jointops.catalog import (
    OUTCOME_LABELS,
)
from jointops.forms import CsrfOnlyForm


class AcknowledgeForm(CsrfOnlyForm):
    """Acknowledging needs no input."""


class ResolveForm(FlaskForm):
    outcome = SelectField("Outcome", validators=[Optional()])
    note = TextAreaField(
        "Note",
        validators=[
            DataRequired("Write a note: what was agreed, and with whom."),
            Length(max=2000),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome.choices = [("", "— choose an outcome —"), *OUTCOME_LABELS.items()]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.outcome.data:
            self.outcome.errors = [*self.outcome.errors, "Choose an outcome."]
        return ok and not any(f.errors for f in self)
