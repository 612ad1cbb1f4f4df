"""The sweep: items saved but not yet deconflicted are checked again, with back-off.

A check that raised after its save, or a worker killed half-way, leaves the
item's ``PendingCheck`` (``jointops.deconfliction.pending``). Every minute
this job checks those that are due; a check that keeps failing is reported
once to the deconfliction officers, and the item shows "Not yet
deconflicted" wherever it appears until a check completes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import current_app

from auth.policy import DECONFLICTION_OFFICER
from jointops.deconfliction import pending
from jointops.deconfliction.sync import sync_event, sync_target
from jointops.extensions import db
from jointops.identity.directory import holders_of
from jointops.jobs.registry import job
from jointops.models import Event, PendingCheck, Target
from jointops.notifications.service import notify
from jointops.transactions import unit_of_work


@job("deconfliction_sweep", "interval", setting="DECONFLICT_SWEEP_EVERY_MINUTES", minutes=1)
def sweep(now: datetime) -> Mapping[str, Any]:
    """Check every due item; report the ones that keep failing."""
    checked = failed = gone = reported = 0
    for row in pending.due(now):
        key = (row.item_type, row.item_id)
        item: Event | Target | None = (
            db.session.get(Event, row.item_id)
            if row.item_type == "event"
            else db.session.get(Target, row.item_id)
        )
        if item is None:  # purged or deleted since: nothing left to check
            with unit_of_work():
                pending.clear(*key)
            gone += 1
            continue
        try:
            if isinstance(item, Event):
                sync_event(item, None)
            else:
                sync_target(item, None)
            checked += 1
        except Exception as exc:
            attempts = pending.failed(*key, exc, now)
            failed += 1
            if attempts >= current_app.config["DECONFLICT_REPORT_AFTER_ATTEMPTS"]:
                reported += _report(row.item_type, row.item_id, now)
    return {"checked": checked, "failed": failed, "gone": gone, "reported": reported}


def _report(item_type: str, item_id: int, now: datetime) -> int:
    """Tell the deconfliction officers, once per item, that its check keeps failing."""
    with unit_of_work():
        row = db.session.get(PendingCheck, (item_type, item_id), populate_existing=True)
        if row is None or row.reported_at is not None:
            return 0
        row.reported_at = now
        what = "An operation" if item_type == "event" else "A target"
        for officer in holders_of(DECONFLICTION_OFFICER):
            notify(
                officer,
                "escalation",
                f"{what} (#{item_id}) could not be deconflicted after {row.attempts} "
                "attempts; it is checked again automatically. See the review page.",
                "/alerts#not-yet-deconflicted",
                now=now,
            )
        return 1
