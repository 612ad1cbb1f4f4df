"""Person names (deconflict.names): transliteration, nicknames, swaps, aliases, date of birth."""

from __future__ import annotations

import random
from datetime import date

import pytest

from deconflict.match import Strength
from deconflict.names import (
    COMMON_NAME,
    SIMILAR,
    DobRelation,
    NameEvidence,
    PersonName,
    clean,
    compare_names,
    dob_keys,
    dob_relation,
    gendered_pair,
    moniker_blocks,
    moniker_words,
    name_frequency_key,
    name_keys,
    name_probe_keys,
    name_similarity,
    names_blocked,
    weigh_names,
)

DOB = date(1985, 3, 14)


def person(first: str, last: str, dob: date | None = DOB, *aliases: str) -> PersonName:
    return PersonName(first, last, tuple(aliases), dob)


def strength(a: PersonName, b: PersonName) -> Strength | None:
    match = compare_names(a, b)
    if match is not None:
        assert names_blocked(a, b), "a match outside every shared block"
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


@pytest.mark.parametrize(
    ("first", "nickname", "other_first"),
    [
        ("Samantha", "Sam", "Samuel"),
        ("Charles", "Charlie", "Charlotte"),
        ("Robert", "Bob", "Bobby"),
    ],
)
def test_a_nickname_of_ones_own_first_name_is_no_street_name(
    first: str, nickname: str, other_first: str
) -> None:
    """Two people whose only common ground is a nickname of their first names share a first
    name, nothing more; the nickname still stands for the first name with the last name."""
    a = person(first, "Voredez", None, nickname)
    assert moniker_words(a) == frozenset()
    assert compare_names(a, person(other_first, "Okafor", None, nickname)) is None
    assert strength(a, person(nickname, "Voredez", None)) is Strength.POSSIBLE
    # on a record of another first name, the same word is a street name
    assert moniker_words(person("Jean", "Pierre", None, "Smoke", nickname)) == {
        "smoke",
        nickname.lower(),
    }


def test_a_street_name_alone_counts_less_the_more_stored_targets_carry_it() -> None:
    a = person("Jean", "Pierre", None, "Smoke")
    b = person("Wilner", "Dorvil", None, "Smoke")
    rare = weigh_names(a, b, monikers={"smoke": 2})
    assert rare.match is not None and not rare.common
    damped = weigh_names(a, b, monikers={"smoke": 12})
    assert damped.common and damped.match is not None
    assert damped.match.score < rare.match.score and "a common name" in damped.match.explanation
    assert weigh_names(a, b, monikers={"smoke": 40}) == NameEvidence(None, common=True)
    # the same date of birth on both makes it telling however common
    dated = weigh_names(
        person("Jean", "Pierre", DOB, "Smoke"),
        person("Wilner", "Dorvil", DOB, "Smoke"),
        monikers={"smoke": 40},
    )
    assert dated.match is not None and dated.match.strength is Strength.PROBABLE
    # a moniker that common leaves its blocks of a name alone unread, its dated ones not
    dated_keys = name_probe_keys(a, name_alone=False)
    narrowed = name_probe_keys(a, common_monikers=frozenset({"smoke"}))
    assert dated_keys <= narrowed < name_probe_keys(a)
    assert not narrowed & set(moniker_blocks("smoke"))


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
        ("daniel", "daniele", True),
        ("christian", "christine", True),
        ("antoine", "antoinette", True),
        ("julius", "julia", True),
        ("jean", "jeanne", True),
        ("louis", "louise", True),
        ("michel", "michelle", True),
        ("gabriel", "gabrielle", True),
        ("yvon", "yvonne", True),
        ("rene", "renee", True),  # a doubled vowel is no spelling variant
        ("john", "jon", False),
        ("maria", "mariah", False),
        ("ana", "ana", False),
        ("ann", "anne", False),
        ("ann", "anna", False),
        # two spellings of one feminine name: a doubled consonant, or two feminine endings
        ("danielle", "daniele", False),
        ("gabrielle", "gabriele", False),
        ("michelle", "michele", False),
        ("annette", "anette", False),
        ("jeanne", "jeane", False),
        ("isabelle", "isabele", False),
        ("suzanne", "suzane", False),
        ("colette", "collette", False),
        ("julia", "julie", False),
        ("louisa", "louise", False),
    ],
)
def test_gendered_pairs(a: str, b: str, expected: bool) -> None:
    assert gendered_pair(a, b) is expected
    assert gendered_pair(b, a) is expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Danielle", "Daniele"),
        ("Gabrielle", "Gabriele"),
        ("Michelle", "Michele"),
        ("Annette", "Anette"),
        ("Jeanne", "Jeane"),
        ("Julie", "Julia"),
    ],
)
def test_two_spellings_of_one_feminine_name_match(a: str, b: str) -> None:
    assert strength(person(a, "Moreau"), person(b, "Moreau")) is Strength.PROBABLE
    assert strength(person(a, "Moreau"), person(b, "Moreau", None)) is Strength.POSSIBLE


