"""Target deconfliction (deconflict.targets) and the Match it returns (deconflict.match)."""

from __future__ import annotations

from datetime import date

import pytest

from deconflict.identifiers import Identifier, exact_keys
from deconflict.match import Match, Reason, Rule, Strength
from deconflict.names import PersonName, name_keys
from deconflict.targets import (
    TargetRecord,
    compare_targets,
    namesake_keys,
    target_keys,
    target_probe_keys,
)

DOB = date(1985, 3, 14)


def target(
    ref: str,
    *identifiers: tuple[str, str],
    person: PersonName | None = None,
    agency: str = "PBSO",
    case: str | None = "C-1",
) -> TargetRecord:
    return TargetRecord(
        ref=ref,
        agency=agency,
        case=case,
        person=person,
        identifiers=tuple(Identifier.parse(kind, raw) for kind, raw in identifiers),
    )


def compare(a: TargetRecord, b: TargetRecord) -> Match | None:
    match = compare_targets(a, b)
    if match is not None:
        assert target_probe_keys(a) & target_keys(b), "a match the app's index would never find"
        assert target_probe_keys(b) & target_keys(a), "blocking is symmetric"
        other = compare_targets(b, a)
        assert other is not None and other.strength is match.strength, "matching is symmetric"
    return match


def texts(match: Match | None) -> tuple[str, ...]:
    """The officer's line of each reason."""
    assert match is not None
    return tuple(r.text for r in match.reasons)


def officer(text: str) -> Reason:
    return Reason(Rule.IDENTIFIER, "phone", Strength.POSSIBLE, text)


def test_a_phone_in_two_formats_is_an_exact_match() -> None:
    match = compare(
        target("a", ("phone", "(561) 555-0134")),
        target("b", ("phone", "+1 561.555.0134"), agency="HSI"),
    )
    assert match is not None and (match.kind, match.score, match.strength) == (
        "target",
        0.97,
        Strength.EXACT,
    )
    assert texts(match) == ("phone +15615550134 matches",)
    [reason] = match.reasons
    assert (reason.rule, reason.field, reason.a_ref, reason.b_ref) == (
        Rule.IDENTIFIER,
        "phone",
        "phone:0",
        "phone:0",
    )


@pytest.mark.parametrize(
    ("kind", "a", "b", "reason"),
    [
        ("email", "J.Doe+ads@gmail.com", "jdoe@googlemail.com", "e-mail jdoe@gmail.com matches"),
        ("vin", "1HGCM82633A004352", "1hg cm826 33a004352", "VIN 1HGCM82633A004352 matches"),
        (
            "handle",
            "IG:@Some.User",
            "https://instagram.com/some.user",
            "handle instagram:some.user matches",
        ),
        ("plate", "FL:ABC 123", "Florida:abc-123", "plate FL:ABC123 matches"),
    ],
)
def test_identifiers_of_one_person_match_exactly(kind: str, a: str, b: str, reason: str) -> None:
    match = compare(target("a", (kind, a)), target("b", (kind, b), agency="HSI"))
    assert match is not None and match.strength is Strength.EXACT
    assert texts(match) == (reason,)


def test_a_plate_read_with_o_for_0_is_probable() -> None:
    match = compare(
        target("a", ("plate", "FL:ABC 1O3")), target("b", ("plate", "FL:ABC 103"), agency="HSI")
    )
    assert match is not None and match.strength is Strength.PROBABLE
    assert match.explanation == "plate FL:ABC1O3 ~ FL:ABC103 (O/0 and I/1 read alike)"


def test_phone_extensions() -> None:
    line = target("a", ("phone", "561-555-0134"))
    ext2 = target("b", ("phone", "561-555-0134 ext 2"), agency="HSI")
    ext3 = target("c", ("phone", "561-555-0134 ext 3"), agency="FBI")
    one_side = compare(line, ext2)
    assert one_side is not None and one_side.strength is Strength.PROBABLE
    assert one_side.explanation == "phone +15615550134 matches (extension given on one side only)"
    switchboard = compare(ext2, ext3)
    assert switchboard is not None and switchboard.strength is Strength.POSSIBLE
    assert compare(ext2, target("d", ("phone", "(561) 555-0134 x2"), agency="FBI")) is not None


def test_a_foreign_number_dialled_two_ways_is_an_exact_match() -> None:
    match = compare(
        target("a", ("phone", "011 52 1 55 1234 5678 ext. 4")),
        target("b", ("phone", "+52 (55) 1234-5678 x004"), agency="HSI"),
    )
    assert match is not None and match.strength is Strength.EXACT
    assert match.explanation == "phone +525512345678;ext=4 matches"


