"""Failover loses no slot: two schedulers on one database, the clock moved by time-machine.

A leader that dies keeps its lease until it expires; the other process looks
again just after that expiry, takes over, and runs each job's latest slot
that nobody claimed, once (the earlier ones coalesced into it), the daily
retention run included, however late. The processes here are two
``SchedulerRunner`` objects driven by ``tick`` on the ``app`` database (a
SQLite file and PostgreSQL); ``test_scheduler.py`` kills real processes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from jointops.extensions import db
from jointops.jobs import lease, registry
from jointops.jobs.registry import JobSpec
from jointops.jobs.scheduler import (
    AFTER_EXPIRY,
    HEARTBEAT,
    SchedulerRunner,
    build_trigger,
    job_specs,
    last_slot,
    missed_slots,
)
from jointops.models import JobRun

NEW_YORK = ZoneInfo("America/New_York")
LEASE = 30.0


def office(
    year: int, month: int, day: int, hour: int, minute: int, second: int = 0, *, micro: int = 0
) -> datetime:
    """An office wall-clock time as a UTC instant."""
    local = datetime(year, month, day, hour, minute, second, micro, tzinfo=NEW_YORK)
    return local.astimezone(UTC)


def _nothing(now: datetime) -> Mapping[str, Any]:
    return {}


EVERY_FIVE = JobSpec("every_five", _nothing, "interval", {"minutes": 5})


@cache
def retention_spec() -> JobSpec:
    """The registry's own daily retention job (03:00 office time)."""
    (spec,) = [s for s in job_specs({}) if s.id == "retention"]
    return spec


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> list[JobSpec]:
    """The registry's jobs, replaced by the list the test fills in."""
    retention_spec()  # imports every task module before the registry is replaced
    chosen: list[JobSpec] = []
    monkeypatch.setattr(registry, "JOBS", chosen)
    return chosen


def runner(app: Flask, name: str) -> SchedulerRunner:
    app.config.update(SCHEDULER_LEASE_SECONDS=LEASE)
    return SchedulerRunner(app, holder=f"{name}:1:aaaaaa")


def die(process: SchedulerRunner) -> None:
    """As ``kill -9``: its jobs stop and its lease stays until it expires."""
    process._step_down(release=False)


def runs_by(holder: str) -> set[tuple[str, datetime]]:
    db.session.commit()  # a fresh snapshot
    rows = db.session.scalars(sa.select(JobRun).where(JobRun.holder == holder))
    return {(r.job_id, r.scheduled_for) for r in rows}


def all_slots() -> list[tuple[str, datetime]]:
    db.session.commit()
    return [(r.job_id, r.scheduled_for) for r in db.session.scalars(sa.select(JobRun))]


def earlier_run(job_id: str, slot: datetime) -> None:
    """A run a leader before the test's recorded, done."""
    db.session.add(
        JobRun(
            job_id=job_id,
            scheduled_for=slot,
            holder="earlier:1:bbbbbb",
            outcome="success",
            finished_at=slot,
        )
    )
    db.session.commit()


# --- which slot is the missed one ---------------------------------------------------------


def test_last_slot_of_an_interval_is_on_its_grid() -> None:
    trigger = build_trigger(HEARTBEAT, {"TIMEZONE": "America/New_York"})
    on = datetime(2026, 6, 10, 16, 4, 40, tzinfo=UTC)
    assert last_slot(trigger, on) == on, "a slot at now counts"
    assert last_slot(trigger, on + timedelta(microseconds=999_999)) == on
    five = build_trigger(EVERY_FIVE, {"TIMEZONE": "UTC"})
    assert last_slot(five, on) == datetime(2026, 6, 10, 16, 0, tzinfo=UTC)


