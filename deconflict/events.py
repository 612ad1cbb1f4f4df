"""Event deconfliction: two field operations at nearly the same place and time.

Two operations conflict when their time windows, each widened by a buffer,
overlap, and the great-circle distance between them is at most the sum of
their radii. Radii default per subtype (surveillance covers more ground).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from deconflict.match import Match, Measure, Reason, Rule, Strength, same_case
from deconflict.windows import Window, overlap, overlaps

# Mean Earth radius (IUGG), metres: the haversine's sphere.
EARTH_RADIUS_M = 6_371_008.8
# Floating-point slack on "at most the sum of the radii": a millimetre.
SLACK_M = 0.001


def _default_radii() -> Mapping[str, int]:
    return MappingProxyType({"surveillance": 1500})


@dataclass(frozen=True)
class EventRules:
    """The configurable part of event deconfliction."""

    buffer: timedelta = timedelta(minutes=60)
    radius_m: Mapping[str, int] = field(default_factory=_default_radii)
    default_radius_m: int = 500

    def __post_init__(self) -> None:
        if self.buffer < timedelta(0):
            raise ValueError("the buffer cannot be negative")
        if self.default_radius_m < 0 or any(r < 0 for r in self.radius_m.values()):
            raise ValueError("a radius cannot be negative")
        object.__setattr__(
            self, "radius_m", MappingProxyType({k.lower(): v for k, v in self.radius_m.items()})
        )

    def __hash__(self) -> int:
        return hash((self.buffer, tuple(sorted(self.radius_m.items())), self.default_radius_m))

    def radius_for(self, subtype: str, given: int | None) -> int:
        """The operation's own radius when it has one, else its subtype's default."""
        if given is not None:
            if given < 0:
                raise ValueError("a radius cannot be negative")
            return given
        return self.radius_m.get(subtype.lower(), self.default_radius_m)


@dataclass(frozen=True)
class OperationRecord:
    """A field operation as the rules see it."""

    ref: str
    agency: str
    case: str | None
    subtype: str
    window: Window
    latitude: float
    longitude: float
    radius_m: int | None = None

    def __post_init__(self) -> None:
        if not -90.0 <= self.latitude <= 90.0:
            raise ValueError(f"latitude must be within -90..90, not {self.latitude}")
        if not -180.0 <= self.longitude <= 180.0:
            raise ValueError(f"longitude must be within -180..180, not {self.longitude}")
        if self.radius_m is not None and self.radius_m < 0:
            raise ValueError("a radius cannot be negative")


@dataclass(frozen=True)
class SearchArea:
    """Bounds of the indexed query for the operations that may conflict with one.

    Every operation that can conflict starts strictly before ``starts_before``,
    ends strictly after ``ends_after``, and lies inside the box (bounds
    included). The box never wraps: near a pole or the antimeridian it
    widens to every longitude.
    """

    starts_before: datetime
    ends_after: datetime
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    def contains(self, op: OperationRecord) -> bool:
        """True when ``op`` passes the query these bounds describe."""
        return (
            op.window.start < self.starts_before
            and op.window.end > self.ends_after
            and self.min_lat <= op.latitude <= self.max_lat
            and self.min_lon <= op.longitude <= self.max_lon
        )


#: The side of a cell of the grid that indexes places, in degrees (2.2 km north-south).
GRID_DEGREES = 0.02
_GRID_ROWS, _GRID_COLUMNS = round(180 / GRID_DEGREES), round(360 / GRID_DEGREES)


def grid_cell(latitude: float, longitude: float) -> int:
    """The number of the grid cell a place lies in: row * 100,000 + column.

    Monotonic in each coordinate, so the cells a box touches are every
    combination of the rows and columns of its corners (:func:`grid_cells`).
    """
    row = min(int((latitude + 90.0) / GRID_DEGREES), _GRID_ROWS - 1)
    column = min(int((longitude + 180.0) / GRID_DEGREES), _GRID_COLUMNS - 1)
    return row * 100_000 + column


def grid_cells(area: SearchArea, limit: int) -> list[int] | None:
    """The cells the area's box touches; ``None`` when there are more than ``limit``."""
    low, high = grid_cell(area.min_lat, area.min_lon), grid_cell(area.max_lat, area.max_lon)
    rows = range(low // 100_000, high // 100_000 + 1)
    columns = range(low % 100_000, high % 100_000 + 1)
    if len(rows) * len(columns) > limit:
        return None
    return [r * 100_000 + c for r in rows for c in columns]


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine on the mean-radius sphere).

    Good to about 0.5 % against the ellipsoid: well inside the slack of
    radii given in hundreds of metres.
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def search_area(op: OperationRecord, rules: EventRules, max_radius_m: int) -> SearchArea:
    """The bounds within which every operation that may conflict with ``op`` lies.

    ``max_radius_m`` is the largest radius any operation may have (given or by
    subtype). Widened windows overlap when the other starts before this one's
    end plus both buffers and ends after this one's start minus both buffers.
    The box is the exact bounding box of a spherical cap (J. P. Matuschek,
    "Finding Points Within a Distance of a Latitude/Longitude"), a little
    enlarged for rounding.
    """
    reach = rules.radius_for(op.subtype, op.radius_m) + max(0, max_radius_m) + 2 * SLACK_M
    angle = reach / EARTH_RADIUS_M
    lat = math.radians(op.latitude)
    lon = math.radians(op.longitude)
    min_lat, max_lat = lat - angle, lat + angle
    if min_lat <= -math.pi / 2 or max_lat >= math.pi / 2 or angle >= math.pi / 2:
        min_lon, max_lon = -math.pi, math.pi
        min_lat, max_lat = max(min_lat, -math.pi / 2), min(max_lat, math.pi / 2)
    else:
        delta = math.asin(min(1.0, math.sin(angle) / math.cos(lat)))
        min_lon, max_lon = lon - delta, lon + delta
        if min_lon < -math.pi or max_lon > math.pi:
            min_lon, max_lon = -math.pi, math.pi
    both = 2 * rules.buffer
    return SearchArea(
        starts_before=op.window.end + both,
        ends_after=op.window.start - both,
        min_lat=max(-90.0, math.degrees(min_lat)),
        max_lat=min(90.0, math.degrees(max_lat)),
        min_lon=max(-180.0, math.degrees(min_lon)),
        max_lon=min(180.0, math.degrees(max_lon)),
    )


