"""Person names: blocking keys and similarity, strengthened by date of birth.

Names are not identifiers: two records of one name are the same person only
when something else agrees. So a name match alone is at most ``possible``;
with the same (or a nearly same) date of birth it is ``probable``; with a
different date of birth it is no match at all, however common or close the
name. The rules are general (transliteration, nicknames, phonetic codes,
swapped first and last names, aliases, edit-distance similarity), not a list
of known people:

- sound: Double Metaphone's primary code for first names, and its alternate
  codes too for surnames, so that anglicised German and Yiddish names meet
  their originals (Schneider/Snyder, Schmidt/Smith; ``_phonetic``);
- romanisation: a Chinese name in Pinyin, Wade–Giles or a dialect spelling is
  read as the Pinyin it stands for (Zhang/Chang/Cheung, Xiaoming/Hsiao-ming),
  and two known surnames no romanisation joins are two families however
  close their letters (Chen/Cheng; ``_sinic``);
- gender: a brother's and a sister's forms of one name never match
  (Daniel/Danielle), two spellings of one feminine name do (Danielle/Daniele);
- frequency: a name with no date of birth to compare counts less the more
  stored targets share it, as the caller counts them (``namesakes``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import Enum
from functools import lru_cache
from types import MappingProxyType

from anyascii import anyascii
from rapidfuzz.distance import JaroWinkler

from deconflict._nicknames import relatives as _relatives
from deconflict._phonetic import double_metaphone, metaphone, sounds
from deconflict._sinic import distinct_surnames, readings
from deconflict.match import Match, Reason, Rule, Strength

# Generational suffixes: kept apart from the name, since "Sr" and "Jr" at one
# address are two people.
_SUFFIXES = {
    "jr": "jr",
    "junior": "jr",
    "sr": "sr",
    "senior": "sr",
    "ii": "ii",
    "iii": "iii",
    "iv": "iv",
}
# Thresholds of the similarity score (0..1) of a whole name.
SIMILAR = 0.85
VERY_SIMILAR = 0.90
# A first or last name below this is a different name, whatever the other part says
# (relatives share a last name; a shared first name is no evidence at all).
PART_FLOOR = 0.80


@dataclass(frozen=True)
class PersonName:
    """A person as targets name them. ``aliases`` are full names or nicknames."""

    first: str
    last: str
    aliases: tuple[str, ...] = ()
    dob: date | None = None

    def __str__(self) -> str:
        return f"{self.first} {self.last}".strip()


class DobRelation(Enum):
    SAME = "same date of birth"
    TRANSPOSED = "date of birth with day and month transposed"
    YEAR_OFF = "date of birth one year apart"
    DIFFERENT = "dates of birth differ"
    UNKNOWN = "no date of birth to compare"


def dob_relation(a: date | None, b: date | None) -> DobRelation:
    """How two dates of birth agree, allowing the two common data-entry errors.

    Day and month swapped (03/04 for 04/03, US and European order) and the
    year one off (a typo, or an age converted to a year).
    """
    if a is None or b is None:
        return DobRelation.UNKNOWN
    if a == b:
        return DobRelation.SAME
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return DobRelation.TRANSPOSED
    if (a.month, a.day) == (b.month, b.day) and abs(a.year - b.year) == 1:
        return DobRelation.YEAR_OFF
    return DobRelation.DIFFERENT


@dataclass(frozen=True)
class _Variant:
    """One way a record names the person: its name, or one alias."""

    first: tuple[str, ...]
    last: tuple[str, ...]
    suffix: str
    shown: str
    is_alias: bool
    #: where it stands in its record: ``name`` or ``alias:<index>``
    ref: str = "name"


def clean(text: str) -> str:
    """Lower-case ASCII words: ``"José-María O'Brien"`` -> ``"jose maria obrien"``."""
    text = anyascii(text).lower().replace("'", "").replace("`", "")
    return " ".join(re.sub(r"[^a-z ]+", " ", text).split())


def _split_suffix(tokens: list[str]) -> tuple[list[str], str]:
    suffix = ""
    kept: list[str] = []
    for t in tokens:
        if t in _SUFFIXES and kept:
            suffix = _SUFFIXES[t]
        else:
            kept.append(t)
    return kept, suffix


def _variants(person: PersonName) -> tuple[_Variant, ...]:
    return _variants_of(person.first, person.last, person.aliases)


@lru_cache(maxsize=65536)
def _variants_of(first: str, last: str, aliases: tuple[str, ...]) -> tuple[_Variant, ...]:
    f_tokens, f_suffix = _split_suffix(clean(first).split())
    l_tokens, l_suffix = _split_suffix(clean(last).split())
    suffix = l_suffix or f_suffix
    found: list[_Variant] = []
    if f_tokens or l_tokens:
        found.append(
            _Variant(tuple(f_tokens), tuple(l_tokens), suffix, f"{first} {last}".strip(), False)
        )
    for index, alias in enumerate(aliases):
        tokens, a_suffix = _split_suffix(clean(alias).split())
        if len(tokens) == 1:
            # One word: a nickname ("Johnny"), used with the record's last name.
            # (Unless a nickname of the first name, also a street name compared on its own:
            # see _monikers.)
            found.append(
                _Variant(
                    tuple(tokens), tuple(l_tokens), suffix, alias.strip(), True, f"alias:{index}"
                )
            )
        elif tokens:
            found.append(
                _Variant(
                    (tokens[0],),
                    tuple(tokens[1:]),
                    a_suffix or suffix,
                    alias.strip(),
                    True,
                    f"alias:{index}",
                )
            )
    return tuple(found)


@lru_cache(maxsize=65536)
def _monikers(first: str, aliases: tuple[str, ...]) -> Mapping[str, str]:
    """One-word aliases (street names such as "Snoop"), cleaned -> as written.

    A nickname of the person's own first name (Sam for Samantha, Charlie for
    Charles) is no street name: it stands for the first name (a variant with
    the last name), and two people who share it share only a first name.
    """
    given = clean(first).split()
    own = _relatives(given[0]) if given else frozenset()
    found = {}
    for alias in aliases:
        tokens = clean(alias).split()
        if len(tokens) == 1 and len(tokens[0]) > 1 and tokens[0] not in own:
            if not given or given[0] not in _relatives(tokens[0]):
                found[tokens[0]] = alias.strip()
    return MappingProxyType(found)


def moniker_words(person: PersonName) -> frozenset[str]:
    """The street names a person is known by (cleaned), each of which may match alone."""
    return frozenset(_monikers(person.first, person.aliases))


def moniker_blocks(word: str) -> tuple[str, str]:
    """The keys under which the targets known by the street name ``word`` are found by a name
    alone, one for those with a date of birth and one for those without: each such target
    is stored under exactly one, so that counting both counts how many carry it."""
    return f"name:dob:alias:{word}", f"name:nodob:alias:{word}"


def _code(name: str) -> str:
    """A phonetic code (Metaphone) of a cleaned word: Smith, Smyth -> SM0."""
    return metaphone(name)


def gendered_pair(a: str, b: str) -> bool:
    """True for a masculine and a feminine form of one name: Mario/Maria, Daniel/Danielle.

    Close in spelling, yet two people (siblings, even twins), so no typo rule
    may join them. The forms: final o/a (Mario, Maria), -us/-a (Julius,
    Julia), -ian/-ina or -ine (Christian, Christina), and a feminine ending
    added (Paul+a, Daniel+le, Louis+e, Antoine+tte).

    Two spellings of one gender are no pair: the same name but for a doubled
    consonant (Danielle, Daniele; Michelle, Michele; Annette, Anette; Jeanne,
    Jeane), or two feminine endings (Julia, Julie; Maria, Marie).
    """
    if a == b or len(a) < 3 or len(b) < 3:
        return False
    if _single_consonants(a) == _single_consonants(b):
        return False
    if a[:-1] == b[:-1] and {a[-1], b[-1]} == {"a", "e"}:
        return False
    if a[:-1] == b[:-1] and {a[-1], b[-1]} == {"a", "o"}:
        return True
    for x, y in ((a, b), (b, a)):
        if x.endswith("us") and y == x[:-2] + "a":
            return True
        if x.endswith("ian") and y in (x[:-2] + "na", x[:-2] + "ne"):
            return True
    short, long_ = sorted((a, b), key=len)
    if len(short) < 4:
        return False  # Ann, Anne and Anna are spellings of one name
    if any(long_ == short + end for end in _GENDER_ENDINGS):
        return True
    return short[-1] in "aeo" and any(long_ == short[:-1] + end for end in _GENDER_ENDINGS)


_GENDER_ENDINGS = ("a", "e", "le", "lle", "ne", "ine", "ina", "ette", "tte")
_DOUBLED_CONSONANT = re.compile(r"([b-df-hj-np-tv-z])\1")


def _single_consonants(name: str) -> str:
    """The name with each doubled consonant written once: Danielle -> daniele."""
    return _DOUBLED_CONSONANT.sub(r"\1", name)


@dataclass(frozen=True)
class _PartScore:
    score: float
    note: str = ""


def _word_similarity(a: str, b: str, *, surname: bool = False) -> float:
    """Jaro-Winkler, raised to 0.9 for one sound spelled two ways (Mohammed/Muhammad).

    A first name sounds like another when their Double Metaphone primary
    codes are one; a surname also when an alternate code meets the other's
    (Schneider/Snyder, Schmidt/Smith): either way only if both begin alike.
    Two known Chinese surnames that no romanisation joins are two names,
    however close their letters (Chen/Cheng).
    """
    if surname and distinct_surnames(a, b):
        return 0.0
    sim = JaroWinkler.similarity(a, b)
    if len(a) > 2 and len(b) > 2 and _sound_alike(a, b, surname=surname):
        sim = max(sim, 0.9)
    elif surname and not _same_start(a, b):
        sim = min(sim, OTHER_FIRST_SOUND)  # Wells/Ellis: letters alike, other names
    return sim


# A surname that begins with another sound is another name, however alike its other letters.
OTHER_FIRST_SOUND = 0.75


def _sound_alike(a: str, b: str, *, surname: bool) -> bool:
    """A Double Metaphone code in common (the primary one, for a first name), and the same
    first sound (lest Wells, whose W may be silent, sound like Ellis)."""
    if surname:
        codes_a, codes_b = sounds(a), sounds(b)
    else:
        codes_a, codes_b = frozenset({double_metaphone(a)[0]}), frozenset({double_metaphone(b)[0]})
    return not codes_a.isdisjoint(codes_b) and _same_start(a, b)


def _same_start(a: str, b: str) -> bool:
    """Two words begin with one sound: the same first letter, coarsely (``_mark``: Kristina,
    Christina), or one Metaphone sound (Garcia, Karcia). Not by Double Metaphone's, which
    silences a first W (Wells, Ellis)."""
    return not _word_marks(a).isdisjoint(_word_marks(b)) or _code(a)[:1] == _code(b)[:1]


def _romanised_alike(a: tuple[str, ...], b: tuple[str, ...], *, surname: bool) -> bool:
    """One Chinese name in two romanisations: Xiaoming/Hsiao-ming, Zhang/Chang, Wu/Ng."""
    return not readings("".join(a), surname=surname).isdisjoint(
        readings("".join(b), surname=surname)
    )


@lru_cache(maxsize=65536)  # names are few beside the pairs of records that carry them
def _first_score(a: tuple[str, ...], b: tuple[str, ...]) -> _PartScore:
    if not a or not b:
        return _PartScore(0.0)
    x, y = a[0], b[0]
    if a == b:
        return _PartScore(1.0)
    if x == y:
        return _PartScore(0.97)  # one has a middle name the other lacks
    if gendered_pair(x, y):
        return _PartScore(0.0)
    if len(x) == 1 or len(y) == 1:
        return _PartScore(0.8, "initial") if x[0] == y[0] else _PartScore(0.0)
    if y in _relatives(x) or x in _relatives(y):
        return _PartScore(0.95, "nickname")
    if _romanised_alike(a, b, surname=False):
        return _PartScore(0.95, "romanisation")
    if set(a) & set(b):
        return _PartScore(0.9, "middle name")  # "Van Anh" / "Anh", "Juan Carlos" / "Carlos"
    return _PartScore(_word_similarity(x, y))


@lru_cache(maxsize=65536)
def _last_score(a: tuple[str, ...], b: tuple[str, ...]) -> _PartScore:
    if not a or not b:
        return _PartScore(0.0)
    if a == b or "".join(a) == "".join(b):
        return _PartScore(1.0)  # also "De la Cruz" / "Delacruz"
    if set(a) <= set(b) or set(b) <= set(a):
        return _PartScore(0.95, "one of two last names")  # "Garcia" / "Garcia Lopez"
    if _romanised_alike(a, b, surname=True):
        return _PartScore(0.95, "romanisation")
    best = _word_similarity("".join(a), "".join(b), surname=True)
    for x in a:
        for y in b:
            best = max(best, _word_similarity(x, y, surname=True) - 0.05)
    return _PartScore(best)


@dataclass(frozen=True)
class NameSimilarity:
    """The best way two people's names agree: score 0..1 and how."""

    score: float
    left: str
    right: str
    alias: bool
    notes: tuple[str, ...]
    #: where each name stands in its own record: ``name`` or ``alias:<index>``
    left_ref: str = "name"
    right_ref: str = "name"
    #: the street name both records carry, when that is the agreement
    moniker: str = ""


