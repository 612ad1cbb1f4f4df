"""Need-to-know: who may see and change which events, in one place.

Every page, list, API answer and (later) feed asks these functions; none of
them decides visibility on its own. The rules follow DESIGN.md:

* an agency sees its own events, and every participant sees the events they
  take part in (someone who holds only a skill role, interpreter or forensic
  interviewer, sees just those);
* a covert operation is seen only by its agency's investigators and
  supervisors and by its participants;
* a victim-service appointment is seen only by the victim-service agency and
  its assigned staff;
* a meeting (case meeting, court date, training, briefing) keeps to these rules
  alone: its agency and the people on it, a busy block to those who share its room;
* everyone else sees at most a grey busy block, and only where the event holds
  a resource the viewer shares (a shared room, or one of their agency's).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

#: The roles the directory grants (``auth.directory.ROLES`` spells the same names).
INVESTIGATOR = "investigator"
PROSECUTOR = "prosecutor"
ADVOCATE = "advocate"
SUPERVISOR = "supervisor"
DECONFLICTION_OFFICER = "deconfliction_officer"
ADMIN = "admin"
INTERPRETER = "interpreter"
FORENSIC_INTERVIEWER = "forensic_interviewer"
#: Roles that say what someone can do on an event and grant nothing by themselves: an
#: interpreter or forensic interviewer sees the events they take part in, schedules nothing
#: and sees no targets or deconfliction hits, unless another role of theirs allows it.
SKILL_ROLES = frozenset({INTERPRETER, FORENSIC_INTERVIEWER})

LAW_ENFORCEMENT_KINDS = frozenset({"local", "state", "federal"})
#: Every kind of agency (``auth.directory.AGENCY_KINDS`` spells the same names).
AGENCY_KINDS = LAW_ENFORCEMENT_KINDS | {"prosecution", "victim_services"}
COVERT_ROLES = frozenset({INVESTIGATOR, SUPERVISOR})

#: Which roles may schedule each kind of event, and for which kinds of agency.
CREATE_RIGHTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "operation": (frozenset({INVESTIGATOR, SUPERVISOR}), LAW_ENFORCEMENT_KINDS),
    "interview": (
        frozenset({INVESTIGATOR, SUPERVISOR, PROSECUTOR}),
        LAW_ENFORCEMENT_KINDS | {"prosecution"},
    ),
    "appointment": (frozenset({ADVOCATE, SUPERVISOR}), frozenset({"victim_services"})),
    # the office's own meetings: every staff role but the administrator's, in every agency
    "meeting": (
        frozenset({INVESTIGATOR, SUPERVISOR, PROSECUTOR, ADVOCATE, DECONFLICTION_OFFICER}),
        AGENCY_KINDS,
    ),
}


def may_investigate(roles: Iterable[str], agency_kind: str | None) -> bool:
    """Who may take part in an event as an investigator: investigators, and the supervisors
    of law-enforcement agencies."""
    held = set(roles)
    return INVESTIGATOR in held or (SUPERVISOR in held and agency_kind in LAW_ENFORCEMENT_KINDS)


#: the parts of an event that a role of the same name fills (the lead is anyone of the agency)
PART_ROLES = {
    "advocate": ADVOCATE,
    "prosecutor": PROSECUTOR,
    "interpreter": INTERPRETER,
    "forensic_interviewer": FORENSIC_INTERVIEWER,
}


def may_take_part(part: str, roles: Iterable[str], agency_kind: str | None) -> bool:
    """Whether someone may be put on an event in ``part``: the part's role (an administrator is
    never an interpreter); investigators as ``may_investigate`` says. The lead is checked
    against the event's agency by the caller."""
    if part == "investigator":
        return may_investigate(roles, agency_kind)
    role = PART_ROLES.get(part)
    return role is not None and role in set(roles)


class Visibility(enum.IntEnum):
    NONE = 0
    BUSY = 1
    FULL = 2


