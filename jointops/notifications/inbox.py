"""The inbox: a user's notifications as lines, the header's unread badge, marking lines read.

The notifications about one alert (raised, acknowledged, escalated, resolved...) make one
line: the latest notice the user was told, the alert's state now, unread while any of them
is. Every other notification (a reminder, a security notice, an expiry warning) is a line
of its own. Lines come in order of urgency (``URGENCY``), grouped, sorted and paged in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Integer,
    Subquery,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)

from jointops.extensions import db
from jointops.models import Alert, AlertStatus, Notification, User, utcnow
from jointops.transactions import unit_of_work

PAGE_SIZE = 50

#: the order of the lines, as the page says it
URGENCY = (
    "Open alerts first, then alerts acknowledged and waiting for a resolution, the soonest "
    "operation first and then the longest waiting; then everything else, newest first."
)

#: built once: every page's header runs it. An alert's unread notifications count once.
UNREAD_LINES = select(
    func.count(func.distinct(Notification.alert_id))
    + func.coalesce(func.sum(case((Notification.alert_id.is_(None), 1), else_=0)), 0)
).where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))


def unread_count(user: User) -> int:
    """The header's badge: the unread lines, as the page shows them, in one indexed query.

    Read on the session's connection (its transaction), past the ORM's handling of a
    statement that loads no objects: every page pays for it. Pages render what they saved
    after its commit, so there is nothing unflushed for the count to miss.
    """
    return int(db.session.connection().scalar(UNREAD_LINES, {"user_id": user.id}) or 0)


@dataclass(frozen=True)
class Line:
    """One line of the inbox: ``latest`` is the newest notification it stands for."""

    latest: Notification
    alert: Alert | None
    notices: int
    unread: bool

    @property
    def key(self) -> str:
        """What the line's "Mark read" names: ``alert:ID`` or ``note:ID``."""
        if self.alert is not None:
            return f"alert:{self.alert.id}"
        return f"note:{self.latest.id}"

    @property
    def state_at(self) -> datetime:
        """When the alert reached its present state (or the notification was written)."""
        if self.alert is None:
            return self.latest.created_at
        alert = self.alert
        moments = {
            AlertStatus.RESOLVED.value: alert.resolved_at,
            AlertStatus.CLOSED.value: alert.closed_at,
        }
        return moments.get(alert.status) or alert.updated_at


@dataclass(frozen=True)
class InboxPage:
    lines: list[Line]
    page: int
    pages: int
    total: int
    unread: int
    #: the newest notification the page knew of: "Mark all read" marks no later one
    upto: int


def _lines(user_id: int) -> Subquery:
    """(alert id or NULL, newest notification id, notices, unread notices) per line."""
    mine = Notification.user_id == user_id
    about_alerts = (
        select(
            Notification.alert_id.label("alert_id"),
            func.max(Notification.id).label("latest_id"),
            func.count().label("notices"),
            func.sum(case((Notification.read_at.is_(None), 1), else_=0)).label("unread"),
        )
        .where(mine, Notification.alert_id.is_not(None))
        .group_by(Notification.alert_id)
    )
    single = select(
        cast(null(), Integer).label("alert_id"),
        Notification.id.label("latest_id"),
        literal(1).label("notices"),
        case((Notification.read_at.is_(None), 1), else_=0).label("unread"),
    ).where(mine, Notification.alert_id.is_(None))
    return union_all(about_alerts, single).subquery("lines")


def inbox(user: User, page: int = 1, page_size: int = PAGE_SIZE) -> InboxPage:
    """One page of the user's lines in order of urgency (``URGENCY``)."""
    lines = _lines(user.id)
    tier = case(
        (Alert.status == AlertStatus.OPEN.value, 0),
        (Alert.status == AlertStatus.ACKNOWLEDGED.value, 1),
        else_=2,
    )
    active = tier < 2
    rows = db.session.execute(
        select(Notification, Alert, lines.c.notices, lines.c.unread)
        .select_from(lines)
        .join(Notification, Notification.id == lines.c.latest_id)
        .outerjoin(Alert, Alert.id == lines.c.alert_id)
        .order_by(
            tier,
            case((and_(active, Alert.starts_at.is_not(None)), 0), else_=1),
            case((active, func.coalesce(Alert.starts_at, Alert.raised_at))),
            Notification.created_at.desc(),
            Notification.id.desc(),
        )
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    total, unread, upto = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((lines.c.unread > 0, 1), else_=0)), 0),
            func.coalesce(func.max(lines.c.latest_id), 0),
        ).select_from(lines)
    ).one()
    return InboxPage(
        lines=[
            Line(latest=n, alert=a, notices=int(count), unread=int(waiting) > 0)
            for n, a, count, waiting in rows
        ],
        page=page,
        pages=max(1, -(-int(total) // page_size)),
        total=int(total),
        unread=int(unread),
        upto=int(upto),
    )


def mark_all_read(user: User, upto: int | None = None) -> int:
    """Mark the user's unread notifications read, none newer than ``upto`` (the page's newest,
    so that one that came after the page was shown stays unread). Returns how many."""
    where = [Notification.user_id == user.id, Notification.read_at.is_(None)]
    if upto is not None:
        where.append(Notification.id <= upto)
    with unit_of_work():
        result = db.session.execute(update(Notification).where(*where).values(read_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def mark_line_read(user: User, key: str) -> bool:
    """Mark one line read (``Line.key``): every notification of an alert, or the one. False
    when the user has no such line; ``ValueError`` when ``key`` is not a line's key."""
    kind, _, raw = key.partition(":")
    if kind not in ("alert", "note") or not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        raise ValueError("expected a line of your inbox.")
    column = Notification.alert_id if kind == "alert" else Notification.id
    mine = and_(Notification.user_id == user.id, column == int(raw))
    with unit_of_work():
        if db.session.scalar(select(Notification.id).where(mine).limit(1)) is None:
            return False
        db.session.execute(
            update(Notification)
            .where(mine, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
    return True
