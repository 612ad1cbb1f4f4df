"""After a save: hits become one alert per pair, updated or closed as the items change.

Runs after the item's own transaction has committed, in a write transaction of
its own, so that saving is never held up by, nor rolled back with, deconfliction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.exc import IntegrityError

from deconflict.match import Match
from jointops import audit
from jointops.alerts.items import Item, ItemKey, item_keys, load_keys
from jointops.alerts.notices import AlertNotice, notices_of, notify, write_notices
from jointops.deconfliction import pending
from jointops.deconfliction.candidates import Hit, event_hits, target_hits
from jointops.deconfliction.records import EVENT, TARGET, target_record
from jointops.extensions import db
from jointops.models import (
    Agency,
    Alert,
    AlertStatus,
    Event,
    EventStatus,
    Target,
    User,
    utcnow,
)
from jointops.transactions import unit_of_work


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


def reasons_data(match: Match, *, flip: bool) -> list[dict[str, Any]]:
    """The match's reasons as the alert stores them, oriented to its (a, b) order."""
    return [(r.swapped() if flip else r).as_data() for r in match.reasons]


def _alert_of(
    pair: tuple[ItemKey, ItemKey],
    parties: dict[ItemKey, _Party],
    match: Match,
    kind: str,
    reasons: list[dict[str, Any]] | None = None,
) -> Alert:
    """The pair's new alert, not yet in the session (with the values the columns' defaults
    would give it on insert: ``_sync`` may read them before)."""
    (a_type, a_id), (b_type, b_id) = pair
    a, b = parties[pair[0]], parties[pair[1]]
    now = utcnow()
    return Alert(
        kind=kind,
        score=match.score,
        strength=str(match.strength),
        explanation=match.explanation,
        reasons=reasons or [],
        status=AlertStatus.OPEN.value,
        resolution_note="",
        closed_reason="",
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


def _new_alert(
    pair: tuple[ItemKey, ItemKey],
    parties: dict[ItemKey, _Party],
    match: Match,
    kind: str,
    reasons: list[dict[str, Any]] | None = None,
) -> tuple[Alert, bool]:
    """Insert the pair's alert; if another writer just did, return theirs (``False``)."""
    (a_type, a_id), (b_type, b_id) = pair
    alert = _alert_of(pair, parties, match, kind, reasons)
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


class _AtOnce:
    """How a save writes its alerts: each new one in a savepoint (a concurrent writer may
    raise the same pair), each audit entry and notice added as it comes."""

    def alerts_of(self, item_key: ItemKey) -> dict[tuple[ItemKey, ItemKey], Alert]:
        return _alerts_of(*item_key)

    def new_alert(
        self,
        pair: tuple[ItemKey, ItemKey],
        parties: dict[ItemKey, _Party],
        match: Match,
        kind: str,
        reasons: list[dict[str, Any]],
    ) -> tuple[Alert, bool]:
        return _new_alert(pair, parties, match, kind, reasons)

    def record(self, action: str, alert: Alert, actor: User | None, **detail: Any) -> None:
        audit.record(action, object_type="alert", object_id=alert.id, actor=actor, **detail)

    def notify(self, alert: Alert, items: dict[ItemKey, Item], change: str) -> None:
        notify(alert, items, change)


class AlertBatch(_AtOnce):
    """How an import chunk writes its alerts: the alerts of its items read at once (``load``);
    what it raises, records and tells held until ``write``, then inserted with one statement
    per table, in the order it came.

    The rows are those writing them one by one makes: an alert raised in the chunk and then
    updated or closed by a later target of it is found by that target (``alerts_of``), and its
    notices are worded as it stood at each change. A pair another writer raised meanwhile fails
    the insert (the caller then checks the chunk's targets one by one).
    """

    def __init__(self) -> None:
        self.raised: list[Alert] = []
        #: the alerts of each item whose alerts were loaded, with those raised since
        self.known: dict[ItemKey, dict[tuple[ItemKey, ItemKey], Alert]] = {}
        self.entries: list[tuple[Alert, dict[str, Any]]] = []
        self.notices: list[tuple[Alert, AlertNotice]] = []
        self.agencies: dict[int, Agency] = {}

    def load(self, keys: Iterable[ItemKey]) -> None:
        """Read the alerts of the items ``keys`` (one query per side and type)."""
        wanted: dict[str, list[int]] = {}
        for item_type, item_id in keys:
            wanted.setdefault(item_type, []).append(item_id)
            self.known.setdefault((item_type, item_id), {})
        for item_type, ids in wanted.items():
            for side_type, side_id in (
                (Alert.item_a_type, Alert.item_a_id),
                (Alert.item_b_type, Alert.item_b_id),
            ):
                for alert in db.session.scalars(
                    select(Alert).where(side_type == item_type, side_id.in_(ids))
                ):
                    self._hold(alert)

    def _hold(self, alert: Alert) -> None:
        pair = item_keys(alert)
        for key in pair:
            if key in self.known:
                self.known[key][pair] = alert

    def alerts_of(self, item_key: ItemKey) -> dict[tuple[ItemKey, ItemKey], Alert]:
        if item_key in self.known:
            return dict(self.known[item_key])
        found = _alerts_of(*item_key)
        found.update((pair, a) for a in self.raised if item_key in (pair := item_keys(a)))
        return found

    def new_alert(
        self,
        pair: tuple[ItemKey, ItemKey],
        parties: dict[ItemKey, _Party],
        match: Match,
        kind: str,
        reasons: list[dict[str, Any]],
    ) -> tuple[Alert, bool]:
        alert = _alert_of(pair, parties, match, kind, reasons)
        # the notices' wording reads both agencies before the alert is inserted
        alert.agency_a = self._agency(alert.agency_a_id)
        alert.agency_b = self._agency(alert.agency_b_id)
        self.raised.append(alert)
        self._hold(alert)
        return alert, True

    def _agency(self, agency_id: int) -> Agency:
        if agency_id not in self.agencies:
            self.agencies[agency_id] = db.session.get_one(Agency, agency_id)
        return self.agencies[agency_id]

    def record(self, action: str, alert: Alert, actor: User | None, **detail: Any) -> None:
        self.entries.append(
            (alert, audit.values(action, object_type="alert", actor=actor, **detail))
        )

    def notify(self, alert: Alert, items: dict[ItemKey, Item], change: str) -> None:
        self.notices += [(alert, n) for n in notices_of(alert, items, change)]

    def write(self) -> None:
        """Insert what the chunk raised, recorded and told, in the caller's unit of work; the
        alerts it changed are the session's to flush."""
        if self.raised:
            table = Alert.__table__
            columns = [c.key for c in table.columns if c.key != "id"]
            ids = db.session.scalars(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [{c: getattr(a, c) for c in columns} for a in self.raised],
            )
            for alert, alert_id in zip(self.raised, ids, strict=True):
                alert.id = alert_id
        audit.record_many([entry | {"object_id": str(a.id)} for a, entry in self.entries])
        write_notices(self.notices)
        self.raised, self.known, self.entries, self.notices = [], {}, [], []


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
    known: Mapping[ItemKey, Item] | None = None,
    writer: _AtOnce | None = None,
) -> SyncReport:
    """Upsert one alert per hit, close the item's alerts that no longer match (in the caller's
    unit of work). ``known``: items loaded already (with what ``load_keys`` loads of them);
    ``writer``: how the alerts, their audit entries and notices are written (at once)."""
    writer = writer or _AtOnce()
    report = SyncReport()
    own_key: ItemKey = (item_type, item.id)
    existing = writer.alerts_of(own_key)
    if not hits and not any(a.is_active for a in existing.values()):
        return report
    wanted = {k for a in existing.values() for k in item_keys(a) if k[1] is not None}
    # the items of new alerts, for their notifications
    wanted |= {h.key for h in hits or [] if _ordered(own_key, h.key) not in existing}
    wanted.discard(own_key)
    items: dict[ItemKey, Item] = {k: known[k] for k in wanted if known and k in known}
    items |= load_keys(wanted - items.keys())
    items[own_key] = item
    parties = {h.key: _Party(h.agency_id, h.starts_at) for h in hits or []}
    parties[own_key] = _Party(_agency_id(item), item.starts_at if isinstance(item, Event) else None)
    now = utcnow()
    for hit in hits or []:
        pair = _ordered(own_key, hit.key)
        match = hit.match
        alert = existing.pop(pair, None)
        created = False
        reasons = reasons_data(match, flip=pair[0] != own_key)
        if alert is None:
            alert, created = writer.new_alert(pair, parties, match, item_type, reasons)
        if created:
            writer.record(
                "alert.raise",
                alert,
                actor,
                kind=item_type,
                items=[f"{t}:{i}" for t, i in pair],
                strength=alert.strength,
            )
            writer.notify(alert, items, "raised")
            report.raised.append(alert)
            continue
        changed = (alert.explanation, alert.strength) != (match.explanation, str(match.strength))
        alert.score = match.score
        alert.reasons = reasons
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
            writer.record(
                f"alert.{'reopen' if change == 'reopened' else 'update'}",
                alert,
                actor,
                explanation=alert.explanation,
                before=before,
            )
            writer.notify(alert, items, change)
            report.changed.append(alert)
    for alert in existing.values():
        if not alert.is_active:
            continue  # a resolved alert keeps its resolution; a closed one stays closed
        alert.status = AlertStatus.CLOSED.value
        alert.closed_at = alert.updated_at = now
        alert.closed_reason = closing_reason
        writer.record("alert.close", alert, actor, reason=closing_reason)
        writer.notify(alert, items, "closed")
        report.closed.append(alert)
    return report


