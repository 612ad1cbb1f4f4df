"""The target check's statements: few and bounded, and the hits the rules find without them.

``target_hits`` counts how common a name and its street names are, looks up its
probe keys, reads the candidates and weighs them; each step is one statement (or
one per ``NAMESAKE_KEYS_PER_STATEMENT`` keys), however many names a record has,
and what it finds is what the rules find when every stored target is compared
with every count taken.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import func, select

from deconflict.identifiers import Identifier
from deconflict.names import PersonName, moniker_blocks, moniker_words
from deconflict.targets import TargetRecord, compare_targets, namesake_keys, target_keys
from jointops.deconfliction import candidates
from jointops.deconfliction.candidates import namesake_counts, target_hits
from jointops.deconfliction.records import target_record
from jointops.extensions import db
from jointops.models import Target, TargetIdentifier, TargetKey, utcnow
from tests.alert_helpers import case_of, user

PAIRS = Path(__file__).parent / "data" / "target_pairs.jsonl"


def store(agency: str, ref: str, record: TargetRecord) -> int:
    """A live target of ``agency``'s first case, with the keys the app stores for it."""
    case = case_of(agency)
    person = record.person or PersonName("", "")
    row = Target(
        agency_id=case.agency_id,
        case_id=case.id,
        ref=ref,
        first_name=person.first,
        last_name=person.last,
        aliases=list(person.aliases),
        dob=person.dob,
        submitter_id=user("investigator.pbso").id,
        justification="Reasonable suspicion from two controlled buys.",
        validated_at=utcnow(),
        expires_at=utcnow() + timedelta(days=365),
    )
    row.identifiers = [
        TargetIdentifier(kind=str(i.kind), raw=i.value, normalized=i.value)
        for i in record.identifiers
    ]
    db.session.add(row)
    db.session.flush()
    row.keys = [TargetKey(key=k) for k in sorted(target_keys(target_record(row)))]
    db.session.flush()
    return row.id


def person(first: str, last: str, *aliases: str, dob: date | None = None) -> TargetRecord:
    return TargetRecord(ref="", agency="", case=None, person=PersonName(first, last, aliases, dob))


@contextmanager
def statements() -> Iterator[list[str]]:
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)


def counting(sent: list[str]) -> list[str]:
    return [s for s in sent if "count(*)" in s.lower() and "target_keys" in s]


STREET_NAMES = ("Snoop", "Tiny", "Red", "Ghost", "Smokey", "Bishop")


def test_a_name_and_its_street_names_are_counted_in_one_statement(app: Flask) -> None:
    """Six street names are twelve blocks to count, and the name one more: one statement
    (it was one each), with the same counts."""
    for n, word in enumerate(STREET_NAMES[:3]):
        store("FBI", f"FBI-SN-{n}", person("Marcus", f"Okafor{n}", word, dob=date(1990, 1, n + 1)))
    store("FBI", "FBI-SN-9", person("Dwayne", "Castellano", "Tiny"))
    pbso = case_of("PBSO")
    record = TargetRecord(
        ref="NEW",
        agency=str(pbso.agency_id),
        case=str(pbso.id),
        person=PersonName("Dwayne", "Castellano", STREET_NAMES),
    )
    with statements() as sent:
        hits = target_hits(record, target_id=None, agency_id=pbso.agency_id, case_id=pbso.id)
    assert len(counting(sent)) <= 2  # its own names; the other names of hits by a name alone
    assert len(sent) <= 6
    assert {h.key for h in hits}  # the namesake, by name and street name

    words = moniker_words(record.person or PersonName("", ""))
    keys = set(namesake_keys(record)).union(*(moniker_blocks(w) for w in words))
    assert namesake_counts(keys, exclude_id=None) == {key: one_by_one(key) for key in keys}
    assert sum(namesake_counts({moniker_blocks("tiny")[1]}, exclude_id=None).values()) == 1


