"""Reminders: each participant of an event is reminded before it starts.

Offsets come from ``JOINTOPS_REMINDER_OFFSETS_MINUTES`` (24 hours and 1 hour).
``event_reminders`` holds one row per (event, user, offset, start time): each
is sent once, and moving the event re-arms them (the new start is a new key).
Cancelled and completed events are not reminded. When several offsets fall
due at once (an event saved an hour before it starts), one line is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from jointops.extensions import db
from jointops.jobs.registry import job
from jointops.models import Event, EventReminder, EventStatus
from jointops.notifications.service import notify
from jointops.officetime import fmt_range
from jointops.transactions import unit_of_work

REMINDED = (EventStatus.PLANNED.value, EventStatus.CONFIRMED.value)


def _in(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 90:
        return f"{minutes} min"
    return f"{round(minutes / 60)} h"


def reminder_text(event: Event, now: datetime) -> str:
    return (
        f"Reminder: {event.title} starts in about {_in(event.starts_at - now)} "
        f"({fmt_range(event.starts_at, event.ends_at)})."
    )[:300]


@job("reminders", "interval", setting="REMINDER_EVERY_MINUTES", minutes=5)
def send_reminders(now: datetime) -> Mapping[str, Any]:
    """Remind the participants of events starting within the largest offset."""
    offsets = sorted(set(current_app.config["REMINDER_OFFSETS_MINUTES"]))
    with unit_of_work():
        events = db.session.scalars(
            select(Event)
            .where(
                Event.starts_at > now,
                Event.starts_at <= now + timedelta(minutes=max(offsets)),
                Event.status.in_(REMINDED),
            )
            .order_by(Event.starts_at, Event.id)
        ).all()
        sent = 0
        for event in events:
            due = [o for o in offsets if event.starts_at - timedelta(minutes=o) <= now]
            if not due:
                continue
            done = {
                (row.user_id, row.offset_minutes)
                for row in db.session.execute(
                    select(EventReminder.user_id, EventReminder.offset_minutes).where(
                        EventReminder.event_id == event.id,
                        EventReminder.starts_at == event.starts_at,
                    )
                )
            }
            for participant in event.participants:
                user = participant.user
                missing = [o for o in due if (user.id, o) not in done]
                if not missing or not user.active:
                    continue
                for offset in missing:
                    db.session.add(
                        EventReminder(
                            event_id=event.id,
                            user_id=user.id,
                            offset_minutes=offset,
                            starts_at=event.starts_at,
                            sent_at=now,
                        )
                    )
                notify(user, "reminder", reminder_text(event, now), f"/events/{event.id}", now=now)
                sent += 1
    return {"events": len(events), "reminders": sent}