# -- anglicised surnames (Double Metaphone) ------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Schneider", "Snyder"),
        ("Schneider", "Snider"),
        ("Schmidt", "Smith"),
        ("Schmitt", "Smith"),
        ("Schwartz", "Shwartz"),
        ("Schwartz", "Swartz"),
        ("Shwartz", "Swartz"),
        ("Schreiber", "Shriver"),
        ("Schumacher", "Shoemaker"),
        ("Schlesinger", "Slesinger"),
        ("Weber", "Weaver"),  # a German b written v
        ("Huber", "Hoover"),
        ("Córdoba", "Cordova"),  # b and v, one sound in Spanish
    ],
)
def test_anglicised_surnames_meet_through_an_alternate_phonetic_code(a: str, b: str) -> None:
    for dob in (DOB, None):
        other = person("Karl", b, dob)
        assert names_blocked(person("Karl", a), other) and names_blocked(other, person("Karl", a))
        match = compare_names(person("Karl", a), other)
        assert match is not None, (a, b, dob)
        assert match.strength is (Strength.PROBABLE if dob else Strength.POSSIBLE)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Schneider", "Schroth"),
        ("Smith", "Smart"),
        ("Schmidt", "Smart"),
        ("Schreiber", "Shafer"),
        ("Wells", "Ellis"),  # Double Metaphone may silence a W: the first sounds differ
        ("Weber", "Fisher"),
    ],
)
def test_other_surnames_do_not_sound_alike(a: str, b: str) -> None:
    assert compare_names(person("Karl", a), person("Karl", b)) is None


# -- Chinese names: Pinyin, Wade-Giles and dialect spellings ---------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Wei", "Zhang"), ("Wei", "Chang")),
        (("Ming", "Zhou"), ("Ming", "Chou")),
        (("Jun", "Xu"), ("Jun", "Hsu")),
        (("Wei", "Qian"), ("Wei", "Chien")),
        (("Wei", "Cao"), ("Wei", "Tsao")),
        (("Wei", "Cai"), ("Wei", "Tsai")),
        (("Wei", "Jiang"), ("Wei", "Chiang")),
        (("Wei", "Zheng"), ("Wei", "Cheng")),
        (("Wei", "Guo"), ("Wei", "Kuo")),
        (("Wei", "Huang"), ("Wei", "Hwang")),
        (("Wei", "Wu"), ("Wei", "Ng")),  # Cantonese
        (("Wei", "Chen"), ("Wei", "Chan")),
        (("Wei", "Li"), ("Wei", "Lee")),
        (("Wei", "Li"), ("Wei", "Lei")),
        (("Wei", "Zhang"), ("Wei", "Cheung")),
        (("Wei", "Liang"), ("Wei", "Leung")),
        (("Wei", "Lin"), ("Wei", "Lim")),  # Hokkien
        (("Wei", "Ouyang"), ("Wei", "Au-Yeung")),
        # given names, syllable by syllable
        (("Xiaoming", "Zhang"), ("Hsiao-ming", "Chang")),
        (("Jianguo", "Liu"), ("Chien-kuo", "Liu")),
        (("Zhiqiang", "Wang"), ("Chih Chiang", "Wang")),
        (("Qing", "Liu"), ("Ching", "Liu")),
        (("Xiuying", "Zhao"), ("Hsiu-ying", "Chao")),
        (("Zhang", "Xiaoming"), ("Chang", "Hsiaoming")),  # family name first on both
        (("Wei", "Zhang"), ("Chang", "Wei")),  # and on one
    ],
)
def test_chinese_names_meet_across_romanisations(a: tuple[str, str], b: tuple[str, str]) -> None:
    match = compare_names(person(*a), person(*b))
    assert match is not None and match.strength is Strength.PROBABLE, (a, b)
    assert strength(person(*a), person(*b, None)) is Strength.POSSIBLE
    assert compare_names(person(*a), person(*b, date(1990, 1, 2))) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Chen", "Cheng"),  # two surnames in Pinyin, one letter apart
        ("Chan", "Chang"),
        ("Zhou", "Zhao"),
        ("Wang", "Huang"),  # Wong may be either, they are not each other
        ("Liu", "Liao"),
        ("Jiang", "Zheng"),
        ("Li", "Lin"),
        ("Zhang", "Zhan"),
    ],
)
def test_distinct_chinese_surnames_do_not_match(a: str, b: str) -> None:
    for dob in (DOB, None):
        assert compare_names(person("Wei", a), person("Wei", b, dob)) is None, (a, b)


