"""The inbox: a user's notifications, the header's unread badge, marking them read."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, update

from jointops.extensions import db
from jointops.models import Notification, User, utcnow
from jointops.transactions import unit_of_work

#: built once: every page's header runs it
UNREAD = (
    select(func.count())
    .select_from(Notification)
    .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))
)


def unread_count(user: User) -> int:
    """The header's badge: one indexed count."""
    return int(db.session.scalar(UNREAD, {"user_id": user.id}) or 0)


def inbox(user: User, limit: int = 200) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(user: User) -> int:
    with unit_of_work():
        result = db.session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
    return int(getattr(result, "rowcount", 0) or 0)
