"""Which geocoder this deployment uses (``JOINTOPS_GEOCODER``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jointops.config import DEMO_DIRECTORY
from jointops.places.arcgis import ArcGISGeocoder
from jointops.places.census import CensusGeocoder
from jointops.places.gazetteer import DemoGazetteer
from jointops.places.geocoder import Geocoder
from jointops.places.nominatim import NominatimGeocoder
from jointops.places.photon import PhotonGeocoder

OFF = "off"


def geocoder_name(config: Mapping[str, Any]) -> str:
    """The configured name; ``auto`` is the demo gazetteer with the demo directory, else off."""
    name = str(config["GEOCODER"])
    if name != "auto":
        return name
    return "demo" if config["LDAP_URL"] == DEMO_DIRECTORY else OFF


def geocoder_for(config: Mapping[str, Any]) -> Geocoder | None:
    """The configured geocoder, or None when address search is off."""
    name = geocoder_name(config)
    url, timeout = config["GEOCODER_URL"], config["GEOCODER_TIMEOUT_S"]
    area = config["SERVICE_AREA"]
    if name == "demo":
        return DemoGazetteer()
    if name == "nominatim":
        return NominatimGeocoder(url, timeout, area)
    if name == "photon":
        return PhotonGeocoder(url, timeout, area)
    if name == "arcgis":
        return ArcGISGeocoder(url, timeout, area)
    if name == "census":
        return CensusGeocoder(url, timeout)
    return None
