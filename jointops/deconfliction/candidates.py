"""Candidates through indexes: the few stored rows that can match an item, then the rules' hits."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    CompoundSelect,
    Executable,
    Result,
    Select,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    union_all,
)

from deconflict.events import (
    EventRules,
    OperationRecord,
    compare_operations,
    grid_cells,
    search_area,
)
from deconflict.identifiers import Identifier, IdentifierKind
from deconflict.match import Match, Rule
from deconflict.names import (
    DobRelation,
    dob_relation,
    moniker_blocks,
    moniker_words,
    name_alone_counts,
)
from deconflict.targets import TargetRecord, compare_targets, namesake_keys, target_probe_keys
from jointops.alerts.items import ItemKey
from jointops.catalog import MAX_EVENT_DURATION
from jointops.deconfliction.records import (
    EVENT,
    TARGET,
    PlannedOperation,
    event_rules,
    operation_of,
    operation_record,
)
from jointops.deconfliction.target_keys import person_name
from jointops.extensions import db
from jointops.models import (
    Event,
    EventStatus,
    Target,
    TargetIdentifier,
    TargetKey,
    utcnow,
)


@dataclass(frozen=True)
class Hit:
    """One other item that matches, and how.

    Only what an alert stores of the other item: a check reads hundreds of
    rows for a common name, and objects are loaded (``load_keys``) only for
    the alerts and pointers that show them.
    """

    key: ItemKey
    agency_id: int
    starts_at: datetime | None  # an operation's start: how urgent its alert is
    match: Match


R = TypeVar("R", OperationRecord, TargetRecord)


@dataclass(frozen=True)
class Candidate(Generic[R]):
    """An item an index hands to the rules: its id and agency, and the rules' record of it.

    ``by_name``: a target found under a name key (``deconflict.names.name_keys``), so that
    its name shares a block with the item checked.
    """

    id: int
    agency_id: int
    record: R
    by_name: bool = False


def usual_radius(rules: EventRules) -> int:
    """The widest radius an operation has by default (by its kind): the grid's reach."""
    return max(rules.default_radius_m, *rules.radius_m.values())


#: A search touching more grid cells than this reads operations by start time alone.
MAX_GRID_CELLS = 100

EVENT_COLUMNS = (
    Event.id,
    Event.owner_agency_id,
    Event.subtype,
    Event.case_id,
    Event.starts_at,
    Event.ends_at,
    Event.latitude,
    Event.longitude,
    Event.radius_m,
)


def operation_candidate_query(
    record: OperationRecord, *, exclude_id: int | None, agency_id: int, case_id: int | None
) -> tuple[CompoundSelect[*tuple[Any, ...]], dict[str, Any]]:
    """Operations that may conflict with ``record``: the statement and its parameters.

    Near ones, by grid cell and start (``ix_events_kind_cell_start``), each
    assumed no wider than the usual radius; and the few given a wider radius
    of their own, by radius (``ix_events_kind_radius``), wherever they are.
    """
    rules = event_rules()
    usual = usual_radius(rules)
    area = search_area(record, rules, usual)
    cells = grid_cells(area, MAX_GRID_CELLS)
    statement = _operation_statement(cells is not None, exclude_id is not None, case_id is not None)
    params = {
        "starts_before": area.starts_before,
        # ends_at > ends_after and no operation lasts longer than MAX_EVENT_DURATION
        "earliest_start": area.ends_after - MAX_EVENT_DURATION,
        "ends_after": area.ends_after,
        "min_lat": area.min_lat,
        "max_lat": area.max_lat,
        "min_lon": area.min_lon,
        "max_lon": area.max_lon,
        "cells": cells,
        "usual": usual,
        "exclude_id": exclude_id,
        "agency_id": agency_id,
        "case_id": case_id,
    }
    return statement, {k: v for k, v in params.items() if v is not None}


