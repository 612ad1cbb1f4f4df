"""An ArcGIS GeocodeServer's ``findAddressCandidates`` (what county GIS offices run)."""

from __future__ import annotations

import math
from typing import Any

from jointops.places.geocoder import (
    MAX_CANDIDATES,
    Candidate,
    GeocoderUnavailable,
    Quality,
    in_range,
)
from jointops.places.remote import RemoteGeocoder, garbage

#: ``Addr_type`` of a point on the building or parcel itself
ROOFTOP_TYPES = frozenset(
    {"PointAddress", "Subaddress", "BuildingName", "POI", "LatLong", "XY-XY", "YX-YX"}
)
#: ``Addr_type`` of a point placed along a street's range of house numbers
INTERPOLATED_TYPES = frozenset({"StreetAddress", "StreetAddressExt", "StreetInt", "StreetMidBlock"})
WGS84 = frozenset({4326})
WEB_MERCATOR = frozenset({3857, 102100, 102113, 900913})
EARTH_RADIUS_M = 6378137.0


def quality(attributes: dict[str, Any]) -> Quality:
    """``Addr_type`` as a quality; a street name, locality or postcode (or a locator that does
    not say) is a centroid."""
    kind = attributes.get("Addr_type")
    if kind in ROOFTOP_TYPES:
        return "rooftop"
    if kind in INTERPOLATED_TYPES:
        return "interpolated"
    return "centroid"


class ArcGISGeocoder(RemoteGeocoder):
    name = "arcgis"
    endpoint = "/findAddressCandidates"

    def search(self, text: str) -> list[Candidate]:
        area = self.area
        answer = self.ask(
            {
                "SingleLine": text,
                # locators published before ArcGIS 10.x name the one-line field so
                "Single Line Input": text,
                "f": "json",
                "outFields": "Addr_type,Match_addr,Score",
                "outSR": "4326",
                "maxLocations": str(MAX_CANDIDATES),
                "location": f"{(area.west + area.east) / 2:.5f},"
                f"{(area.south + area.north) / 2:.5f}",
            }
        )
        if not isinstance(answer, dict):
            raise garbage(self.name)
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            raise GeocoderUnavailable(
                f"The {self.name} geocoder refused the search: "
                f"{str(error.get('message') or 'an error')[:200]}"
            )
        found = answer.get("candidates")
        if not isinstance(found, list):
            raise garbage(self.name)
        wkid = self._wkid(answer.get("spatialReference"))
        return [self._candidate(c, wkid) for c in found[:MAX_CANDIDATES]]

    def _wkid(self, reference: Any) -> int:
        if reference is None:
            return 4326
        if not isinstance(reference, dict):
            raise garbage(self.name)
        wkid = reference.get("latestWkid", reference.get("wkid"))
        if wkid not in WGS84 | WEB_MERCATOR:
            raise GeocoderUnavailable(
                f"The {self.name} geocoder answers in spatial reference {wkid!r}, not in "
                "latitude and longitude (WKID 4326) or Web Mercator."
            )
        return int(wkid)

    def _candidate(self, item: Any, wkid: int) -> Candidate:
        try:
            x, y = float(item["location"]["x"]), float(item["location"]["y"])
            label = str(item.get("address") or item["attributes"]["Match_addr"])
            attributes = item.get("attributes") or {}
        except (TypeError, KeyError, ValueError, AttributeError):
            raise garbage(self.name) from None
        lat, lon = (y, x) if wkid in WGS84 else _from_web_mercator(x, y)
        if not in_range(lat, lon) or not label or not isinstance(attributes, dict):
            raise garbage(self.name)
        return Candidate(label, lat, lon, quality(attributes))


def _from_web_mercator(x: float, y: float) -> tuple[float, float]:
    lon = math.degrees(x / EARTH_RADIUS_M)
    lat = math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS_M)) - math.pi / 2)
    return lat, lon
