"""The demo's geocoder: a small built-in gazetteer of Palm Beach County, searched in-process.

It holds the demo events' addresses and a few landmarks and streets, so that the demo
finds places with no network. Matching forgives case, punctuation, common street
abbreviations and unfinished words: every word typed must begin a word of the place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from jointops.places.geocoder import MAX_CANDIDATES, Candidate, Quality

EntryKind = Literal["address", "landmark", "street", "town"]


@dataclass(frozen=True)
class Entry:
    label: str
    lat: float
    lon: float
    quality: Quality
    #: other words people search it by
    aliases: str = ""
    #: ``address`` (a street address), ``landmark``, ``street`` or ``town``: a map without a
    #: basemap draws the landmarks and names the towns for bearings
    kind: EntryKind = "address"


WPB = "West Palm Beach, FL"

ENTRIES: tuple[Entry, ...] = (
    # the demo events' places
    Entry(f"4700 Okeechobee Blvd, {WPB} 33409", 26.7106, -80.1108, "rooftop", "Riverside spa"),
    Entry(f"3200 Broadway, {WPB} 33407", 26.7407, -80.0566, "rooftop"),
    Entry(f"3400 Broadway, {WPB} 33407", 26.7450, -80.0570, "rooftop"),
    Entry(f"1601 Belvedere Rd, {WPB} 33406", 26.7000, -80.0720, "rooftop", "hotel"),
    Entry(f"1800 Palm Beach Lakes Blvd, {WPB} 33401", 26.7289, -80.0846, "rooftop", "motel"),
    Entry(
        f"Palm Beach Lakes Blvd & I-95, {WPB}", 26.7262, -80.0846, "interpolated", "interstate 95"
    ),
    Entry(f"2500 N Military Trl, {WPB} 33409", 26.7350, -80.1150, "rooftop"),
    Entry(f"800 Executive Center Dr, {WPB} 33401", 26.7180, -80.0980, "rooftop"),
    # landmarks
    Entry(
        f"Palm Beach County Courthouse, 205 N Dixie Hwy, {WPB} 33401",
        26.7146,
        -80.0540,
        "rooftop",
        "main judicial center court",
        kind="landmark",
    ),
    Entry(
        "South County Courthouse, 200 W Atlantic Ave, Delray Beach, FL 33444",
        26.4614,
        -80.0745,
        "rooftop",
        "court",
        kind="landmark",
    ),
    Entry(
        f"Palm Beach County Sheriff's Office Headquarters, 3228 Gun Club Rd, {WPB} 33406",
        26.6838,
        -80.0925,
        "rooftop",
        "PBSO HQ sheriff",
        kind="landmark",
    ),
    Entry(
        f"West Palm Beach Police Department, 600 Banyan Blvd, {WPB} 33401",
        26.7160,
        -80.0588,
        "rooftop",
        "WPBPD police",
        kind="landmark",
    ),
    Entry(
        f"Palm Beach International Airport, 1000 James L Turnage Blvd, {WPB} 33415",
        26.6832,
        -80.0956,
        "centroid",
        "PBI airport",
        kind="landmark",
    ),
    Entry(
        f"The Square, 700 S Rosemary Ave, {WPB} 33401",
        26.7075,
        -80.0590,
        "rooftop",
        "CityPlace",
        kind="landmark",
    ),
    Entry(
        f"Tri-Rail West Palm Beach Station, 203 S Tamarind Ave, {WPB} 33401",
        26.7125,
        -80.0621,
        "rooftop",
        "train Amtrak",
        kind="landmark",
    ),
    # streets (their middle)
    Entry(f"Okeechobee Blvd, {WPB}", 26.7090, -80.0950, "centroid", kind="street"),
    Entry(f"Broadway, {WPB}", 26.7420, -80.0560, "centroid", kind="street"),
    Entry(f"N Military Trl, {WPB}", 26.7300, -80.1160, "centroid", kind="street"),
    Entry(f"Clematis St, {WPB}", 26.7134, -80.0560, "centroid", kind="street"),
    Entry(f"Palm Beach Lakes Blvd, {WPB}", 26.7260, -80.0800, "centroid", kind="street"),
    Entry(f"Belvedere Rd, {WPB}", 26.7000, -80.0800, "centroid", kind="street"),
    Entry(f"N Dixie Hwy, {WPB}", 26.7250, -80.0560, "centroid", kind="street"),
    # towns
    Entry("West Palm Beach, FL", 26.7153, -80.0534, "centroid", kind="town"),
    Entry("Riviera Beach, FL", 26.7753, -80.0581, "centroid", kind="town"),
    Entry("Lake Worth Beach, FL", 26.6168, -80.0684, "centroid", kind="town"),
    Entry("Boca Raton, FL", 26.3683, -80.1289, "centroid", kind="town"),
    Entry("Belle Glade, FL", 26.6845, -80.6676, "centroid", kind="town"),
    Entry("Jupiter, FL", 26.9342, -80.0942, "centroid", kind="town"),
    # outside the default service area: the demo of a pin that must be confirmed
    Entry(
        "Miami-Dade County Courthouse, 73 W Flagler St, Miami, FL 33130",
        25.7743,
        -80.1963,
        "rooftop",
        "court",
        kind="landmark",
    ),
)

#: spelled-out words and their abbreviations, searched as one
ABBREVIATIONS = {
    "boulevard": "blvd",
    "street": "st",
    "road": "rd",
    "trail": "trl",
    "drive": "dr",
    "avenue": "ave",
    "highway": "hwy",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "florida": "fl",
    "saint": "st",
    "headquarters": "hq",
    "and": "&",
}


def words(text: str) -> list[str]:
    found = re.findall(r"[a-z0-9]+|&", text.casefold().replace("'", ""))
    return [ABBREVIATIONS.get(w, w) for w in found]


class DemoGazetteer:
    name = "demo"
    remote = False

    def __init__(self, entries: tuple[Entry, ...] = ENTRIES) -> None:
        self.index = [(entry, words(f"{entry.label} {entry.aliases}")) for entry in entries]

    def search(self, text: str) -> list[Candidate]:
        typed = words(text)
        if not typed:
            return []
        scored = []
        for order, (entry, known) in enumerate(self.index):
            exact = 0
            for word in typed:
                if word in known:
                    exact += 1
                elif not any(k.startswith(word) for k in known):
                    break
            else:
                scored.append((-exact, order, entry))
        scored.sort(key=lambda s: s[:2])
        return [Candidate(e.label, e.lat, e.lon, e.quality) for *_, e in scored[:MAX_CANDIDATES]]