@lru_cache(maxsize=8)
def _operation_statement(
    gridded: bool, excluding: bool, by_case: bool
) -> CompoundSelect[*tuple[Any, ...]]:
    """The candidate statement of one shape, built once: a check is a millisecond or two,
    and building it anew each time cost a fifth of that."""

    def alike(starts_at: Any) -> list[Any]:
        conditions = [
            Event.kind == "operation",
            starts_at < bindparam("starts_before"),
            starts_at > bindparam("earliest_start"),
            Event.ends_at > bindparam("ends_after"),
            Event.status != EventStatus.CANCELLED.value,
        ]
        if excluding:
            conditions.append(Event.id != bindparam("exclude_id"))
        if by_case:
            conditions.append(
                or_(
                    Event.owner_agency_id != bindparam("agency_id"),
                    Event.case_id.is_(None),
                    Event.case_id != bindparam("case_id"),
                )
            )
        return conditions

    near = select(*EVENT_COLUMNS).where(
        *alike(Event.starts_at),
        Event.latitude.between(bindparam("min_lat"), bindparam("max_lat")),
        Event.longitude.between(bindparam("min_lon"), bindparam("max_lon")),
    )
    if gridded:
        near = near.where(Event.grid_cell.in_(bindparam("cells", expanding=True)))
    # The start is wrapped so that no index on it tempts the planner away from the radius
    # (SQLite, without statistics, would walk every start of the fortnight).
    unindexed_start = func.coalesce(Event.starts_at, Event.starts_at)
    wide = select(*EVENT_COLUMNS).where(
        *alike(unindexed_start), Event.radius_m > bindparam("usual")
    )
    return union_all(near, wide)


def candidate_operations(
    query: Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]],
    params: dict[str, Any] | None = None,
) -> list[Candidate[OperationRecord]]:
    """The rules' records of the operations ``query`` selects (``EVENT_COLUMNS``), once each."""
    found = {
        r.id: Candidate(r.id, r.owner_agency_id, operation_of(r, str(r.id), r.owner_agency_id))
        for r in db.session.execute(query, params or {})
    }
    return list(found.values())


def operation_candidates(
    record: OperationRecord, *, exclude_id: int | None, agency_id: int, case_id: int | None
) -> list[Candidate[OperationRecord]]:
    return candidate_operations(
        *operation_candidate_query(
            record, exclude_id=exclude_id, agency_id=agency_id, case_id=case_id
        )
    )


def event_hits(item: PlannedOperation, *, event_id: int | None, agency_id: int) -> list[Hit] | None:
    """The operations ``item`` conflicts with; ``None`` when it is not deconflicted at all."""
    record = operation_record(item, str(event_id or "draft"), agency_id)
    if record is None:
        return None
    rules = event_rules()
    hits = []
    candidates = operation_candidates(
        record, exclude_id=event_id, agency_id=agency_id, case_id=item.case_id
    )
    for other in candidates:
        match = compare_operations(record, other.record, rules)
        if match is not None:
            hits.append(Hit((EVENT, other.id), other.agency_id, other.record.window.start, match))
    return hits


RECORD_COLUMNS = (
    Target.id,
    Target.agency_id,
    Target.ref,
    Target.case_id,
    Target.first_name,
    Target.last_name,
    Target.aliases,
    Target.dob,
)

#: A key under which a target's name is stored (``deconflict.names.name_keys``).
NAME_KEY_PREFIX = "name:"

_SHARING = select(TargetKey.target_id, TargetKey.key).where(
    TargetKey.key.in_(bindparam("keys", expanding=True))
)


def _plain(statement: Executable, params: Mapping[str, Any]) -> Result[*tuple[Any, ...]]:
    """A candidate statement's plain rows, run on the session's connection: the session's
    own ``execute`` spends more per statement on ORM bookkeeping (about 0.15 ms) than
    SQLite spends answering it, and a check runs several. Pending changes are flushed
    first, as the session's ``execute`` would."""
    if db.session.autoflush:
        db.session.flush()
    return db.session.connection().execute(statement, dict(params))


def sharing(keys: frozenset[str]) -> dict[int, bool]:
    """The targets stored under any of ``keys`` (``ix_target_keys_key_target``), each with whether
    one of those is a name key (``NAME_KEY_PREFIX``)."""
    found: dict[int, bool] = {}
    for target_id, key in _plain(_SHARING, {"keys": sorted(keys)}):
        found[target_id] = found.get(target_id, False) or key.startswith(NAME_KEY_PREFIX)
    return found


