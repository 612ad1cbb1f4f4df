"""Durable checks: a save records that its item must be checked, the check clears it.

``mark`` runs inside the save's unit of work, so an operation or target is never
committed without the fact that it needs checking; ``clear`` runs inside the
check's. ``check`` runs a check right after a save and never turns the save
into a failure: if the check raises, the failure is recorded and the sweep job
(``jobs.tasks.deconfliction_sweep``) tries again with back-off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, insert, select, tuple_

from auth.policy import Visibility, may_see_targets, sees_both_sides
from jointops.alerts.items import ItemKey
from jointops.extensions import db
from jointops.models import Event, PendingCheck, Target, User, utcnow
from jointops.transactions import discard, unit_of_work
from jointops.visibility import viewer_of, visibility

log = logging.getLogger("jointops.deconfliction")

#: a check that a request is running right now is not the sweep's business before this
GRACE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
ERROR_LIMIT = 2000

T = TypeVar("T")


def mark(item_type: str, item_id: int, now: datetime | None = None) -> None:
    """In the save's unit of work: ``item`` needs checking (again)."""
    now = now or utcnow()
    row = db.session.get(PendingCheck, (item_type, item_id))
    if row is None:
        db.session.add(
            PendingCheck(
                item_type=item_type,
                item_id=item_id,
                since=now,
                next_attempt_at=now + GRACE,
                attempts=0,
                last_error="",
            )
        )
    else:
        row.next_attempt_at = max(row.next_attempt_at, now + GRACE)


def mark_many(item_type: str, item_ids: Sequence[int], now: datetime | None = None) -> None:
    """``mark`` for many items of one type, with a bulk insert (an import's targets)."""
    now = now or utcnow()
    existing = pending((item_type, i) for i in item_ids)
    for row in existing.values():
        row.next_attempt_at = max(row.next_attempt_at, now + GRACE)
    new = [
        {
            "item_type": item_type,
            "item_id": item_id,
            "since": now,
            "next_attempt_at": now + GRACE,
            "attempts": 0,
            "last_error": "",
        }
        for item_id in dict.fromkeys(item_ids)
        if (item_type, item_id) not in existing
    ]
    if new:
        db.session.execute(insert(PendingCheck), new)


def clear_many(item_type: str, item_ids: Sequence[int]) -> None:
    """``clear`` for many items of one type."""
    db.session.execute(
        delete(PendingCheck).where(
            PendingCheck.item_type == item_type, PendingCheck.item_id.in_(item_ids)
        )
    )


def clear(item_type: str, item_id: int) -> None:
    """In the check's unit of work: the item is deconflicted as it stands."""
    db.session.execute(
        delete(PendingCheck).where(
            PendingCheck.item_type == item_type, PendingCheck.item_id == item_id
        )
    )


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failure, at most an hour."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), BACKOFF_CAP)


def check(item_type: str, item_id: int, run: Callable[[], T]) -> T | None:
    """Run ``run`` (a sync) and return what it returns; on failure, record it and return None.

    Anything short of the process dying is caught: the item is saved, and the
    sweep will check it. A process that dies leaves the mark, which is enough.
    """
    try:
        return run()
    except Exception as exc:
        log.exception("deconfliction of %s %s failed; the sweep will retry", item_type, item_id)
        try:
            failed(item_type, item_id, exc)
        except Exception:  # the database went away too: the mark alone brings the sweep
            log.exception("could not record the failed check of %s %s", item_type, item_id)
            discard()
        return None


def failed(item_type: str, item_id: int, exc: BaseException, now: datetime | None = None) -> int:
    """Record a failed attempt in a unit of work of its own; returns the attempts so far."""
    now = now or utcnow()
    db.session.rollback()  # whatever the failed check left half-done is not ours to keep
    with unit_of_work():
        row = db.session.get(PendingCheck, (item_type, item_id), populate_existing=True)
        if row is None:  # a check elsewhere completed meanwhile
            return 0
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
        row.next_attempt_at = now + backoff(row.attempts)
        return row.attempts


def pending(keys: Iterable[ItemKey]) -> dict[ItemKey, PendingCheck]:
    """Which of these items are not yet deconflicted (one query)."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = db.session.scalars(
        select(PendingCheck).where(tuple_(PendingCheck.item_type, PendingCheck.item_id).in_(wanted))
    )
    return {(r.item_type, r.item_id): r for r in rows}


def is_pending(item_type: str, item_id: int) -> bool:
    return db.session.get(PendingCheck, (item_type, item_id)) is not None


def due(now: datetime, limit: int = 200) -> list[PendingCheck]:
    """The checks the sweep should try now, oldest first."""
    return list(
        db.session.scalars(
            select(PendingCheck)
            .where(PendingCheck.next_attempt_at <= now)
            .order_by(PendingCheck.next_attempt_at)
            .limit(limit)
        )
    )


def all_pending() -> list[PendingCheck]:
    return list(db.session.scalars(select(PendingCheck).order_by(PendingCheck.since)))


@dataclass(frozen=True)
class PendingItem:
    """One not-yet-deconflicted item as a viewer may see it."""

    item_type: str
    item_id: int
    label: str
    link: str | None
    since: datetime
    attempts: int
    last_error: str


def visible_pending(user: User) -> list[PendingItem]:
    """The pending checks of items ``user`` may see: their own agency's, or all of them for a
    deconfliction officer (by number and agency only, not by title or name)."""
    viewer = viewer_of(user)
    officer = sees_both_sides(viewer)
    found: list[PendingItem] = []
    for row in all_pending():
        item: Event | Target | None = (
            db.session.get(Event, row.item_id)
            if row.item_type == "event"
            else db.session.get(Target, row.item_id)
        )
        if item is None:
            continue
        if isinstance(item, Event):
            own = visibility(user, item) is Visibility.FULL
            label = f"Operation “{item.title}”" if own else f"Operation #{item.id}"
            agency = item.owner_agency.code
            link = f"/events/{item.id}"
        else:
            own = may_see_targets(viewer, item.agency.code)
            label = f"Target {item.ref}" if own else f"Target #{item.id}"
            agency = item.agency.code
            link = f"/targets/{item.id}"
        if not (own or officer):
            continue
        found.append(
            PendingItem(
                item_type=row.item_type,
                item_id=row.item_id,
                label=f"{label} ({agency})",
                link=link if own else None,
                since=row.since,
                attempts=row.attempts,
                last_error=row.last_error if officer else "",
            )
        )
    return found
