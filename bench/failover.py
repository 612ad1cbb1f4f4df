"""Benchmark: a scheduler leader killed with ``kill -9``; how soon the other takes over, and
whether any slot is lost.

Two real ``jointops scheduler`` processes on one migrated PostgreSQL database
(``JOINTOPS_BENCH_POSTGRES_URL`` or ``JOINTOPS_TEST_POSTGRES_URL``) with a short
lease and the test-only 1-second ``heartbeat`` job beside the real jobs. Each
round kills the leader at a random point of its renewal cycle, times the
take-over (the new lease's ``acquired_at`` minus the moment of the kill, one
host, one clock), then counts per job the slots that fell due after the dead
leader's last run and up to the take-over (missed), those the new leader ran
(missed then run: one per job, by its own log and the database), those before
such a run (coalesced into it) and the rest (lost), plus any slot the new
leader's live schedule skipped (APScheduler's "missed by" and "maximum number
of running instances" lines). A fresh process replaces the dead one before the
next round.

The baseline, from the same run: the lease period (the promised bound on the
take-over) and the missed slots themselves, which is what a new leader that
only follows its schedule from the take-over on (the behaviour before) loses.

Prints one JSON line:

    .venv/bin/python bench/failover.py --rounds 5 --lease 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from flask_migrate import upgrade

from bench.benchlib import database, figures
from jointops import create_app
from jointops.extensions import db
from jointops.jobs.scheduler import build_trigger, job_specs

T = TypeVar("T")

LEASES = sa.table(
    "scheduler_leases",
    sa.column("name"),
    sa.column("holder"),
    sa.column("acquired_at"),
    sa.column("expires_at"),
)
RUNS = sa.table("job_runs", sa.column("job_id"), sa.column("holder"), sa.column("scheduled_for"))


def aware(moment: datetime) -> datetime:
    """The database's naive UTC times as aware ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def wait_for(what: str, check: Callable[[], T | None], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.005)
    raise SystemExit(f"bench/failover.py: timed out waiting for {what}")


class Deployment:
    """The scheduler processes on one database, and what the database says about them."""

    def __init__(self, url: str, lease: float, logs: Path) -> None:
        self.url, self.lease, self.logs = url, lease, logs
        self.engine = sa.create_engine(url, poolclass=sa.NullPool)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.secret_key = secrets.token_urlsafe(32)
        self.log_of: dict[int, Path] = {}

    def start(self) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOINTOPS_")}
        env.update(
            JOINTOPS_DATABASE_URL=self.url,
            JOINTOPS_SECRET_KEY=self.secret_key,
            JOINTOPS_SCHEDULER="only",
            JOINTOPS_SCHEDULER_LEASE_SECONDS=str(self.lease),
            JOINTOPS_SCHEDULER_TEST_JOB="1",
            PYTHONUNBUFFERED="1",
        )
        log = self.logs / f"scheduler-{len(self.processes)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", "from jointops.cli import main; main()", "scheduler"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        self.log_of[process.pid] = log
        wait_for("a scheduler to compete", lambda: "competing" in log.read_text(), 60)
        return process

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def lease_row(self) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(LEASES).where(LEASES.c.name == "scheduler")).first()

    def leader(self) -> tuple[subprocess.Popen[bytes], str, datetime] | None:
        """The live process that holds an unexpired lease, its holder id and since when."""
        row = self.lease_row()
        if row is None or aware(row.expires_at) <= datetime.now(UTC):
            return None
        pid = int(str(row.holder).split(":")[-2])
        for process in self.alive():
            if process.pid == pid:
                return process, str(row.holder), aware(row.acquired_at)
        return None

    def runs(self) -> list[tuple[str, str, datetime]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(RUNS.c.job_id, RUNS.c.holder, RUNS.c.scheduled_for))
            return [(r.job_id, r.holder, aware(r.scheduled_for)) for r in rows]

    def stop(self) -> None:
        for process in self.alive():
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.engine.dispose()


def slots_between(
    config: dict[str, Any], after: dict[str, datetime], until: datetime
) -> dict[str, list[datetime]]:
    """Each job's slots after its last run before the kill, up to ``until``."""
    found: dict[str, list[datetime]] = {}
    for spec in job_specs(config):
        trigger = build_trigger(spec, config)
        start = after.get(spec.id)
        if start is None:
            continue  # never ran: its first leader's catch-up is not this failover's
        slots: list[datetime] = []
        slot = trigger.get_next_fire_time(start, start)
        while slot is not None and slot <= until:
            slots.append(slot.astimezone(UTC))
            slot = trigger.get_next_fire_time(slot, slot)
        found[spec.id] = slots
    return found