def target_candidate_query(
    ids: Collection[int], *, exclude_id: int | None, agency_id: int, case_id: int
) -> tuple[Select[*tuple[Any, ...]], dict[str, Any]]:
    """Of the targets ``ids``, the live ones except those of the same agency's same case: the
    statement (by primary key, whatever the planner thinks of the key index's statistics)
    and its parameters. Plain rows of the columns the rules read (a check may read
    hundreds for a common name; objects are loaded only for alerts and pointers)."""
    params = {
        "ids": sorted(ids),
        "now": utcnow(),
        "agency_id": agency_id,
        "case_id": case_id,
        "exclude_id": exclude_id,
    }
    return _target_statement(exclude_id is not None), {
        k: v for k, v in params.items() if v is not None
    }


@lru_cache(maxsize=2)
def _target_statement(excluding: bool) -> Select[*tuple[Any, ...]]:
    """The candidate statement, built once (see ``_operation_statement``)."""
    query = select(*RECORD_COLUMNS).where(
        Target.id.in_(bindparam("ids", expanding=True)),
        Target.expires_at > bindparam("now"),
        or_(Target.agency_id != bindparam("agency_id"), Target.case_id != bindparam("case_id")),
    )
    if excluding:
        query = query.where(Target.id != bindparam("exclude_id"))
    return query


_IDENTIFIERS = (
    select(TargetIdentifier.target_id, TargetIdentifier.kind, TargetIdentifier.normalized)
    .where(TargetIdentifier.target_id.in_(bindparam("ids", expanding=True)))
    .order_by(TargetIdentifier.target_id, TargetIdentifier.id)
)


def candidate_records(
    query: Select[*tuple[Any, ...]],
    params: dict[str, Any] | None = None,
    *,
    by_name: Mapping[int, bool] | None = None,
) -> list[Candidate[TargetRecord]]:
    """The rules' records of the targets ``query`` selects (``RECORD_COLUMNS``); ``by_name``:
    which of them were found under a name key."""
    rows = _plain(query, params or {}).all()
    if not rows:
        return []
    return _records(rows, _identifiers_of([r.id for r in rows]), by_name or {})


def _identifiers_of(ids: Sequence[int]) -> dict[int, list[Identifier]]:
    found: dict[int, list[Identifier]] = {i: [] for i in ids}
    for part in _parts(ids):
        for target_id, kind, value in _plain(_IDENTIFIERS, {"ids": part}):
            found[target_id].append(Identifier(IdentifierKind(kind), value))
    return found


def _records(
    rows: Sequence[Any], identifiers: Mapping[int, list[Identifier]], by_name: Mapping[int, bool]
) -> list[Candidate[TargetRecord]]:
    return [
        Candidate(
            r.id,
            r.agency_id,
            TargetRecord(
                ref=r.ref,
                agency=str(r.agency_id),
                case=str(r.case_id),
                person=person_name(r.first_name, r.last_name, r.aliases, r.dob),
                identifiers=tuple(identifiers[r.id]),
            ),
            by_name.get(r.id, False),
        )
        for r in rows
    ]


def target_candidates(
    keys: frozenset[str], *, exclude_id: int | None, agency_id: int, case_id: int
) -> list[Candidate[TargetRecord]]:
    found = sharing(keys) if keys else {}
    if not found:
        return []
    return candidate_records(
        *target_candidate_query(
            found.keys(), exclude_id=exclude_id, agency_id=agency_id, case_id=case_id
        ),
        by_name=found,
    )


#: Namesakes are counted up to this many: past a few dozen a name alone already counts for
#: nothing (``deconflict.names.NAME_ALONE_FLOOR``), so no count reads more index entries.
NAMESAKE_COUNT_CAP = 100


#: Keys counted by one statement at most (each a bounded read of its own).
NAMESAKE_KEYS_PER_STATEMENT = 50


@lru_cache(maxsize=NAMESAKE_KEYS_PER_STATEMENT)
def _namesakes_statement(size: int) -> Executable:
    """The counts of ``size`` keys (``key0``, ``key1``, ...) in one statement: for each, how
    many entries of ``ix_target_keys_key_target`` it has, up to one past the cap (its
    position in ``at``). Built once per size."""
    counts: list[Select[*tuple[Any, ...]]] = [
        select(literal_column(str(n)).label("at"), func.count()).select_from(
            select(TargetKey.key)
            .where(TargetKey.key == bindparam(f"key{n}"))
            .limit(NAMESAKE_COUNT_CAP + 1)
            .subquery()
        )
        for n in range(size)
    ]
    return counts[0] if size == 1 else union_all(*counts)