def test_last_slot_of_the_daily_retention_is_the_latest_3_am_across_daylight_saving() -> None:
    trigger = build_trigger(retention_spec(), {"TIMEZONE": "America/New_York"})
    # the night clocks go back (1 November 2026): a 25-hour day before 02:30 EST
    slot = last_slot(trigger, office(2026, 11, 1, 2, 30))
    assert slot is not None and slot.astimezone(UTC) == office(2026, 10, 31, 3, 0)
    slot = last_slot(trigger, office(2026, 11, 1, 3, 0))
    assert slot is not None and slot.astimezone(UTC) == office(2026, 11, 1, 3, 0)
    # the night clocks go forward (8 March 2026): 03:00 EDT is 07:00 UTC
    slot = last_slot(trigger, office(2026, 3, 8, 3, 0, 1))
    assert slot is not None and slot.astimezone(UTC) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_last_slot_of_a_weekly_job_and_of_none_in_reach() -> None:
    weekly = JobSpec("weekly", _nothing, "cron", {"day_of_week": "mon", "hour": 6})
    config = {"TIMEZONE": "America/New_York"}
    slot = last_slot(build_trigger(weekly, config), office(2026, 6, 14, 23, 0))  # a Sunday
    assert slot is not None and slot.astimezone(UTC) == office(2026, 6, 8, 6, 0)
    future = JobSpec("future", _nothing, "cron", {"year": 2100})
    assert last_slot(build_trigger(future, config), office(2026, 6, 14, 23, 0)) is None


def test_missed_slots_leave_out_claimed_ones_whatever_their_outcome(
    app: Flask, jobs: list[JobSpec]
) -> None:
    jobs.extend([EVERY_FIVE, retention_spec()])
    now = office(2026, 6, 10, 12, 4, 40)
    assert [(s.id, t) for s, t in missed_slots(app.config, now)] == [
        ("every_five", office(2026, 6, 10, 12, 0)),
        ("retention", office(2026, 6, 10, 3, 0)),
    ]
    earlier_run("every_five", office(2026, 6, 10, 12, 0))
    db.session.add(
        JobRun(job_id="retention", scheduled_for=office(2026, 6, 10, 3, 0), holder="dead:1:x")
    )
    db.session.commit()
    assert missed_slots(app.config, now) == [], "a run left running or interrupted is claimed"


# --- two schedulers, one dies -------------------------------------------------------------


def test_the_successor_runs_each_missed_slot_once(app: Flask, jobs: list[JobSpec]) -> None:
    app.config["SCHEDULER_TEST_JOB"] = True
    jobs.extend([EVERY_FIVE, retention_spec()])
    earlier_run("retention", office(2026, 6, 9, 3, 0))
    t0 = office(2026, 6, 10, 12, 4, 40, micro=400_000)  # between slots: no live run fires
    a, b, c = runner(app, "host-a"), runner(app, "host-b"), runner(app, "host-c")
    try:
        with time_machine.travel(t0, tick=False) as clock:
            assert a.tick() and a.leading
            die(a)
            # the first leader of the day ran the latest slot of each job: today's retention
            # had not run at all
            assert runs_by(a.holder) == {
                ("heartbeat", office(2026, 6, 10, 12, 4, 40)),
                ("every_five", office(2026, 6, 10, 12, 0)),
                ("retention", office(2026, 6, 10, 3, 0)),
            }

            clock.shift(LEASE - 0.01)
            assert not b.tick(), "the dead leader's lease has not expired yet"
            clock.shift(0.02)
            assert b.tick() and b.leading
            row = lease.current()
            assert row is not None and row.holder == b.holder
            b.stop()  # waits for its runs, then releases the lease
            # 30 heartbeat slots and the 12:05 slot passed while no one led: each job's
            # latest one runs, once, the earlier heartbeats coalesced into it
            assert runs_by(b.holder) == {
                ("heartbeat", office(2026, 6, 10, 12, 5, 10)),
                ("every_five", office(2026, 6, 10, 12, 5)),
            }

            clock.shift(0.001)
            assert c.tick() and c.leading, "released: taken at once"
            c.stop()
            assert runs_by(c.holder) == set(), "nothing was missed any more"
    finally:
        for process in (a, b, c):
            process.stop()
    slots = all_slots()
    assert len(slots) == len(set(slots)), "a slot ran twice"
    db.session.commit()
    outcomes = db.session.scalars(
        sa.select(JobRun.outcome).where(JobRun.holder != "earlier:1:bbbbbb")
    )
    assert set(outcomes) == {"success"}


