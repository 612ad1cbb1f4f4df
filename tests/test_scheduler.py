"""Background jobs: one leader by lease, each slot run once, cron on the office clock."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from jointops.config import ConfigError, validate_config
from jointops.extensions import db
from jointops.jobs import lease
from jointops.jobs.registry import JobSpec
from jointops.jobs.scheduler import (
    HEARTBEAT,
    SchedulerRunner,
    build_trigger,
    job_specs,
    next_run_times,
    run_once,
)
from jointops.models import JobRun
from tests.conftest import PostgresDatabases, _database_url, base_config

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


# --- the lease ---------------------------------------------------------------------------


def test_lease_take_renew_refuse_take_over_release(app: Flask) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        assert lease.current() is None
        assert lease.acquire("host-a:1:aa", 30)
        row = lease.current()
        assert row is not None
        assert (row.holder, row.acquired_at, row.expires_at) == (
            "host-a:1:aa",
            T0,
            T0 + timedelta(seconds=30),
        )

        assert not lease.acquire("host-b:2:bb", 30), "held and not expired"

        clock.shift(20)
        assert lease.acquire("host-a:1:aa", 30), "the holder renews"
        row = lease.current()
        assert row is not None
        assert row.acquired_at == T0, "a renewal keeps the 'since'"
        assert row.expires_at == T0 + timedelta(seconds=50)

        clock.shift(29)
        assert not lease.acquire("host-b:2:bb", 30), "one second before expiry"

        clock.shift(2)
        assert lease.acquire("host-b:2:bb", 30), "expired: taken over"
        row = lease.current()
        assert row is not None
        assert (row.holder, row.acquired_at) == ("host-b:2:bb", T0 + timedelta(seconds=51))
        assert not lease.acquire("host-a:1:aa", 30), "the old holder cannot renew any more"

        assert not lease.release("host-a:1:aa"), "only the holder releases"
        assert lease.release("host-b:2:bb")
        assert not lease.is_held(lease.current())
        clock.shift(0.001)
        assert lease.acquire("host-a:1:aa", 30), "released: free at once"


def test_first_take_is_won_by_one_of_many(app: Flask) -> None:
    results: list[bool] = []

    def compete(holder: str) -> None:
        with app.app_context():
            results.append(lease.acquire(holder, 30))
            db.session.remove()

    threads = [threading.Thread(target=compete, args=(f"h:{n}:x",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False] * 5 + [True]


# --- runs and slots ----------------------------------------------------------------------


def _boom(now: datetime) -> Mapping[str, Any]:
    raise RuntimeError("directory unreachable")


def test_a_slot_runs_once_and_failures_are_recorded(app: Flask) -> None:
    slot = datetime(2026, 3, 2, 12, 0, 5, tzinfo=UTC)
    first = run_once(app, HEARTBEAT, slot, "host-a:1:aa")
    assert first is not None
    assert run_once(app, HEARTBEAT, slot, "host-b:2:bb") is None, "the slot is taken"

    failed = run_once(app, JobSpec("boom", _boom, "interval", {"minutes": 5}), slot, "host-a:1:aa")
    assert failed is not None

    runs = {r.job_id: r for r in db.session.scalars(sa.select(JobRun))}
    assert set(runs) == {"heartbeat", "boom"}
    beat, boom = runs["heartbeat"], runs["boom"]
    assert (beat.outcome, beat.holder, beat.scheduled_for) == ("success", "host-a:1:aa", slot)
    assert beat.finished_at is not None and "at" in beat.figures
    assert boom.outcome == "failure"
    assert "RuntimeError: directory unreachable" in boom.error


def test_interval_slots_are_the_same_in_every_process() -> None:
    trigger = build_trigger(HEARTBEAT, {"TIMEZONE": "America/New_York"})
    now = datetime(2026, 3, 2, 12, 0, 0, 400_000, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, now) == datetime(2026, 3, 2, 12, 0, 1, tzinfo=UTC)


def test_interval_setting_overrides_the_registry() -> None:
    spec = JobSpec("sync", _boom, "interval", {"hours": 1}, interval_setting="SYNC_MINUTES")
    trigger = build_trigger(spec, {"TIMEZONE": "UTC", "SYNC_MINUTES": 15})
    assert trigger.interval == timedelta(minutes=15)


def test_cron_keeps_office_wall_clock_across_daylight_saving() -> None:
    """07:00 in New York is 12:00 UTC before the March change (8 March 2026) and 11:00 after."""
    spec = JobSpec("digest", _boom, "cron", {"hour": 7, "minute": 0})
    trigger = build_trigger(spec, {"TIMEZONE": "America/New_York"})
    before = trigger.get_next_fire_time(None, datetime(2026, 3, 7, 0, 0, tzinfo=UTC))
    after = trigger.get_next_fire_time(before, datetime(2026, 3, 8, 0, 0, tzinfo=UTC))
    assert before is not None and after is not None
    assert before.astimezone(UTC) == datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 3, 8, 11, 0, tzinfo=UTC)


def test_heartbeat_is_test_only() -> None:
    assert "heartbeat" not in {s.id for s in job_specs({})}
    assert "heartbeat" in {s.id for s in job_specs({"SCHEDULER_TEST_JOB": True})}
    times = dict(
        (s.id, t) for s, t in next_run_times({"SCHEDULER_TEST_JOB": True, "TIMEZONE": "UTC"}, T0)
    )
    assert times["heartbeat"] == T0, "at or after now, on the second"


@pytest.mark.parametrize(
    "key, value",
    [
        ("SCHEDULER", "sometimes"),
        ("SCHEDULER_LEASE_SECONDS", 0),
        ("SCHEDULER_MISFIRE_GRACE_SECONDS", 0),
    ],
)
def test_scheduler_settings_are_validated(key: str, value: object) -> None:
    config = {**base_config("sqlite://"), "ENV_NAME": "development"}
    from jointops.config import load_config

    config = {**load_config({}), **config, key: value}
    with pytest.raises(ConfigError, match=f"JOINTOPS_{key}"):
        validate_config(config)


# --- one process: the runner starts, leads, runs, stops cleanly ---------------------------------


def _committed_runs(job_id: str = "heartbeat") -> list[JobRun]:
    db.session.commit()  # a fresh snapshot
    return list(
        db.session.scalars(
            sa.select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.scheduled_for)
        )
    )


def test_runner_leads_runs_and_releases(app: Flask) -> None:
    app.config.update(SCHEDULER_TEST_JOB=True, SCHEDULER_LEASE_SECONDS=2)
    runner = SchedulerRunner(app).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(_committed_runs()) < 2:
            time.sleep(0.1)
        assert runner.leading
    finally:
        runner.stop()
    runs = _committed_runs()
    assert len(runs) >= 2
    assert {r.outcome for r in runs} == {"success"}
    assert {r.holder for r in runs} == {runner.holder}
    db.session.expire_all()
    assert not lease.is_held(lease.current()), "released at stop"
    assert not [t for t in threading.enumerate() if t.name.startswith("jointops-scheduler")]


def test_a_new_leader_marks_the_runs_a_dead_one_left_running(app: Flask, login: Any) -> None:
    slot = datetime.now(UTC).replace(microsecond=0)
    db.session.add_all(
        [
            JobRun(job_id="retention", scheduled_for=slot, holder="dead-host:1:aaa"),
            JobRun(
                job_id="reminders",
                scheduled_for=slot,
                holder="dead-host:1:aaa",
                outcome="success",
                finished_at=slot,
            ),
        ]
    )
    db.session.commit()
    app.config.update(SCHEDULER_LEASE_SECONDS=2)
    runner = SchedulerRunner(app)
    try:
        assert runner.tick() and runner.leading
    finally:
        runner.stop()
    db.session.expire_all()
    dead = sa.select(JobRun).where(JobRun.holder == "dead-host:1:aaa")
    runs = {r.job_id: r for r in db.session.scalars(dead)}
    assert runs["retention"].outcome == "interrupted"
    assert runs["retention"].finished_at is not None
    assert "dead-host:1:aaa" in runs["retention"].error and runner.holder in runs["retention"].error
    assert runs["reminders"].outcome == "success"  # finished runs are left as they were
    page = login("admin.pbso").get("/admin/jobs").get_data(as_text=True)
    assert "Interrupted" in page


# --- two processes on one PostgreSQL database ----------------------------------------------


@pytest.fixture
def shared_postgres(postgres: PostgresDatabases, postgres_template: str) -> Iterator[str]:
    name = postgres.create(template=postgres_template)
    yield _database_url(name)
    postgres.drop(name)


LEASE = 2.0


def _start_scheduler(url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOINTOPS_")}
    env.update(
        JOINTOPS_DATABASE_URL=url,
        JOINTOPS_SECRET_KEY="scheduler-test-secret-key",
        JOINTOPS_SCHEDULER="auto",
        JOINTOPS_SCHEDULER_LEASE_SECONDS=str(LEASE),
        JOINTOPS_SCHEDULER_TEST_JOB="1",
        PYTHONUNBUFFERED="1",
    )
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from jointops.cli import main; main()", "scheduler"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_for(what: str, check: Any, timeout: float, logs: list[Path]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)
    pytest.fail(f"timed out waiting for {what}\n{tails}")


def test_two_processes_one_leader_take_over_and_no_slot_twice(
    shared_postgres: str, tmp_path: Path
) -> None:
    engine = sa.create_engine(shared_postgres, poolclass=sa.NullPool)
    lease_table = sa.table(
        "scheduler_leases", sa.column("holder"), sa.column("expires_at"), sa.column("name")
    )
    runs_table = sa.table(
        "job_runs",
        sa.column("job_id"),
        sa.column("holder"),
        sa.column("scheduled_for"),
        sa.column("outcome"),
    )

    def holder() -> str | None:
        with engine.connect() as conn:
            row = conn.execute(sa.select(lease_table.c.holder, lease_table.c.expires_at)).first()
        if row is None or row.expires_at <= datetime.now(UTC).replace(tzinfo=None):
            return None
        return str(row.holder)

    def runs() -> list[Any]:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(runs_table)
                    .where(runs_table.c.job_id == "heartbeat")
                    .order_by(runs_table.c.scheduled_for)
                )
            )

    def pid_of(holder_id: str) -> int:
        return int(holder_id.split(":")[-2])

    logs = [tmp_path / "scheduler-1.log", tmp_path / "scheduler-2.log"]
    processes = [_start_scheduler(shared_postgres, log) for log in logs]
    by_pid = {p.pid: p for p in processes}
    try:
        first = _wait_for("a leader", holder, 30, logs)
        leader = by_pid[pid_of(first)]
        (survivor,) = [p for p in processes if p is not leader]
        _wait_for(
            "the other process to compete",
            lambda: "competing" in logs[processes.index(survivor)].read_text(),
            30,
            logs,
        )
        _wait_for("two runs by the leader", lambda: len(runs()) >= 2, 15, logs)
        assert {r.holder for r in runs()} == {first}, "only the leader runs jobs"

        leader.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        leader.wait(10)
        second = _wait_for(
            "the survivor to take over",
            lambda: (h := holder()) and pid_of(h) == survivor.pid and h,
            LEASE * 3,
            logs,
        )
        took = time.monotonic() - killed_at
        # the lease was renewed at most a quarter period before the kill; the survivor
        # looks every quarter period
        assert took <= LEASE * 1.5 + 0.5, f"take-over after {took:.2f} s"
        count_at_take_over = len(runs())
        _wait_for(
            "two runs by the new leader", lambda: len(runs()) >= count_at_take_over + 2, 15, logs
        )

        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(15) == 0
        assert holder() is None, "released on a clean stop"
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        all_runs = runs()
        engine.dispose()

    slots = [(r.job_id, r.scheduled_for) for r in all_runs]
    assert len(slots) == len(set(slots)), "a slot ran twice"
    holders = [r.holder for r in all_runs]
    switch = holders.index(second)
    assert set(holders[:switch]) == {first} and set(holders[switch:]) == {second}, (
        "each run belongs to the leader of its time"
    )
    # the killed leader may have died inside a run (left 'running'); every other run succeeded
    assert {r.outcome for r in all_runs if r.holder == second} == {"success"}
    # the heartbeats while no one led were not lost: the new leader ran the latest at once
    said = logs[processes.index(survivor)].read_text()
    missed = re.search(r"job heartbeat at (\S+ \S+): missed while no one led", said)
    assert missed, said[-3000:]
    slot = datetime.fromisoformat(missed.group(1)).replace(tzinfo=None)
    assert ("heartbeat", slot) in slots and slot < min(
        r.scheduled_for for r in all_runs if r.holder == second and r.scheduled_for != slot
    )


# --- the admin page ---------------------------------------------------------------------


def test_admin_jobs_page_shows_leader_schedule_and_runs(app: Flask, login: Any) -> None:
    app.config["SCHEDULER_TEST_JOB"] = True
    assert lease.acquire("ops-host:4242:abc123", 30)
    slot = datetime.now(UTC).replace(microsecond=0)
    run_once(app, JobSpec("boom", _boom, "interval", {"minutes": 5}), slot, "ops-host:4242:abc123")

    admin = login("admin.pbso")
    page = admin.get("/admin/jobs").get_data(as_text=True)
    assert "ops-host:4242:abc123" in page
    assert "heartbeat" in page, "the schedule comes from the registry, in any process"
    assert "Failed" in page and "directory unreachable" in page
    assert 'href="/admin/jobs"' in admin.get("/admin/users").get_data(as_text=True)
    assert login("supervisor.fbi").get("/admin/jobs").status_code == 403