def _pair_similarity(a: _Variant, b: _Variant) -> NameSimilarity | None:
    if a.suffix and b.suffix and a.suffix != b.suffix:
        return None  # Sr and Jr
    best: NameSimilarity | None = None
    for swapped in (False, True):
        b_first, b_last = (b.last, b.first) if swapped else (b.first, b.last)
        f = _first_score(a.first, b_first)
        ln = _last_score(a.last, b_last)
        if f.score < PART_FLOOR or ln.score < PART_FLOOR:
            continue
        # The last name weighs more: it is longer and rarer than a first name.
        score = 0.4 * f.score + 0.6 * ln.score - (0.02 if swapped else 0.0)
        notes = tuple(dict.fromkeys(n for n in (f.note, ln.note) if n))
        if swapped:
            notes += ("first and last names swapped",)
        if best is None or score > best.score:
            best = NameSimilarity(
                score, a.shown, b.shown, a.is_alias or b.is_alias, notes, a.ref, b.ref
            )
    return best


# A one-word street name shared by two records: telling, but many carry "Red" or "Tiny".
MONIKER_SCORE = 0.88


def name_similarity(a: PersonName, b: PersonName) -> NameSimilarity | None:
    """The best agreement between any name or alias of ``a`` and any of ``b``."""
    best: NameSimilarity | None = None
    for va in _variants(a):
        for vb in _variants(b):
            sim = _pair_similarity(va, vb)
            if sim is not None and (best is None or sim.score > best.score):
                best = sim
    ma, mb = _monikers(a.first, a.aliases), _monikers(b.first, b.aliases)
    for word in sorted(ma.keys() & mb.keys()):
        if best is None or MONIKER_SCORE > best.score:
            best = NameSimilarity(
                MONIKER_SCORE,
                ma[word],
                mb[word],
                True,
                ("on both records",),
                _alias_ref(a.aliases, ma[word]),
                _alias_ref(b.aliases, mb[word]),
                word,
            )
    return best


