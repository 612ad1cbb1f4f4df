"""The review list: the alerts a viewer may see, filtered, sorted and paged; views audited."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update

from auth.policy import (
    Viewer,
    sees_both_sides,
)
from jointops import audit
from jointops.alerts.items import ACTIVE, load_items
from jointops.alerts.pointer import AlertView, view_alert
from jointops.catalog import (
    STRENGTH_RANK,
)
from jointops.extensions import db
from jointops.models import (
    Agency,
    Alert,
    AlertStatus,
    Notification,
    Participant,
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


def _candidate_query(user: User, viewer: Viewer) -> Any:
    """Alerts that may concern the viewer; the policy then decides row by row."""
    query = select(Alert)
    if sees_both_sides(viewer):
        return query
    # the lead of an event is one of its participants
    mine = select(Participant.event_id).where(Participant.user_id == user.id)
    conditions = [
        and_(Alert.item_a_type == "event", Alert.item_a_id.in_(mine)),
        and_(Alert.item_b_type == "event", Alert.item_b_id.in_(mine)),
    ]
    if user.agency_id is not None:
        conditions += [Alert.agency_a_id == user.agency_id, Alert.agency_b_id == user.agency_id]
    return query.where(or_(*conditions))


def list_alerts(user: User, filters: AlertFilters) -> AlertList:
    """The alerts ``user`` may see, filtered and sorted (urgency: soonest operation first)."""
    viewer = viewer_of(user)
    query = _candidate_query(user, viewer)
    if filters.kind:
        query = query.where(Alert.kind == filters.kind)
    if filters.strength:
        query = query.where(Alert.strength == filters.strength)
    if filters.agency:
        agency_id = db.session.scalar(select(Agency.id).where(Agency.code == filters.agency))
        query = query.where(or_(Alert.agency_a_id == agency_id, Alert.agency_b_id == agency_id))
    rows = db.session.scalars(query).all()
    items = load_items(rows)
    views = [v for alert in rows if (v := view_alert(alert, user, items)) is not None]
    counts = {status.value: 0 for status in AlertStatus}
    for v in views:
        counts[v.alert.status] += 1
    wanted = {
        "active": set(ACTIVE),
        "all": {s.value for s in AlertStatus},
    }.get(filters.status, {filters.status})
    views = [v for v in views if v.alert.status in wanted]
    if filters.sort == "waiting":
        views.sort(key=lambda v: v.alert.raised_at)
    elif filters.sort == "strength":
        views.sort(key=lambda v: (STRENGTH_RANK.get(v.alert.strength, 9), -v.alert.score))
    else:
        views.sort(key=lambda v: v.urgency)
    pages = max(1, -(-len(views) // PER_PAGE))
    page = min(filters.page, pages)
    return AlertList(
        views=views[(page - 1) * PER_PAGE : page * PER_PAGE],
        counts=counts,
        total=len(views),
        page=page,
        pages=pages,
    )


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