def test_distinct_chinese_given_names_do_not_match() -> None:
    assert compare_names(person("Jian", "Zhang"), person("Qiang", "Zhang")) is None
    assert compare_names(person("Xiaoming", "Zhang"), person("Hsiao-hung", "Chang")) is None


# -- a name alone, weighed by how common it is ------------------------------------------


def test_a_common_name_alone_is_damped_and_a_very_common_one_is_no_evidence() -> None:
    a, b = person("John", "Smith"), person("Jon", "Smith", None)
    rare = compare_names(a, b, namesakes=COMMON_NAME)
    assert rare is not None and rare == compare_names(a, b)
    damped = weigh_names(a, b, namesakes=2 * COMMON_NAME)
    assert damped.common and damped.match is not None
    assert damped.match.strength is Strength.POSSIBLE
    assert damped.match.score < rare.score
    assert "a common name" in damped.match.explanation
    very = weigh_names(a, b, namesakes=50 * COMMON_NAME)
    assert very.common and very.match is None
    # a date of birth on both sides is what tells namesakes apart: no damping
    dated = compare_names(a, person("Jon", "Smith"), namesakes=50 * COMMON_NAME)
    assert dated is not None and dated.strength is Strength.PROBABLE
    assert dated == compare_names(a, person("Jon", "Smith"))


def test_namesakes_are_counted_by_sound() -> None:
    key = name_frequency_key(person("John", "Smith"))
    assert key is not None and key.startswith("namesake:")
    assert name_frequency_key(person("Jon", "Smyth", None, "Johnny Boy")) == key
    assert name_frequency_key(person("John", "Smith Jr.")) == key
    assert name_frequency_key(person("Maria", "Smith")) != key
    assert name_frequency_key(person("", "Smith")) is None
    assert key not in name_keys(person("John", "Smith"))


# -- blocking keys -----------------------------------------------------------


def test_name_keys_are_prefixed_and_meet_across_variants() -> None:
    jon = person("Jon", "Smyth")
    assert name_keys(jon) and all(k.startswith("name:") for k in name_keys(jon))
    assert name_probe_keys(jon) and all(k.startswith("name:") for k in name_probe_keys(jon))
    for dob in (DOB, None):
        for other in [
            person("John", "Smith", dob),
            person("Smith", "John", dob),
            person("Jonathan", "Smith", dob),
            person("X", "Y", dob, "Johnny Smith"),
            person("J", "Smith", dob),
        ]:
            assert names_blocked(jon, other) and names_blocked(other, jon), (other, dob)
    assert not names_blocked(jon, person("Maria", "Lopez"))
    smoke = person("A", "B", None, "Smoke")
    assert names_blocked(smoke, person("C", "D", None, "smoke"))
    assert names_blocked(smoke, person("C", "D", DOB, "smoke"))