_MARK_FOLD = str.maketrans("aeiouyjcqvwz", "aaaaaaakkffs")


def _mark(name: str) -> str:
    """The first sound of a cleaned name, coarsely, for blocking.

    Vowels, Y and J are one (Yevgeny, Evgeny, Jevgenij; Yusuf, Jusuf), as
    are C, K and Q (Christina, Kristina), F, V, W and PH (Filip, Philip), S and Z.
    """
    if name.startswith("ph"):
        return "F"
    return name[:1].translate(_MARK_FOLD).upper()


def _word_marks(word: str) -> frozenset[str]:
    """A word's first sound, and B for a first V (Vargas, Bargas: see ``_phonetic``)."""
    if word.startswith("v"):
        return frozenset({_mark(word), "B"})
    return frozenset({_mark(word)})


def _own_codes(part: tuple[str, ...]) -> set[str]:
    """The codes of a name part: Double Metaphone's codes (primary and alternate) of each
    word and of all of it, and of the Pinyin it may stand for (Chang: Zhang's JNK).

    One set for either place: names are compared both ways round, and a part
    that matches in a last name's place by sound (Schneider, Snyder) or by
    romanisation (Wong, Ng) must meet in a first name's place too, where the
    other part may carry the typo.
    """
    joined = "".join(part)
    codes: set[str] = set()
    for word in {*part, joined, *readings(joined, surname=True)}:
        codes |= sounds(word)
    return codes


