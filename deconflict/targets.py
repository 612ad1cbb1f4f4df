"""Target deconfliction: two agencies' records of (maybe) one subject.

Identifiers that name one person or one thing (phone, e-mail, handle, VIN,
plate) match ``exact``; places that several people share (an address, a
business) only ``possible`` on their own. A name adds its own match
(:func:`deconflict.names.compare_names`); two independent pieces of
evidence that each make a ``possible`` match together make a ``probable``
one, unless the dates of birth say they are two people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from deconflict.identifiers import Identifier, IdentifierKind, exact_keys, identifier_keys
from deconflict.match import STRENGTH_ORDER, Match, Reason, Rule, Strength, same_case
from deconflict.names import (
    DobRelation,
    PersonName,
    dob_relation,
    name_frequency_key,
    name_keys,
    name_probe_keys,
    weigh_names,
)


@dataclass(frozen=True)
class TargetRecord:
    """An agency's target as the rules see it; businesses are identifiers of kind BUSINESS."""

    ref: str
    agency: str
    case: str | None
    person: PersonName | None
    identifiers: tuple[Identifier, ...] = ()


@dataclass(frozen=True)
class _Evidence:
    strength: Strength
    score: float
    reason: Reason
    damped: bool = False  # a name alone, too common to make other evidence probable


def target_keys(record: TargetRecord) -> frozenset[str]:
    """The keys the app indexes a target under: exact keys of its identifiers, its name keys,
    and the key its name is counted under (:func:`namesake_keys`)."""
    keys = identifier_keys(record.identifiers)
    if record.person is not None:
        keys |= name_keys(record.person) | namesake_keys(record)
    return keys


def namesake_keys(record: TargetRecord) -> frozenset[str]:
    """The key under which stored targets of ``record``'s name are counted (none without a
    first and last name): the app counts them to pass ``namesakes`` to :func:`compare_targets`.
    Never looked up to find candidates."""
    key = name_frequency_key(record.person) if record.person is not None else None
    return frozenset({key} if key else ())


def target_probe_keys(
    record: TargetRecord, *, name_alone: bool = True, common_monikers: frozenset[str] = frozenset()
) -> frozenset[str]:
    """The keys to look up for the targets ``record`` may match: every match of
    :func:`compare_targets` shares one of them with the other target's :func:`target_keys`.

    ``name_alone=False`` when ``record``'s name is too common for a name alone to count
    (:func:`deconflict.names.name_alone_counts` of its :func:`namesake_keys` count): the
    matches are then the same, since the pairs only a name alone joins would all be dropped.
    Likewise ``common_monikers``: street names of ``record`` carried by so many stored
    targets that alone they count for nothing.
    """
    keys = identifier_keys(record.identifiers)
    if record.person is not None:
        keys |= name_probe_keys(
            record.person, name_alone=name_alone, common_monikers=common_monikers
        )
    return keys


def compare_targets(
    a: TargetRecord,
    b: TargetRecord,
    *,
    namesakes: Mapping[str, int] | None = None,
    monikers: Mapping[str, int] | None = None,
    names_blocked: bool | None = None,
) -> Match | None:
    """One match with every reason why ``a`` and ``b`` may be one subject, or ``None``.

    Two ``possible`` pieces of evidence together make a ``probable`` match,
    except where the records name two people: different dates of birth, or
    names that do not match (a couple at one home and one family business).

    ``namesakes``: how many stored targets the app counts under each
    :func:`namesake_keys` key (the more common of the two names counts). A
    name without a date of birth to compare is damped by it
    (:func:`deconflict.names.compare_names`), and a damped name never makes
    another ``possible`` piece of evidence ``probable``.

    ``monikers``: how many stored targets carry each street name (as the app counts them
    under :func:`deconflict.names.moniker_blocks`); a street name alone is damped by it.

    ``names_blocked``: whether the names share a block, when the caller knows it from its
    index (:func:`deconflict.names.weigh_names`).
    """
    if same_case(a.agency, a.case, b.agency, b.case) or (a.agency, a.ref) == (b.agency, b.ref):
        return None
    evidence = list(_identifier_evidence(a.identifiers, b.identifiers))
    dob = DobRelation.UNKNOWN
    names_unmatched = False
    if a.person is not None and b.person is not None:
        dob = dob_relation(a.person.dob, b.person.dob)
        counted = max(
            (namesakes or {}).get(k, 0) for k in (*namesake_keys(a), *namesake_keys(b), "")
        )
        name = weigh_names(
            a.person, b.person, namesakes=counted, monikers=monikers, blocked=names_blocked
        )
        if name.match is not None:
            evidence.append(
                _Evidence(name.match.strength, name.match.score, name.match.reasons[0], name.common)
            )
        else:
            names_unmatched = not name.common
    if not evidence:
        return None

    evidence.sort(key=lambda e: (-STRENGTH_ORDER[e.strength], -e.score))
    strength = evidence[0].strength
    counting = [e for e in evidence if not e.damped]
    if (
        strength is Strength.POSSIBLE
        and len(counting) >= 2
        and dob is not DobRelation.DIFFERENT
        and not (names_unmatched and _both_named(a.person, b.person))
    ):
        strength = Strength.PROBABLE
    reasons = [e.reason for e in evidence]
    if dob is DobRelation.DIFFERENT:
        reasons.append(
            Reason(
                Rule.DATE_OF_BIRTH,
                "dob",
                Strength.POSSIBLE,
                DobRelation.DIFFERENT.value,
                (("relation", DobRelation.DIFFERENT.value),),
                "dob",
                "dob",
            )
        )
    return Match("target", round(_combined(e.score for e in evidence), 3), strength, tuple(reasons))