def _bounded_counts(keys: Collection[str]) -> dict[str, int]:
    """How many entries each of ``keys`` has, up to one past ``NAMESAKE_COUNT_CAP``: one
    statement per ``NAMESAKE_KEYS_PER_STATEMENT`` keys (a check counts a dozen or two, and
    on PostgreSQL each statement is a round trip), however common a key."""
    counts: dict[str, int] = {}
    for part in _parts(sorted(keys), NAMESAKE_KEYS_PER_STATEMENT):
        params = {f"key{n}": key for n, key in enumerate(part)}
        for row in _plain(_namesakes_statement(len(part)), params):
            counts[part[int(row.at)]] = int(row[1])
    return counts


def namesake_counts(
    keys: set[str] | frozenset[str], *, exclude_id: int | None, own: frozenset[str] = frozenset()
) -> dict[str, int]:
    """How many stored targets (other than ``exclude_id``, whose ``own`` keys are stored too)
    share each name-frequency key (``deconflict.targets.namesake_keys``), up to
    ``NAMESAKE_COUNT_CAP``: each count reads at most that many entries of
    ``ix_target_keys_key_target``, however common the name (``_bounded_counts``)."""
    counts = _bounded_counts(keys)
    stored: frozenset[str] = frozenset()
    if exclude_id is not None and own & keys:
        stored = frozenset(
            _plain(_OWN_KEYS, {"target_id": exclude_id, "keys": sorted(own & keys)}).scalars()
        )
    return _less_own(counts, keys, stored)


_OWN_KEYS = select(TargetKey.key).where(
    TargetKey.target_id == bindparam("target_id"),
    TargetKey.key.in_(bindparam("keys", expanding=True)),
)


def _less_own(
    counts: Mapping[str, int], keys: Collection[str], stored: Collection[str]
) -> dict[str, int]:
    """``keys``' counts (each read up to one past the cap), one fewer for each key the target
    checked is itself stored under, capped."""
    return {key: min(max(0, counts[key] - (key in stored)), NAMESAKE_COUNT_CAP) for key in keys}


def _names_blocked(
    record: TargetRecord, other: Candidate[TargetRecord], *, narrowed: bool
) -> bool | None:
    """Whether the two names share a block, as the index answered, when that is the whole
    answer: found under a name key, yes; else no, unless some blocks of a name alone were
    not read (``narrowed``) and no two dates of birth tell the pair apart (``None``: the
    rules compute it)."""
    if other.by_name:
        return True
    if narrowed and _dob_unknown(record, other.record):
        return None
    return False


def _dob_unknown(a: TargetRecord, b: TargetRecord) -> bool:
    """The pair has no two dates of birth to compare: only a name alone can join them."""
    return (
        a.person is not None
        and b.person is not None
        and dob_relation(a.person.dob, b.person.dob) is DobRelation.UNKNOWN
    )


def _by_name_alone(record: TargetRecord, other: TargetRecord, match: Match | None) -> bool:
    return (
        match is not None
        and _dob_unknown(record, other)
        and any(r.rule is Rule.NAME for r in match.reasons)
    )


@dataclass(frozen=True)
class _Commonness:
    """How common a record's name and street names are among stored targets."""

    namesakes: dict[str, int]  # by name-frequency key
    monikers: dict[str, int]  # by street name

    @property
    def name_alone(self) -> bool:
        return name_alone_counts(max(self.namesakes.values(), default=0))

    @property
    def common_monikers(self) -> frozenset[str]:
        return frozenset(w for w, n in self.monikers.items() if not name_alone_counts(n))


def _counted_keys(record: TargetRecord) -> tuple[frozenset[str], dict[str, tuple[str, str]]]:
    """The keys counted for ``record``'s commonness: all of them, and the street names' blocks."""
    own = namesake_keys(record)
    words = moniker_words(record.person) if record.person is not None else frozenset()
    blocks = {word: moniker_blocks(word) for word in words}
    return own.union(*blocks.values()), blocks


def _commonness_of(counted: dict[str, int], blocks: dict[str, tuple[str, str]]) -> _Commonness:
    monikers = {
        word: min(NAMESAKE_COUNT_CAP, sum(counted.pop(key) for key in block))
        for word, block in blocks.items()
    }
    return _Commonness(counted, monikers)


