"""Exactly one scheduler for the whole deployment.

Every process that may run jobs (each gunicorn worker under
``JOINTOPS_SCHEDULER=auto``, or a dedicated ``jointops scheduler``) starts a
``SchedulerRunner``: a small thread that competes for the lease
(``jointops.jobs.lease``) every quarter of a lease period. The process holding the
lease starts an APScheduler ``BackgroundScheduler`` with every job in
``jointops.jobs.registry.JOBS``; a process that fails to renew shuts its
scheduler down. ``create_app`` never starts any of this.

A run first claims its slot, the row (job id, scheduled time) in
``job_runs`` under a unique constraint, then runs the job in the app context
and records its outcome and figures. Interval triggers are anchored at a
fixed instant and cron triggers are wall-clock times in the office zone, so
every process computes the same slots, and two leaders for a moment (a
paused old one and its successor) still run each slot once.

No slot is lost to a failover: a process that does not lead looks again when
the lease it saw expires (never later than a quarter period), so a dead
leader is replaced within one lease period of its last renewal; and a new
leader first runs, once, each job's latest slot that no run claimed
(``missed_slots``): a job's earlier missed slots are coalesced into it, and a
daily job runs if that day's run is missing, however late. A run the dead
leader left unfinished is marked interrupted and stays claimed: its job's next
slot runs as usual, not that one again.
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import pkgutil
import threading
import time
import traceback
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jointops.extensions import db
from jointops.jobs import lease, registry
from jointops.jobs.registry import JobSpec
from jointops.models import JobRun, utcnow
from jointops.transactions import unit_of_work

log = logging.getLogger("jointops.jobs.scheduler")

#: interval slots count from here, so every process computes the same ones
INTERVAL_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)
ERROR_LIMIT = 4000
#: how far back a new leader looks for a job's latest slot (a weekly job's fits)
SLOT_LOOKBACK = timedelta(days=14)
#: a process that does not lead tries again this long after the lease it saw expires
AFTER_EXPIRY = 0.002


# --- which jobs, and when ---------------------------------------------------------------


def load_jobs() -> None:
    """Import every module of ``jointops.jobs.tasks``, so that its ``@job`` registrations run."""
    import jointops.jobs.tasks

    for module in pkgutil.iter_modules(jointops.jobs.tasks.__path__, "jointops.jobs.tasks."):
        importlib.import_module(module.name)


def _heartbeat(now: datetime) -> Mapping[str, Any]:
    """Test-only (``JOINTOPS_SCHEDULER_TEST_JOB``): does nothing but leave its run record."""
    return {"at": now.isoformat()}


HEARTBEAT = JobSpec("heartbeat", _heartbeat, "interval", {"seconds": 1})


def job_specs(config: Mapping[str, Any]) -> list[JobSpec]:
    """The registry's jobs, plus the test-only heartbeat when the configuration asks for it."""
    load_jobs()
    specs = list(registry.JOBS)
    if config.get("SCHEDULER_TEST_JOB"):
        specs.append(HEARTBEAT)
    return specs


def build_trigger(spec: JobSpec, config: Mapping[str, Any]) -> BaseTrigger:
    """The spec's trigger: cron in the office zone, intervals anchored at a fixed instant."""
    args = dict(spec.trigger_args)
    if spec.trigger == "cron":
        return CronTrigger(timezone=ZoneInfo(config["TIMEZONE"]), **args)
    if spec.trigger == "interval":
        if spec.interval_setting and config.get(spec.interval_setting) is not None:
            for unit in ("weeks", "days", "hours", "minutes", "seconds"):
                args.pop(unit, None)
            args["minutes"] = float(config[spec.interval_setting])
        return IntervalTrigger(timezone=UTC, start_date=INTERVAL_ANCHOR, **args)
    raise ValueError(f"job {spec.id}: unknown trigger {spec.trigger!r}")