@dataclass(frozen=True)
class Viewer:
    user_id: int
    agency_code: str | None
    agency_kind: str | None
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EventFacts:
    kind: str
    sensitivity: str
    owner_agency_code: str
    participant_ids: frozenset[int] = frozenset()
    lead_id: int | None = None
    #: the owning agency of each booked resource; ``None`` for a shared one
    resource_agencies: tuple[str | None, ...] = field(default_factory=tuple)
    cancelled: bool = False


def holds_staff_role(viewer: Viewer) -> bool:
    """Whether the viewer holds a role beyond the skill roles (``SKILL_ROLES``)."""
    return bool(viewer.roles - SKILL_ROLES)


def event_visibility(viewer: Viewer, event: EventFacts) -> Visibility:
    """How much of ``event`` the viewer may see."""
    if viewer.user_id in event.participant_ids or viewer.user_id == event.lead_id:
        return Visibility.FULL
    same_agency = viewer.agency_code is not None and viewer.agency_code == event.owner_agency_code
    if same_agency and holds_staff_role(viewer) and _agency_member_may_see(viewer, event):
        return Visibility.FULL
    if event.cancelled:
        return Visibility.NONE  # a cancelled event no longer holds anything
    if any(shares_resource(viewer, owner) for owner in event.resource_agencies):
        return Visibility.BUSY
    return Visibility.NONE


def shares_resource(viewer: Viewer, owner_agency_code: str | None) -> bool:
    """Whether the viewer may know of a resource and of what holds it (a busy block, a calendar
    filter): a shared one (no owning agency) or one of their own agency's."""
    return owner_agency_code is None or owner_agency_code == viewer.agency_code


def _agency_member_may_see(viewer: Viewer, event: EventFacts) -> bool:
    if event.kind == "operation" and event.sensitivity == "covert":
        return bool(viewer.roles & COVERT_ROLES)
    return True


def creatable_kinds(viewer: Viewer) -> list[str]:
    """The event kinds this viewer may schedule for their own agency."""
    return [kind for kind in CREATE_RIGHTS if may_create(viewer, kind)]


def may_create(viewer: Viewer, kind: str) -> bool:
    roles, agency_kinds = CREATE_RIGHTS.get(kind, (frozenset(), frozenset()))
    return bool(viewer.roles & roles) and viewer.agency_kind in agency_kinds


def may_see_appointment_place(viewer: Viewer, event: EventFacts) -> bool:
    """Where a victim-service appointment happens (a shelter, a clinic) is told to the people
    on it alone, its lead and participants; the rest of the agency sees the appointment."""
    return event.kind == "appointment" and (
        viewer.user_id in event.participant_ids or viewer.user_id == event.lead_id
    )


def may_edit(viewer: Viewer, event: EventFacts) -> bool:
    """The lead, or a member of the owning agency who may schedule this kind."""
    if event_visibility(viewer, event) is not Visibility.FULL:
        return False
    if viewer.user_id == event.lead_id:
        return True
    return viewer.agency_code == event.owner_agency_code and may_create(viewer, event.kind)


# --- targets and deconfliction alerts -------------------------------------------------
#
# Targets are criminal intelligence (28 CFR Part 23): an agency's targets are seen by
# that agency's law-enforcement and prosecution staff, never by advocates and never by a
# victim-service agency. An alert between two items is seen side by side: each party
# sees its own item and only a pointer to the other (agency, point of contact, why it
# matched). The deconfliction officer mediates and sees both sides; the caller audits
# every such view.

TARGET_AGENCY_KINDS = LAW_ENFORCEMENT_KINDS | {"prosecution"}
TARGET_EDITORS = frozenset({INVESTIGATOR, SUPERVISOR})