def _first_codes(part: tuple[str, ...]) -> set[str]:
    """Codes of a part in a first name's place, where nicknames count: its own and its
    first word's nicknames' (Bob stands for Robert)."""
    return _own_codes(part) | ({double_metaphone(n)[0] for n in _relatives(part[0])} - {""})


def _marks(part: tuple[str, ...]) -> set[str]:
    """How a part in a last name's place begins, for the broad atoms: its first word's
    first sounds and its nicknames' (a first name may stand in the last name's place), and
    those of the Pinyin surnames it may stand for (Ng: Wu's, Huang's)."""
    marks = set(_word_marks(part[0])) | {_mark(n) for n in _relatives(part[0])}
    return marks | {_mark(r) for r in readings("".join(part), surname=True)}


def _views(part: tuple[str, ...]) -> set[str]:
    """A part as sound and as spelling: its codes, and each word with at most one letter left out.

    Two spellings one typo apart (a letter dropped, added or wrong, or two
    letters swapped) leave one letter out to the same string (Smith and
    Smiht: "smth"), so they share a view; a word of three letters or fewer
    stands only for itself, lest one letter stand for every name.
    """
    views = {f"c{code}" for code in _own_codes(part)}
    for word in {*part, "".join(part)}:  # each word, and all as one (Garcia Lopez, GarciaLopez)
        views.add(f"w{word}")
        if len(word) > 3:
            views |= {f"w{word[:i]}{word[i + 1 :]}" for i in range(len(word))}
    return views


