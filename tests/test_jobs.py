"""The background jobs called as functions with a ``now``, the clock moved by time-machine.

Escalation (15 minutes after raising, 12 hours before the operation, repeat,
stop after acknowledgement), reminders (24 h and 1 h, once each, re-armed by
a move, none for cancelled events) and retention (warning once, purge with
the alerts' references made tombstones, audit retention), each audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from jointops import audit
from jointops.config import ConfigError, load_config, validate_config
from jointops.extensions import db
from jointops.jobs.tasks.escalation import escalate
from jointops.jobs.tasks.reminders import send_reminders
from jointops.jobs.tasks.retention import apply_retention, purge_old_audit
from jointops.models import (
    Agency,
    Alert,
    AlertEscalation,
    AuditEntry,
    Event,
    EventReminder,
    ExpiryWarning,
    FeedFetchCount,
    JobRun,
    Notification,
    Participant,
    Target,
    TargetIdentifier,
    TargetKey,
    User,
)
from jointops.officetime import fmt_datetime

OVERSEERS_PBSO_FBI = {"supervisor.pbso", "supervisor.fbi", "deconfliction_officer.pbso"}


def start() -> datetime:
    """A fixed-looking 'now' a little in the future, on the minute."""
    return (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)


@contextmanager
def at(moment: datetime) -> Iterator[datetime]:
    with time_machine.travel(moment, tick=False):
        yield moment


def run(func: Callable[[datetime], Any], moment: datetime) -> Any:
    with at(moment):
        return func(moment)


def user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def lines(**where: Any) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(db.session.scalars(query))


def recipients(found: list[Notification]) -> list[str]:
    return sorted(db.session.get_one(User, n.user_id).username for n in found)


def agency(code: str) -> Agency:
    found = db.session.scalar(select(Agency).where(Agency.code == code))
    assert found is not None
    return found


def make_alert(raised: datetime, starts: datetime | None, ids: tuple[int, int]) -> Alert:
    alert = Alert(
        kind="event" if starts else "target",
        score=0.9,
        strength="exact",
        explanation="within 300 m, windows overlap by 45 min",
        item_a_type="event",
        item_a_id=ids[0],
        item_b_type="event",
        item_b_id=ids[1],
        agency_a_id=agency("PBSO").id,
        agency_b_id=agency("FBI").id,
        starts_at=starts,
        raised_at=raised,
        updated_at=raised,
    )
    db.session.add(alert)
    db.session.commit()
    return alert


def acknowledge(alert: Alert, side: str, username: str, moment: datetime) -> None:
    """As ``alerts.acknowledge`` records it (the items here are made up, so no one sees them)."""
    setattr(alert, f"acked_{side}_at", moment)
    setattr(alert, f"acked_{side}_by_id", user(username).id)
    if alert.acked_a_at and alert.acked_b_at:
        alert.status = "acknowledged"
    db.session.commit()


# --- escalation ----------------------------------------------------------------------------


def test_escalation_after_15_minutes_repeats_hourly_and_stops_per_side(app: Flask) -> None:
    t0 = start()
    pbso = make_event(t0 + timedelta(days=3), ["investigator.pbso"])
    fbi = make_event(t0 + timedelta(days=3, hours=5), ["investigator.fbi"])
    alert = make_alert(t0, t0 + timedelta(days=3), (pbso.id, fbi.id))

    run(escalate, t0 + timedelta(minutes=14))
    assert lines(alert_id=alert.id, category="escalation") == []

    figures = run(escalate, t0 + timedelta(minutes=15))
    assert figures["escalated"] >= 1
    first = lines(alert_id=alert.id, category="escalation")
    assert recipients(first) == sorted(OVERSEERS_PBSO_FBI)
    assert "waiting 15 min for PBSO and FBI to acknowledge" in first[0].text
    assert first[0].link == f"/alerts/{alert.id}"
    # the operation's start is shown in the office time zone
    assert "EST" in first[0].text or "EDT" in first[0].text
    # each side reads only its own operation's start, never the other side's
    by_user = {db.session.get_one(User, n.user_id).username: n.text for n in first}
    pbso_at, fbi_at = fmt_datetime(pbso.starts_at), fmt_datetime(fbi.starts_at)
    assert pbso_at in by_user["supervisor.pbso"] and fbi_at not in by_user["supervisor.pbso"]
    assert fbi_at in by_user["supervisor.fbi"] and pbso_at not in by_user["supervisor.fbi"]

    # within the repeat interval: nothing, however often the job runs
    for minutes in (20, 45, 74):
        run(escalate, t0 + timedelta(minutes=minutes))
    assert len(lines(alert_id=alert.id, category="escalation")) == 3

    run(escalate, t0 + timedelta(minutes=75))
    second = lines(alert_id=alert.id, category="escalation")[3:]
    assert len(second) == 3 and "(reminder 2)" in second[0].text
    records = {
        e.side: e
        for e in db.session.scalars(
            select(AlertEscalation).where(AlertEscalation.alert_id == alert.id)
        )
    }
    assert {s: (r.count, r.last_escalated_at) for s, r in records.items()} == {
        "a": (2, t0 + timedelta(minutes=75)),
        "b": (2, t0 + timedelta(minutes=75)),
    }

    # PBSO acknowledges: only FBI is escalated for from now on
    acknowledge(alert, "a", "supervisor.pbso", t0 + timedelta(minutes=80))
    run(escalate, t0 + timedelta(minutes=135))
    third = lines(alert_id=alert.id, category="escalation")[6:]
    assert len(third) == 3
    assert "for FBI to acknowledge" in third[0].text
    assert "for PBSO" not in third[0].text

    # FBI acknowledges too: escalation stops
    acknowledge(alert, "b", "supervisor.fbi", t0 + timedelta(minutes=140))
    for minutes in (200, 400, 1000):
        run(escalate, t0 + timedelta(minutes=minutes))
    assert len(lines(alert_id=alert.id, category="escalation")) == 9


def test_escalation_at_once_when_the_operation_is_less_than_12_hours_away(app: Flask) -> None:
    t0 = start()
    soon = make_alert(t0, t0 + timedelta(hours=11, minutes=59), (990011, 990012))
    later = make_alert(t0, t0 + timedelta(hours=12, minutes=1), (990013, 990014))

    run(escalate, t0 + timedelta(minutes=1))
    assert recipients(lines(alert_id=soon.id, category="escalation")) == sorted(OVERSEERS_PBSO_FBI)
    assert lines(alert_id=later.id, category="escalation") == []

    # the other reaches the 15-minute rule (and, by then, is within 12 hours too)
    run(escalate, t0 + timedelta(minutes=15))
    assert len(lines(alert_id=later.id, category="escalation")) == 3
    assert len(lines(alert_id=soon.id, category="escalation")) == 3  # its repeat is not due


def test_resolved_and_closed_alerts_are_not_escalated(app: Flask) -> None:
    t0 = start()
    alert = make_alert(t0, None, (990021, 990022))
    alert.status = "closed"
    db.session.commit()
    run(escalate, t0 + timedelta(hours=2))
    assert lines(alert_id=alert.id) == []


# --- reminders -----------------------------------------------------------------------------


def make_event(starts: datetime, usernames: list[str], status: str = "planned") -> Event:
    lead = user(usernames[0])
    event = Event(
        kind="interview",
        subtype="witness_interview",
        title="Reminder test interview",
        owner_agency_id=lead.agency_id,
        lead_id=lead.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        status=status,
        sensitivity="normal",
        notes="",
        version=1,
    )
    event.participants = [
        Participant(user_id=user(name).id, part="lead" if i == 0 else "investigator")
        for i, name in enumerate(usernames)
    ]
    db.session.add(event)
    db.session.commit()
    return event


def reminders_for(event: Event) -> list[Notification]:
    return lines(category="reminder", link=f"/events/{event.id}")


def test_reminders_24_hours_and_1_hour_before_once_each(app: Flask) -> None:
    t0 = start()
    starts = t0 + timedelta(hours=30)
    people = ["investigator.pbso", "det.rivera.pbso"]
    event = make_event(starts, people)

    run(send_reminders, starts - timedelta(hours=24, minutes=1))
    assert reminders_for(event) == []

    run(send_reminders, starts - timedelta(hours=24))
    day_before = reminders_for(event)
    assert recipients(day_before) == sorted(people)
    assert "starts in about 24 h" in day_before[0].text
    assert "EST" in day_before[0].text or "EDT" in day_before[0].text

    for hours in (23, 12, 2):
        run(send_reminders, starts - timedelta(hours=hours))
    assert len(reminders_for(event)) == 2

    run(send_reminders, starts - timedelta(minutes=58))
    hour_before = reminders_for(event)[2:]
    assert recipients(hour_before) == sorted(people)
    assert "starts in about 58 min" in hour_before[0].text
    run(send_reminders, starts - timedelta(minutes=30))
    run(send_reminders, starts + timedelta(minutes=5))
    assert len(reminders_for(event)) == 4
    keys = db.session.execute(
        select(EventReminder.user_id, EventReminder.offset_minutes).where(
            EventReminder.event_id == event.id
        )
    ).all()
    assert len(keys) == len(set(keys)) == 4


def test_moving_an_event_rearms_its_reminders(app: Flask) -> None:
    t0 = start()
    starts = t0 + timedelta(hours=30)
    event = make_event(starts, ["investigator.fbi"])
    run(send_reminders, starts - timedelta(hours=23))
    run(send_reminders, starts - timedelta(minutes=50))
    assert len(reminders_for(event)) == 2

    # postponed by three hours: both reminders are owed again, for the new time
    event.starts_at, event.ends_at = starts + timedelta(hours=3), starts + timedelta(hours=4)
    event.version += 1
    db.session.commit()
    run(send_reminders, starts - timedelta(minutes=45))
    assert len(reminders_for(event)) == 3
    assert "starts in about 4 h" in reminders_for(event)[2].text
    run(send_reminders, starts)
    assert len(reminders_for(event)) == 3
    run(send_reminders, starts + timedelta(hours=2, minutes=1))
    assert len(reminders_for(event)) == 4


def test_no_reminders_for_cancelled_events_and_one_line_when_both_are_due(app: Flask) -> None:
    t0 = start()
    cancelled = make_event(t0 + timedelta(minutes=40), ["investigator.hsi"], status="cancelled")
    late = make_event(t0 + timedelta(minutes=45), ["investigator.wpbpd"])
    run(send_reminders, t0)
    assert reminders_for(cancelled) == []
    # saved 45 minutes ahead: one line, and neither offset is sent again
    assert len(reminders_for(late)) == 1
    run(send_reminders, t0 + timedelta(minutes=10))
    assert len(reminders_for(late)) == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(EventReminder).where(EventReminder.event_id == late.id)
        )
        == 2
    )


# --- retention -----------------------------------------------------------------------------


def demo_target(ref: str) -> Target:
    found = db.session.scalar(select(Target).where(Target.ref == ref))
    assert found is not None
    return found


def target_alert(target: Target) -> Alert:
    found = db.session.scalar(
        select(Alert).where(
            ((Alert.item_a_type == "target") & (Alert.item_a_id == target.id))
            | ((Alert.item_b_type == "target") & (Alert.item_b_id == target.id))
        )
    )
    assert found is not None
    return found


def test_expiring_target_warned_once_then_purged_with_alerts_tombstoned(
    app: Flask, login: Callable[[str], FlaskClient]
) -> None:
    t0 = start()
    target = demo_target("PB-T-001")
    target_id = target.id
    alert = target_alert(target)
    assert "0190" in alert.explanation or "phone" in alert.explanation.lower()
    target.expires_at = t0 + timedelta(days=20)
    # an update of the alert quotes its explanation in the audit trail (deconfliction._sync)
    quoted = audit.record(
        "alert.update", object_type="alert", object_id=alert.id, explanation=alert.explanation
    )
    other = audit.record(
        "alert.update", object_type="alert", object_id=alert.id + 1000, explanation="phone 0190"
    )
    db.session.commit()
    quoted_id, other_id = quoted.id, other.id

    run(apply_retention, t0 - timedelta(days=11))  # 31 days ahead: not yet
    assert lines(category="retention") == []
    run(apply_retention, t0)
    warned = lines(category="retention")
    assert recipients(warned) == ["supervisor.pbso"]
    assert "PB-T-001" in warned[0].text and "re-validate" in warned[0].text
    assert warned[0].link == f"/targets/{target_id}"
    for days in (1, 2, 19):
        run(apply_retention, t0 + timedelta(days=days))
    assert len(lines(category="retention")) == 1

    figures = run(apply_retention, t0 + timedelta(days=20, minutes=1))
    assert figures["purged_targets"] == 1 and figures["purged_alerts"] == 1
    db.session.expire_all()
    assert db.session.get(Target, target_id) is None
    for model in (TargetIdentifier, TargetKey, ExpiryWarning):
        assert (
            db.session.scalar(
                select(func.count()).select_from(model).where(model.target_id == target_id)
            )
            == 0
        )
    # the warning leaves the inbox with the target
    assert lines(category="retention") == []

    alert = db.session.get_one(Alert, alert.id)
    side = "a" if alert.item_a_type == "target" and alert.item_a_id is None else "b"
    assert getattr(alert, f"item_{side}_id") is None
    assert getattr(alert, f"item_{'b' if side == 'a' else 'a'}_id") is not None
    assert alert.status == "closed" and "retention" in alert.closed_reason
    for value in ("Zhao", "Mei", "0190", "Okeechobee", "Riverside"):
        assert value not in alert.explanation

    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "retention.purge_targets")
    )
    assert entry is not None and entry.at == t0 + timedelta(days=20, minutes=1)
    assert entry.detail["targets"] == 1 and entry.detail["by_agency"] == {"PBSO": 1}
    assert entry.detail["identifiers"] >= 3 and entry.detail["keys"] >= 3
    assert "Zhao" not in str(entry.detail) and "PB-T-001" not in str(entry.detail)
    assert entry.detail["audit_entries_scrubbed"] == 1
    scrubbed = db.session.get_one(AuditEntry, quoted_id)
    assert scrubbed.action == "alert.update" and scrubbed.object_id == str(alert.id)
    for value in ("Zhao", "Mei", "0190", "Okeechobee", "Riverside"):
        assert value not in str(scrubbed.detail), value
    assert db.session.get_one(AuditEntry, other_id).detail == {"explanation": "phone 0190"}

    # the alert still opens for both sides, the purged one shown as gone
    for name in ("supervisor.pbso", "investigator.fbi", "deconfliction_officer.pbso"):
        page = login(name).get(f"/alerts/{alert.id}")
        assert page.status_code == 200, name
        body = page.get_data(as_text=True)
        for value in ("Zhao", "Okeechobee", "Riverside"):
            assert value not in body, (
                name,
                value,
                body[body.find(value) - 300 : body.find(value) + 100],
            )
    listing = login("deconfliction_officer.pbso").get("/api/alerts?status=all")
    assert listing.status_code == 200

    # a second run the same day purges nothing and audits nothing more
    run(apply_retention, t0 + timedelta(days=20, minutes=2))
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "retention.purge_targets")
        )
        == 1
    )


def test_revalidation_rearms_the_expiry_warning(app: Flask) -> None:
    t0 = start()
    target = demo_target("HSI-0093-1")
    target.expires_at = t0 + timedelta(days=10)
    db.session.commit()
    run(apply_retention, t0)
    assert recipients(lines(category="retention")) == ["supervisor.hsi"]
    target.expires_at = t0 + timedelta(days=25)  # re-validated for a new period
    db.session.commit()
    run(apply_retention, t0 + timedelta(days=1))
    assert len(lines(category="retention")) == 2


def test_records_of_job_runs_ended_90_days_ago_go(app: Flask) -> None:
    t0 = start()
    for job_id, ended in (("old", 91), ("recent", 89), ("running", None)):
        slot = t0 - timedelta(days=ended or 100)
        db.session.add(
            JobRun(
                job_id=job_id,
                scheduled_for=slot,
                holder="host:1:abc",
                started_at=slot,
                finished_at=None if ended is None else slot,
                outcome="running" if ended is None else "success",
            )
        )
    db.session.commit()
    figures = run(apply_retention, t0)
    assert figures["purged_job_runs"] == 1
    kept = db.session.scalars(select(JobRun.job_id).where(JobRun.holder == "host:1:abc"))
    assert sorted(kept) == ["recent", "running"]


def test_audit_entries_older_than_the_retention_are_purged_and_that_is_audited(
    app: Flask,
) -> None:
    t0 = start()
    for days in (400, 366, 364):
        db.session.add(
            AuditEntry(
                at=t0 - timedelta(days=days),
                action="test.old",
                outcome="success",
                object_id=str(days),
                detail={},
            )
        )
        # feed fetches are audited as one row per token and day: kept as long as entries
        db.session.add(
            FeedFetchCount(
                token_id=days,
                day=(t0 - timedelta(days=days)).date(),
                username="investigator.pbso",
                served=3,
                not_modified=9,
                first_at=t0 - timedelta(days=days, hours=2),
                last_at=t0 - timedelta(days=days),
            )
        )
    db.session.commit()
    assert run(purge_old_audit, t0) == 4
    kept = db.session.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "test.old"))
    assert list(kept) == ["364"]
    assert list(db.session.scalars(select(FeedFetchCount.token_id))) == [364]
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "retention.purge_audit")
    )
    assert entry is not None
    assert (entry.detail["entries"], entry.detail["feed_fetch_days"]) == (2, 2)
    assert run(purge_old_audit, t0 + timedelta(minutes=1)) == 0


@pytest.mark.parametrize("days", ["364", "0", "-1"])
def test_audit_retention_below_a_year_is_refused(days: str) -> None:
    config = load_config({"JOINTOPS_AUDIT_RETENTION_DAYS": days})
    with pytest.raises(ConfigError, match="AUDIT_RETENTION_DAYS"):
        validate_config(config)