def _both_named(a: PersonName | None, b: PersonName | None) -> bool:
    """Both records name someone the name rules can compare (their names have keys): names
    that then do not match are two people's. Asked only when it decides a strength, since
    a stored target's keys cost more to compute than the rest of a comparison."""
    return a is not None and b is not None and bool(name_keys(a) and name_keys(b))


def _combined(scores: Iterable[float]) -> float:
    """Independent evidence adds up as a noisy-or: 1 - product of (1 - score)."""
    doubt = 1.0
    for s in scores:
        doubt *= 1.0 - s
    return min(1.0, 1.0 - doubt)


_LABELS = {
    IdentifierKind.PHONE: "phone",
    IdentifierKind.EMAIL: "e-mail",
    IdentifierKind.PLATE: "plate",
    IdentifierKind.VIN: "VIN",
    IdentifierKind.ADDRESS: "address",
    IdentifierKind.HANDLE: "handle",
    IdentifierKind.BUSINESS: "business",
}
# Kinds that several unrelated people may share (a family home, a workplace).
_SHARED_KINDS = {IdentifierKind.ADDRESS, IdentifierKind.BUSINESS}
_EXACT_SCORE = {
    IdentifierKind.VIN: 0.99,
    IdentifierKind.PHONE: 0.97,
    IdentifierKind.EMAIL: 0.97,
    IdentifierKind.HANDLE: 0.95,
    IdentifierKind.PLATE: 0.95,
    IdentifierKind.ADDRESS: 0.5,
    IdentifierKind.BUSINESS: 0.5,
}


def _identifier_evidence(
    left: tuple[Identifier, ...], right: tuple[Identifier, ...]
) -> Iterable[_Evidence]:
    """One piece of evidence per pair of identifiers that share a key (the best key)."""
    seen: set[tuple[IdentifierKind, str, str]] = set()
    right_keys = [(n, j, exact_keys(j.kind, j.value)) for n, j in enumerate(right)]
    for m, i in enumerate(left):
        i_keys = exact_keys(i.kind, i.value)
        for n, j, j_keys in right_keys:
            if i.kind != j.kind or (i.kind, i.value, j.value) in seen:
                continue
            shared = i_keys & j_keys
            if shared:
                seen.add((i.kind, i.value, j.value))
                found = _evidence(i, j, shared)
                reason = Reason(
                    Rule.IDENTIFIER,
                    str(i.kind),
                    found.strength,
                    found.text,
                    (("how", found.how),),
                    f"{i.kind}:{m}",
                    f"{j.kind}:{n}",
                )
                yield _Evidence(found.strength, found.score, reason)


@dataclass(frozen=True)
class _Found:
    strength: Strength
    score: float
    text: str
    how: str


def _evidence(i: Identifier, j: Identifier, shared: frozenset[str]) -> _Found:
    label = _LABELS[i.kind]
    full = f"{i.kind}:{i.value}"
    if i.kind is IdentifierKind.PLATE and full not in shared:
        return _Found(
            Strength.PROBABLE,
            0.8,
            f"plate {i.value} ~ {j.value} (O/0 and I/1 read alike)",
            "read_alike",
        )
    if i.kind is IdentifierKind.PHONE and full not in shared:
        line = i.value.split(";", 1)[0]
        if ";" in i.value and ";" in j.value:
            return _Found(
                Strength.POSSIBLE, 0.5, f"phone line {line} matches, extensions differ", "line"
            )
        return _Found(
            Strength.PROBABLE,
            0.85,
            f"phone {line} matches (extension given on one side only)",
            "extension_one_side",
        )
    if i.kind is IdentifierKind.ADDRESS and i.value != j.value:
        street, other = i.value.split(", ", 1)[0], j.value.split(", ", 1)[0]
        how = "written otherwise" if street != other else "same city or ZIP code"
        return _Found(Strength.POSSIBLE, 0.45, f"address {street} matches ({how})", "street")
    if i.kind is IdentifierKind.BUSINESS and i.value != j.value:
        names = sorted(k.split(":", 1)[1] for k in shared)
        return _Found(
            Strength.POSSIBLE,
            0.45,
            f"business {' / '.join(names)} matches (trade name)",
            "trade_name",
        )
    strength = Strength.POSSIBLE if i.kind in _SHARED_KINDS else Strength.EXACT
    return _Found(strength, _EXACT_SCORE[i.kind], f"{label} {i.value} matches", "exact")


def record_values(record: TargetRecord) -> dict[str, str]:
    """A record's values under the references its reasons use, for
    :func:`deconflict.explain.for_side` (a side is only ever handed its own)."""
    values = {f"{i.kind}:{n}": i.value for n, i in enumerate(record.identifiers)}
    if record.person is not None:
        values["name"] = f"{record.person.first} {record.person.last}".strip()
        values.update({f"alias:{n}": alias for n, alias in enumerate(record.person.aliases)})
    return values