def _commonness(record: TargetRecord, exclude_id: int | None) -> _Commonness:
    """Counts of ``record``'s own name and street names (``exclude_id`` not counted)."""
    keys, blocks = _counted_keys(record)
    return _commonness_of(namesake_counts(keys, exclude_id=exclude_id, own=keys), blocks)


class _TargetCheck:
    """The comparison of one record with its candidates, in the two passes of ``target_hits``:
    every candidate weighed with ``record``'s own counts, then those matched by a name alone
    weighed again with the other name's count (``recount``)."""

    def __init__(self, record: TargetRecord, common: _Commonness) -> None:
        self.record = record
        self.common = common
        self.namesakes = dict(common.namesakes)
        self.narrowed = not common.name_alone or bool(common.common_monikers)
        self.candidates: list[Candidate[TargetRecord]] = []
        self.matches: dict[int, Match | None] = {}
        self.again: list[Candidate[TargetRecord]] = []

    def probe_keys(self) -> frozenset[str]:
        return target_probe_keys(
            self.record,
            name_alone=self.common.name_alone,
            common_monikers=self.common.common_monikers,
        )

    def compare(self, other: Candidate[TargetRecord]) -> Match | None:
        return compare_targets(
            self.record,
            other.record,
            namesakes=self.namesakes,
            monikers=self.common.monikers,
            names_blocked=_names_blocked(self.record, other, narrowed=self.narrowed),
        )

    def first(self, candidates: list[Candidate[TargetRecord]]) -> frozenset[str]:
        """Compare with every candidate; the other names' keys still to count (``recount``)."""
        self.candidates = candidates
        self.matches = {other.id: self.compare(other) for other in candidates}
        self.again = [
            o for o in candidates if _by_name_alone(self.record, o.record, self.matches[o.id])
        ]
        if not self.again:
            return frozenset()
        own = namesake_keys(self.record)
        return frozenset().union(*(namesake_keys(o.record) for o in self.again)) - own

    def recount(self, counts: Mapping[str, int]) -> None:
        """Weigh the matches by a name alone again, with the other names' ``counts``."""
        self.namesakes |= counts
        self.matches |= {o.id: self.compare(o) for o in self.again}

    def hits(self) -> list[Hit]:
        return [
            Hit((TARGET, o.id), o.agency_id, None, match)
            for o in self.candidates
            if (match := self.matches[o.id]) is not None
        ]


def target_hits(
    record: TargetRecord, *, target_id: int | None, agency_id: int, case_id: int
) -> list[Hit]:
    """The live targets of other agencies or cases that ``record`` matches.

    A name (or a street name) without a date of birth to compare is weighed
    by how many stored targets share it: the more common of the two names
    (``namesake_counts``). ``record``'s own name and street names are
    counted first; those too common to count alone have their blocks of a
    name alone left unread (they hold dozens or hundreds of namesakes, each
    of which the rules would drop). The other name is counted only for the
    pairs that matched by a name alone, and those are weighed again: a higher
    count can only weaken such a match, never make one.
    """
    check = _TargetCheck(record, _commonness(record, target_id))
    candidates = target_candidates(
        check.probe_keys(), exclude_id=target_id, agency_id=agency_id, case_id=case_id
    )
    others = check.first(candidates)
    if check.again:
        check.recount(namesake_counts(others, exclude_id=target_id, own=namesake_keys(record)))
    return check.hits()


# --- many targets at once (an import) -------------------------------------------------------


@dataclass(frozen=True)
class StoredTarget:
    """A stored target to check, as ``target_hits`` takes it."""

    id: int
    agency_id: int
    case_id: int
    record: TargetRecord


#: Values bound to one statement at most (SQLite allows 32,766; PostgreSQL 65,535).
MAX_BOUND = 10_000


def _parts(values: Sequence[Any], size: int = MAX_BOUND) -> list[Sequence[Any]]:
    return [values[n : n + size] for n in range(0, len(values), size)]


_KEY_COUNTS = (
    select(TargetKey.key, func.count())
    .where(TargetKey.key.in_(bindparam("keys", expanding=True)))
    .group_by(TargetKey.key)
)


