"""The review list: the alerts a viewer may see, filtered, sorted and paged; views audited."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, union, update
from sqlalchemy.orm import selectinload

from auth.policy import (
    EventFacts,
    Viewer,
    Visibility,
    event_visibility,
    may_see_targets,
    sees_both_sides,
    told_of_deconfliction,
)
from jointops import audit
from jointops.alerts.items import ACTIVE, Item, load_items
from jointops.alerts.pointer import AlertView, supervisors_of, view_alert
from jointops.catalog import (
    STRENGTH_RANK,
)
from jointops.extensions import db
from jointops.models import (
    Agency,
    Alert,
    AlertStatus,
    Event,
    EventKind,
    Notification,
    Participant,
    Sensitivity,
    User,
    utcnow,
)
from jointops.transactions import unit_of_work
from jointops.visibility import viewer_of


@dataclass(frozen=True)
class AlertFilters:
    status: str = "active"
    kind: str | None = None
    strength: str | None = None
    agency: str | None = None
    sort: str = "urgency"
    page: int = 1

    def args(self) -> dict[str, str]:
        """The filters as query arguments, without the page (a new filter starts at page 1)."""
        return {k: v for k, v in vars(self).items() if v and k != "page"}


#: Alerts on one page of the review list.
PER_PAGE = 50


@dataclass(frozen=True)
class AlertList:
    views: list[AlertView]  # this page's
    #: how many of the alerts the viewer may see (other filters applied) are in each status
    counts: dict[str, int]
    total: int = 0  # of the alerts these filters select, on every page
    page: int = 1
    pages: int = 1

    @property
    def first(self) -> int:
        """The position of this page's first alert among all (1-based; 0 when none)."""
        return (self.page - 1) * PER_PAGE + 1 if self.views else 0


def _visible_condition(user: User, viewer: Viewer) -> ColumnElement[bool] | None:
    """``auth.policy.alert_sides`` as a SQL condition on alerts: one side or the other seen in
    full by the viewer's own right (``None``: every alert, the deconfliction officer's).

    It selects exactly the alerts the policy shows, so that a page is filled and counted in the
    database; the policy still decides on each row of the page.
    """
    if sees_both_sides(viewer):
        return None
    if not told_of_deconfliction(viewer):
        return false()
    # each a query an index serves: participants by user, events by lead, by agency; read
    # once (a common table expression) for both sides
    seen: list[Select[Any]] = [
        select(Participant.event_id.label("id")).where(Participant.user_id == user.id),
        select(Event.id).where(Event.lead_id == user.id),
    ]
    agency_id = user.agency_id
    if agency_id is not None and viewer.agency_code is not None:
        kinds = _kinds_shown_to_members(viewer, viewer.agency_code)
        agency_events = select(Event.id).where(Event.owner_agency_id == agency_id)
        if len(kinds) < len(EventKind) * len(Sensitivity):
            agency_events = agency_events.where(
                or_(*(and_(Event.kind == k, Event.sensitivity == s) for k, s in kinds))
            )
        if kinds:
            seen.append(agency_events)
    seen_events = select(union(*seen).cte("seen_events").c.id)
    sides = [
        and_(Alert.item_a_type == "event", Alert.item_a_id.in_(seen_events)),
        and_(Alert.item_b_type == "event", Alert.item_b_id.in_(seen_events)),
    ]
    if agency_id is not None and may_see_targets(viewer, viewer.agency_code):
        sides += [
            and_(Alert.item_a_type == "target", Alert.agency_a_id == agency_id),
            and_(Alert.item_b_type == "target", Alert.agency_b_id == agency_id),
        ]
    return or_(*sides)


def _kinds_shown_to_members(viewer: Viewer, agency_code: str) -> list[tuple[str, str]]:
    """The (kind, sensitivity) of their agency's events that the policy shows this viewer in
    full for being of the agency (asked of ``event_visibility``, not decided here)."""
    return [
        (kind.value, sensitivity.value)
        for kind in EventKind
        for sensitivity in Sensitivity
        if event_visibility(
            viewer, EventFacts(kind=kind, sensitivity=sensitivity, owner_agency_code=agency_code)
        )
        is Visibility.FULL
    ]


def _statuses(status: str) -> tuple[str, ...]:
    if status == "active":
        return ACTIVE
    if status == "all":
        return tuple(s.value for s in AlertStatus)
    return (status,)


def _order(sort: str) -> list[Any]:
    """The sort in SQL, the alert's id last so that every page is stable."""
    rank = case(STRENGTH_RANK, value=Alert.strength, else_=9)
    if sort == "waiting":
        return [Alert.raised_at, Alert.id]
    if sort == "strength":
        return [rank, Alert.score.desc(), Alert.id]
    # urgency (``AlertView.urgency``): the soonest operation first, then the strongest
    return [
        Alert.starts_at.is_(None),
        func.coalesce(Alert.starts_at, Alert.raised_at),
        rank,
        Alert.score.desc(),
        Alert.raised_at,
        Alert.id,
    ]


