"""Pointer-only by construction: a side's words for a match never hold the other side's values.

Property-based (Hypothesis) over every identifier kind and the name rules: two
records that share some values and differ in others are compared, and each
side's rendering (``deconflict.explain.for_side``, handed that side's own
values only) is searched for every raw and normalised value of the other
record that the side does not hold itself. Operations' renderings carry no
distance, limit, overlap or time at all.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconflict.events import EventRules, OperationRecord, compare_operations
from deconflict.explain import for_side
from deconflict.identifiers import Identifier, InvalidIdentifier
from deconflict.match import Rule
from deconflict.names import PersonName
from deconflict.targets import TargetRecord, compare_targets, record_values
from deconflict.windows import Window

# Pure: the deconfliction library on generated records with fixed dates.
pytestmark = pytest.mark.clockless

FIRSTS = [
    "John",
    "Jon",
    "Jonathan",
    "Maria",
    "María",
    "Marie",
    "Xiaoming",
    "Hsiao-ming",
    "Danielle",
]
LASTS = ["Smith", "Smyth", "Schneider", "Snyder", "Zhang", "Chang", "Garcia", "García", "Nguyen"]
RAW = {
    "phone": ["(561) 555-0134", "+1 561 555 0134", "011 52 1 55 1234 5678", "561-555-0199 x12"],
    "email": ["J.Doe+ads@gmail.com", "jdoe@googlemail.com", "k.lee@example.org"],
    "plate": ["FL:ABC 1O3", "FL:ABC 103", "GA:XYZ987"],
    "vin": ["1HGCM82633A004352", "1hg cm826 33a004352", "JH4KA7561PC008269"],
    "address": [
        "900 Lake Dr S Apt 4B, West Palm Beach, FL 33401",
        "900 S Lake Drive Unit 4B, West Palm Beach, FL 33401",
        "12 Elm St, Jupiter, FL 33458",
    ],
    "handle": ["IG:@Some.User", "https://instagram.com/some.user", "telegram:@jsmith_vip"],
    "business": ["Sunrise Spa LLC", "Sunrise Spa", "Golden Lotus Spa Inc"],
}
DOBS = [None, date(1988, 3, 4), date(1988, 4, 3), date(1989, 3, 4)]


def identifiers(kinds_values: list[tuple[str, str]]) -> tuple[Identifier, ...]:
    found = []
    for kind, raw in kinds_values:
        try:
            found.append(Identifier.parse(kind, raw))
        except InvalidIdentifier:
            continue
    return tuple(found)


side_values = st.lists(
    st.sampled_from([(kind, raw) for kind, values in RAW.items() for raw in values]),
    min_size=0,
    max_size=4,
)
people = st.builds(
    PersonName,
    st.sampled_from(FIRSTS),
    st.sampled_from(LASTS),
    st.lists(st.sampled_from(["Johnny", "Smoke", "Marcus Bell", "Big Mike"]), max_size=2).map(
        tuple
    ),
    st.sampled_from(DOBS),
)


def values_of(record: TargetRecord, raws: list[tuple[str, str]]) -> set[str]:
    """Every value the record holds, as typed and as normalised, with its name parts."""
    found = {raw for _kind, raw in raws} | {i.value for i in record.identifiers}
    if record.person is not None:
        person = record.person
        found |= {person.first, person.last, f"{person.first} {person.last}", *person.aliases}
        found |= {w for alias in person.aliases for w in alias.split()}
        if person.dob is not None:
            found |= {person.dob.isoformat(), person.dob.strftime("%m/%d/%Y")}
    return {v for v in found if len(v.strip()) > 1}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a_raw=side_values,
    b_raw=side_values,
    a_person=st.one_of(st.none(), people),
    b_person=st.one_of(st.none(), people),
)
def test_neither_side_reads_the_other_sides_values(
    a_raw: list[tuple[str, str]],
    b_raw: list[tuple[str, str]],
    a_person: PersonName | None,
    b_person: PersonName | None,
) -> None:
    a = TargetRecord("A-1", "PBSO", "c1", a_person, identifiers(a_raw))
    b = TargetRecord("B-1", "FBI", "c2", b_person, identifiers(b_raw))
    match = compare_targets(a, b)
    if match is None:
        return
    assert all(r.a_ref and r.b_ref for r in match.reasons)
    for own, own_raw, other, other_raw, side in (
        (a, a_raw, b, b_raw, "a"),
        (b, b_raw, a, a_raw, "b"),
    ):
        text = for_side(match.reasons, side, record_values(own))
        mine = {v.casefold() for v in values_of(own, own_raw)}
        for value in values_of(other, other_raw):
            if value.casefold() in mine:
                continue  # the side's own value, which it may read
            assert not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE), (
                side,
                value,
                text,
            )
        # nothing of a date-of-birth relation either
        assert not re.search(r"birth|transposed|year apart", text, re.IGNORECASE), text


T0 = datetime(2027, 1, 12, 14, 0, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(
    north=st.floats(-2500, 2500),
    east=st.floats(-2500, 2500),
    shift=st.integers(-180, 180),
    hours=st.integers(1, 8),
    radius=st.one_of(st.none(), st.integers(10, 5000)),
    subtype=st.sampled_from(["search_warrant", "surveillance", "undercover_meet"]),
)
def test_operations_read_no_geometry_or_time(
    north: float, east: float, shift: int, hours: int, radius: int | None, subtype: str
) -> None:
    a = OperationRecord(
        ref="1",
        agency="1",
        case=None,
        subtype="search_warrant",
        window=Window(T0, T0 + timedelta(hours=2)),
        latitude=26.6,
        longitude=-80.1,
    )
    start = T0 + timedelta(minutes=shift)
    b = OperationRecord(
        ref="2",
        agency="2",
        case=None,
        subtype=subtype,
        window=Window(start, start + timedelta(hours=hours)),
        latitude=26.6 + north / 111_195,
        longitude=-80.1 + east / 99_500,
        radius_m=radius,
    )
    match = compare_operations(a, b, EventRules())
    if match is None:
        return
    assert [r.rule for r in match.reasons] == [Rule.PLACE_TIME]
    for side in ("a", "b"):
        text = for_side(match.reasons, side, {})
        assert text == "Near your location, at an overlapping time."
    assert re.search(r"\d", match.explanation)  # the officer still reads the figures
