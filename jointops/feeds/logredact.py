"""Keep feed secrets out of every log: a feed URL's token becomes a prefix of its hash.

A feed URL carries its capability, and access logs print paths. ``scrub``
rewrites ``/feeds/<secret>.ics`` to ``/feeds/sha256:<12 hex>.ics`` (the start
of the token's stored hash, so a log line can still be traced to its token).
``install`` puts the filter on the app's logger and on werkzeug's (the
development server's access log); ``jointops.feeds.gunicorn_logging`` does the same
for gunicorn's access and error logs.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask

from jointops.feeds.tokens import log_id

FEED_PATH = re.compile(r"(/feeds/)(?!sha256:)([^/?#\s\"']+?)(\.ics)")


def scrub(text: str) -> str:
    """``text`` with the secret of every feed URL replaced by its hash prefix."""
    if "/feeds/" not in text:
        return text
    return FEED_PATH.sub(lambda m: m.group(1) + log_id(m.group(2)) + m.group(3), text)


def scrub_value(value: Any) -> Any:
    return scrub(value) if isinstance(value, str) else value


class FeedSecretFilter(logging.Filter):
    """Rewrites a record's message and arguments (tuple or mapping) before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(scrub_value(a) for a in args)
        elif isinstance(args, dict):
            for key, value in list(args.items()):
                args[key] = scrub_value(value)
        return True


FILTER = FeedSecretFilter()


def attach(logger: logging.Logger) -> None:
    """Add the filter to ``logger`` once."""
    if not any(isinstance(f, FeedSecretFilter) for f in logger.filters):
        logger.addFilter(FILTER)


def install(app: Flask) -> None:
    """Filter the app's log and werkzeug's request log."""
    attach(app.logger)
    attach(logging.getLogger("werkzeug"))
