"""Retention: expired targets and old audit entries are purged; supervisors are warned first.

* A target is kept until ``expires_at`` (5 years after validation unless
  re-validated with a reason). ``JOINTOPS_EXPIRY_WARNING_DAYS`` (30) before,
  the supervisors of its agency are warned, once per expiry date (a
  re-validation moves the date and re-arms the warning).
* At expiry it is deleted with its identifiers and blocking keys. Its alerts
  keep their history, but the reference becomes a tombstone: the side's item
  id is set to NULL (ids may be reused, so a stale one could point at another
  record), every value of the target is taken out of the explanation (and out
  of the explanations the alert's audit entries quote), and an alert still
  active is closed. Its expiry warnings go from the inboxes.
* Audit entries older than ``JOINTOPS_AUDIT_RETENTION_DAYS`` (365 at least)
  are deleted, and the records of job runs that ended 90 days ago (the run of
  this job records how many).

Every purge is itself audited, with counts and never contents.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import selectinload

from jointops import audit, idempotency
from jointops.alerts.pointer import item_values
from jointops.extensions import db
from jointops.identity import kept_forms
from jointops.jobs.registry import job
from jointops.models import (
    Alert,
    AlertStatus,
    AuditEntry,
    ExpiryWarning,
    FeedFetchCount,
    JobRun,
    Notification,
    Target,
    TargetKey,
    User,
    UserRole,
)
from jointops.notifications.service import notify
from jointops.officetime import fmt_datetime
from jointops.places import cache as geocode_cache
from jointops.transactions import unit_of_work

PURGED_REASON = "a target was purged at the end of its retention period"


def target_link(target_id: int) -> str:
    return f"/targets/{target_id}"


def warn_expiring(now: datetime) -> int:
    """Warn each expiring target's supervisors once; returns the targets warned about."""
    horizon = now + timedelta(days=current_app.config["EXPIRY_WARNING_DAYS"])
    with unit_of_work():
        warned = select(ExpiryWarning.target_id).where(
            ExpiryWarning.target_id == Target.id, ExpiryWarning.expires_at == Target.expires_at
        )
        targets = db.session.scalars(
            select(Target)
            .where(Target.expires_at > now, Target.expires_at <= horizon, ~warned.exists())
            .order_by(Target.expires_at, Target.id)
        ).all()
        for target in targets:
            db.session.add(
                ExpiryWarning(target_id=target.id, expires_at=target.expires_at, warned_at=now)
            )
            supervisors = db.session.scalars(
                select(User)
                .join(UserRole)
                .where(
                    UserRole.role == "supervisor",
                    User.agency_id == target.agency_id,
                    User.active.is_(True),
                )
                .order_by(User.id)
            )
            text = (
                f"Target {target.ref} (case {target.case.number}) expires "
                f"{fmt_datetime(target.expires_at)}: re-validate it with a reason, or it is purged."
            )
            for user in supervisors:
                notify(user, "retention", text, target_link(target.id), now=now)
    return len(targets)


def _tombstone(alert: Alert, target: Target, now: datetime) -> None:
    """The alert keeps its history; the purged side keeps only its type and agency."""
    for side in ("a", "b"):
        if (
            getattr(alert, f"item_{side}_type") == "target"
            and getattr(alert, f"item_{side}_id") == target.id
        ):
            setattr(alert, f"item_{side}_id", None)
    alert.explanation = scrub(alert.explanation, item_values(target))
    if alert.is_active:
        alert.status = AlertStatus.CLOSED.value
        alert.closed_at = now
        alert.closed_reason = PURGED_REASON
    alert.updated_at = now


def _scrub_alert_audit(values: dict[int, list[str]]) -> int:
    """Take purged targets' values out of the explanations their alerts' audit entries quote
    (an alert's update records its explanation); returns how many entries changed.

    The entries stay, with who did what and when: only the purged values go."""
    if not values:
        return 0
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == "alert",
            AuditEntry.object_id.in_([str(i) for i in values]),
        )
    )
    changed = 0
    for entry in entries:
        explanation = (entry.detail or {}).get("explanation")
        if not isinstance(explanation, str):
            continue
        cleaned = scrub(explanation, values[int(entry.object_id)])
        if cleaned != explanation:
            entry.detail = {**entry.detail, "explanation": cleaned}
            changed += 1
    return changed