@dataclass
class _Atoms:
    """How one person's names can meet another's, before dates of birth are considered.

    Names are compared both ways round (first with first, or first with
    last), so atoms are made from each part with the other. A part is
    compared as a first name with nicknames and initials, as a last name by
    spelling and sound (``_first_score``, ``_last_score``).

    ``broad``: a sound (or a nickname's) with the first sound of the other
    part, so that Nacho Gnzalez (a nickname and a typo that changes the last
    name's sound) still meets Ignacio Gonzalez through NX (Nacho) and G.
    Common names make broad blocks large; the keys join them with dates of
    birth. ``tight``: one part's sound with the other's sound or spelling
    (a view): Jon Smyth and John Smith meet through JN and SM0, Jon Smiht and
    John Smith through JN and "smth". ``nicknamed``: the sounds of a part's
    nicknames with the other's sound, looked up (not stored) so that Bob
    Smith finds Robert Smith. ``initial``: an initial with the other part's
    sound (J Smith); ``lettered``: the same from a full name (John Smith),
    which an initial must meet.
    """

    broad: set[str] = field(default_factory=set)
    tight: set[str] = field(default_factory=set)
    nicknamed: set[str] = field(default_factory=set)
    initial: set[str] = field(default_factory=set)
    lettered: set[str] = field(default_factory=set)

    def add(self, first: tuple[str, ...], last: tuple[str, ...]) -> None:
        """The atoms of ``first`` compared as a first name with ``last`` as a last name."""
        marks = _marks(last)
        self.broad |= {f"{code}:{mark}" for code in _first_codes(first) for mark in marks}
        letter = first[0][0]
        last_codes = {f"c{code}" for code in _own_codes(last)}
        if len(first[0]) == 1:
            self.initial |= {f"{c}:{letter}" for c in last_codes}
            return
        self.lettered |= {f"{c}:{letter}" for c in last_codes}
        self.tight |= {f"{code}:{view}" for code in _own_codes(first) for view in _views(last)}
        self.nicknamed |= {f"{code}:{c}" for code in _first_codes(first) for c in last_codes}


def dob_keys(dob: date) -> tuple[str, str]:
    """Two keys such that dates of birth :func:`dob_relation` does not call different share one.

    Month and day unordered (day and month transposed, the same year), with
    the year and the year after (the same month and day, a year apart).
    """
    low, high = sorted((dob.month, dob.day))
    return f"{low:02d}{high:02d}{dob.year}", f"{low:02d}{high:02d}{dob.year + 1}"


def name_keys(person: PersonName) -> frozenset[str]:
    """The blocking keys a person is stored under, each ``"name:..."``.

    Names alone are weak evidence, so most people who share a name sound are
    told apart by their dates of birth: a person with one is stored under its
    broad atoms joined with its date keys (few share both). Pairs where a
    date is missing meet through tighter atoms, marked ``dob`` or ``nodob``
    so that a look-up asks only for what can match.
    :func:`name_probe_keys` lists the keys a person looks up; two people can
    match by name only when one's probe keys meet the other's keys
    (:func:`names_blocked`, symmetric), so the app's index misses no match.
    """
    return _keys_of(person.first, person.last, person.aliases, person.dob)[0]


