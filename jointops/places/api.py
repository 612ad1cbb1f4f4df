"""``GET /api/geocode?q=TEXT[&event=ID]``: an address search for the event form, on the server."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user

from auth.policy import INVESTIGATOR, SUPERVISOR
from jointops.identity.permissions import allow
from jointops.places.geocoder import GeocoderUnavailable
from jointops.places.lookup import (
    RETRY_AFTER_S,
    LookupDenied,
    LookupLimited,
    QueryRefused,
    look_up,
)

bp = Blueprint("places_api", __name__, url_prefix="/api")

Reply = tuple[dict[str, Any], int, dict[str, str]]
#: answers name planned operations' places: no browser or proxy keeps them
PRIVATE = {"Cache-Control": "no-store"}


@bp.get("/geocode")
@allow(INVESTIGATOR, SUPERVISOR)
def geocode() -> Reply:
    """Candidates for ``q``: ``{"candidates": [{label, lat, lon, quality, in_service_area}],
    "geocoder": name}``; 400 naming the bad parameter; 429 with Retry-After beyond the user's
    searches per minute; 503 with Retry-After when the geocoder is down."""
    try:
        found = look_up(request.args.get("q"), request.args.get("event"), current_user)
    except LookupDenied:
        abort(403)
    except QueryRefused as refused:
        return {"error": str(refused), "field": refused.field, "status": 400}, 400, PRIVATE
    except LookupLimited as limited:
        retry = {"Retry-After": str(limited.retry_after_s)}
        return {"error": str(limited), "status": 429}, 429, PRIVATE | retry
    except GeocoderUnavailable as down:
        message = f"{down} Enter the coordinates or place the pin on the map instead."
        retry = {"Retry-After": str(RETRY_AFTER_S)}
        return {"error": message, "status": 503}, 503, PRIVATE | retry
    return found.as_data(), 200, PRIVATE
