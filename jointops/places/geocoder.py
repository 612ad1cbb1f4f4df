"""The one small interface every address search answers to, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args

Quality = Literal["rooftop", "interpolated", "centroid"]
QUALITIES: tuple[str, ...] = get_args(Quality)

#: the most candidates a search returns
MAX_CANDIDATES = 8


@dataclass(frozen=True)
class Candidate:
    """One place a search found: its label, position in degrees (WGS 84) and how good it is."""

    label: str
    lat: float
    lon: float
    quality: Quality

    def as_data(self) -> dict[str, Any]:
        return {"label": self.label, "lat": self.lat, "lon": self.lon, "quality": self.quality}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Candidate:
        quality = data["quality"]
        if quality not in QUALITIES:
            raise ValueError(f"unknown quality {quality!r}")
        return cls(str(data["label"]), float(data["lat"]), float(data["lon"]), quality)


class GeocoderUnavailable(Exception):
    """The geocoder did not answer in time, answered with an error, or answered nonsense."""


class Geocoder(Protocol):
    """An address search. ``name`` is its ``JOINTOPS_GEOCODER`` value; ``remote`` is whether
    a search leaves the process (and so is worth caching)."""

    name: str
    remote: bool

    def search(self, text: str) -> list[Candidate]:
        """Candidates for ``text``, best first; raises ``GeocoderUnavailable``."""
        ...


def in_range(lat: float, lon: float) -> bool:
    return -90 <= lat <= 90 and -180 <= lon <= 180
