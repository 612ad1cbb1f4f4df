"""Which jobs exist and when they run: the scheduler reads ``JOBS``, nothing else.

A job is a plain function taking the current UTC time and returning a small
dict of figures for the run record; it runs inside the app context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JobFunc = Callable[[datetime], Mapping[str, Any]]


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: JobFunc
    #: APScheduler trigger name ("interval" or "cron") and its arguments; cron
    #: fields are wall-clock times in the office time zone.
    trigger: str
    trigger_args: Mapping[str, Any] = field(default_factory=dict)
    #: the config key that overrides an interval in minutes, if any
    interval_setting: str | None = None


JOBS: list[JobSpec] = []


def job(
    spec_id: str, trigger: str, *, setting: str | None = None, **trigger_args: Any
) -> Callable[[JobFunc], JobFunc]:
    """Register ``func`` as a job; modules under ``jointops.jobs`` use this at import."""

    def register(func: JobFunc) -> JobFunc:
        JOBS.append(JobSpec(spec_id, func, trigger, trigger_args, setting))
        return func

    return register