def _key_counts(keys: Collection[str]) -> dict[str, int]:
    """How many stored targets share each key, up to one past ``NAMESAKE_COUNT_CAP`` (as
    ``_bounded_counts`` reads them), in one grouped statement per ``MAX_BOUND`` keys."""
    counts = dict.fromkeys(keys, 0)
    for part in _parts(sorted(keys)):
        for key, count in db.session.execute(_KEY_COUNTS, {"keys": part}):
            counts[key] = min(int(count), NAMESAKE_COUNT_CAP + 1)
    return counts


def _stored_keys(ids: Collection[int], keys: Collection[str]) -> dict[int, set[str]]:
    """Which of ``keys`` each of the targets ``ids`` is stored under."""
    found: dict[int, set[str]] = {i: set() for i in ids}
    statement = select(TargetKey.target_id, TargetKey.key).where(
        TargetKey.target_id.in_(bindparam("ids", expanding=True))
    )
    wanted = set(keys)
    for part in _parts(sorted(ids)):
        for target_id, key in db.session.execute(statement, {"ids": part}):
            if key in wanted:
                found[target_id].add(key)
    return found


def _sharing_many(keys: Collection[str]) -> dict[str, list[int]]:
    """The targets stored under each of ``keys`` (``sharing``, for many at once)."""
    found: dict[str, list[int]] = {}
    for part in _parts(sorted(keys)):
        for target_id, key in db.session.execute(_SHARING, {"keys": part}):
            found.setdefault(key, []).append(target_id)
    return found


_LIVE = select(*RECORD_COLUMNS).where(
    Target.id.in_(bindparam("ids", expanding=True)), Target.expires_at > bindparam("now")
)


def _live_records(ids: Collection[int]) -> dict[int, Candidate[TargetRecord]]:
    """The rules' records of the live targets among ``ids``."""
    now = utcnow()
    rows = [
        row
        for part in _parts(sorted(ids))
        for row in db.session.execute(_LIVE, {"ids": part, "now": now})
    ]
    records = _records(rows, _identifiers_of([r.id for r in rows]), {})
    return {c.id: c for c in records}


def many_target_hits(targets: Sequence[StoredTarget]) -> list[list[Hit]]:
    """``target_hits`` of each stored target, with a few statements for all of them.

    The same rules on the same rows, so the same hits as checking each alone:
    the counts of the targets' own names and street names in one grouped
    statement (less each target's own entry, as ``namesake_counts`` does with
    ``exclude_id``), the candidates of all of them in one lookup of their
    probe keys and one read of the records, then each target compared with its
    own (other agencies' or cases', live, not itself), and the other names of
    the pairs matched by a name alone counted at once for the second pass.
    Memory and statement size grow with ``targets``: the caller chunks.
    """
    counted = {t.id: _counted_keys(t.record) for t in targets}
    all_counted = set().union(*(keys for keys, _ in counted.values()))
    counts = _key_counts(all_counted)
    stored = _stored_keys([t.id for t in targets], all_counted)
    checks = [
        _TargetCheck(
            t.record,
            _commonness_of(_less_own(counts, counted[t.id][0], stored[t.id]), counted[t.id][1]),
        )
        for t in targets
    ]
    probes = [check.probe_keys() for check in checks]
    under = _sharing_many(set().union(*probes))
    found: list[dict[int, bool]] = []
    for probe in probes:
        shared: dict[int, bool] = {}
        for key in probe:
            named = key.startswith(NAME_KEY_PREFIX)
            for target_id in under.get(key, ()):
                shared[target_id] = shared.get(target_id, False) or named
        found.append(shared)
    live = _live_records(set().union(*found))
    recounts: list[frozenset[str]] = []
    for t, check, shared in zip(targets, checks, found, strict=True):
        candidates = [
            replace(live[i], by_name=named)
            for i, named in sorted(shared.items())
            if i in live
            and i != t.id
            and (live[i].agency_id != t.agency_id or live[i].record.case != str(t.case_id))
        ]
        recounts.append(check.first(candidates))
    more = _key_counts(set().union(*recounts) - counts.keys())
    counts |= more
    for check, keys in zip(checks, recounts, strict=True):
        if check.again:
            check.recount(_less_own(counts, keys, ()))
    return [check.hits() for check in checks]
