"""An address search from an event form: who may search, what may be searched, and the audit.

``look_up`` is what ``GET /api/geocode`` calls. It answers from the cache when it can,
otherwise asks the configured geocoder on the server (never the browser), and audits every
lookup with who searched and from which event form (an event's id, or ``new``).
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from auth.policy import may_create
from jointops import audit
from jointops.config import Area
from jointops.extensions import db
from jointops.models import AuditEntry, Event, User, utcnow
from jointops.places import cache
from jointops.places.choice import geocoder_for, geocoder_name
from jointops.places.geocoder import Candidate, GeocoderUnavailable
from jointops.visibility import editable, viewer_of

QUERY_MAX = 200
#: what a client is told to wait before searching again when the geocoder is down
RETRY_AFTER_S = 30
ACTION = "place.geocode"
#: the sliding window of ``JOINTOPS_GEOCODE_LIMIT_PER_MINUTE``
LIMIT_WINDOW = timedelta(minutes=1)


class LookupDenied(Exception):
    """The user may not plan operations, so has nothing to search for."""


class LookupLimited(Exception):
    """The user has searched as often as a minute allows; ``retry_after_s`` says how long."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"Too many address searches: try again in {retry_after_s} s.")
        self.retry_after_s = retry_after_s


class QueryRefused(Exception):
    """A parameter of the search is wrong: ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Found:
    geocoder: str
    candidates: list[Candidate]
    area: Area

    def as_data(self) -> dict[str, Any]:
        return {
            "candidates": [
                c.as_data() | {"in_service_area": self.area.contains(c.lat, c.lon)}
                for c in self.candidates
            ],
            "geocoder": self.geocoder,
        }


def checked_query(text: str | None) -> str:
    """The text to search for, blanks collapsed; ``QueryRefused`` says what is wrong with it."""
    if text is None or not text.strip():
        raise QueryRefused("q", "Type an address or a place to search for.")
    if len(text) > QUERY_MAX:
        raise QueryRefused("q", f"At most {QUERY_MAX} characters.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise QueryRefused("q", "Remove the control or invisible characters.")
    if not any(ch.isalnum() for ch in text):
        raise QueryRefused("q", "Give at least one letter or digit.")
    return " ".join(text.split())


def _event_form(ref: str | None, actor: User) -> int | None:
    """The event whose form searches (None: a new event's form)."""
    if ref in (None, "", "new"):
        return None
    event = db.session.get(Event, int(ref)) if ref.isdigit() and len(ref) < 12 else None
    if event is None or not editable(actor, event):
        raise QueryRefused("event", "Not an event you may edit; leave it out for a new event.")
    return event.id


def _within_limit(actor: User) -> None:
    """Refuse a search beyond the user's limit of the last minute.

    Counted from the audit trail (every search is audited), so the limit holds across workers;
    each search may reach an outside geocoder, whose service terms and costs are per request.
    """
    now = utcnow()
    searched = (
        select(func.count(), func.min(AuditEntry.at))
        .where(AuditEntry.action == ACTION, AuditEntry.actor_id == actor.id)
        .where(AuditEntry.outcome.in_(("success", "failure")))
        .where(AuditEntry.at > now - LIMIT_WINDOW)
    )
    count, first = db.session.execute(searched).one()
    if count < current_app.config["GEOCODE_LIMIT_PER_MINUTE"]:
        return
    wait = (first + LIMIT_WINDOW - now).total_seconds() if first is not None else 1
    audit.record_now(ACTION, outcome="denied", actor=actor, reason="rate_limited")
    raise LookupLimited(max(1, math.ceil(wait)))


def look_up(text: str | None, event_ref: str | None, actor: User) -> Found:
    """Search for ``text`` from the form of ``event_ref`` (an id or ``new``).

    Raises ``LookupDenied``, ``QueryRefused``, ``LookupLimited`` or ``GeocoderUnavailable``;
    each is audited.
    """
    if not may_create(viewer_of(actor), "operation"):
        audit.record_now(ACTION, outcome="denied", actor=actor)
        raise LookupDenied()
    try:
        query = checked_query(text)
        event_id = _event_form(event_ref, actor)
    except QueryRefused as refused:
        audit.record_now(ACTION, outcome="refused", actor=actor, field=refused.field)
        raise
    _within_limit(actor)
    form: dict[str, Any] = {"object_type": "event", "object_id": event_id or "new"}
    config = current_app.config
    name, geocoder, area = geocoder_name(config), geocoder_for(config), config["SERVICE_AREA"]
    if geocoder is None:
        audit.record_now(ACTION, outcome="off", actor=actor, geocoder=name, **form)
        return Found(name, [], area)
    key = cache.key_of(name, query)
    candidates = cache.cached(key) if geocoder.remote else None
    from_cache = candidates is not None
    if candidates is None:
        try:
            candidates = geocoder.search(query)
        except GeocoderUnavailable as down:
            audit.record_now(
                ACTION, outcome="failure", actor=actor, geocoder=name, error=str(down), **form
            )
            raise
        if geocoder.remote:
            cache.keep(key, name, candidates)
    audit.record_now(
        ACTION,
        actor=actor,
        geocoder=name,
        cached=from_cache,
        found=len(candidates),
        **form,
    )
    return Found(name, candidates, area)