def may_see_targets(viewer: Viewer, agency_code: str | None) -> bool:
    """The agency's own staff, except advocates (who never see targets) and those who hold
    only a skill role."""
    return (
        agency_code is not None
        and viewer.agency_code == agency_code
        and viewer.agency_kind in TARGET_AGENCY_KINDS
        and ADVOCATE not in viewer.roles
        and holds_staff_role(viewer)
    )


def may_edit_targets(viewer: Viewer, agency_code: str | None) -> bool:
    """Investigators and supervisors enter and re-validate their agency's targets."""
    return may_see_targets(viewer, agency_code) and bool(viewer.roles & TARGET_EDITORS)


@dataclass(frozen=True)
class AlertParty:
    """One side of an alert: its agency and, for an operation, the event's facts."""

    item_type: str  # "event" | "target"
    agency_code: str
    event: EventFacts | None = None


def party_visible(viewer: Viewer, party: AlertParty) -> bool:
    """Whether the viewer sees this side's item by their own right (as its owners see it)."""
    if party.item_type == "target":
        return may_see_targets(viewer, party.agency_code)
    return party.event is not None and event_visibility(viewer, party.event) is Visibility.FULL


def sees_both_sides(viewer: Viewer) -> bool:
    """Deconfliction officers see both sides of every alert (each view audited by the caller)."""
    return DECONFLICTION_OFFICER in viewer.roles


def told_of_deconfliction(viewer: Viewer) -> bool:
    """Whether the viewer is told of deconfliction hits at all (notices, escalations).

    Advocates, victim-service staff and those who hold only a skill role (``SKILL_ROLES``)
    never are, even on an operation they take part in:
    they learn of their own events, never of the agencies and matches behind them (as they
    never see targets). The deconfliction officer always is."""
    if sees_both_sides(viewer):
        return True
    return (
        ADVOCATE not in viewer.roles
        and viewer.agency_kind != "victim_services"
        and holds_staff_role(viewer)
    )


def alert_sides(viewer: Viewer, a: AlertParty, b: AlertParty) -> tuple[bool, bool]:
    """Which sides of an alert the viewer sees in full; (False, False): not the alert at all
    (never for those who are not told of deconfliction, whatever events they see)."""
    if sees_both_sides(viewer):
        return True, True
    if not told_of_deconfliction(viewer):
        return False, False
    return party_visible(viewer, a), party_visible(viewer, b)


def told_of_alert_on(viewer: Viewer, party: AlertParty) -> bool:
    """Whether a marker on this item (say, a calendar block) may tell the viewer that an alert
    is raised on it: they see the item in full and would see the alert through it."""
    if not party_visible(viewer, party):
        return False
    return sees_both_sides(viewer) or told_of_deconfliction(viewer)


def may_acknowledge(viewer: Viewer, party: AlertParty) -> bool:
    """A side is acknowledged by someone of its own agency who sees its item."""
    return viewer.agency_code == party.agency_code and party_visible(viewer, party)


def may_resolve(viewer: Viewer, a: AlertParty, b: AlertParty) -> bool:
    """A deconfliction officer, or a supervisor of one of the two parties."""
    if sees_both_sides(viewer):
        return True
    return SUPERVISOR in viewer.roles and any(
        viewer.agency_code == p.agency_code and party_visible(viewer, p) for p in (a, b)
    )


# --- cases ------------------------------------------------------------------------------
#
# A case is an agency's investigation: its targets and operations hang from it. Those who
# enter the agency's targets (investigators and supervisors) open, change and close its
# cases; the rest of the agency's target readers (prosecutors) see the list.


def may_manage_cases(viewer: Viewer, agency_code: str | None) -> bool:
    """Investigators and supervisors of the agency open, change, close and reopen its cases."""
    return may_edit_targets(viewer, agency_code)


#: who may review the audit log (CJIS audit review): administrators, and the deconfliction
#: officers who mediate between agencies
AUDIT_REVIEW_ROLES = (ADMIN, DECONFLICTION_OFFICER)
