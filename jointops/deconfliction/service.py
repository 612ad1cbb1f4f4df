"""Deconfliction in the app: rows onto ``deconflict`` records, indexed candidates, alerts.

The rules live in ``deconflict/``; this module only asks them about the few
rows that can possibly match, found through indexes, never by reading a whole
table:

* an operation: other operations in the grid cells around its place whose start
  lies in the widened window (``ix_events_kind_cell_start``; no operation lasts
  longer than the form allows, which bounds the range), and those few with a
  radius wider than any kind's default, wherever they are;
* a target: other targets that share one of its blocking keys
  (``ix_target_keys_key``), not expired.

Items of one agency's one case never conflict. A hit is upserted as one alert
per pair (saving an item again updates that alert, never adds one); an alert
whose items no longer match is closed. Everything runs after the item's own
transaction has committed, in a write transaction of its own, so that saving
is never held up by, nor rolled back with, deconfliction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from flask import current_app
from sqlalchemy import CompoundSelect, Select, and_, bindparam, func, or_, select, union_all
from sqlalchemy.exc import IntegrityError

from auth.policy import pointer_explanation
from deconflict.events import (
    EventRules,
    OperationRecord,
    compare_operations,
    grid_cells,
    search_area,
)
from deconflict.identifiers import Identifier, IdentifierKind
from deconflict.match import Match
from deconflict.names import PersonName
from deconflict.targets import TargetRecord, compare_targets, target_probe_keys
from deconflict.windows import Window
from jointops import audit
from jointops.alerts.service import (
    Contact,
    Item,
    ItemKey,
    contact_of,
    item_keys,
    item_values,
    load_items,
    load_keys,
    notify,
)
from jointops.catalog import SUBTYPES
from jointops.deconfliction.target_keys import person_name
from jointops.events.service import MAX_DURATION
from jointops.extensions import db
from jointops.models import (
    Agency,
    Alert,
    AlertStatus,
    Event,
    EventStatus,
    Target,
    TargetIdentifier,
    TargetKey,
    User,
    utcnow,
)
from jointops.transactions import begin_write

if TYPE_CHECKING:
    from jointops.events.service import EventDraft
    from jointops.targets.service import TargetDraft

EVENT: Literal["event"] = "event"
TARGET: Literal["target"] = "target"


# --- rows onto records -------------------------------------------------------------------


def event_rules() -> EventRules:
    """The buffer from the configuration; the radius of each kind of operation from the catalog."""
    return EventRules(
        buffer=timedelta(minutes=current_app.config["DECONFLICT_BUFFER_MINUTES"]),
        radius_m={s.code: s.radius_m for s in SUBTYPES["operation"]},
    )


def operation_record(item: Event | EventDraft, ref: str, agency_id: int) -> OperationRecord | None:
    """An operation with a place, not cancelled; ``None`` for anything else.

    Records name their agency by its id: the rules only compare agencies, and
    the check then needs no agency row."""
    if (
        item.kind != "operation"
        or item.status == EventStatus.CANCELLED
        or item.latitude is None
        or item.longitude is None
    ):
        return None
    return _operation(item, ref, agency_id)


def _operation(item: Any, ref: str, agency_id: int) -> OperationRecord:
    """The rules' record of an event, a draft or a row of ``EVENT_COLUMNS``."""
    return OperationRecord(
        ref=ref,
        agency=str(agency_id),
        case=str(item.case_id) if item.case_id is not None else None,
        subtype=item.subtype,
        window=Window(item.starts_at, item.ends_at),
        latitude=item.latitude,
        longitude=item.longitude,
        radius_m=item.radius_m,
    )


def person_of(item: Target | TargetDraft) -> PersonName | None:
    return person_name(item.first_name, item.last_name, item.aliases, item.dob)


def target_record(target: Target) -> TargetRecord:
    """The rules' view of a stored target."""
    return TargetRecord(
        ref=target.ref,
        agency=str(target.agency_id),
        case=str(target.case_id),
        person=person_of(target),
        identifiers=tuple(
            Identifier(IdentifierKind(i.kind), i.normalized) for i in target.identifiers
        ),
    )


def draft_target_record(draft: TargetDraft, agency_id: int) -> TargetRecord:
    return TargetRecord(
        ref=draft.ref or "draft",
        agency=str(agency_id),
        case=str(draft.case_id),
        person=person_of(draft),
        identifiers=tuple(
            Identifier(IdentifierKind(kind), value) for kind, _raw, value in draft.identifiers
        ),
    )


