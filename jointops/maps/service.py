"""What the maps show: the week's operations of one agency, as its own members may see them;
the operations' radii; and, with no basemap, the demo gazetteer's places for bearings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app

from jointops.catalog import SUBTYPES
from jointops.deconfliction.records import event_rules
from jointops.events.grid import week_start
from jointops.maps.basemap import basemap_of
from jointops.models import Event, EventKind, User
from jointops.officetime import local_day_bounds
from jointops.places.choice import geocoder_name
from jointops.places.gazetteer import ENTRIES
from jointops.visibility import events_between

WEEK_DAYS = 7


@dataclass(frozen=True)
class WeekMap:
    first: date
    #: the operations with a place, soonest first
    placed: list[Event] = field(default_factory=list)
    #: the operations without coordinates (told, never guessed)
    unplaced: list[Event] = field(default_factory=list)


def own_operations_for_week(user: User, day: date) -> WeekMap:
    """The week (Sunday to Saturday) around ``day`` of the operations of ``user``'s agency
    that ``user`` sees in full, cancelled ones left out.

    Need to know: an operation of another agency never appears, even one the user takes
    part in, so the map shows no other agency's places.
    """
    first = week_start(day)
    if user.agency_id is None:
        return WeekMap(first)
    start, end = local_day_bounds(first, WEEK_DAYS)
    own = [
        s.event
        for s in events_between(user, start, end)
        if s.full
        and s.event.kind == EventKind.OPERATION
        and s.event.owner_agency_id == user.agency_id
        and not s.event.is_cancelled
    ]
    return WeekMap(
        first,
        placed=[e for e in own if e.latitude is not None and e.longitude is not None],
        unplaced=[e for e in own if e.latitude is None or e.longitude is None],
    )


def radius_m(event: Event) -> int:
    """The operation's radius, or its subtype's default as deconfliction uses it."""
    return event_rules().radius_for(event.subtype, event.radius_m)


def default_radii() -> dict[str, int]:
    """Each operation subtype's default radius in metres (the map's circle before one is typed)."""
    rules = event_rules()
    return {s.code: rules.radius_for(s.code, None) for s in SUBTYPES["operation"]}


def reference_places() -> list[dict[str, Any]]:
    """With no basemap and the demo gazetteer, its landmarks and towns (``town`` marks those
    named on the map) to draw as the blank map's bearings; otherwise none (a basemap shows
    the streets itself).

    Public landmarks (courthouses, police headquarters, the airport, stations) and towns only:
    never the gazetteer's street addresses, which are the demo events' places.
    """
    config = current_app.config
    if basemap_of(config).kind != "none" or geocoder_name(config) != "demo":
        return []
    return [
        {
            "name": entry.label.split(",")[0],
            "lat": entry.lat,
            "lon": entry.lon,
            "town": entry.kind == "town",
        }
        for entry in ENTRIES
        if entry.kind in ("landmark", "town")
    ]


def pmtiles_path() -> str | None:
    return current_app.config.get("MAP_PMTILES") or None