def last_slot(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The trigger's latest fire time at or before ``now``; None if none in ``SLOT_LOOKBACK``.

    APScheduler only looks forward, so this looks back 1 s, 2 s, 4 s ... until a
    window holds a fire time, then walks forward through it: a handful of calls
    whether the period is a second or a week.
    """
    window = timedelta(seconds=1)
    while window <= SLOT_LOOKBACK:
        found: datetime | None = trigger.get_next_fire_time(None, now - window)
        if found is not None and found <= now:
            while (after := trigger.get_next_fire_time(found, found)) is not None and after <= now:
                found = after
            return found
        window *= 2
    return None


def missed_slots(config: Mapping[str, Any], now: datetime) -> list[tuple[JobSpec, datetime]]:
    """Each job's latest slot at or before ``now`` (UTC) that no run has claimed.

    What a new leader runs first. Only the latest: the slots before it are
    coalesced into it, as ``coalesce=True`` does for a live schedule. Read on a
    connection of its own, committed data only.
    """
    latest = [
        (spec, slot.astimezone(UTC))
        for spec in job_specs(config)
        if (slot := last_slot(build_trigger(spec, config), now)) is not None
    ]
    with db.engine.connect() as conn:
        return [
            (spec, slot)
            for spec, slot in latest
            if conn.execute(
                select(JobRun.id).where(JobRun.job_id == spec.id, JobRun.scheduled_for == slot)
            ).first()
            is None
        ]


def next_run_times(
    config: Mapping[str, Any], now: datetime | None = None
) -> list[tuple[JobSpec, datetime | None]]:
    """When each job runs next, from the triggers alone (any process can say)."""
    now = now or datetime.now(UTC)
    return [
        (spec, build_trigger(spec, config).get_next_fire_time(None, now))
        for spec in job_specs(config)
    ]


# --- one run ------------------------------------------------------------------------------


def run_once(app: Flask, spec: JobSpec, scheduled_for: datetime, holder: str) -> JobRun | None:
    """Claim the slot, run the job in the app context, record how it went.

    Returns the run, or None when another process had claimed the slot.
    """
    scheduled_for = scheduled_for.astimezone(UTC)
    with app.app_context():
        try:
            with unit_of_work():
                run = JobRun(job_id=spec.id, scheduled_for=scheduled_for, holder=holder)
                db.session.add(run)
        except IntegrityError:
            log.info("job %s at %s: already claimed", spec.id, scheduled_for.isoformat())
            return None
        run_id = run.id
        try:
            figures = _plain(spec.func(utcnow()) or {})
            outcome, error = "success", ""
        except Exception as exc:  # a job's failure is recorded, never raised into the scheduler
            log.exception("job %s failed", spec.id)
            figures, outcome = {}, "failure"
            error = "".join(traceback.format_exception(exc))[-ERROR_LIMIT:]
        try:
            db.session.rollback()  # what a failed job left unfinished is not ours to keep
            with unit_of_work():
                finished = db.session.get(JobRun, run_id, populate_existing=True)
                assert finished is not None  # noqa: S101 - nothing deletes runs meanwhile
                finished.finished_at = utcnow()
                finished.outcome = outcome
                finished.error = error
                finished.figures = figures
            return finished
        finally:
            db.session.remove()


INTERRUPTED = "interrupted"


def mark_interrupted(app: Flask, holder: str) -> int:
    """Runs another holder left "running": when this one takes the lease, that holder was
    killed or cut off before it could record the end. Returns how many were marked.

    A holder that was only slow and still finishes records its own outcome over this.
    """
    with app.app_context():
        try:
            with unit_of_work():
                runs = db.session.scalars(
                    select(JobRun).where(JobRun.outcome == "running", JobRun.holder != holder)
                ).all()
                now = utcnow()
                for run in runs:
                    run.outcome = INTERRUPTED
                    run.finished_at = now
                    run.error = (
                        f"Its scheduler ({run.holder}) stopped before the run ended; "
                        f"{holder} leads now."
                    )
            return len(runs)
        finally:
            db.session.remove()


def _plain(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The figures as JSON can store them (anything odd becomes its text)."""
    result: dict[str, Any] = json.loads(json.dumps(dict(figures), default=str))
    return result


def last_runs(limit: int = 50) -> list[JobRun]:
    return list(db.session.scalars(select(JobRun).order_by(JobRun.started_at.desc()).limit(limit)))


# --- the leader's APScheduler --------------------------------------------------------------


class _SlotJob:
    """The APScheduler job as ``run_job`` sees it, with the scheduled time passed to the call.

    A missed slot (``however_late``) has no misfire grace: that is for the live
    schedule, where a late run would soon be followed by the next one.
    """

    def __init__(self, job: Job, run_time: datetime, *, however_late: bool = False) -> None:
        self._job = job
        self.kwargs = {**job.kwargs, "scheduled_for": run_time}
        if however_late:
            self.misfire_grace_time = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


class SlotExecutor(ThreadPoolExecutor):
    """A thread pool that tells each run which scheduled time (slot) it is for."""

    def submit_missed(self, job: Job, slot: datetime) -> None:
        """Run ``job`` (added paused) for a slot that passed while no one led, however late.

        When the run ends the job's schedule resumes from the slot after this
        one: the slots that fell due meanwhile are coalesced into one run then,
        instead of being skipped as ``max_instances`` would skip them.
        """
        self.submit_job(_SlotJob(job, slot, however_late=True), [slot])

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        # coalesce=True: several missed times become one run, for the latest of them
        run_time = run_times[-1]
        slot_job = job if isinstance(job, _SlotJob) else _SlotJob(job, run_time)

        def callback(future: Any) -> None:
            exc = future.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())
            if isinstance(job, _SlotJob):
                self._resume_after(job, run_time)

        future = self._pool.submit(
            run_job, slot_job, job._jobstore_alias, [run_time], self._logger.name
        )
        future.add_done_callback(callback)

    def _resume_after(self, job: Job, slot: datetime) -> None:
        """Resume ``job`` from the slot after ``slot``, from a thread of its own: a
        ``shutdown`` holds the job stores' lock while it waits for this pool."""
        scheduler = self._scheduler
        resume_at = job.trigger.get_next_fire_time(slot, slot)

        def resume() -> None:
            with suppress(JobLookupError):
                scheduler.modify_job(job.id, next_run_time=resume_at)

        threading.Thread(target=resume, name="apscheduler-resume", daemon=True).start()