# --- candidates through indexes ----------------------------------------------------------


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
    """An item an index hands to the rules: its id and agency, and the rules' record of it."""

    id: int
    agency_id: int
    record: R


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
) -> tuple[CompoundSelect, dict[str, Any]]:
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
        # ends_at > ends_after and no operation lasts longer than MAX_DURATION
        "earliest_start": area.ends_after - MAX_DURATION,
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
def _operation_statement(gridded: bool, excluding: bool, by_case: bool) -> CompoundSelect:
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
    query: Select[Any] | CompoundSelect, params: dict[str, Any] | None = None
) -> list[Candidate[OperationRecord]]:
    """The rules' records of the operations ``query`` selects (``EVENT_COLUMNS``), once each."""
    found = {
        r.id: Candidate(r.id, r.owner_agency_id, _operation(r, str(r.id), r.owner_agency_id))
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


def event_hits(
    item: Event | EventDraft, *, event_id: int | None, agency_id: int
) -> list[Hit] | None:
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


def target_candidate_query(
    keys: frozenset[str], *, exclude_id: int | None, agency_id: int, case_id: int
) -> tuple[Select[Any], dict[str, Any]]:
    """Live targets sharing a blocking key, except those of the same agency's same case: the
    statement and its parameters. Plain rows of the columns the rules read (a check may read
    hundreds for a common name; objects are loaded only for alerts and pointers)."""
    params = {
        "keys": sorted(keys),
        "now": utcnow(),
        "agency_id": agency_id,
        "case_id": case_id,
        "exclude_id": exclude_id,
    }
    return _target_statement(exclude_id is not None), {
        k: v for k, v in params.items() if v is not None
    }


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


@lru_cache(maxsize=2)
def _target_statement(excluding: bool) -> Select[Any]:
    """The candidate statement, built once (see ``_operation_statement``)."""
    sharing = select(TargetKey.target_id).where(
        TargetKey.key.in_(bindparam("keys", expanding=True))
    )
    query = select(*RECORD_COLUMNS).where(
        Target.id.in_(sharing),
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
    query: Select[Any], params: dict[str, Any] | None = None
) -> list[Candidate[TargetRecord]]:
    """The rules' records of the targets ``query`` selects (``RECORD_COLUMNS``)."""
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
        )
        for r in rows
    ]


def target_candidates(
    keys: frozenset[str], *, exclude_id: int | None, agency_id: int, case_id: int
) -> list[Candidate[TargetRecord]]:
    if not keys:
        return []
    return candidate_records(
        *target_candidate_query(keys, exclude_id=exclude_id, agency_id=agency_id, case_id=case_id)
    )


def target_hits(
    record: TargetRecord, *, target_id: int | None, agency_id: int, case_id: int
) -> list[Hit]:
    """The live targets of other agencies or cases that ``record`` matches."""
    hits = []
    candidates = target_candidates(
        target_probe_keys(record), exclude_id=target_id, agency_id=agency_id, case_id=case_id
    )
    for other in candidates:
        match = compare_targets(record, other.record)
        if match is not None:
            hits.append(Hit((TARGET, other.id), other.agency_id, None, match))
    return hits


# --- alerts ------------------------------------------------------------------------------


@dataclass
class SyncReport:
    """What saving one item did to its alerts."""

    raised: list[Alert] = field(default_factory=list)
    changed: list[Alert] = field(default_factory=list)
    closed: list[Alert] = field(default_factory=list)


def _ordered(one: ItemKey, two: ItemKey) -> tuple[ItemKey, ItemKey]:
    return (one, two) if one <= two else (two, one)


def _agency_id(item: Item) -> int:
    return item.owner_agency_id if isinstance(item, Event) else item.agency_id


def _alerts_of(item_type: str, item_id: int) -> dict[tuple[ItemKey, ItemKey], Alert]:
    rows = db.session.scalars(
        select(Alert).where(
            or_(
                and_(Alert.item_a_type == item_type, Alert.item_a_id == item_id),
                and_(Alert.item_b_type == item_type, Alert.item_b_id == item_id),
            )
        )
    )
    return {item_keys(a): a for a in rows}


@dataclass(frozen=True)
class _Party:
    """What an alert stores of one of its items."""

    agency_id: int
    starts_at: datetime | None


