"""The office's vocabulary: event kinds, subtypes, participant parts.

Labels live here so that forms, pages and the API say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Subtype:
    """A type of event; an operation's default radius is the deconfliction rules' (deconflict)."""

    code: str
    label: str


SUBTYPES: dict[str, tuple[Subtype, ...]] = {
    "operation": (
        Subtype("search_warrant", "Search warrant"),
        Subtype("undercover_meet", "Undercover meet"),
        Subtype("surveillance", "Surveillance"),
        Subtype("arrest", "Arrest"),
        Subtype("victim_recovery", "Victim recovery"),
    ),
    "interview": (
        Subtype("forensic_interview", "Forensic interview (victim)"),
        Subtype("victim_interview", "Victim interview"),
        Subtype("witness_interview", "Witness interview"),
        Subtype("suspect_interview", "Suspect interview"),
    ),
    "appointment": (
        Subtype("medical", "Medical"),
        Subtype("counselling", "Counselling"),
        Subtype("housing", "Housing"),
        Subtype("legal", "Legal"),
        Subtype("court_accompaniment", "Court accompaniment"),
    ),
    # the office's own meetings, not field operations (``events.rules`` says what they refuse)
    "meeting": (
        Subtype("case_meeting", "Case meeting"),
        Subtype("court_date", "Court date"),
        Subtype("training", "Training"),
        Subtype("briefing", "Briefing"),
    ),
}

#: The longest an event may last: the events service refuses longer, and deconfliction's and
#: the feeds' index ranges rely on it.
MAX_EVENT_DURATION = timedelta(days=14)

KIND_LABELS = {
    "operation": "Operation",
    "interview": "Interview",
    "appointment": "Appointment",
    "meeting": "Meeting",
}
#: The short tag beside each kind's colour on the calendar (never colour alone).
KIND_TAGS = {"operation": "OP", "interview": "INT", "appointment": "APPT", "meeting": "MTG"}

#: Interviews of a victim: they need a room, an advocate and a client code.
VICTIM_INTERVIEWS = frozenset({"forensic_interview", "victim_interview"})

PARTS: dict[str, str] = {
    "lead": "Lead",
    "investigator": "Investigator",
    "advocate": "Advocate",
    "interpreter": "Interpreter",
    "prosecutor": "Prosecutor",
    "forensic_interviewer": "Forensic interviewer",
}

STATUS_LABELS = {
    "planned": "Planned",
    "confirmed": "Confirmed",
    "completed": "Completed",
    "cancelled": "Cancelled",
}

SENSITIVITY_LABELS = {"normal": "Normal", "restricted": "Restricted", "covert": "Covert"}

ROLE_LABELS = {
    "investigator": "Investigator",
    "prosecutor": "Prosecutor",
    "advocate": "Victim advocate",
    "supervisor": "Supervisor",
    "deconfliction_officer": "Deconfliction officer",
    "admin": "Administrator",
    "interpreter": "Interpreter",
    "forensic_interviewer": "Forensic interviewer",
}


def subtype(kind: str, code: str) -> Subtype | None:
    return next((s for s in SUBTYPES.get(kind, ()) if s.code == code), None)


def subtype_label(kind: str, code: str) -> str:
    found = subtype(kind, code)
    return found.label if found else code.replace("_", " ").capitalize()


# --- targets and deconfliction alerts ----------------------------------------------------

IDENTIFIER_LABELS = {
    "phone": "Phone",
    "email": "E-mail",
    "plate": "Plate",
    "vin": "VIN",
    "address": "Address",
    "handle": "Handle",
    "business": "Business",
}

ALERT_KIND_LABELS = {"event": "Operation", "target": "Target"}

ALERT_STATUS_LABELS = {
    "open": "Open",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "closed": "Closed",
}

STRENGTH_LABELS = {"exact": "Exact", "probable": "Probable", "possible": "Possible"}
#: For sorting: the surest first.
STRENGTH_RANK = {"exact": 0, "probable": 1, "possible": 2}

OUTCOME_LABELS = {
    "proceed": "Proceed as planned",
    "joint_operation": "Joint operation",
    "postponed": "Postponed",
    "cancelled": "Cancelled",
    "no_conflict": "No conflict",
}


# --- places --------------------------------------------------------------------------------

#: Known places of appointments (``models.KnownPlaceKind``)
PLACE_KIND_LABELS = {
    "courthouse": "Courthouse",
    "clinic": "Clinic",
    "hospital": "Hospital",
    "housing_office": "Housing office",
    "shelter": "Shelter",
    "advocacy_center": "Advocacy center",
    "other": "Other",
}

#: How good a geocoded position is: the building itself, a point interpolated along a street's
#: range of house numbers, or the middle of a street, area or town
QUALITY_LABELS = {
    "rooftop": "Rooftop",
    "interpolated": "Interpolated along the street",
    "centroid": "Centre of a street or area",
}