SKIPPED_LINE = re.compile(r"maximum number of running instances reached|was missed by")
MISSED_LINE = re.compile(r"job (\S+) at (\S+ \S+): missed while no one led")


def one_round(deployment: Deployment, config: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    leader, dead_holder, _ = wait_for("a leader", deployment.leader, 60)
    wait_for(
        "the leader's heartbeats",
        lambda: any(h == dead_holder and j == "heartbeat" for j, h, _ in deployment.runs()),
        60,
    )
    time.sleep(rng.uniform(0, deployment.lease / 4))  # anywhere in the renewal cycle
    leader.send_signal(signal.SIGKILL)
    killed_at = datetime.now(UTC)
    leader.wait(10)

    def successor() -> tuple[subprocess.Popen[bytes], str, datetime] | None:
        found = deployment.leader()
        return found if found and found[1] != dead_holder else None

    process, holder, taken_at = wait_for("the take-over", successor, deployment.lease * 4)
    # two heartbeats of its own: the live schedule has started, so the new leader has
    # logged every slot it ran as missed (it does so before it resumes the schedule)
    wait_for(
        "the new leader's heartbeats",
        lambda: sum(1 for j, h, _ in deployment.runs() if h == holder and j == "heartbeat") >= 2,
        30,
    )
    said = deployment.log_of[process.pid].read_text()
    caught_up = {(j, aware(datetime.fromisoformat(t))) for j, t in MISSED_LINE.findall(said)}

    def recorded() -> bool:
        return caught_up <= {(j, s) for j, h, s in deployment.runs() if h == holder}

    wait_for("the missed slots' runs", recorded, 60)
    runs = deployment.runs()
    last_before: dict[str, datetime] = {}
    for job_id, _, slot in runs:
        if slot <= killed_at and (job_id not in last_before or slot > last_before[job_id]):
            last_before[job_id] = slot
    missed = run = coalesced = 0
    for job_id, gap in slots_between(config, last_before, taken_at).items():
        # the gap: the slots after the dead leader's last run, up to the take-over; the
        # new leader's run of the latest covers the ones before it
        latest = max((c for j, c in caught_up if j == job_id), default=None)
        missed += len(gap)
        run += sum(1 for s in gap if (job_id, s) in caught_up)
        coalesced += sum(
            1 for s in gap if (job_id, s) not in caught_up and latest is not None and s < latest
        )
    # after the take-over, a slot the live schedule skipped is lost too
    skipped = len(SKIPPED_LINE.findall(deployment.log_of[process.pid].read_text()))
    return {
        "takeover_s": (taken_at - killed_at).total_seconds(),
        "missed": missed,
        "missed_then_run": run,
        "coalesced": coalesced,
        "lost": missed - run - coalesced + skipped,
        "slots_twice": len(runs) - len({(j, s) for j, _, s in runs}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="leaders killed")
    parser.add_argument("--lease", type=float, default=3.0, help="lease seconds")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with database("postgresql") as url, tempfile.TemporaryDirectory() as logs:
        settings = {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-failover-secret-key",
            "SCHEDULER": "off",
            "SCHEDULER_TEST_JOB": True,
            "SCHEDULER_LEASE_SECONDS": args.lease,
        }
        app = create_app(settings)
        with app.app_context():
            upgrade()
            db.session.remove()
            db.engine.dispose()
        config = dict(app.config)
        deployment = Deployment(url, args.lease, Path(logs))
        rounds = []
        try:
            deployment.start()
            deployment.start()
            for _ in range(args.rounds):
                rounds.append(one_round(deployment, config, rng))
                deployment.start()
        finally:
            deployment.stop()

    takeovers = [r["takeover_s"] * 1000 for r in rounds]
    result = {
        "bench": "failover",
        "backend": "postgresql",
        "rounds": args.rounds,
        "lease_s": args.lease,
        "takeover_ms": figures(takeovers, with_max=True),
        "takeover_within_lease": all(r["takeover_s"] <= args.lease for r in rounds),
        "slots_missed": sum(r["missed"] for r in rounds),
        "slots_missed_then_run": sum(r["missed_then_run"] for r in rounds),
        "slots_coalesced": sum(r["coalesced"] for r in rounds),
        "slots_lost": sum(r["lost"] for r in rounds),
        "slots_run_twice": max(r["slots_twice"] for r in rounds),
        "baseline": {
            "takeover_bound_ms": args.lease * 1000,
            "slots_lost_following_the_schedule_only": sum(r["missed"] for r in rounds),
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