def sync_event(event: Event, actor: User | None) -> SyncReport:
    """Deconflict a saved (or cancelled) event: raise, update and close its alerts."""
    with unit_of_work():
        event = db.session.get(Event, event.id, populate_existing=True) or event
        hits = event_hits(event, event_id=event.id, agency_id=event.owner_agency_id)
        if event.status == EventStatus.CANCELLED:
            reason = "the operation was cancelled"
        elif event.kind != "operation":
            reason = "it is no longer an operation"
        else:
            reason = "the operations no longer conflict (place, time or case changed)"
        report = _sync(EVENT, event, hits, actor, reason)
        pending.clear(EVENT, event.id)
        return report


def sync_target(target: Target, actor: User | None, *, hits: list[Hit] | None = None) -> SyncReport:
    """Deconflict a saved target: raise, update and close its alerts.

    ``hits``: the target's hits as it is stored, when they are known already (an import
    finds those of many targets at once, ``many_target_hits``).
    """
    with unit_of_work():
        target = db.session.get(Target, target.id, populate_existing=True) or target
        if hits is None and not target.is_expired():
            hits = target_hits(
                target_record(target),
                target_id=target.id,
                agency_id=target.agency_id,
                case_id=target.case_id,
            )
        report = sync_loaded_target(target, actor, hits or [])
        pending.clear(TARGET, target.id)
        return report


def sync_loaded_target(
    target: Target,
    actor: User | None,
    hits: list[Hit],
    known: Mapping[ItemKey, Item] | None = None,
    batch: AlertBatch | None = None,
) -> SyncReport:
    """``sync_target`` of a target loaded in the caller's unit of work, whose ``hits`` are known,
    leaving its pending mark to the caller (an import clears a batch's marks at once). With a
    ``batch``, what it raises, records and tells is held there until ``batch.write()``."""
    if target.is_expired():
        return _sync(TARGET, target, [], actor, "the target's validation expired", known, batch)
    return _sync(TARGET, target, hits, actor, "the targets no longer match", known, batch)
