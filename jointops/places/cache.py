"""The geocoders' answers, kept in the database for ``JOINTOPS_GEOCODER_CACHE_DAYS``.

An entry is keyed by a hash of the geocoder, its address and the normalised search text;
the text itself is not stored.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from jointops.extensions import db
from jointops.models import GeocodeCacheEntry, utcnow
from jointops.places.geocoder import Candidate
from jointops.transactions import unit_of_work


def normalised(text: str) -> str:
    return " ".join(text.casefold().split())


def key_of(geocoder: str, text: str) -> str:
    url = current_app.config["GEOCODER_URL"]
    return hashlib.sha256(f"{geocoder}\n{url}\n{normalised(text)}".encode()).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(days=current_app.config["GEOCODER_CACHE_DAYS"])


def cached(key: str) -> list[Candidate] | None:
    """The answer kept under ``key``, if it is fresh and still reads as candidates."""
    if not _lifetime():
        return None
    entry = db.session.get(GeocodeCacheEntry, key)
    if entry is None or entry.fetched_at < utcnow() - _lifetime():
        return None
    try:
        return [Candidate.from_data(c) for c in entry.candidates]
    except (KeyError, TypeError, ValueError):
        return None


def keep(key: str, geocoder: str, candidates: list[Candidate]) -> None:
    """Keep an answer (replacing a stale one); another worker keeping it first is fine."""
    if not _lifetime():
        return
    try:
        with unit_of_work():
            entry = db.session.get(GeocodeCacheEntry, key) or GeocodeCacheEntry(query_key=key)
            entry.geocoder = geocoder
            entry.candidates = [c.as_data() for c in candidates]
            entry.fetched_at = utcnow()
            db.session.add(entry)
    except IntegrityError:
        pass


def forget_stale(now: datetime) -> int:
    """Delete the answers older than the cache keeps them (the retention job, daily)."""
    with unit_of_work():
        result = db.session.execute(
            delete(GeocodeCacheEntry).where(GeocodeCacheEntry.fetched_at < now - _lifetime())
        )
    return int(getattr(result, "rowcount", 0) or 0)
