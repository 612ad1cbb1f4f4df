"""iCalendar feeds as a pure library: plain event objects in, RFC 5545 text out.

No Flask and no database; the redaction policy of what a feed may carry lives
here (``calendars.redaction``), over an allow-list of fields
(``calendars.model.FeedEvent``). The app decides which events a subscriber may
see at all (``auth.policy``) and maps them onto ``FeedEvent``; this package
decides how little of them a feed says. (The package is not called
``calendar``: that would shadow the standard library module that APScheduler,
dateutil and the e-mail package import.)

    entries = [redact(e, FeedKind.PERSONAL, labels) for e in events if carried(e, window)]
    # or, with recurring events grouped as one master each: redact_feed(events, series, ...)
    body = render(entries, settings)
"""

from calendars.model import Detail, FeedEvent, FeedKind, FeedSeries
from calendars.redaction import BUSY, RESTRICTED, Entry, Labels, redact
from calendars.render import FeedSettings, build_calendar, fingerprint, render, series_uid, uid
from calendars.series import redact_feed
from calendars.window import FeedWindow, carried, feed_window

__all__ = [
    "BUSY",
    "RESTRICTED",
    "Detail",
    "Entry",
    "FeedEvent",
    "FeedKind",
    "FeedSeries",
    "FeedSettings",
    "FeedWindow",
    "Labels",
    "build_calendar",
    "carried",
    "feed_window",
    "fingerprint",
    "redact",
    "redact_feed",
    "render",
    "series_uid",
    "uid",
]
