"""Keep feed secrets out of every log: a feed URL's token becomes a prefix of its hash.

A feed URL carries its capability, and access logs print paths. ``scrub``
rewrites ``/feeds/<secret>.ics`` to ``/feeds/sha256:<12 hex>.ics`` (the start
of the token's stored hash, so a log line can still be traced to its token),
and does so whatever the spelling: any character percent-encoded (once or
twice, in either case), another suffix, path parameters, extra slashes.
``install`` puts the filter on the app's logger and on werkzeug's (the
development server's access log); ``jointops.feeds.gunicorn_logging`` does the same
for gunicorn's access and error logs.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

from flask import Flask

from jointops.feeds.tokens import log_id


def _encoded(text: str) -> str:
    """A pattern of ``text`` with any character percent-encoded, once or more (``%252F``)."""
    return "".join(f"(?:{re.escape(c)}|%(?:25)*{ord(c):02x})" for c in text)


#: ``/feeds`` however spelt, and the path after it up to its query, fragment or end
FEED_PATH = re.compile(
    _encoded("/feeds") + "(?P<rest>" + _encoded("/") + r"[^?#\s\"'<>]*)", re.IGNORECASE
)
_SLASHES = re.compile(_encoded("/"), re.IGNORECASE)
#: what a feed path may show: empty segments, token ids, actions, hashes already written
_SHOWN = re.compile(r"|[0-9]{1,19}|revoke|sha256:[0-9a-f]{12}(?:\.ics)?")
#: a secret ends where its suffix (``.ics``, any other) or its path parameters (``;x``) begin
_SECRET_END = re.compile(r"[.;]")


def scrub(text: str) -> str:
    """``text`` with every path segment after ``/feeds/`` that could be a secret replaced by the
    hash prefix of the secret it spells (``.ics`` kept), whatever its encoding or case."""
    if "feeds" not in text.lower() and "%" not in text:
        return text
    return FEED_PATH.sub(lambda m: "/feeds/" + "/".join(map(_segment, _split(m["rest"]))), text)


def _split(rest: str) -> list[str]:
    """The segments of the path after ``/feeds``, decoded (the leading slash dropped)."""
    return [_decoded(part) for part in _SLASHES.split(rest)[1:]]


def _decoded(text: str) -> str:
    while (plain := unquote(text)) != text:
        text = plain
    return text


def _segment(segment: str) -> str:
    if _SHOWN.fullmatch(segment):
        return segment
    secret = _SECRET_END.split(segment, maxsplit=1)[0]
    suffix = ".ics" if segment[len(secret) :].lower().startswith(".ics") else ""
    return log_id(secret) + suffix


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