@dataclass
class SchedulerRunner:
    """The lease thread of one process, and the APScheduler it runs while it leads."""

    app: Flask
    holder: str = ""

    def __post_init__(self) -> None:
        self.holder = self.holder or lease.new_holder_id()
        config = self.app.config
        self.lease_seconds = float(config["SCHEDULER_LEASE_SECONDS"])
        self.misfire_grace = int(config["SCHEDULER_MISFIRE_GRACE_SECONDS"])
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._valid_until = 0.0  # monotonic time until which our last renewal holds
        self._seen_expiry: datetime | None = None  # of the lease another process holds
        self._looping = False

    @property
    def leading(self) -> bool:
        return self._scheduler is not None

    def holds_lease(self) -> bool:
        return self.leading and time.monotonic() < self._valid_until

    def start(self) -> SchedulerRunner:
        self._thread = threading.Thread(
            target=self._loop, name="jointops-scheduler-lease", daemon=True
        )
        self._thread.start()
        atexit.register(self.stop)
        log.info("scheduler: %s competes for the lease", self.holder)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop competing: shut the scheduler down (waiting for running jobs), release the lease."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        elif thread is None and not self._looping:
            self._step_down()  # driven by ``tick`` alone: no loop is left to do it
        atexit.unregister(self.stop)

    def run_forever(self) -> None:
        """The lease loop in this thread, until ``stop`` (from a signal handler) or Ctrl-C."""
        try:
            self._loop()
        except KeyboardInterrupt:
            self._stop.set()

    def _loop(self) -> None:
        self._looping = True
        with self.app.app_context():
            try:
                while not self._stop.is_set():
                    try:
                        self.tick()
                    except Exception:
                        log.exception("scheduler: could not start the jobs; trying again")
                        self._step_down()
                    self._stop.wait(self.seconds_to_next_tick())
            finally:
                self._step_down()
                db.session.remove()

    def seconds_to_next_tick(self, now: datetime | None = None) -> float:
        """A quarter lease period; sooner when the lease another process holds expires sooner.

        The leader renews every quarter period, so the lease it leaves behind
        when it dies expires at most one period later: waking just after that
        expiry, the next leader takes over within one lease period of the death.
        """
        quarter = self.lease_seconds / 4
        if self.leading or self._seen_expiry is None:
            return quarter
        until_expiry = (self._seen_expiry - (now or utcnow())).total_seconds()
        return min(quarter, max(until_expiry, 0.0) + AFTER_EXPIRY)

    def tick(self) -> bool:
        """Take or renew the lease; start or stop the jobs to match. True while leading."""
        started = time.monotonic()
        self._seen_expiry = None
        try:
            held = lease.acquire(self.holder, self.lease_seconds)
            if not held and (row := lease.current()) is not None:
                self._seen_expiry = row.expires_at
        except Exception:
            log.exception("scheduler: could not reach the lease; not running jobs meanwhile")
            held = False
        if held:
            self._valid_until = started + self.lease_seconds
            if not self.leading:
                self._lead()
        elif self.leading:
            log.warning("scheduler: %s lost the lease", self.holder)
            self._step_down(release=False)
        return held

    def _lead(self) -> None:
        config = self.app.config
        try:
            if marked := mark_interrupted(self.app, self.holder):
                log.warning("scheduler: %d runs of an earlier leader marked interrupted", marked)
        except Exception:
            log.exception("scheduler: could not mark an earlier leader's runs")
        missed = missed_slots(config, utcnow())
        executor = SlotExecutor(max_workers=4)
        scheduler = BackgroundScheduler(
            executors={"default": executor},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self.misfire_grace,
            },
            timezone=ZoneInfo(config["TIMEZONE"]),
        )
        missed_ids = {spec.id for spec, _ in missed}
        for spec in job_specs(config):
            scheduler.add_job(
                self._run,
                trigger=build_trigger(spec, config),
                args=(spec,),
                id=spec.id,
                name=spec.id,
                replace_existing=True,
                # paused until its missed slot has run (SlotExecutor.submit_missed)
                **({"next_run_time": None} if spec.id in missed_ids else {}),
            )
        scheduler.start()
        self._scheduler = scheduler
        for spec, slot in missed:
            log.warning("job %s at %s: missed while no one led; running it now", spec.id, slot)
            executor.submit_missed(scheduler.get_job(spec.id), slot)
        log.info(
            "scheduler: %s leads; %d jobs, %d missed slots run",
            self.holder,
            len(scheduler.get_jobs()),
            len(missed),
        )

    def _run(self, spec: JobSpec, scheduled_for: datetime | None = None) -> None:
        # SlotExecutor always passes scheduled_for; the default only satisfies add_job's check
        if scheduled_for is None:
            log.error("job %s: run without a scheduled time; not run", spec.id)
            return
        if not self.holds_lease():
            log.warning("job %s at %s: not run, the lease is not ours", spec.id, scheduled_for)
            return
        run_once(self.app, spec, scheduled_for, self.holder)

    def _step_down(self, *, release: bool = True) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=True)
            log.info("scheduler: %s stopped running jobs", self.holder)
        if release:
            try:
                lease.release(self.holder)
            except Exception:
                log.exception("scheduler: could not release the lease (it will expire)")


# --- entry points ------------------------------------------------------------------------

_worker_runner: SchedulerRunner | None = None


def start_in_worker(app: Flask) -> SchedulerRunner | None:
    """gunicorn's ``post_worker_init``: compete for the lease unless configured otherwise."""
    global _worker_runner
    if app.config["SCHEDULER"] != "auto" or _worker_runner is not None:
        return None
    _worker_runner = SchedulerRunner(app).start()
    return _worker_runner


def stop_in_worker() -> None:
    """gunicorn's ``worker_exit``: stop the jobs and release the lease if this worker had it."""
    global _worker_runner
    runner, _worker_runner = _worker_runner, None
    if runner is not None:
        runner.stop()
