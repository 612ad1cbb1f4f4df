"""Candidates through indexes: the few stored rows that can match an item, then the rules' hits."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar

from sqlalchemy import CompoundSelect, Select, bindparam, func, or_, select, union_all

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


def sharing(keys: frozenset[str]) -> dict[int, bool]:
    """The targets stored under any of ``keys`` (``ix_target_keys_key_target``), each with whether
    one of those is a name key (``NAME_KEY_PREFIX``)."""
    found: dict[int, bool] = {}
    for target_id, key in db.session.execute(_SHARING, {"keys": sorted(keys)}):
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
    rows = db.session.execute(query, params or {}).all()
    if not rows:
        return []
    found: dict[int, list[Identifier]] = {r.id: [] for r in rows}
    for target_id, kind, value in db.session.execute(_IDENTIFIERS, {"ids": list(found)}):
        found[target_id].append(Identifier(IdentifierKind(kind), value))
    return [
        Candidate(
            r.id,
            r.agency_id,
            TargetRecord(
                ref=r.ref,
                agency=str(r.agency_id),
                case=str(r.case_id),
                person=person_name(r.first_name, r.last_name, r.aliases, r.dob),
                identifiers=tuple(found[r.id]),
            ),
            (by_name or {}).get(r.id, False),
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


_NAMESAKES = select(func.count()).select_from(
    select(TargetKey.key)
    .where(TargetKey.key == bindparam("key"))
    .limit(NAMESAKE_COUNT_CAP + 1)
    .subquery()
)


def namesake_counts(
    keys: set[str] | frozenset[str], *, exclude_id: int | None, own: frozenset[str] = frozenset()
) -> dict[str, int]:
    """How many stored targets (other than ``exclude_id``, whose ``own`` keys are stored too)
    share each name-frequency key (``deconflict.targets.namesake_keys``), up to
    ``NAMESAKE_COUNT_CAP``: each count reads at most that many entries of
    ``ix_target_keys_key_target``, however common the name, with one statement of one shape
    (compiled once)."""
    counts = {key: int(db.session.scalar(_NAMESAKES, {"key": key}) or 0) for key in sorted(keys)}
    if exclude_id is not None and own & keys:
        stored = db.session.scalars(
            select(TargetKey.key).where(
                TargetKey.target_id == exclude_id, TargetKey.key.in_(sorted(own & keys))
            )
        )
        for key in stored:
            counts[key] = max(0, counts[key] - 1)
    return {key: min(count, NAMESAKE_COUNT_CAP) for key, count in counts.items()}


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


def _commonness(record: TargetRecord, exclude_id: int | None) -> _Commonness:
    """Counts of ``record``'s own name and street names (``exclude_id`` not counted)."""
    own = namesake_keys(record)
    words = moniker_words(record.person) if record.person is not None else frozenset()
    blocks = {word: moniker_blocks(word) for word in words}
    keys = own.union(*blocks.values())
    counted = namesake_counts(keys, exclude_id=exclude_id, own=keys)
    monikers = {
        word: min(NAMESAKE_COUNT_CAP, sum(counted.pop(key) for key in block))
        for word, block in blocks.items()
    }
    return _Commonness(counted, monikers)


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
    common = _commonness(record, target_id)
    namesakes = dict(common.namesakes)
    narrowed = not common.name_alone or bool(common.common_monikers)
    candidates = target_candidates(
        target_probe_keys(
            record, name_alone=common.name_alone, common_monikers=common.common_monikers
        ),
        exclude_id=target_id,
        agency_id=agency_id,
        case_id=case_id,
    )

    def compare(other: Candidate[TargetRecord]) -> Match | None:
        return compare_targets(
            record,
            other.record,
            namesakes=namesakes,
            monikers=common.monikers,
            names_blocked=_names_blocked(record, other, narrowed=narrowed),
        )

    matches = {other.id: compare(other) for other in candidates}
    again = [o for o in candidates if _by_name_alone(record, o.record, matches[o.id])]
    if again:
        own = namesake_keys(record)
        others = set().union(*(namesake_keys(o.record) for o in again)) - own
        namesakes |= namesake_counts(others, exclude_id=target_id, own=own)
        matches |= {o.id: compare(o) for o in again}
    return [
        Hit((TARGET, o.id), o.agency_id, None, match)
        for o in candidates
        if (match := matches[o.id]) is not None
    ]
