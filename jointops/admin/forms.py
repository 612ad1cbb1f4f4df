"""Administrators' forms; the agency rules live in ``identity.agencies``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from auth.directory import AGENCY_KINDS

AGENCY_KIND_LABELS = {
    "local": "Local law enforcement",
    "state": "State law enforcement",
    "federal": "Federal law enforcement",
    "prosecution": "Prosecution",
    "victim_services": "Victim services",
}


class AgencyForm(FlaskForm):
    code = StringField("Code", filters=[lambda v: v and v.strip()])
    name = StringField("Name", filters=[lambda v: v and v.strip()])
    kind = SelectField(
        "Kind",
        choices={"": "— choose —"} | {k: AGENCY_KIND_LABELS[k] for k in AGENCY_KINDS},
        validate_choice=False,
    )