def list_alerts(user: User, filters: AlertFilters) -> AlertList:
    """The alerts ``user`` may see, filtered and sorted (urgency: soonest operation first),
    one page of them: filtered, counted, ordered and cut in the database."""
    viewer = viewer_of(user)
    where: list[ColumnElement[bool]] = []
    visible = _visible_condition(user, viewer)
    if visible is not None:
        where.append(visible)
    if filters.kind:
        where.append(Alert.kind == filters.kind)
    if filters.strength:
        where.append(Alert.strength == filters.strength)
    if filters.agency:
        agency_id = db.session.scalar(select(Agency.id).where(Agency.code == filters.agency))
        where.append(or_(Alert.agency_a_id == agency_id, Alert.agency_b_id == agency_id))
    counts = {status.value: 0 for status in AlertStatus}
    counted = db.session.execute(
        select(Alert.status, func.count()).where(*where).group_by(Alert.status)
    )
    counts.update({status: number for status, number in counted})
    wanted = _statuses(filters.status)
    total = sum(counts.get(status, 0) for status in wanted)
    pages = max(1, -(-total // PER_PAGE))
    page = min(filters.page, pages)
    # the page's ids first, from the list index alone; then those rows
    order = _order(filters.sort)
    page_ids = (
        select(Alert.id)
        .where(*where, Alert.status.in_(wanted))
        .order_by(*order)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
        .subquery()
    )
    rows = db.session.scalars(
        select(Alert)
        .join(page_ids, page_ids.c.id == Alert.id)
        .order_by(*order)
        .options(selectinload(Alert.acked_a_by), selectinload(Alert.acked_b_by))
    ).all()
    items = load_items(rows)
    # who to call, for every row at once: creators of unled events (held in the session while
    # the views are made), supervisors where a side has no one
    creators = _creators_of_unled(items.values())
    supervisors = supervisors_of({a.agency_a_id for a in rows} | {a.agency_b_id for a in rows})
    # the second guard: the policy on each row (the condition above selects no other)
    views = [v for a in rows if (v := view_alert(a, user, items, supervisors)) is not None]
    del creators
    return AlertList(views=views, counts=counts, total=total, page=page, pages=pages)


def _creators_of_unled(items: Iterable[Item]) -> list[User]:
    """The creators of events without a lead, in one query: the contact of such an event
    (``pointer.contact_of``) is then found in the session instead of one query each."""
    ids = {i.created_by_id for i in items if isinstance(i, Event) and i.lead_id is None}
    ids.discard(None)
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(ids))))


def alerts_for_item(item_type: str, item_id: int, user: User, *, via: str) -> list[AlertView]:
    """The alerts on one item that ``user`` may see, the active ones first.

    A deconfliction officer's views of both sides are audited here, whichever page shows them.
    """
    rows = db.session.scalars(
        select(Alert).where(
            or_(
                and_(Alert.item_a_type == item_type, Alert.item_a_id == item_id),
                and_(Alert.item_b_type == item_type, Alert.item_b_id == item_id),
            )
        )
    ).all()
    items = load_items(rows)
    views = [v for alert in rows if (v := view_alert(alert, user, items)) is not None]
    views.sort(key=lambda v: (not v.alert.is_active, v.urgency))
    record_list_view(views, user, via=via)
    return views


def record_view(view: AlertView, user: User, *, via: str) -> None:
    """Audit a view of an alert (both sides marked when seen by the officer's right) and
    mark the viewer's notifications of it read, in one write."""
    with unit_of_work():
        audit.record(
            "alert.view",
            object_type="alert",
            object_id=view.alert.id,
            actor=user,
            sides="both" if view.privileged else "own",
            via=via,
        )
        db.session.execute(
            update(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.alert_id == view.alert.id,
                Notification.read_at.is_(None),
            )
            .values(read_at=utcnow())
        )


def record_list_view(views: Sequence[AlertView], user: User, *, via: str) -> None:
    """Audit a list that showed both sides of some alerts (the deconfliction officer's)."""
    privileged = [v.alert.id for v in views if v.privileged]
    if privileged:
        audit.record_now(
            "alert.list",
            object_type="alert",
            actor=user,
            sides="both",
            alert_ids=privileged,
            via=via,
        )


def active_counts(item_type: str, ids: list[int]) -> Counter[int]:
    """How many active alerts each of these items has (for the lists of one's own items)."""
    counts: Counter[int] = Counter()
    if not ids:
        return counts
    rows = db.session.execute(
        select(Alert.item_a_type, Alert.item_a_id, Alert.item_b_type, Alert.item_b_id).where(
            Alert.kind == item_type,
            Alert.status.in_(ACTIVE),
            or_(
                and_(Alert.item_a_type == item_type, Alert.item_a_id.in_(ids)),
                and_(Alert.item_b_type == item_type, Alert.item_b_id.in_(ids)),
            ),
        )
    )
    wanted = set(ids)
    for _a_type, a_id, _b_type, b_id in rows:
        for item_id in (a_id, b_id):
            if item_id in wanted:
                counts[item_id] += 1
    return counts