def test_an_address_with_its_unit_and_directional_written_otherwise_matches() -> None:
    home = "900 Lake Dr S Apt 4B, Boca Raton, FL 33432"
    other = "900 South Lake Drive, Suite #4B, Boca Raton Florida 33432"
    match = compare(
        target("a", ("address", home), person=PersonName("Robert", "Pemberton")),
        target(
            "b", ("address", other), person=PersonName("Bob", "Pemberton", dob=DOB), agency="HSI"
        ),
    )
    assert match is not None and match.strength is Strength.PROBABLE
    assert match.reasons[1].text == "address 900 LAKE DR S APT 4B matches (written otherwise)"


def test_a_common_name_alone_is_damped_and_never_makes_other_evidence_probable() -> None:
    spa = ("business", "Golden Lotus Spa, LLC")
    a = target("a", spa, person=PersonName("John", "Smith"))
    b = target("b", ("business", "GOLDEN LOTUS SPA"), person=PersonName("Jon", "Smith", dob=DOB))
    b = TargetRecord(b.ref, "HSI", b.case, b.person, b.identifiers)
    keys = namesake_keys(a) | namesake_keys(b)
    rare = compare_targets(a, b, namesakes=dict.fromkeys(keys, 2))
    assert rare is not None and rare.strength is Strength.PROBABLE
    assert rare == compare_targets(a, b)  # nothing counted: nothing damped
    common = compare_targets(a, b, namesakes=dict.fromkeys(keys, 12))
    assert common is not None and common.strength is Strength.POSSIBLE
    assert len(common.reasons) == 2 and "a common name" in common.reasons[1].text
    very = compare_targets(a, b, namesakes=dict.fromkeys(keys, 500))
    assert very is not None and very.strength is Strength.POSSIBLE
    assert texts(very) == ("business GOLDEN LOTUS SPA matches",)
    # the more common of the two names counts
    one_side = {next(iter(namesake_keys(b))): 500}
    assert compare_targets(a, b, namesakes=one_side) == very
    # a shared phone is exact however common the name; a date of birth on both sides is
    # what tells namesakes apart, and is not damped
    phone = ("phone", "561-555-0134")
    called = compare(
        target("c", phone, person=PersonName("John", "Smith")),
        target("d", phone, person=PersonName("John", "Smith"), agency="HSI"),
    )
    assert called is not None and called.strength is Strength.EXACT
    dated = target("e", spa, person=PersonName("John", "Smith", dob=DOB))
    assert compare_targets(dated, b, namesakes=dict.fromkeys(keys, 500)) == compare_targets(
        dated, b
    )


def test_an_address_alone_is_only_possible() -> None:
    match = compare(
        target("a", ("address", "123 N Main St Apt 4B, West Palm Beach, FL 33401")),
        target(
            "b", ("address", "123 North Main Street #4B, West Palm Beach FL 33401"), agency="HSI"
        ),
    )
    assert match is not None and match.strength is Strength.POSSIBLE
    assert match.explanation == "address 123 N MAIN ST APT 4B, WEST PALM BEACH, FL 33401 matches"


def test_relatives_at_one_address_stay_possible() -> None:
    home = ("address", "77 Banyan Ct, Jupiter, FL 33458")
    mother = PersonName("Maria", "Garcia", dob=date(1968, 2, 1))
    son = PersonName("José", "Garcia", dob=date(1991, 6, 30))
    match = compare(target("a", home, person=mother), target("b", home, person=son, agency="HSI"))
    assert match is not None and match.strength is Strength.POSSIBLE
    assert match.reasons[-1].text == "dates of birth differ"


def test_a_father_and_son_of_one_name_at_one_address_stay_possible() -> None:
    home = ("address", "77 Banyan Ct, Jupiter, FL 33458")
    father = PersonName("John", "Smith", dob=date(1960, 2, 1))
    son = PersonName("John", "Smith", dob=date(1988, 6, 30))
    match = compare(target("a", home, person=father), target("b", home, person=son, agency="HSI"))
    assert match is not None and match.strength is Strength.POSSIBLE


def test_a_name_without_a_birthday_and_an_address_together_are_probable() -> None:
    home = ("address", "77 Banyan Ct, Jupiter, FL 33458")
    match = compare(
        target("a", home, person=PersonName("Robert", "Pemberton")),
        target("b", home, person=PersonName("Bob", "Pemberton", dob=DOB), agency="HSI"),
    )
    assert match is not None and match.strength is Strength.PROBABLE
    assert texts(match) == (
        "name Robert Pemberton ~ Bob Pemberton (nickname), no date of birth to compare",
        "address 77 BANYAN CT, JUPITER, FL 33458 matches",
    )


