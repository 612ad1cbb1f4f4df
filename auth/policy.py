"""Need-to-know: who may see and change which events, in one place.

Every page, list, API answer and (later) feed asks these functions; none of
them decides visibility on its own. The rules follow DESIGN.md:

* an agency sees its own events, and every participant sees the events they
  take part in;
* a covert operation is seen only by its agency's investigators and
  supervisors and by its participants;
* a victim-service appointment is seen only by the victim-service agency and
  its assigned staff;
* everyone else sees at most a grey busy block, and only where the event holds
  a resource the viewer shares (a shared room, or one of their agency's).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

LAW_ENFORCEMENT_KINDS = frozenset({"local", "state", "federal"})
COVERT_ROLES = frozenset({"investigator", "supervisor"})

#: Which roles may schedule each kind of event, and for which kinds of agency.
CREATE_RIGHTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "operation": (frozenset({"investigator", "supervisor"}), LAW_ENFORCEMENT_KINDS),
    "interview": (
        frozenset({"investigator", "supervisor", "prosecutor"}),
        LAW_ENFORCEMENT_KINDS | {"prosecution"},
    ),
    "appointment": (frozenset({"advocate", "supervisor"}), frozenset({"victim_services"})),
}


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


def event_visibility(viewer: Viewer, event: EventFacts) -> Visibility:
    """How much of ``event`` the viewer may see."""
    if viewer.user_id in event.participant_ids or viewer.user_id == event.lead_id:
        return Visibility.FULL
    same_agency = viewer.agency_code is not None and viewer.agency_code == event.owner_agency_code
    if same_agency and _agency_member_may_see(viewer, event):
        return Visibility.FULL
    if event.cancelled:
        return Visibility.NONE  # a cancelled event no longer holds anything
    if any(owner is None or owner == viewer.agency_code for owner in event.resource_agencies):
        return Visibility.BUSY
    return Visibility.NONE


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


def may_edit(viewer: Viewer, event: EventFacts) -> bool:
    """The lead, or a member of the owning agency who may schedule this kind."""
    if event_visibility(viewer, event) is not Visibility.FULL:
        return False
    if viewer.user_id == event.lead_id:
        return True
    return viewer.agency_code == event.owner_agency_code and may_create(viewer, event.kind)
