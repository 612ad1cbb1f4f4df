"""The sign-in form, and the form that makes a personal API token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    PasswordField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired


class LoginForm(FlaskForm):
    # lengths are the sign-in service's rule (signin.USERNAME_MAX), for the form and the API
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class ApiTokenForm(FlaskForm):
    label = StringField(
        "Label", validators=[DataRequired("Say what the token is for, such as “Nightly import”.")]
    )
    expires_days = IntegerField(
        "Expires after (days)", validators=[InputRequired("Give a number of days.")]
    )