@pytest.mark.parametrize(
    ("other", "blocked"),
    [
        (date(1985, 3, 14), True),  # the same day
        (date(1985, 14 % 12, 3), False),  # another day altogether
        (date(1984, 3, 14), True),  # a year apart
        (date(1986, 3, 14), True),
        (date(1987, 3, 14), False),
        (date(1985, 3, 15), False),
        (None, True),  # unknown: the name alone decides
    ],
)
def test_dates_of_birth_split_the_name_blocks(other: date | None, blocked: bool) -> None:
    """People of one name sound are in one block only if their dates could be one person's."""
    a, b = person("Maria", "Garcia"), person("Mariah", "Garcia", other)
    assert names_blocked(a, b) is blocked
    assert names_blocked(b, a) is blocked
    if not blocked:
        assert compare_names(a, b) is None  # nothing the index hides could have matched


def test_transposed_dates_share_a_key() -> None:
    assert set(dob_keys(date(1990, 4, 3))) & set(dob_keys(date(1990, 3, 4)))
    assert not set(dob_keys(date(1990, 4, 3))) & set(dob_keys(date(1991, 3, 4))[1:])


def test_without_a_date_of_birth_both_name_parts_must_sound_alike() -> None:
    """Unknown dates leave only the name: a broad block would hand over every J. Anybody."""
    dated, undated = person("Nacho", "Gnzalez"), person("Nacho", "Gnzalez", None)
    assert names_blocked(dated, person("Ignacio", "Gonzalez"))  # dated: a first sound suffices
    assert not names_blocked(undated, person("Ignacio", "Gonzalez", None))
    assert not names_blocked(undated, person("Ignacio", "Gonzalez"))
    assert not names_blocked(person("John", "Smith", None), person("John", "Sanchez", None))
    assert names_blocked(person("John", "Smith", None), person("Johnny", "Smyth", None))
    # an initial meets every full name it may stand for, and only those
    assert names_blocked(person("J", "Smith", None), person("Jon", "Smith", None))
    assert not names_blocked(person("J", "Smith", None), person("Maria", "Smith", None))
    assert names_blocked(person("J", "Smith", None), person("J", "Smith", None))
    assert names_blocked(person("Smith", "J", None), person("Jon", "Smith", None))
    # a dated record is found by an undated one, and the other way round
    assert names_blocked(person("John", "Smith", None), person("Jon", "Smith"))
    assert names_blocked(person("Jon", "Smith"), person("John", "Smith", None))
    # two dated records never meet through the undated keys
    assert not name_probe_keys(person("Jon", "Smith")) & {
        k for k in name_keys(person("Jon", "Smith", date(1970, 1, 2))) if ":dob:" in k
    }


def test_empty_names_match_nothing() -> None:
    assert compare_names(person("", ""), person("", "")) is None
    assert name_keys(person("", "")) == frozenset()


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return rng.choice(
        [
            word[:i] + word[i + 1 :],  # a letter dropped
            word[:i] + word[i + 1] + word[i] + word[i + 2 :],  # two letters swapped
            word[:i] + rng.choice("aeioulnrst") + word[i + 1 :],  # one letter wrong
        ]
    )


