"""Person names (deconflict.names): transliteration, nicknames, swaps, aliases, date of birth."""

from __future__ import annotations

from datetime import date

import pytest

from deconflict.match import Strength
from deconflict.names import (
    DobRelation,
    PersonName,
    clean,
    compare_names,
    dob_relation,
    gendered_pair,
    name_keys,
)

DOB = date(1985, 3, 14)


def person(first: str, last: str, dob: date | None = DOB, *aliases: str) -> PersonName:
    return PersonName(first, last, tuple(aliases), dob)


def strength(a: PersonName, b: PersonName) -> Strength | None:
    match = compare_names(a, b)
    if match is not None:
        assert name_keys(a) & name_keys(b), "a match outside every shared block"
        assert compare_names(b, a) is not None, "matching is symmetric"
    return None if match is None else match.strength


def test_the_contract_example() -> None:
    match = compare_names(person("Jon", "Smyth"), person("John", "Smith"))
    assert match is not None
    assert match.kind == "target"
    assert match.strength is Strength.PROBABLE
    assert match.explanation == "name Jon Smyth ~ John Smith (nickname), same date of birth"
    assert 0.9 < match.score <= 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("José", "jose"),
        ("García-Márquez", "garcia marquez"),
        ("O'Brien", "obrien"),
        ("Nguyễn Thị Mai", "nguyen thi mai"),
        ("Александр Петров", "aleksandr petrov"),
        ("Müller", "muller"),
        ("  SMITH  Jr. ", "smith jr"),
    ],
)
def test_clean_transliterates(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("José", "García"), ("Jose", "Garcia")),
        (("Александр", "Петров"), ("Aleksandr", "Petrov")),
        (("Aleksandr", "Petrov"), ("Alexander", "Petrov")),
        (("Mohammed", "Hussein"), ("Muhammad", "Husain")),
        (("Yevgeny", "Sokolov"), ("Evgeny", "Sokolov")),
        (("Björn", "Müller"), ("Bjorn", "Mueller")),
        (("Nguyễn", "Anh"), ("Nguyen", "Anh")),
    ],
)
def test_transliterations_match(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert strength(person(*a), person(*b)) is Strength.PROBABLE


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("Bob", "Robert"),
        ("Bill", "William"),
        ("Peggy", "Margaret"),
        ("Jim", "James"),
        ("Liz", "Elizabeth"),
        ("Ann", "Anne"),
        ("Paco", "Francisco"),  # Spanish short forms, from deconflict/_nicknames.py
        ("Chuy", "Jesús"),
        ("Sasha", "Aleksandr"),
        ("Natasha", "Natalya"),
    ],
)
def test_nicknames_match(short: str, full: str) -> None:
    match = compare_names(person(short, "Kowalski"), person(full, "Kowalski"))
    assert match is not None and match.strength is Strength.PROBABLE
    assert "(nickname)" in match.explanation


def test_nicknames_do_not_chain() -> None:
    # Bill is William's and Bob is Robert's: they are not one another's
    assert strength(person("Bill", "Kowalski"), person("Bob", "Kowalski")) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("John", "Smiht"), ("John", "Smith")),
        (("Jonh", "Kowalski"), ("John", "Kowalski")),
        (("Christina", "Pemberton"), ("Kristina", "Pemberton")),
        (("Micheal", "Johnson"), ("Michael", "Johnson")),
        (("Margaret", "O'Connor"), ("Margaret", "OConnor")),
        (("Margaret", "O'Connor"), ("Margaret", "O'oCnnor")),
    ],
)
def test_typos_match(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert strength(person(*a), person(*b)) is Strength.PROBABLE


def test_swapped_first_and_last_names_match() -> None:
    match = compare_names(person("Whitfield", "Tyrone"), person("Tyrone", "Whitfield"))
    assert match is not None and match.strength is Strength.PROBABLE
    assert "first and last names swapped" in match.explanation


def test_swapped_names_with_different_birthdays_are_two_people() -> None:
    assert (
        compare_names(person("Jean", "Pierre"), person("Pierre", "Jean", date(1999, 1, 2))) is None
    )


@pytest.mark.parametrize(
    ("a", "b", "note"),
    [
        (("Ana", "Flores Ramos"), ("Ana", "Flores"), "one of two last names"),
        (("Ana", "Flores Ramos"), ("Ana", "Ramos"), "one of two last names"),
        (("Juan Carlos", "Reyes"), ("Juan", "Reyes"), ""),
        (("Van Anh", "Nguyen"), ("Anh", "Nguyen"), "middle name"),
        (("J.", "Kowalski"), ("John", "Kowalski"), "initial"),
        (("Maria", "De la Cruz"), ("Maria", "Delacruz"), ""),
    ],
)
def test_partial_names_match(a: tuple[str, str], b: tuple[str, str], note: str) -> None:
    match = compare_names(person(*a), person(*b))
    assert match is not None and match.strength is Strength.PROBABLE
    assert note in match.explanation


def test_aliases_match_full_names_and_nicknames() -> None:
    known = person("Christopher", "King", DOB, "Marcus Bell", "Kit")
    match = compare_names(known, person("Marcus", "Bell"))
    assert match is not None and match.strength is Strength.PROBABLE
    assert match.explanation == "alias Marcus Bell, same date of birth"
    assert strength(known, person("Kit", "King")) is Strength.PROBABLE


def test_a_street_name_on_both_records_matches() -> None:
    a = person("Jean", "Pierre", DOB, "Smoke")
    b = person("Wilner", "Dorvil", DOB, "SMOKE")
    match = compare_names(a, b)
    assert match is not None and match.strength is Strength.PROBABLE
    assert match.explanation == "alias Smoke (on both records), same date of birth"
    assert compare_names(a, person("Wilner", "Dorvil", None, "Smoke")) is not None
    assert strength(a, person("Wilner", "Dorvil", None, "Smoke")) is Strength.POSSIBLE


# -- date of birth ------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "relation"),
    [
        (DOB, DOB, DobRelation.SAME),
        (date(1985, 3, 4), date(1985, 4, 3), DobRelation.TRANSPOSED),
        (DOB, date(1986, 3, 14), DobRelation.YEAR_OFF),
        (DOB, date(1984, 3, 14), DobRelation.YEAR_OFF),
        (DOB, date(1987, 3, 14), DobRelation.DIFFERENT),
        (date(1985, 3, 4), date(1986, 4, 3), DobRelation.DIFFERENT),
        (DOB, date(1985, 3, 15), DobRelation.DIFFERENT),
        (DOB, None, DobRelation.UNKNOWN),
        (None, None, DobRelation.UNKNOWN),
    ],
)
def test_dob_relation(a: date | None, b: date | None, relation: DobRelation) -> None:
    assert dob_relation(a, b) is relation
    assert dob_relation(b, a) is relation


