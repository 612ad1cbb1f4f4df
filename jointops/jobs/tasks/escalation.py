"""Escalation: an alert a side has not acknowledged goes up to the supervisors and officers.

A side is overdue when the alert was raised ``JOINTOPS_ESCALATE_AFTER_MINUTES``
ago (15) or the operation starts within ``JOINTOPS_ESCALATE_BEFORE_START_HOURS``
(12) and it still has not acknowledged. Its escalation repeats every
``JOINTOPS_ESCALATION_REPEAT_MINUTES`` (60) until it does; a side that has
acknowledged is no longer escalated for. ``alert_escalations`` remembers each
side's last escalation, so running again within the interval does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select

from jointops.alerts.items import item_keys, load_items
from jointops.alerts.notices import alert_link, overseers
from jointops.extensions import db
from jointops.jobs.registry import job
from jointops.models import Alert, AlertEscalation, AlertStatus, Event
from jointops.notifications.service import notify
from jointops.officetime import fmt_datetime
from jointops.transactions import unit_of_work


def _waited(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} d"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def escalation_text(
    alert: Alert, waiting_for: list[str], count: int, now: datetime, own_start: datetime | None
) -> str:
    """The inbox line: which agencies are awaited, for how long; no item is named, and the only
    time given is the reader's own operation's start (never the other side's)."""
    what = "Operation conflict" if alert.kind == "event" else "Target match"
    start = f"; your operation starts {fmt_datetime(own_start)}" if own_start else ""
    nth = "" if count == 1 else f" (reminder {count})"
    return (
        f"Escalated{nth}: alert #{alert.id} · {what} between {alert.agency_a.code} and "
        f"{alert.agency_b.code} is waiting {_waited(now - alert.raised_at)} for "
        f"{' and '.join(waiting_for)} to acknowledge{start}."
    )[:300]


@job("escalation", "interval", setting="ESCALATION_EVERY_MINUTES", minutes=5)
def escalate(now: datetime) -> Mapping[str, Any]:
    """Escalate every overdue side of every open alert that is due again."""
    config = current_app.config
    after = timedelta(minutes=config["ESCALATE_AFTER_MINUTES"])
    before = timedelta(hours=config["ESCALATE_BEFORE_START_HOURS"])
    repeat = timedelta(minutes=config["ESCALATION_REPEAT_MINUTES"])
    with unit_of_work():
        overdue = db.session.scalars(
            select(Alert)
            .where(
                Alert.status == AlertStatus.OPEN.value,  # both acknowledged: "acknowledged"
                or_(Alert.acked_a_at.is_(None), Alert.acked_b_at.is_(None)),
                or_(
                    Alert.raised_at <= now - after,
                    and_(Alert.starts_at.is_not(None), Alert.starts_at < now + before),
                ),
            )
            .order_by(Alert.id)
        ).all()
        escalated = notified = 0
        for alert in overdue:
            done = {
                e.side: e
                for e in db.session.scalars(
                    select(AlertEscalation).where(AlertEscalation.alert_id == alert.id)
                )
            }
            due: list[AlertEscalation] = []
            for side, acked_at in (("a", alert.acked_a_at), ("b", alert.acked_b_at)):
                record = done.get(side)
                if acked_at is not None or (record and record.last_escalated_at > now - repeat):
                    continue
                if record is None:
                    record = AlertEscalation(
                        alert_id=alert.id, side=side, count=0, first_escalated_at=now
                    )
                    db.session.add(record)
                record.count += 1
                record.last_escalated_at = now
                due.append(record)
            if not due:
                continue
            agencies = {"a": alert.agency_a.code, "b": alert.agency_b.code}
            starts = _starts(alert)
            for user in overseers(alert):
                own = {
                    side for side, code in agencies.items() if user.agency_id == _id(alert, side)
                }
                own_start = starts.get(own.pop()) if len(own) == 1 else None
                text = escalation_text(
                    alert,
                    [agencies[r.side] for r in due],
                    max(r.count for r in due),
                    now,
                    own_start,
                )
                notify(user, "escalation", text, alert_link(alert), alert_id=alert.id, now=now)
                notified += 1
            escalated += 1
    return {"overdue": len(overdue), "escalated": escalated, "notifications": notified}


def _id(alert: Alert, side: str) -> int:
    return alert.agency_a_id if side == "a" else alert.agency_b_id


def _starts(alert: Alert) -> dict[str, datetime]:
    """Each side's own operation's start (targets have none)."""
    items = load_items([alert])
    found = {}
    for side, key in zip(("a", "b"), item_keys(alert), strict=True):
        item = items.get(key)
        if isinstance(item, Event):
            found[side] = item.starts_at
    return found