def test_no_match_hides_outside_the_blocks() -> None:
    """Random variants of names (typos, nicknames, initials, swapped parts; dates the same,
    transposed, a year off or missing): every pair whose names are similar enough to match
    and whose dates do not tell them apart is in one block, so the index hands it over."""
    rng = random.Random(4711)
    firsts = "Robert Jonathan Maria Ignacio Aleksandr|Nguyen Van|Jose Li Christopher Tamika"
    lasts = "Smith Gonzalez|Garcia Lopez|De la Cruz|Petrov Tran O'Brien Hernandez Toussaint"
    dobs = [date(1980, 4, 3), date(1980, 3, 4), date(1981, 4, 3), date(1979, 4, 3), None]
    nicknames = {"Robert": "Bob", "Jonathan": "Jon", "Ignacio": "Nacho", "Aleksandr": "Sasha"}
    checked = {True: 0, False: 0}
    for _ in range(4000):
        first = rng.choice(firsts.replace(" ", "|").replace("Nguyen|Van", "Nguyen Van").split("|"))
        last = rng.choice(
            lasts.replace(" ", "|").replace("Garcia|Lopez", "Garcia Lopez").split("|")
        )
        last = last.replace("De|la|Cruz", "De la Cruz")
        a = PersonName(first, last, (), rng.choice(dobs))
        f, ln = first, last
        roll = rng.random()
        if roll < 0.3:
            f = _typo(rng, f)
        elif roll < 0.6:
            ln = _typo(rng, ln)
        elif roll < 0.7:
            f = f[0]
        elif roll < 0.8:
            f = nicknames.get(f, f)
        if rng.random() < 0.2:
            f, ln = ln, f
        b = PersonName(f, ln, (), rng.choice(dobs))
        sim = name_similarity(a, b)
        if sim is None or sim.score < SIMILAR:
            continue
        if dob_relation(a.dob, b.dob) is DobRelation.DIFFERENT:
            continue
        assert names_blocked(a, b) and names_blocked(b, a), (a, b)
        checked[a.dob is not None and b.dob is not None] += 1
    assert checked[True] > 500 and checked[False] > 500  # both kinds of block are exercised


def test_no_match_hides_outside_the_blocks_across_romanisations_and_anglicisations() -> None:
    """The same promise for the names that meet through Double Metaphone's alternate codes,
    romanisations of Chinese names and spellings of one feminine name: one part written
    another way, the other perhaps with a slip, perhaps swapped; whenever the names are
    similar enough to match and the dates do not tell them apart, they share a block."""
    rng = random.Random(1031)
    firsts = [
        "Xiaoming|Hsiao-ming|Hsiaoming",
        "Zhiqiang|Chih-chiang|Chih Chiang",
        "Jian|Chien",
        "Qing|Ching",
        "Xiuying|Hsiu Ying",
        "Danielle|Daniele",
        "Michelle|Michele",
        "Jeanne|Jeane",
        "Karl|Carl",
        "Robert",
    ]
    lasts = [
        "Zhang|Chang|Cheung",
        "Chen|Chan",
        "Zheng|Cheng",
        "Wu|Ng",
        "Huang|Hwang|Wong",
        "Xu|Hsu",
        "Li|Lee|Lei",
        "Ouyang|Au-Yeung",
        "Schneider|Snyder|Snider",
        "Schmidt|Smith|Schmitt",
        "Schwartz|Swartz|Shwartz",
        "Weber|Weaver",
        "Schreiber|Shriver",
        "Vargas|Bargas",
        "Gonzalez|Gonzales",
    ]
    dobs = [date(1980, 4, 3), date(1980, 3, 4), date(1981, 4, 3), None]
    checked = {True: 0, False: 0}
    for _ in range(3000):
        first_group = rng.choice(firsts).split("|")
        last_group = rng.choice(lasts).split("|")
        a = PersonName(rng.choice(first_group), rng.choice(last_group), (), rng.choice(dobs))
        f, ln = a.first, a.last
        # one part written another way; the other as it is, or with a slip
        if rng.random() < 0.5:
            f, ln = rng.choice(first_group), _typo(rng, ln) if rng.random() < 0.4 else ln
        else:
            f, ln = _typo(rng, f) if rng.random() < 0.4 else f, rng.choice(last_group)
        if rng.random() < 0.15:
            f, ln = ln, f
        b = PersonName(f, ln, (), rng.choice(dobs))
        sim = name_similarity(a, b)
        if sim is None or sim.score < SIMILAR:
            continue
        if dob_relation(a.dob, b.dob) is DobRelation.DIFFERENT:
            continue
        assert names_blocked(a, b) and names_blocked(b, a), (a, b)
        checked[a.dob is not None and b.dob is not None] += 1
    assert checked[True] > 300 and checked[False] > 300