def one_by_one(key: str) -> int:
    """The count of ``key``'s entries, up to the cap, by a statement of its own."""
    found = db.session.scalar(select(func.count()).where(TargetKey.key == key))
    return min(int(found or 0), candidates.NAMESAKE_COUNT_CAP)


def test_counts_are_capped_and_split_into_statements_of_a_bounded_size(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name shared past the cap counts as the cap (reading no more entries than one past
    it); more keys than one statement takes are counted in several, each key once."""
    for n in range(candidates.NAMESAKE_COUNT_CAP + 3):
        store("FBI", f"FBI-CAP-{n}", person("Ignatius", "Wolcott"))
    crowd = next(iter(namesake_keys(person("Ignatius", "Wolcott"))))
    keys = {crowd, *(f"namesake:NONE:{n}" for n in range(7))}
    monkeypatch.setattr(candidates, "NAMESAKE_KEYS_PER_STATEMENT", 3)
    with statements() as sent:
        counts = namesake_counts(keys, exclude_id=None)
    assert counts == {key: 0 for key in keys} | {crowd: candidates.NAMESAKE_COUNT_CAP}
    assert len(counting(sent)) == 3
    own = db.session.scalar(select(Target.id).where(Target.ref == "FBI-CAP-0"))
    less = namesake_counts({crowd}, exclude_id=own, own=frozenset({crowd}))
    assert less == {crowd: candidates.NAMESAKE_COUNT_CAP}  # 102 others still past the cap


def pair_record(data: dict[str, Any], agency: str) -> TargetRecord:
    return TargetRecord(
        ref=data["ref"],
        agency=agency,
        case=None,
        person=PersonName(
            data["first"],
            data["last"],
            tuple(data["aliases"]),
            date.fromisoformat(data["dob"]) if data["dob"] else None,
        ),
        identifiers=tuple(Identifier.parse(i["kind"], i["value"]) for i in data["identifiers"]),
    )


def rules_hits(record: TargetRecord, stored: dict[int, TargetRecord], counts: Counts) -> set[int]:
    """Every stored target compared with ``record`` by the rules alone: each name's and
    street name's count taken, each pair's blocks computed (no index, no shortcut)."""
    words = moniker_words(record.person) if record.person is not None else frozenset()
    monikers = {w: min(100, sum(counts[k] for k in moniker_blocks(w))) for w in words}
    return {
        target_id
        for target_id, other in stored.items()
        if compare_targets(record, other, namesakes=counts, monikers=monikers)
    }


class Counts(dict[str, int]):
    """Counts of keys, each taken by a statement of its own the first time it is asked."""

    def __missing__(self, key: str) -> int:
        self[key] = one_by_one(key)
        return self[key]

    def get(self, key: str, default: Any = None) -> Any:  # noqa: ARG002 - compare_targets asks
        return self[key]


def test_the_check_finds_what_the_rules_find_over_every_stored_target(app: Flask) -> None:
    """The labelled pairs' second records stored by the FBI; each first record checked by
    the PBSO: the index's candidates, the counts and the shortcuts of the check lose no hit
    and add none."""
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    fbi = case_of("FBI")
    stored: dict[int, TargetRecord] = {}
    for pair in pairs:
        record = pair_record(pair["b"], str(fbi.agency_id))
        stored[store("FBI", f"FBI-{pair['id']}", record)] = TargetRecord(
            ref=f"FBI-{pair['id']}",
            agency=str(fbi.agency_id),
            case=str(fbi.id),
            person=record.person,
            identifiers=record.identifiers,
        )
    pbso = case_of("PBSO")
    checked = 0
    counts = Counts()
    for pair in pairs[::4]:
        record = pair_record(pair["a"], str(pbso.agency_id))
        record = TargetRecord(
            record.ref, record.agency, str(pbso.id), record.person, record.identifiers
        )
        hits = target_hits(record, target_id=None, agency_id=pbso.agency_id, case_id=pbso.id)
        assert {h.key[1] for h in hits} == rules_hits(record, stored, counts), pair["id"]
        checked += bool(hits)
    assert checked > 75
