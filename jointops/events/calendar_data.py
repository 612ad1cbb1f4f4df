"""What the calendar page reads: one query for each kind of thing it shows.

The agencies come first, so that every agency the page then needs (an event's
owner, a resource's, the viewer's) is found in the session without a query of its
own. The window's events come in one query with their bookings, participants,
whether each still awaits its deconfliction check and whether an alert on it is
still open. Need-to-know is not decided here: every event goes through
``auth.policy`` by way of ``jointops.visibility``, as it does everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload, lazyload, load_only

from auth.policy import AlertParty, Viewer, Visibility, event_visibility, told_of_alert_on
from jointops.alerts.items import ACTIVE
from jointops.extensions import db
from jointops.models import Agency, Alert, Case, Event, Participant, PendingCheck, Resource, User
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
    """A seen event, whether it was saved but is not yet deconflicted, and whether it has an
    alert not yet resolved that this viewer may know of (never on a busy block)."""

    unchecked: bool = False
    open_alert: bool = False


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
#: an alert on the event that is open or acknowledged (served by the alerts' item indexes)
ALERTED = exists().where(
    Alert.status.in_(ACTIVE),
    or_(
        and_(Alert.item_a_type == "event", Alert.item_a_id == Event.id),
        and_(Alert.item_b_type == "event", Alert.item_b_id == Event.id),
    ),
)


def _window_query(
    *also: InstrumentedAttribute[Any], case: bool = False
) -> Select[Event, bool, bool]:
    return (
        select(
            Event,
            exists().where(PendingCheck.item_type == "event", PendingCheck.item_id == Event.id),
            ALERTED,
        )
        .where(Event.starts_at < bindparam("end"), Event.ends_at > bindparam("start"))
        .options(
            # what the policy, the filters and the blocks read (and, for the search, what it
            # matches); anything else would be a query per event, so it raises instead
            load_only(
                Event.kind,
                Event.title,
                Event.owner_agency_id,
                Event.lead_id,
                Event.starts_at,
                Event.ends_at,
                Event.status,
                Event.sensitivity,
                *also,
                raiseload=True,
            ),
            joinedload(Event.bookings),
            joinedload(Event.participants).options(lazyload(Participant.user)),
            *([joinedload(Event.case).load_only(Case.number, Case.title)] if case else []),
        )
        .order_by(Event.starts_at, Event.id)
    )


WINDOW = _window_query()
#: the window with what the calendar's search reads too (``calendar_search.searched_text``)
SEARCH_WINDOW = _window_query(
    Event.subtype, Event.case_id, Event.client_code, Event.notes, case=True
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


def window(
    choices: Choices, start: datetime, end: datetime, *, query: Select[Event, bool, bool] = WINDOW
) -> list[Shown]:
    """Every event overlapping ``[start, end)`` that the viewer of ``choices`` may see, busy
    blocks included (``query``: :data:`WINDOW` or :data:`SEARCH_WINDOW`).

    ``choices`` holds the agencies loaded: while it is held, each event's and resource's
    agency is found in the session (which keeps only what is referenced) without a query.
    Participants are loaded without their accounts: the policy and the filters need only
    their ids.
    """
    rows = db.session.execute(query, {"start": start, "end": end}).unique().all()
    shown = [
        _shown(choices.viewer, event, bool(pending), bool(alerted))
        for event, pending, alerted in rows
    ]
    return [s for s in shown if s.visibility is not Visibility.NONE]


def _shown(viewer: Viewer, event: Event, pending: bool, alerted: bool) -> Shown:
    facts = facts_of(event)
    seen = event_visibility(viewer, facts)
    told = (
        alerted
        and seen is Visibility.FULL
        and told_of_alert_on(viewer, AlertParty("event", facts.owner_agency_code, facts))
    )
    return Shown(event, seen, unchecked=pending, open_alert=told)