def name_probe_keys(
    person: PersonName, *, name_alone: bool = True, common_monikers: frozenset[str] = frozenset()
) -> frozenset[str]:
    """The keys to look up to find everyone :func:`compare_names` may match with ``person``.

    ``name_alone=False`` leaves out the blocks of pairs with no two dates of birth to
    compare, where only a name alone can match; ``common_monikers``, the blocks where a
    name alone is one of these street names. For a name (or street name) so common among
    stored targets that alone it says nothing (:func:`name_alone_counts`), those blocks
    would only hand over dozens or hundreds of namesakes to drop.
    """
    _, dated, alone = _keys_of(person.first, person.last, person.aliases, person.dob)
    if not name_alone:
        return dated
    if common_monikers:
        alone -= {key for word in common_monikers for key in moniker_blocks(word)}
    return dated | alone


def names_blocked(a: PersonName, b: PersonName) -> bool:
    """True when the index puts ``a`` and ``b`` in one block."""
    return not name_probe_keys(a).isdisjoint(name_keys(b))


@lru_cache(maxsize=65536)
def _keys_of(
    first: str, last: str, aliases: tuple[str, ...], dob: date | None
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(stored keys, probe keys joined with dates of birth, probe keys of a name alone)."""
    atoms = _Atoms()
    for v in _variants_of(first, last, aliases):
        if v.first and v.last:
            atoms.add(v.first, v.last)
            atoms.add(v.last, v.first)
    monikers = {f"alias:{word}" for word in _monikers(first, aliases)}
    broad, tight = atoms.broad | monikers, atoms.tight | monikers
    if not (broad or atoms.initial):
        return frozenset(), frozenset(), frozenset()
    dated = {f"name:{a}:{k}" for a in broad for k in dob_keys(dob)} if dob is not None else set()
    own = "dob" if dob is not None else "nodob"
    stored = dated | {f"name:{own}:{a}" for a in tight}
    stored |= {f"name:{own}:i:{a}" for a in atoms.initial}
    stored |= {f"name:{own}:l:{a}" for a in atoms.lettered}
    alone: set[str] = set()
    # Someone with a date of birth is found by name alone only by those without one.
    for flag in ("nodob",) if dob is not None else ("nodob", "dob"):
        alone |= {f"name:{flag}:{a}" for a in tight | atoms.nicknamed}
        alone |= {f"name:{flag}:l:{a}" for a in atoms.initial}
        alone |= {f"name:{flag}:i:{a}" for a in atoms.initial | atoms.lettered}
    return frozenset(stored), frozenset(dated), frozenset(alone)


# A name alone (no date of birth on one side) is damped once more stored targets than this
# share its sound: each of them would match it as much.
COMMON_NAME = 5
# Damped below this score, a name alone is no evidence at all (a name shared by some two
# dozen stored targets, or more, says nothing on its own).
NAME_ALONE_FLOOR = 0.15
# A name alone scores at most this much of its similarity (before damping).
NAME_ALONE_SCALE = 0.7


def name_frequency_key(person: PersonName) -> str | None:
    """The key under which the app counts stored targets of ``person``'s name (by sound:
    Jon Smyth counts with John Smith); ``None`` when the record names no first and last name.

    Stored with a target's keys (``deconflict.targets.target_keys``) and counted by the app
    to tell :func:`compare_names` how common a name is (``namesakes``).
    """
    return _frequency_key(person.first, person.last, person.aliases)


@lru_cache(maxsize=65536)  # asked twice of each pair a check compares
def _frequency_key(first: str, last: str, aliases: tuple[str, ...]) -> str | None:
    for v in _variants_of(first, last, aliases):
        if not v.is_alias and v.first and v.last:
            return f"namesake:{_code(v.first[0])}:{_code(''.join(v.last))}"
    return None


def name_alone_weight(namesakes: int) -> float:
    """How much a name alone counts when ``namesakes`` stored targets share it: fully up to
    :data:`COMMON_NAME`, then in inverse proportion."""
    return 1.0 if namesakes <= COMMON_NAME else COMMON_NAME / namesakes


def name_alone_counts(namesakes: int) -> bool:
    """Whether a name shared by ``namesakes`` stored targets can still be evidence on its own:
    past some two dozen, not even the same name written the same way reaches
    :data:`NAME_ALONE_FLOOR`. The namesakes of the more common of two names count
    (``deconflict.targets.compare_targets``), so the count of one side's name decides for
    every pair it is in."""
    return NAME_ALONE_SCALE * name_alone_weight(namesakes) >= NAME_ALONE_FLOOR


@dataclass(frozen=True)
class NameEvidence:
    """What two people's names say: the match (if any), and whether it is a name alone so
    common among stored targets that it was damped (``common``): such evidence never
    makes a match probable together with other evidence, and below
    :data:`NAME_ALONE_FLOOR` it is dropped (``match`` is then ``None``)."""

    match: Match | None
    common: bool = False


def compare_names(a: PersonName, b: PersonName, *, namesakes: int = 0) -> Match | None:
    """A match of two people by name and date of birth, or ``None``.

    ``probable`` for a similar name with the same date of birth (or, for a
    very similar name, one with day and month transposed or a year off);
    ``possible`` for a similar name where a date of birth is missing; no
    match when the dates of birth differ, however close or common the name.
    Only names in one block are compared (:func:`names_blocked`): without
    dates on both sides, that asks more of the names than similarity alone,
    namely that both parts sound alike or lie one typo apart (Michael Rogers
    and Michael Roberts, similar as strings, are two people).

    ``namesakes``: how many stored targets share the name (by
    :func:`name_frequency_key`), as the caller counts them. A name without a
    date of birth to compare is damped by it (:func:`name_alone_weight`): a
    common name alone is weak evidence, and very common, none.
    """
    return weigh_names(a, b, namesakes=namesakes).match


def weigh_names(
    a: PersonName,
    b: PersonName,
    *,
    namesakes: int = 0,
    monikers: Mapping[str, int] | None = None,
    blocked: bool | None = None,
) -> NameEvidence:
    """:func:`compare_names`, and whether the name was damped as too common.

    ``monikers``: how many stored targets carry each street name (:func:`moniker_words`);
    agreeing by a street name alone, two records are weighed by how common it is (or
    their names are, if more common).
    ``blocked``: whether the two names share a block (:func:`names_blocked`), when the
    caller already knows it from its index (the keys it found ``b`` under); ``None`` to
    compute it, which costs more than the rest of the comparison.
    """
    if not (names_blocked(a, b) if blocked is None else blocked):
        return NameEvidence(None)
    sim = name_similarity(a, b)
    if sim is None or sim.score < SIMILAR:
        return NameEvidence(None)
    dob = dob_relation(a.dob, b.dob)
    if dob is DobRelation.DIFFERENT:
        return NameEvidence(None)
    common = False
    if dob is DobRelation.SAME:
        score, strength = 0.5 + 0.5 * sim.score, Strength.PROBABLE
    elif dob is DobRelation.UNKNOWN:
        carried = (monikers or {}).get(sim.moniker, 0) if sim.moniker else 0
        weight = name_alone_weight(max(namesakes, carried))
        score, strength = NAME_ALONE_SCALE * sim.score * weight, Strength.POSSIBLE
        if weight < 1.0:
            common = True
            if score < NAME_ALONE_FLOOR:
                return NameEvidence(None, common=True)
            sim = replace(sim, notes=(*sim.notes, "a common name"))
    elif sim.score >= VERY_SIMILAR:
        score, strength = 0.4 + 0.5 * sim.score, Strength.PROBABLE
    else:
        score, strength = 0.6 * sim.score, Strength.POSSIBLE
    reason = Reason(
        Rule.NAME,
        "name",
        strength,
        _reason(sim, dob),
        (("similarity", round(sim.score, 3)), ("date_of_birth", dob.value)),
        sim.left_ref,
        sim.right_ref,
    )
    return NameEvidence(Match("target", round(score, 3), strength, (reason,)), common)


def _alias_ref(aliases: tuple[str, ...], written: str) -> str:
    """The reference of the alias written thus (``alias:<index>``)."""
    for index, alias in enumerate(aliases):
        if alias.strip() == written:
            return f"alias:{index}"
    return "name"


def _reason(sim: NameSimilarity, dob: DobRelation) -> str:
    """``"name Jon Smyth ~ John Smith (nickname), same date of birth"``."""
    word = "alias" if sim.alias else "name"
    same = clean(sim.left) == clean(sim.right)
    text = f"{word} {sim.left}" if same else f"{word} {sim.left} ~ {sim.right}"
    if sim.notes:
        text += f" ({', '.join(sim.notes)})"
    return f"{text}, {dob.value}"
