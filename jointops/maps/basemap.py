"""The basemap under every map, from configuration, and what the CSP must allow for it.

Raster tiles come from ``JOINTOPS_MAP_TILES_URL`` (an XYZ template or an ArcGIS MapServer tile
endpoint; Leaflet fills ``{z}``, ``{x}`` and ``{y}`` in whatever order they come), or from a
PMTiles archive (``JOINTOPS_MAP_PMTILES``) served by this app; with neither, maps show the pin,
the circle and the coordinates on a blank background. ``jointops.config`` validates the values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

#: the policy of every response; ``content_security_policy`` adds the basemap's sources
BASE_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

#: the same-origin path of the PMTiles archive (a route of ``jointops.maps.views``)
PMTILES_PATH = "/api/map/basemap.pmtiles"


@dataclass(frozen=True)
class Basemap:
    kind: Literal["tiles", "pmtiles", "none"]
    #: a Leaflet tile template, or the PMTiles archive's path; "" for none
    url: str = ""
    attribution: str = ""

    @property
    def origin(self) -> str | None:
        """The tile server's ``scheme://host[:port]``, for the CSP; None when same-origin."""
        if self.kind != "tiles":
            return None
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


def basemap_of(config: Mapping[str, Any]) -> Basemap:
    attribution = config.get("MAP_ATTRIBUTION", "")
    if config.get("MAP_TILES_URL"):
        return Basemap("tiles", config["MAP_TILES_URL"], attribution)
    if config.get("MAP_PMTILES"):
        return Basemap("pmtiles", PMTILES_PATH, attribution)
    return Basemap("none")


def content_security_policy(basemap: Basemap) -> str:
    """The strict policy, plus the tile server's origin (or ``blob:`` for PMTiles) in img-src.

    PMTiles tiles are read with same-origin range requests (``default-src 'self'``) and shown
    as ``blob:`` images; raster tiles are plain images of the configured origin.
    """
    policy = {name: list(sources) for name, sources in BASE_POLICY.items()}
    if basemap.origin is not None:
        policy["img-src"].append(basemap.origin)
    elif basemap.kind == "pmtiles":
        policy["img-src"].append("blob:")
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def service_area_text(config: Mapping[str, Any]) -> str:
    """The office's service area as "south,west,north,east" for the maps' first view; "" if unset.

    ``JOINTOPS_SERVICE_AREA`` belongs to the places package; either its text or its parsed
    four numbers are read here.
    """
    area = config.get("SERVICE_AREA")
    if isinstance(area, str):
        parts = [part.strip() for part in area.split(",")]
    elif isinstance(area, Sequence) and len(area) == 4:
        parts = [str(part) for part in area]
    else:
        return ""
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return ""
    return ",".join(str(n) for n in numbers) if len(numbers) == 4 else ""
