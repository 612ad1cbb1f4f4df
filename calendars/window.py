"""Which events a feed carries: a bounded window of time, and cancelled ones for a while.

A feed is never "every event ever": it covers events that overlap
``[now - past, now + future)``. A cancelled event stays in it, as
``CANCELLED``, for a grace period after it was cancelled, so that subscribed
calendars that merge rather than replace remove it; then it leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from calendars.model import FeedEvent


@dataclass(frozen=True)
class FeedWindow:
    """The half-open interval ``[start, end)`` a feed covers, and the cancellation cut-off."""

    start: datetime
    end: datetime
    #: cancelled events whose cancellation is older than this have left the feed
    cancelled_after: datetime


def feed_window(
    now: datetime, *, past: timedelta, future: timedelta, cancelled_grace: timedelta
) -> FeedWindow:
    """The window of a feed served at ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if past < timedelta(0) or future <= timedelta(0) or cancelled_grace < timedelta(0):
        raise ValueError("feed window lengths must not be negative")
    return FeedWindow(start=now - past, end=now + future, cancelled_after=now - cancelled_grace)


def carried(event: FeedEvent, window: FeedWindow) -> bool:
    """True when ``event`` belongs in a feed with this window."""
    if not (event.starts_at < window.end and event.ends_at > window.start):
        return False
    return not event.cancelled or event.updated_at >= window.cancelled_after