def compare_operations(a: OperationRecord, b: OperationRecord, rules: EventRules) -> Match | None:
    """A conflict between two operations, or ``None``.

    Operations of one agency's one case are coordinated already and never
    conflict. Otherwise: ``exact`` when the windows themselves overlap and
    one operation lies inside the other's radius; ``probable`` when the
    windows overlap within the sum of the radii; ``possible`` when only the
    buffers make them overlap.
    """
    if (a.agency, a.ref) == (b.agency, b.ref) or same_case(a.agency, a.case, b.agency, b.case):
        return None
    if not overlaps(a.window.widened(rules.buffer), b.window.widened(rules.buffer)):
        return None
    ra = rules.radius_for(a.subtype, a.radius_m)
    rb = rules.radius_for(b.subtype, b.radius_m)
    limit = ra + rb
    distance = distance_m(a.latitude, a.longitude, b.latitude, b.longitude)
    if distance > limit + SLACK_M:
        return None

    closeness = max(0.0, 1.0 - distance / limit) if limit else 1.0
    where = "same location" if distance < 0.5 else f"within {_metres(distance)}"
    place = f"{where} (limit {_metres(limit)})"
    shared = overlap(a.window, b.window)
    if shared > timedelta(0):
        strength = Strength.EXACT if distance <= min(ra, rb) + SLACK_M else Strength.PROBABLE
        when = f"windows overlap by {_duration(shared)}"
        timing = 1.0
    else:
        gap = max(a.window.start, b.window.start) - min(a.window.end, b.window.end)
        apart = "back to back" if gap == timedelta(0) else f"{_duration(gap)} apart"
        when = f"{apart}, inside the {_duration(rules.buffer, long=True)} buffer"
        strength = Strength.POSSIBLE
        timing = 1.0 - gap / (2 * rules.buffer)
    score = round(0.4 + 0.3 * closeness + 0.3 * timing, 3)
    measure: Measure = (
        ("distance_m", round(distance, 1)),
        ("limit_m", float(limit)),
        ("overlap_min" if shared > timedelta(0) else "gap_min", _minutes(shared, a, b)),
    )
    reason = Reason(
        Rule.PLACE_TIME, "location", strength, f"{place}, {when}", measure, "location", "location"
    )
    return Match("event", min(1.0, score), strength, (reason,))


def _minutes(shared: timedelta, a: OperationRecord, b: OperationRecord) -> float:
    """Minutes the windows share, or (when they share none) lie apart."""
    if shared > timedelta(0):
        return shared.total_seconds() / 60
    gap = max(a.window.start, b.window.start) - min(a.window.end, b.window.end)
    return gap.total_seconds() / 60


def _metres(value: float) -> str:
    return f"{round(value):,} m"


def _duration(value: timedelta, *, long: bool = False) -> str:
    minutes = round(value.total_seconds() / 60)
    if long:
        return f"{minutes}-minute"
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"