def test_a_new_phone_with_the_same_name_and_birthday_is_probable() -> None:
    match = compare(
        target("a", ("phone", "561-555-0134"), person=PersonName("Jon", "Smyth", dob=DOB)),
        target(
            "b",
            ("phone", "954-555-0188"),
            person=PersonName("John", "Smith", dob=DOB),
            agency="HSI",
        ),
    )
    assert match is not None and match.strength is Strength.PROBABLE
    assert match.explanation == "name Jon Smyth ~ John Smith (nickname), same date of birth"


def test_all_reasons_are_kept_strongest_first() -> None:
    a = target(
        "a",
        ("address", "77 Banyan Ct, Jupiter, FL 33458"),
        ("phone", "561-555-0134"),
        person=PersonName("John", "Smith", dob=DOB),
    )
    b = target(
        "b",
        ("phone", "5615550134"),
        ("address", "77 Banyan Court, Jupiter FL 33458"),
        person=PersonName("Jon", "Smith", dob=DOB),
        agency="HSI",
    )
    match = compare(a, b)
    assert match is not None and match.strength is Strength.EXACT
    assert match.reasons[0].text == "phone +15615550134 matches"
    assert len(match.reasons) == 3
    assert match.score > 0.99


def test_same_business_is_possible_and_with_its_address_probable() -> None:
    spa = ("business", "Golden Lotus Spa, LLC")
    place = ("address", "4500 Okeechobee Blvd Suite 201, West Palm Beach, FL 33409")
    alone = compare(target("a", spa), target("b", ("business", "GOLDEN LOTUS SPA"), agency="HSI"))
    assert alone is not None and alone.strength is Strength.POSSIBLE
    both = compare(target("a", spa, place), target("b", spa, place, agency="HSI"))
    assert both is not None and both.strength is Strength.PROBABLE


def test_a_couple_at_one_home_and_one_business_stays_possible() -> None:
    home = ("address", "77 Banyan Ct, Jupiter, FL 33458")
    spa = ("business", "Golden Lotus Spa, LLC")
    match = compare(
        target("a", home, spa, person=PersonName("Wei", "Chen")),
        target("b", home, spa, person=PersonName("Li", "Zhang"), agency="HSI"),
    )
    assert match is not None and match.strength is Strength.POSSIBLE
    assert len(match.reasons) == 2


def test_nothing_in_common_is_no_match() -> None:
    a = target("a", ("phone", "561-555-0134"), person=PersonName("John", "Smith", dob=DOB))
    b = target(
        "b", ("phone", "561-555-0135"), person=PersonName("John", "Smith", dob=date(1990, 1, 1))
    )
    assert compare(a, b) is None


def test_one_agencys_one_case_is_not_deconflicted_against_itself() -> None:
    phone = ("phone", "561-555-0134")
    assert compare_targets(target("a", phone), target("b", phone)) is None
    assert compare_targets(target("a", phone), target("a", phone, case="C-2")) is None
    assert compare_targets(target("a", phone), target("b", phone, case="C-2")) is not None
    assert compare_targets(target("a", phone, case=None), target("b", phone, case=None)) is not None


def test_target_keys_are_identifier_keys_and_name_keys() -> None:
    person = PersonName("John", "Smith")
    record = target("a", ("plate", "FL:ABC 1O3"), person=person)
    assert namesake_keys(record) == {"namesake:JN:SM0"}
    assert target_keys(record) == (
        exact_keys("plate", "FL:ABC1O3") | name_keys(person) | namesake_keys(record)
    )
    assert not namesake_keys(record) & target_probe_keys(record)  # counted, never looked up
    assert target_keys(target("b")) == frozenset()


# -- Match -------------------------------------------------------------------


def test_match_explanation_joins_the_reasons() -> None:
    match = Match("event", 0.5, Strength.POSSIBLE, (officer("a"), officer("b")))
    assert match.explanation == "a; b"
    exact = Match("target", 1, "exact", (officer("x"),))  # type: ignore[arg-type]
    assert exact.strength is Strength.EXACT
    assert Strength("probable") is Strength.PROBABLE


@pytest.mark.parametrize(
    ("kind", "score", "reasons", "message"),
    [
        ("person", 0.5, ("x",), "kind"),
        ("target", 1.5, ("x",), "score"),
        ("target", -0.1, ("x",), "score"),
        ("target", 0.5, (), "reason"),
    ],
)
def test_match_refuses_nonsense(
    kind: str, score: float, reasons: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Match(kind, score, Strength.POSSIBLE, tuple(officer(r) for r in reasons))