def _urgency(kind: str, a: _Party, b: _Party) -> datetime | None:
    """The earlier start of two operations: how urgent their alert is."""
    if kind != EVENT or a.starts_at is None or b.starts_at is None:
        return None
    return min(a.starts_at, b.starts_at)


def _new_alert(
    pair: tuple[ItemKey, ItemKey], parties: dict[ItemKey, _Party], match: Match, kind: str
) -> tuple[Alert, bool]:
    """Insert the pair's alert; if another writer just did, return theirs (``False``)."""
    (a_type, a_id), (b_type, b_id) = pair
    a, b = parties[pair[0]], parties[pair[1]]
    now = utcnow()
    alert = Alert(
        kind=kind,
        score=match.score,
        strength=str(match.strength),
        explanation=match.explanation,
        status=AlertStatus.OPEN.value,
        item_a_type=a_type,
        item_a_id=a_id,
        item_b_type=b_type,
        item_b_id=b_id,
        agency_a_id=a.agency_id,
        agency_b_id=b.agency_id,
        starts_at=_urgency(kind, a, b),
        raised_at=now,
        updated_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(alert)
    except IntegrityError:  # PostgreSQL: the other item's save raised it a moment ago
        existing = db.session.scalar(
            select(Alert).where(
                Alert.item_a_type == a_type,
                Alert.item_a_id == a_id,
                Alert.item_b_type == b_type,
                Alert.item_b_id == b_id,
            )
        )
        if existing is None:  # pragma: no cover - the constraint named another row
            raise
        return existing, False
    return alert, True


def _reopen(alert: Alert, reason: str) -> dict[str, Any]:
    """Back to open, acknowledgements cleared; returns what it was, for the audit."""
    before = {
        "status": alert.status,
        "outcome": alert.outcome,
        "resolution_note": alert.resolution_note,
    }
    alert.status = AlertStatus.OPEN.value
    alert.acked_a_at = alert.acked_a_by_id = None
    alert.acked_b_at = alert.acked_b_by_id = None
    alert.outcome = None
    alert.resolution_note = ""
    alert.resolved_by_id = None
    alert.resolved_at = None
    alert.closed_at = None
    alert.closed_reason = ""
    return before | {"reason": reason}


def _sync(
    item_type: Literal["event", "target"],
    item: Item,
    hits: list[Hit] | None,
    actor: User | None,
    closing_reason: str,
) -> SyncReport:
    """Upsert one alert per hit, close the item's alerts that no longer match; commits."""
    report = SyncReport()
    own_key: ItemKey = (item_type, item.id)
    existing = _alerts_of(item_type, item.id)
    if not hits and not any(a.is_active for a in existing.values()):
        db.session.commit()
        return report
    items: dict[ItemKey, Item] = load_items(existing.values())
    # the items of new alerts, for their notifications
    items |= load_keys(
        {h.key for h in hits or [] if _ordered(own_key, h.key) not in existing} - items.keys()
    )
    items[own_key] = item
    parties = {h.key: _Party(h.agency_id, h.starts_at) for h in hits or []}
    parties[own_key] = _Party(_agency_id(item), item.starts_at if isinstance(item, Event) else None)
    now = utcnow()
    for hit in hits or []:
        pair = _ordered(own_key, hit.key)
        match = hit.match
        alert = existing.pop(pair, None)
        created = False
        if alert is None:
            alert, created = _new_alert(pair, parties, match, item_type)
        if created:
            audit.record(
                "alert.raise",
                object_type="alert",
                object_id=alert.id,
                actor=actor,
                kind=item_type,
                items=[f"{t}:{i}" for t, i in pair],
                strength=alert.strength,
            )
            notify(alert, items, "raised")
            report.raised.append(alert)
            continue
        changed = (alert.explanation, alert.strength) != (match.explanation, str(match.strength))
        alert.score = match.score
        alert.starts_at = _urgency(item_type, parties[pair[0]], parties[pair[1]])
        alert.agency_a_id = parties[pair[0]].agency_id
        alert.agency_b_id = parties[pair[1]].agency_id
        if alert.status == AlertStatus.CLOSED or changed:
            change = "reopened" if alert.status == AlertStatus.CLOSED else "changed"
            before = _reopen(alert, "matches again" if change == "reopened" else "match changed")
            alert.explanation, alert.strength = match.explanation, str(match.strength)
            alert.updated_at = now
            if change == "reopened":
                alert.raised_at = now
            audit.record(
                f"alert.{'reopen' if change == 'reopened' else 'update'}",
                object_type="alert",
                object_id=alert.id,
                actor=actor,
                explanation=alert.explanation,
                before=before,
            )
            notify(alert, items, change)
            report.changed.append(alert)
    for alert in existing.values():
        if not alert.is_active:
            continue  # a resolved alert keeps its resolution; a closed one stays closed
        alert.status = AlertStatus.CLOSED.value
        alert.closed_at = alert.updated_at = now
        alert.closed_reason = closing_reason
        audit.record(
            "alert.close",
            object_type="alert",
            object_id=alert.id,
            actor=actor,
            reason=closing_reason,
        )
        notify(alert, items, "closed")
        report.closed.append(alert)
    db.session.commit()
    return report


def sync_event(event: Event, actor: User | None) -> SyncReport:
    """Deconflict a saved (or cancelled) event: raise, update and close its alerts."""
    begin_write()
    event = db.session.get(Event, event.id, populate_existing=True) or event
    hits = event_hits(event, event_id=event.id, agency_id=event.owner_agency_id)
    if event.status == EventStatus.CANCELLED:
        reason = "the operation was cancelled"
    elif event.kind != "operation":
        reason = "it is no longer an operation"
    else:
        reason = "the operations no longer conflict (place, time or case changed)"
    return _sync(EVENT, event, hits, actor, reason)


def sync_target(target: Target, actor: User | None) -> SyncReport:
    """Deconflict a saved target: raise, update and close its alerts."""
    begin_write()
    target = db.session.get(Target, target.id, populate_existing=True) or target
    if target.is_expired():
        hits: list[Hit] = []
        reason = "the target's validation expired"
    else:
        record = target_record(target)
        hits = target_hits(
            record, target_id=target.id, agency_id=target.agency_id, case_id=target.case_id
        )
        reason = "the targets no longer match"
    return _sync(TARGET, target, hits, actor, reason)


# --- the pre-check -----------------------------------------------------------------------


@dataclass(frozen=True)
class Pointer:
    """What a pre-check shows of a hit: the other agency, who to call and why; nothing more."""

    agency: Agency
    contact: Contact | None
    strength: str
    score: float
    explanation: str


def _pointers(hits: list[Hit], own_values: list[str]) -> list[Pointer]:
    pointers = []
    items = load_keys(h.key for h in hits)
    for hit in sorted(hits, key=lambda h: -h.match.score):
        other = items[hit.key]
        agency = other.owner_agency if isinstance(other, Event) else other.agency
        pointers.append(
            Pointer(
                agency=agency,
                contact=contact_of(other, agency.id),
                strength=str(hit.match.strength),
                score=hit.match.score,
                explanation=pointer_explanation(
                    hit.match.explanation, own_values, item_values(other)
                ),
            )
        )
    return pointers


def precheck_event(draft: EventDraft, actor: User, event_id: int | None) -> list[Pointer] | None:
    """What saving this plan would match, as pointers; stores nothing but the audit entry.

    ``None`` when the plan is not something deconflicted (not an operation).
    """
    hits = event_hits(draft, event_id=event_id, agency_id=draft.owner_agency_id)
    if hits is None:
        return None
    _audit_precheck(EVENT, actor, event_id, hits)
    return _pointers(hits, [draft.title, draft.location_address or ""])


def precheck_target(draft: TargetDraft, actor: User, target_id: int | None) -> list[Pointer]:
    """What saving this target would match, as pointers; stores nothing but the audit entry."""
    agency = actor.agency
    if agency is None:
        return []
    hits = target_hits(
        draft_target_record(draft, agency.id),
        target_id=target_id,
        agency_id=agency.id,
        case_id=draft.case_id,
    )
    _audit_precheck(TARGET, actor, target_id, hits)
    own = [draft.ref, draft.first_name, draft.last_name, *draft.aliases]
    own += [v for _kind, raw, norm in draft.identifiers for v in (raw, norm)]
    return _pointers(hits, own)


def _audit_precheck(kind: str, actor: User, item_id: int | None, hits: list[Hit]) -> None:
    """A pre-check reveals who else works a place or a subject: it is audited like a view."""
    audit.record_now(
        "deconflict.precheck",
        object_type=kind,
        object_id=item_id or "",
        actor=actor,
        hits=[f"{t}:{i}" for t, i in (h.key for h in hits)],
    )
