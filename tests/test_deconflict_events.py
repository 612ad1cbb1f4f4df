"""Event deconfliction (deconflict.events): distance, windows with buffers, search area."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from deconflict.events import (
    EARTH_RADIUS_M,
    EventRules,
    OperationRecord,
    compare_operations,
    distance_m,
    grid_cell,
    grid_cells,
    search_area,
)
from deconflict.match import Strength
from deconflict.windows import Window

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
WPB = (26.7153, -80.0534)  # West Palm Beach
METRES_PER_DEGREE_LAT = EARTH_RADIUS_M * math.pi / 180


def window(start_min: int, end_min: int) -> Window:
    return Window(T0 + timedelta(minutes=start_min), T0 + timedelta(minutes=end_min))


def op(
    ref: str,
    start_min: int = 0,
    end_min: int = 120,
    *,
    north_m: float = 0.0,
    agency: str = "PBSO",
    case: str | None = None,
    subtype: str = "search_warrant",
    radius_m: int | None = None,
    at: tuple[float, float] = WPB,
) -> OperationRecord:
    return OperationRecord(
        ref=ref,
        agency=agency,
        case=case,
        subtype=subtype,
        window=window(start_min, end_min),
        latitude=at[0] + north_m / METRES_PER_DEGREE_LAT,
        longitude=at[1],
        radius_m=radius_m,
    )


RULES = EventRules()


# -- distance ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        ((51.5074, -0.1278), (48.8566, 2.3522), 343.5),  # London - Paris
        ((40.7128, -74.0060), (34.0522, -118.2437), 3936),  # New York - Los Angeles
        ((25.7617, -80.1918), (26.7153, -80.0534), 106.9),  # Miami - West Palm Beach
        ((0.0, 179.9), (0.0, -179.9), 22.24),  # across the antimeridian
        ((90.0, 0.0), (-90.0, 0.0), 20015.1),  # pole to pole: half the circumference
    ],
)
def test_distance_of_known_pairs(a: tuple[float, float], b: tuple[float, float], km: float) -> None:
    assert distance_m(*a, *b) / 1000 == pytest.approx(km, rel=0.005)
    assert distance_m(*a, *b) == pytest.approx(distance_m(*b, *a))


def test_distance_to_itself_is_zero() -> None:
    assert distance_m(*WPB, *WPB) == 0.0


# -- the rules ---------------------------------------------------------------


def test_default_radii_and_buffer() -> None:
    assert RULES.buffer == timedelta(minutes=60)
    assert RULES.radius_for("search_warrant", None) == 500
    assert RULES.radius_for("surveillance", None) == 1500
    assert RULES.radius_for("Surveillance", None) == 1500
    assert RULES.radius_for("surveillance", 200) == 200


def test_rules_are_configurable_and_checked() -> None:
    rules = EventRules(buffer=timedelta(minutes=30), radius_m={"Arrest": 800}, default_radius_m=300)
    assert rules.radius_for("arrest", None) == 800
    assert rules.radius_for("undercover_meet", None) == 300
    with pytest.raises(ValueError, match="negative"):
        EventRules(buffer=timedelta(minutes=-1))
    with pytest.raises(ValueError, match="negative"):
        EventRules(radius_m={"arrest": -5})
    with pytest.raises(ValueError, match="negative"):
        RULES.radius_for("arrest", -1)


def test_rules_are_values() -> None:
    assert EventRules() == RULES
    assert hash(EventRules(radius_m={"a": 1, "b": 2})) == hash(
        EventRules(radius_m={"b": 2, "a": 1})
    )
    assert EventRules(radius_m={"surveillance": 1000}) != RULES


def test_operation_coordinates_are_checked() -> None:
    with pytest.raises(ValueError, match="latitude"):
        op("x", at=(91.0, 0.0))
    with pytest.raises(ValueError, match="longitude"):
        op("x", at=(0.0, 180.5))


# -- compare_operations ------------------------------------------------------


def test_the_contract_example() -> None:
    match = compare_operations(op("a", 0, 120), op("b", 75, 180, north_m=320, agency="HSI"), RULES)
    assert match is not None
    assert match.kind == "event"
    assert match.strength is Strength.EXACT  # each inside the other's radius, at the same time
    assert match.explanation == "within 320 m (limit 1,000 m), windows overlap by 45 min"


def test_overlap_within_the_sum_of_radii_but_outside_each_radius_is_probable() -> None:
    match = compare_operations(op("a"), op("b", north_m=800, agency="HSI"), RULES)
    assert match is not None and match.strength is Strength.PROBABLE
    assert match.explanation == "within 800 m (limit 1,000 m), windows overlap by 2 h"


def test_only_the_buffers_overlap_is_possible() -> None:
    match = compare_operations(op("a", 0, 60), op("b", 130, 200, agency="HSI"), RULES)
    assert match is not None and match.strength is Strength.POSSIBLE
    assert (
        match.explanation
        == "same location (limit 1,000 m), 1 h 10 min apart, inside the 60-minute buffer"
    )


def test_back_to_back_operations_are_inside_the_buffer() -> None:
    match = compare_operations(op("a", 0, 60), op("b", 60, 90, agency="HSI"), RULES)
    assert match is not None and "back to back" in match.explanation


@pytest.mark.parametrize(
    ("gap_min", "conflict"),
    [(119, True), (120, False), (121, False)],
)
def test_buffer_edges(gap_min: int, conflict: bool) -> None:
    # each window widened by 60 minutes: they touch at a 120-minute gap (half-open windows)
    a, b = op("a", 0, 60), op("b", 60 + gap_min, 200 + gap_min, agency="HSI")
    assert (compare_operations(a, b, RULES) is not None) is conflict
    assert (compare_operations(b, a, RULES) is not None) is conflict


def test_without_a_buffer_touching_windows_do_not_conflict() -> None:
    rules = EventRules(buffer=timedelta(0))
    assert compare_operations(op("a", 0, 60), op("b", 60, 90, agency="HSI"), rules) is None
    assert compare_operations(op("a", 0, 60), op("b", 59, 90, agency="HSI"), rules) is not None


@pytest.mark.parametrize(
    ("north_m", "conflict"),
    [(999, True), (1000, True), (1001, False), (5000, False)],
)
def test_distance_edges(north_m: float, conflict: bool) -> None:
    a, b = op("a"), op("b", north_m=north_m, agency="HSI")
    assert (compare_operations(a, b, RULES) is not None) is conflict


def test_surveillance_covers_more_ground() -> None:
    warrant, watch = op("a"), op("b", north_m=1800, agency="HSI", subtype="surveillance")
    match = compare_operations(warrant, watch, RULES)
    assert match is not None and "limit 2,000 m" in match.explanation
    assert compare_operations(warrant, op("c", north_m=1800, agency="HSI"), RULES) is None
    # a radius given on the operation wins over its subtype's
    small = op("d", north_m=1800, agency="HSI", subtype="surveillance", radius_m=100)
    assert compare_operations(warrant, small, RULES) is None


def test_one_agencys_one_case_needs_no_deconfliction() -> None:
    a = op("a", agency="PBSO", case="C-1")
    assert compare_operations(a, op("b", agency="PBSO", case="C-1"), RULES) is None
    assert compare_operations(a, op("b", agency="PBSO", case="C-2"), RULES) is not None
    assert compare_operations(a, op("b", agency="HSI", case="C-1"), RULES) is not None
    assert compare_operations(op("a", agency="PBSO"), op("b", agency="PBSO"), RULES) is not None
    assert compare_operations(a, a, RULES) is None


def test_scores_rank_closer_and_overlapping_higher() -> None:
    near = compare_operations(op("a"), op("b", north_m=50, agency="HSI"), RULES)
    far = compare_operations(op("a"), op("b", north_m=900, agency="HSI"), RULES)
    later = compare_operations(op("a", 0, 60), op("b", 150, 200, agency="HSI"), RULES)
    assert near and far and later
    assert 1.0 >= near.score > far.score > 0
    assert near.score > later.score


# -- search area -------------------------------------------------------------


def test_search_area_bounds() -> None:
    a = op("a", 0, 120)
    area = search_area(a, RULES, max_radius_m=1500)
    assert area.starts_before == T0 + timedelta(minutes=240)
    assert area.ends_after == T0 - timedelta(minutes=120)
    reach_deg = 2000 / METRES_PER_DEGREE_LAT
    assert area.max_lat - a.latitude == pytest.approx(reach_deg, rel=1e-6)
    assert a.latitude - area.min_lat == pytest.approx(reach_deg, rel=1e-6)
    assert area.max_lon - a.longitude > reach_deg  # a degree of longitude is shorter here


def test_search_area_widens_to_every_longitude_near_a_pole_or_the_antimeridian() -> None:
    polar = search_area(op("a", at=(89.999, 10.0)), RULES, 1500)
    assert (polar.min_lon, polar.max_lon, polar.max_lat) == (-180.0, 180.0, 90.0)
    dateline = search_area(op("a", at=(-16.5, 179.999)), RULES, 1500)
    assert (dateline.min_lon, dateline.max_lon) == (-180.0, 180.0)


def random_ops(rng: random.Random, n: int) -> list[OperationRecord]:
    """Operations clustered around a few places (some awkward ones) and a few hours."""
    centres = [WPB, (26.7, -80.1), (0.0, 0.0), (-33.9, 151.2), (89.99, 45.0), (64.0, 179.995)]
    subtypes = ["search_warrant", "surveillance", "arrest", "undercover_meet"]
    ops = []
    for i in range(n):
        lat0, lon0 = rng.choice(centres)
        d, bearing = rng.uniform(0, 4000), rng.uniform(0, 2 * math.pi)
        lat = max(-90.0, min(90.0, lat0 + d * math.cos(bearing) / METRES_PER_DEGREE_LAT))
        scale = max(math.cos(math.radians(lat)), 1e-6)
        lon = (lon0 + d * math.sin(bearing) / METRES_PER_DEGREE_LAT / scale + 180) % 360 - 180
        start = rng.randint(0, 24 * 60)
        ops.append(
            OperationRecord(
                ref=f"op{i}",
                agency=rng.choice(["PBSO", "HSI", "FBI"]),
                case=rng.choice([None, "C-1", "C-2"]),
                subtype=rng.choice(subtypes),
                window=window(start, start + rng.randint(1, 300)),
                latitude=lat,
                longitude=lon,
                radius_m=rng.choice([None, None, None, rng.randint(0, 1200)]),
            )
        )
    return ops


@pytest.mark.parametrize("buffer_min", [0, 60, 90])
def test_search_area_contains_every_operation_that_conflicts(buffer_min: int) -> None:
    rng = random.Random(20260501 + buffer_min)
    rules = EventRules(buffer=timedelta(minutes=buffer_min))
    ops = random_ops(rng, 400)
    max_radius = max(rules.radius_for(o.subtype, o.radius_m) for o in ops)
    conflicts = 0
    for a in ops:
        area = search_area(a, rules, max_radius)
        for b in ops:
            if compare_operations(a, b, rules) is not None:
                conflicts += 1
                assert area.contains(b), (a, b, area)
    assert conflicts > 500  # the test would prove nothing without many conflicts


def test_the_grid_cells_of_a_search_hold_every_operation_it_may_find() -> None:
    """The app narrows the search to the area's grid cells: none of its places may lie outside."""
    rng = random.Random(20261130)
    rules = EventRules()
    gridded = 0
    for a in random_ops(rng, 300):
        area = search_area(a, rules, 1500)
        cells = grid_cells(area, limit=100)
        if cells is None:  # near a pole or the antimeridian the box spans many longitudes
            assert abs(a.latitude) > 80 or abs(a.longitude) > 179, a
            continue
        gridded += 1
        assert 1 <= len(cells) <= 100
        for _ in range(50):
            lat = rng.uniform(area.min_lat, area.max_lat)
            lon = rng.uniform(area.min_lon, area.max_lon)
            assert grid_cell(lat, lon) in cells
        for lat, lon in [
            (area.min_lat, area.min_lon),
            (area.max_lat, area.max_lon),
            (area.min_lat, area.max_lon),
        ]:
            assert grid_cell(lat, lon) in cells
    assert gridded > 150


def test_a_search_too_wide_for_the_grid_gets_no_cells() -> None:
    wide = search_area(op("a", at=(26.6, -80.1)), RULES, max_radius_m=50_000)
    assert grid_cells(wide, limit=100) is None
    everywhere = search_area(op("a", at=(89.999, 10.0)), RULES, 1500)
    assert grid_cells(everywhere, limit=100) is None
    assert grid_cell(90.0, 180.0) == grid_cell(89.99, 179.99)  # the last row and column
    assert grid_cell(-90.0, -180.0) == 0