def purge_expired_targets(now: datetime) -> dict[str, int]:
    """Delete expired targets with their identifiers and keys; tombstone their alerts."""
    with unit_of_work():
        targets = db.session.scalars(
            select(Target)
            .where(Target.expires_at <= now)
            .options(selectinload(Target.identifiers), selectinload(Target.agency))
            .order_by(Target.id)
        ).all()
        if not targets:
            return {"targets": 0, "identifiers": 0, "keys": 0, "alerts": 0}
        ids = [t.id for t in targets]
        keys = db.session.scalar(
            select(func.count()).select_from(TargetKey).where(TargetKey.target_id.in_(ids))
        )
        alerts = db.session.scalars(
            select(Alert).where(
                or_(
                    and_(Alert.item_a_type == "target", Alert.item_a_id.in_(ids)),
                    and_(Alert.item_b_type == "target", Alert.item_b_id.in_(ids)),
                )
            )
        ).all()
        by_id = {t.id: t for t in targets}
        values: dict[int, list[str]] = {}  # alert id -> the purged values it quoted
        for alert in alerts:
            for item_type, item_id in (
                (alert.item_a_type, alert.item_a_id),
                (alert.item_b_type, alert.item_b_id),
            ):
                if item_type == "target" and item_id in by_id:
                    values.setdefault(alert.id, []).extend(item_values(by_id[item_id]))
                    _tombstone(alert, by_id[item_id], now)
        scrubbed = _scrub_alert_audit(values)
        db.session.execute(
            delete(Notification).where(
                Notification.category == "retention",
                Notification.link.in_([target_link(i) for i in ids]),
            )
        )
        figures = {
            "targets": len(targets),
            "identifiers": sum(len(t.identifiers) for t in targets),
            "keys": int(keys or 0),
            "alerts": len(alerts),
            "audit_entries_scrubbed": scrubbed,
        }
        agencies = Counter(t.agency.code for t in targets)
        for target in targets:
            db.session.delete(target)  # identifiers and keys go with it (delete-orphan)
        detail: dict[str, Any] = {"by_agency": dict(sorted(agencies.items())), **figures}
        entry = audit.record(
            "retention.purge_targets", object_type="target", username="retention job", **detail
        )
        entry.at = now
    return figures


def purge_old_audit(now: datetime) -> int:
    """Delete audit entries, and days of feed fetch counts, older than the configured
    retention (both are the audit trail); the purge is audited. Returns the rows deleted."""
    cutoff = now - timedelta(days=current_app.config["AUDIT_RETENTION_DAYS"])
    with unit_of_work():
        result = db.session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
        count = int(getattr(result, "rowcount", 0) or 0)
        result = db.session.execute(delete(FeedFetchCount).where(FeedFetchCount.last_at < cutoff))
        fetch_days = int(getattr(result, "rowcount", 0) or 0)
        if count or fetch_days:
            entry = audit.record(
                "retention.purge_audit",
                object_type="audit",
                username="retention job",
                entries=count,
                feed_fetch_days=fetch_days,
                older_than=cutoff.isoformat(),
            )
            entry.at = now
    return count + fetch_days


#: How long the record of a background job's run is kept (the Jobs page shows the last 50).
JOB_RUN_RETENTION = timedelta(days=90)


def purge_old_job_runs(now: datetime) -> int:
    """Delete the records of job runs that ended more than ``JOB_RUN_RETENTION`` ago."""
    with unit_of_work():
        result = db.session.execute(
            delete(JobRun).where(
                JobRun.finished_at.is_not(None), JobRun.finished_at < now - JOB_RUN_RETENTION
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)


@job("retention", "cron", hour=3, minute=0)
def apply_retention(now: datetime) -> Mapping[str, Any]:
    """Daily at 03:00 office time: warn, purge targets, old audit entries, job runs and the
    geocoder's stale answers."""
    warned = warn_expiring(now)
    purged = purge_expired_targets(now)
    audit_entries = purge_old_audit(now)
    return {
        "warned": warned,
        **{f"purged_{k}": v for k, v in purged.items()},
        "purged_audit": audit_entries,
        "purged_job_runs": purge_old_job_runs(now),
        "purged_geocode_cache": geocode_cache.forget_stale(now),
        "purged_kept_forms": _purge_kept_forms(now),
        "purged_idempotency_keys": _purge_idempotency_keys(now),
    }


def _purge_kept_forms(now: datetime) -> int:
    with unit_of_work():
        return kept_forms.purge_expired(now)


def _purge_idempotency_keys(now: datetime) -> int:
    with unit_of_work():
        return idempotency.purge_expired(now)


#: what a purged target's values become in the texts that quoted them
PURGED = "[purged]"


def scrub(text: str, values: Iterable[str]) -> str:
    """``text`` with every one of a purged record's values taken out (longest first)."""
    hidden = sorted({v.strip() for v in values if v and len(v.strip()) > 1}, key=len, reverse=True)
    if not hidden:
        return text
    pattern = "|".join(re.escape(v) for v in hidden)
    return re.sub(rf"(?<!\w)(?:{pattern})(?!\w)", PURGED, text, flags=re.IGNORECASE)
