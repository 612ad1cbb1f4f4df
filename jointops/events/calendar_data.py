"""What the calendar page reads: one query for each kind of thing it shows.

The agencies come first, so that every agency the page then needs (an event's
owner, a resource's, the viewer's) is found in the session without a query of its
own. The window's events come in one query with their bookings, participants and
whether each still awaits its deconfliction check. Need-to-know is not decided
here: every event goes through ``auth.policy`` by way of ``jointops.visibility``,
as it does everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import joinedload, lazyload, load_only

from auth.policy import Viewer, Visibility, event_visibility
from jointops.extensions import db
from jointops.models import Agency, Event, Participant, PendingCheck, Resource, User
from jointops.visibility import Seen, facts_of, resources_known_to, viewer_of


@dataclass(frozen=True)
class Person:
    """Someone the person filter offers."""

    id: int
    name: str
    agency_code: str | None


@dataclass(frozen=True)
class Choices:
    """What the filters offer: every agency, the resources the viewer may know of, the people;
    and the viewer as the policy knows them, worked out once for the page."""

    viewer: Viewer
    agencies: list[Agency]
    rooms: list[Resource]
    people: list[Person]


@dataclass(frozen=True)
class Shown(Seen):
    """A seen event, and whether it was saved but is not yet deconflicted."""

    unchecked: bool = False


# Built once: the page runs them on every request, and building a statement costs about as
# much as running one of these small queries.
AGENCIES = select(Agency).order_by(Agency.code)
PEOPLE = (
    select(User.id, User.display_name, Agency.code)
    .outerjoin(Agency, User.agency_id == Agency.id)
    .where(User.active.is_(True))
    .order_by(User.display_name)
)
RESOURCES = select(Resource).where(Resource.active.is_(True)).order_by(Resource.name)
WINDOW = (
    select(
        Event,
        exists().where(PendingCheck.item_type == "event", PendingCheck.item_id == Event.id),
    )
    .where(Event.starts_at < bindparam("end"), Event.ends_at > bindparam("start"))
    .options(
        # what the policy, the filters and the blocks read; anything else would be a query
        # per event, so it raises instead (notes, places and client codes are never shown here)
        load_only(
            Event.kind,
            Event.title,
            Event.owner_agency_id,
            Event.lead_id,
            Event.starts_at,
            Event.ends_at,
            Event.status,
            Event.sensitivity,
            raiseload=True,
        ),
        joinedload(Event.bookings),
        joinedload(Event.participants).options(lazyload(Participant.user)),
    )
    .order_by(Event.starts_at, Event.id)
)


def filter_choices(user: User) -> Choices:
    """The filters' choices, which :func:`window` then takes.

    The people are read as names and agency codes only: their roles, which loading the
    accounts would fetch too, are not shown.
    """
    agencies = list(db.session.scalars(AGENCIES))
    people = [
        Person(id=row.id, name=row.display_name, agency_code=row.code)
        for row in db.session.execute(PEOPLE)
    ]
    viewer = viewer_of(user)
    return Choices(
        viewer=viewer,
        agencies=agencies,
        rooms=resources_known_to(viewer, db.session.scalars(RESOURCES)),
        people=people,
    )


def window(choices: Choices, start: datetime, end: datetime) -> list[Shown]:
    """Every event overlapping ``[start, end)`` that the viewer of ``choices`` may see, busy
    blocks included.

    ``choices`` holds the agencies loaded: while it is held, each event's and resource's
    agency is found in the session (which keeps only what is referenced) without a query.
    Participants are loaded without their accounts: the policy and the filters need only
    their ids.
    """
    rows = db.session.execute(WINDOW, {"start": start, "end": end}).unique().all()
    shown = [
        Shown(event, event_visibility(choices.viewer, facts_of(event)), unchecked=bool(pending))
        for event, pending in rows
    ]
    return [s for s in shown if s.visibility is not Visibility.NONE]