@pytest.mark.parametrize(
    "takeover",
    [
        pytest.param((3, 0, 10), id="within-the-misfire-grace"),
        pytest.param((9, 30, 0), id="hours-later"),
    ],
)
def test_a_failover_across_3_am_runs_that_days_retention_once(
    app: Flask, jobs: list[JobSpec], takeover: tuple[int, int, int]
) -> None:
    jobs.append(retention_spec())
    earlier_run("retention", office(2026, 6, 9, 3, 0))
    today = office(2026, 6, 10, 3, 0)
    a, b, c = runner(app, "host-a"), runner(app, "host-b"), runner(app, "host-c")
    try:
        with time_machine.travel(office(2026, 6, 10, 2, 59, 35), tick=False) as clock:
            assert a.tick()
            die(a)
            assert runs_by(a.holder) == set(), "yesterday's run was done"

            clock.move_to(office(2026, 6, 10, *takeover))
            assert b.tick()
            die(b)
            assert runs_by(b.holder) == {("retention", today)}

            clock.shift(LEASE + 1)
            assert c.tick()
            c.stop()
            assert runs_by(c.holder) == set(), "that day's retention ran once"
    finally:
        for process in (a, b, c):
            process.stop()
    db.session.commit()
    run = db.session.scalars(sa.select(JobRun).where(JobRun.scheduled_for == today)).one()
    assert run.outcome == "success" and "purged_targets" in run.figures


def test_slots_due_while_a_missed_slot_runs_are_coalesced_not_skipped(
    app: Flask, jobs: list[JobSpec]
) -> None:
    """A missed run longer than the job's period: the slot that fell due meanwhile runs after
    it (``max_instances`` alone would skip it)."""
    t0 = office(2026, 6, 10, 12, 4, 40, micro=400_000)
    with time_machine.travel(t0, tick=False) as clock:

        def six_minutes(now: datetime) -> Mapping[str, Any]:
            clock.shift(6 * 60)
            return {}

        jobs.append(JobSpec("slow_five", six_minutes, "interval", {"minutes": 5}))
        earlier_run("slow_five", office(2026, 6, 10, 12, 0))
        a, b = runner(app, "host-a"), runner(app, "host-b")
        try:
            assert a.tick()
            die(a)
            clock.shift(LEASE + 0.01)
            assert b.tick()
            deadline = time.monotonic() + 30
            while len(runs_by(b.holder)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)  # the resumed schedule runs on the scheduler's own thread
            b.stop()
        finally:
            a.stop()
            b.stop()
    assert runs_by(b.holder) == {
        ("slow_five", office(2026, 6, 10, 12, 5)),  # missed, run at the take-over
        ("slow_five", office(2026, 6, 10, 12, 10)),  # fell due during that run
    }


# --- how soon the successor takes over ----------------------------------------------------


@pytest.mark.parametrize("dies_after", [0.1, 7.4, 23.0, 61.2])
def test_a_dead_leader_is_replaced_within_one_lease_period(
    app: Flask, jobs: list[JobSpec], dies_after: float
) -> None:
    """Both processes on one simulated timeline, each acting when its own wait ends.

    Looking every quarter period alone, the successor would come up to a quarter
    period after the expiry (here after 32.5 s when the leader dies at 23 s).
    """
    t0 = office(2026, 6, 10, 12, 0)
    a, b = runner(app, "host-a"), runner(app, "host-b")
    died = t0 + timedelta(seconds=dies_after)
    try:
        with time_machine.travel(t0, tick=False) as clock:
            a_next, b_next = t0, t0 + timedelta(seconds=3)
            while True:
                a_alive = a_next < died
                if a_alive and a_next <= b_next:
                    clock.move_to(a_next)
                    assert a.tick(), "the leader renews"
                    a_next += timedelta(seconds=a.seconds_to_next_tick())
                    continue
                if a.leading and not a_alive:
                    die(a)
                clock.move_to(b_next)
                if b.tick():
                    break
                assert b_next < died + timedelta(seconds=3 * LEASE), "never took over"
                b_next += timedelta(seconds=b.seconds_to_next_tick())
            took = (b_next - died).total_seconds()
    finally:
        a.stop()
        b.stop()
    assert 0 < took <= LEASE + AFTER_EXPIRY


def test_a_process_that_does_not_lead_looks_again_when_the_lease_expires(
    app: Flask, jobs: list[JobSpec]
) -> None:
    t0 = office(2026, 6, 10, 12, 0)
    a, b = runner(app, "host-a"), runner(app, "host-b")
    try:
        with time_machine.travel(t0, tick=False) as clock:
            assert a.tick()
            assert a.seconds_to_next_tick() == LEASE / 4, "the leader renews every quarter"
            clock.shift(5)
            assert not b.tick()
            assert b.seconds_to_next_tick() == LEASE / 4
            clock.shift(20)
            assert not b.tick()
            assert b.seconds_to_next_tick() == pytest.approx(5 + AFTER_EXPIRY)
            clock.shift(5 + AFTER_EXPIRY)
            assert b.tick()
    finally:
        a.stop()
        b.stop()
