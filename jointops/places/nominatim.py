"""Nominatim's ``/search?format=jsonv2`` (a self-hosted Nominatim)."""

from __future__ import annotations

from typing import Any

from jointops.places.geocoder import MAX_CANDIDATES, Candidate, Quality, in_range
from jointops.places.remote import RemoteGeocoder, garbage

#: OSM keys and address types of streets and areas: their position is a middle, not a door
AREA_CATEGORIES = frozenset(
    {"highway", "boundary", "place", "landuse", "natural", "waterway", "railway"}
)
AREA_ADDRESS_TYPES = frozenset(
    {
        "road",
        "neighbourhood",
        "suburb",
        "quarter",
        "city_district",
        "district",
        "city",
        "town",
        "village",
        "hamlet",
        "municipality",
        "county",
        "state",
        "region",
        "postcode",
        "country",
    }
)


def quality(item: dict[str, Any]) -> Quality:
    """Nominatim's class (``category`` in jsonv2), type and address type as a quality.

    House numbers interpolated along a street (OSM interpolation lines, TIGER ranges) come
    back as ``place``/``house``; buildings and points of interest are where they stand.
    """
    category = item.get("category", item.get("class"))
    if category == "place" and item.get("type") == "house":
        return "interpolated"
    if category in AREA_CATEGORIES or item.get("addresstype") in AREA_ADDRESS_TYPES:
        return "centroid"
    return "rooftop"


class NominatimGeocoder(RemoteGeocoder):
    name = "nominatim"
    endpoint = "/search"

    def search(self, text: str) -> list[Candidate]:
        area = self.area
        answer = self.ask(
            {
                "q": text,
                "format": "jsonv2",
                "limit": str(MAX_CANDIDATES),
                # prefer, not restrict to, the service area (outside ones are shown and flagged)
                "viewbox": f"{area.west},{area.north},{area.east},{area.south}",
                "bounded": "0",
            }
        )
        if not isinstance(answer, list):
            raise garbage(self.name)
        return [self._candidate(item) for item in answer[:MAX_CANDIDATES]]

    def _candidate(self, item: Any) -> Candidate:
        try:
            lat, lon = float(item["lat"]), float(item["lon"])
            label = str(item["display_name"])
        except (TypeError, KeyError, ValueError):
            raise garbage(self.name) from None
        if not in_range(lat, lon) or not label:
            raise garbage(self.name)
        return Candidate(label, lat, lon, quality(item))
