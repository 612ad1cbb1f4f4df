"""The forms of the second-factor pages and of the security settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from jointops.identity.mfa.service import NAME_MAX


class SecondFactorForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired("Enter a code."), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false"},
    )


class TotpEnrolForm(FlaskForm):
    name = StringField("Name of this factor", validators=[Length(max=NAME_MAX)])
    code = StringField(
        "Code from the app",
        validators=[DataRequired("Enter the 6-digit code that the app shows."), Length(max=16)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class RenameForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired("Give a name."), Length(max=NAME_MAX)])
