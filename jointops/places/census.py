"""The US Census Bureau's geocoder, ``locations/onelineaddress`` (opt-in only: every search
then reaches an outside service and its logs)."""

from __future__ import annotations

from typing import Any

from jointops.places.geocoder import MAX_CANDIDATES, Candidate, in_range
from jointops.places.remote import garbage, get_json

PUBLIC_URL = "https://geocoding.geo.census.gov/geocoder"
BENCHMARK = "Public_AR_Current"


class CensusGeocoder:
    """Every match is interpolated along a TIGER/Line street range."""

    name = "census"
    remote = True

    def __init__(self, url: str, timeout: float) -> None:
        self.url = f"{url or PUBLIC_URL}/locations/onelineaddress"
        self.timeout = timeout

    def search(self, text: str) -> list[Candidate]:
        answer = get_json(
            self.url,
            {"address": text, "benchmark": BENCHMARK, "format": "json"},
            timeout=self.timeout,
            service=self.name,
        )
        try:
            matches = answer["result"]["addressMatches"]
        except (TypeError, KeyError):
            raise garbage(self.name) from None
        if not isinstance(matches, list):
            raise garbage(self.name)
        return [self._candidate(m) for m in matches[:MAX_CANDIDATES]]

    def _candidate(self, match: Any) -> Candidate:
        try:
            lon, lat = float(match["coordinates"]["x"]), float(match["coordinates"]["y"])
            label = str(match["matchedAddress"])
        except (TypeError, KeyError, ValueError):
            raise garbage(self.name) from None
        if not in_range(lat, lon) or not label:
            raise garbage(self.name)
        return Candidate(label, lat, lon, "interpolated")