def test_date_of_birth_strengthens_or_vetoes_a_name() -> None:
    name = ("Deborah", "Pemberton")
    same = compare_names(person(*name), person(*name))
    transposed = compare_names(person(*name, date(1985, 3, 4)), person(*name, date(1985, 4, 3)))
    year_off = compare_names(person(*name), person(*name, date(1986, 3, 14)))
    unknown = compare_names(person(*name), person(*name, None))
    assert same and transposed and year_off and unknown
    assert same.strength is transposed.strength is year_off.strength is Strength.PROBABLE
    assert unknown.strength is Strength.POSSIBLE
    assert same.score > transposed.score > unknown.score
    assert transposed.explanation.endswith("date of birth with day and month transposed")
    assert year_off.explanation.endswith("date of birth one year apart")
    assert unknown.explanation.endswith("no date of birth to compare")
    assert compare_names(person(*name), person(*name, date(1991, 7, 2))) is None


def test_near_birthdays_need_a_very_similar_name() -> None:
    a = person("Jon", "Smyth", date(1985, 3, 4))
    assert strength(a, person("John", "Smith", date(1985, 3, 4))) is Strength.PROBABLE
    assert strength(a, person("John", "Smith", date(1985, 4, 3))) is Strength.PROBABLE
    assert strength(person("Jeniffer", "Cooke", DOB), person("Jennifer", "Cook", DOB)) is (
        Strength.PROBABLE
    )


@pytest.mark.parametrize(
    ("first", "last"),
    [("John", "Smith"), ("Maria", "Garcia"), ("José", "Rodríguez"), ("Anh", "Nguyen")],
)
def test_a_common_name_with_another_birthday_is_no_match(first: str, last: str) -> None:
    assert compare_names(person(first, last), person(first, last, date(1992, 8, 30))) is None
    # not even with a nickname or an accent
    assert compare_names(person(first, last), person(clean(first), last, date(1979, 1, 2))) is None


# -- relatives ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Maria", "José"),
        ("Carlos", "Carmen"),
        ("Daniel", "Danielle"),
        ("Mario", "Maria"),
        ("Christian", "Christina"),
        ("Julius", "Julia"),
        ("Paul", "Paula"),
        ("Louis", "Louise"),
    ],
)
def test_relatives_sharing_a_last_name_do_not_match_even_as_twins(a: str, b: str) -> None:
    assert compare_names(person(a, "Garcia"), person(b, "Garcia")) is None


def test_senior_and_junior_are_two_people() -> None:
    assert compare_names(person("John", "Smith Sr."), person("John", "Smith Jr.", None)) is None
    assert compare_names(person("John Jr", "Smith"), person("John", "Smith Jr")) is not None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("mario", "maria", True),
        ("daniel", "danielle", True),
        ("christian", "christine", True),
        ("antoine", "antoinette", True),
        ("julius", "julia", True),
        ("john", "jon", False),
        ("maria", "mariah", False),
        ("ana", "ana", False),
        ("ann", "anne", False),
        ("ann", "anna", False),
    ],
)
def test_gendered_pairs(a: str, b: str, expected: bool) -> None:
    assert gendered_pair(a, b) is expected


# -- blocking keys -----------------------------------------------------------


def test_name_keys_are_prefixed_and_meet_across_variants() -> None:
    keys = name_keys(person("Jon", "Smyth"))
    assert keys and all(k.startswith("name:") for k in keys)
    for other in [
        person("John", "Smith"),
        person("Smith", "John"),
        person("Jonathan", "Smith"),
        person("X", "Y", None, "Johnny Smith"),
    ]:
        assert keys & name_keys(other), other
    assert not keys & name_keys(person("Maria", "Lopez"))
    assert name_keys(person("A", "B", None, "Smoke")) & name_keys(person("C", "D", None, "smoke"))


def test_empty_names_match_nothing() -> None:
    assert compare_names(person("", ""), person("", "")) is None
    assert name_keys(person("", "")) == frozenset()
