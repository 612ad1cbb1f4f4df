"""Issuing states of vehicle plates (and the state of an address): codes and names."""

from __future__ import annotations

import re

US_STATES: dict[str, str] = {
    "AL": "ALABAMA",
    "AK": "ALASKA",
    "AZ": "ARIZONA",
    "AR": "ARKANSAS",
    "CA": "CALIFORNIA",
    "CO": "COLORADO",
    "CT": "CONNECTICUT",
    "DE": "DELAWARE",
    "DC": "DISTRICT OF COLUMBIA",
    "FL": "FLORIDA",
    "GA": "GEORGIA",
    "HI": "HAWAII",
    "ID": "IDAHO",
    "IL": "ILLINOIS",
    "IN": "INDIANA",
    "IA": "IOWA",
    "KS": "KANSAS",
    "KY": "KENTUCKY",
    "LA": "LOUISIANA",
    "ME": "MAINE",
    "MD": "MARYLAND",
    "MA": "MASSACHUSETTS",
    "MI": "MICHIGAN",
    "MN": "MINNESOTA",
    "MS": "MISSISSIPPI",
    "MO": "MISSOURI",
    "MT": "MONTANA",
    "NE": "NEBRASKA",
    "NV": "NEVADA",
    "NH": "NEW HAMPSHIRE",
    "NJ": "NEW JERSEY",
    "NM": "NEW MEXICO",
    "NY": "NEW YORK",
    "NC": "NORTH CAROLINA",
    "ND": "NORTH DAKOTA",
    "OH": "OHIO",
    "OK": "OKLAHOMA",
    "OR": "OREGON",
    "PA": "PENNSYLVANIA",
    "RI": "RHODE ISLAND",
    "SC": "SOUTH CAROLINA",
    "SD": "SOUTH DAKOTA",
    "TN": "TENNESSEE",
    "TX": "TEXAS",
    "UT": "UTAH",
    "VT": "VERMONT",
    "VA": "VIRGINIA",
    "WA": "WASHINGTON",
    "WV": "WEST VIRGINIA",
    "WI": "WISCONSIN",
    "WY": "WYOMING",
    "AS": "AMERICAN SAMOA",
    "GU": "GUAM",
    "MP": "NORTHERN MARIANA ISLANDS",
    "PR": "PUERTO RICO",
    "VI": "US VIRGIN ISLANDS",
}
CANADIAN_PROVINCES: dict[str, str] = {
    "AB": "ALBERTA",
    "BC": "BRITISH COLUMBIA",
    "MB": "MANITOBA",
    "NB": "NEW BRUNSWICK",
    "NL": "NEWFOUNDLAND AND LABRADOR",
    "NS": "NOVA SCOTIA",
    "NT": "NORTHWEST TERRITORIES",
    "NU": "NUNAVUT",
    "ON": "ONTARIO",
    "PE": "PRINCE EDWARD ISLAND",
    "QC": "QUEBEC",
    "SK": "SASKATCHEWAN",
    "YT": "YUKON",
}
# Issuers that are not a state: federal government, diplomatic (State Department), Mexico.
OTHER_ISSUERS: dict[str, str] = {"US": "US GOVERNMENT", "DS": "DIPLOMATIC", "MX": "MEXICO"}

_CODES = {**US_STATES, **CANADIAN_PROVINCES, **OTHER_ISSUERS}
_BY_NAME = {name: code for code, name in _CODES.items()} | {
    "WASHINGTON DC": "DC",
    "D C": "DC",
    "VIRGIN ISLANDS": "VI",
    "FLA": "FL",
    "CALIF": "CA",
    "TEX": "TX",
}


def region_code(raw: str) -> str | None:
    """``"fl"``, ``"Fla."``, ``"Florida"`` -> ``"FL"``; ``None`` when unknown."""
    text = re.sub(r"[^A-Z ]+", " ", raw.upper())
    text = " ".join(text.split())
    if text in _CODES:
        return text
    return _BY_NAME.get(text)
