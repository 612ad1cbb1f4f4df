"""Photon's ``/api`` (a self-hosted Photon over OpenStreetMap data): GeoJSON features."""

from __future__ import annotations

from typing import Any

from jointops.places.geocoder import MAX_CANDIDATES, Candidate, Quality, in_range
from jointops.places.remote import RemoteGeocoder, garbage


def quality(properties: dict[str, Any]) -> Quality:
    """Photon's ``type``: a house (or a point of interest, typed the same) is where it stands;
    streets, districts and towns are their middle."""
    return "rooftop" if properties.get("type") == "house" else "centroid"


def label(properties: dict[str, Any]) -> str:
    street = " ".join(str(properties[k]) for k in ("housenumber", "street") if properties.get(k))
    parts = [properties.get("name"), street, properties.get("city"), properties.get("state")]
    postcode = properties.get("postcode")
    text = ", ".join(str(p) for p in parts if p)
    return f"{text} {postcode}" if postcode and text else text


class PhotonGeocoder(RemoteGeocoder):
    name = "photon"
    endpoint = "/api"

    def search(self, text: str) -> list[Candidate]:
        area = self.area
        answer = self.ask(
            {
                "q": text,
                "limit": str(MAX_CANDIDATES),
                "lang": "en",
                # a bias towards the middle of the service area, not a filter
                "lat": f"{(area.south + area.north) / 2:.5f}",
                "lon": f"{(area.west + area.east) / 2:.5f}",
            }
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("features"), list):
            raise garbage(self.name)
        return [self._candidate(f) for f in answer["features"][:MAX_CANDIDATES]]

    def _candidate(self, feature: Any) -> Candidate:
        try:
            lon, lat = (float(v) for v in feature["geometry"]["coordinates"])
            properties = feature["properties"]
            text = label(properties)
        except (TypeError, KeyError, ValueError, AttributeError):
            raise garbage(self.name) from None
        if not in_range(lat, lon) or not text:
            raise garbage(self.name)
        return Candidate(text, lat, lon, quality(properties))
