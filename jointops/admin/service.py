"""What administrators see and do: accounts with their locks and live sessions, unlocking,
ending sessions, resetting second factors; the scheduler's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Row, func, or_, select

from auth.directory import ROLES
from jointops import audit
from jointops.extensions import db
from jointops.identity import lockout, sessions
from jointops.identity.mfa import service as mfa
from jointops.jobs import lease, scheduler
from jointops.jobs.registry import JobSpec
from jointops.models import (
    Agency,
    JobRun,
    LoginThrottle,
    SecondFactor,
    User,
    UserRole,
    UserSession,
    utcnow,
)
from jointops.notifications.service import notify_security
from jointops.transactions import unit_of_work

#: the states the users page filters by; "active" includes locked accounts
USER_STATES = ("active", "locked", "deactivated", "all")
SEARCH_LIMIT = 200


@dataclass(frozen=True)
class UserSearch:
    """The users page's search and filters, as the URL keeps them."""

    text: str = ""
    agency: str = ""
    role: str = ""
    state: str = "active"

    def as_args(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


class SearchRefused(ValueError):
    """Filters the page cannot use: a message per field, by field name."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def parse_search(args: Mapping[str, str]) -> UserSearch:
    """The search of a request's arguments; ``SearchRefused`` naming every field at fault."""
    chosen = UserSearch(
        text=args.get("q", "").strip(),
        agency=args.get("agency", "").strip(),
        role=args.get("role", "").strip(),
        state=args.get("state", "").strip() or "active",
    )
    errors: dict[str, str] = {}
    if len(chosen.text) > SEARCH_LIMIT:
        errors["q"] = f"at most {SEARCH_LIMIT} characters."
    if (
        chosen.agency
        and db.session.scalar(select(Agency.id).where(Agency.code == chosen.agency)) is None
    ):
        errors["agency"] = "not one of the agencies offered."
    if chosen.role and chosen.role not in ROLES:
        errors["role"] = "not one of the roles offered."
    if chosen.state not in USER_STATES:
        errors["state"] = "not one of the states offered."
    if errors:
        raise SearchRefused(errors)
    return chosen


@dataclass(frozen=True)
class UsersOverview:
    users: list[User]
    locks: dict[int, datetime | None]
    live: dict[int, list[UserSession]]
    counts: dict[str, int]


def _locked_ids() -> list[int]:
    """The users locked now. The lock counters are keyed by a folding of the login name and
    the directory DN that SQL cannot compute, so the (few) names and DNs are read and folded
    here; the listing then filters by id in SQL."""
    accounts = db.session.execute(select(User.id, User.username, User.dn)).all()
    shells = [User(id=i, username=name, dn=dn) for i, name, dn in accounts]
    return [i for i, until in lockout.locks_of(shells).items() if until is not None]


def _conditions(chosen: UserSearch) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if chosen.text:
        typed = chosen.text.lower()
        found.append(
            or_(
                *(
                    func.lower(column).contains(typed, autoescape=True)
                    for column in (User.username, User.display_name, User.email)
                )
            )
        )
    if chosen.agency:
        found.append(User.agency.has(Agency.code == chosen.agency))
    if chosen.role:
        found.append(User.role_rows.any(UserRole.role == chosen.role))
    if chosen.state == "active":
        found.append(User.active.is_(True))
    elif chosen.state == "deactivated":
        found.append(User.active.is_(False))
    elif chosen.state == "locked":
        found.append(User.id.in_(_locked_ids()))
    return found


def users_overview(chosen: UserSearch) -> UsersOverview:
    """The users matching the search, by username, with the office's counts."""
    listed = list(
        db.session.scalars(select(User).where(*_conditions(chosen)).order_by(User.username))
    )
    now = utcnow()
    active: dict[bool, int] = {
        state: n
        for state, n in db.session.execute(select(User.active, func.count()).group_by(User.active))
    }
    return UsersOverview(
        users=listed,
        locks=lockout.locks_of(listed),
        live={u.id: sessions.live_sessions(u) for u in listed},
        counts={
            "active": active.get(True, 0),
            "inactive": active.get(False, 0),
            "locked": db.session.scalar(
                select(func.count()).where(LoginThrottle.locked_until > now)
            )
            or 0,
        },
    )


def find_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def unlock(user: User, actor: User) -> None:
    with unit_of_work():
        lockout.clear(user.username)
        audit.record(
            "admin.unlock",
            object_type="user",
            object_id=user.id,
            actor=actor,
            username_target=user.username,
        )


class OwnSessions(ValueError):
    """An administrator ending their own sessions from the users page (they sign out)."""


def end_sessions(user: User, actor: User) -> int:
    if user.id == actor.id:
        audit.record_now(
            "admin.end_sessions", outcome="refused", object_type="user", object_id=user.id
        )
        raise OwnSessions(
            "You cannot end your own sessions from the users page: sign out to end this one."
        )
    with unit_of_work():
        ended = sessions.end_all(user, "ended_by_admin")
        audit.record(
            "admin.end_sessions", object_type="user", object_id=user.id, actor=actor, ended=ended
        )
    return ended


@dataclass(frozen=True)
class JobsOverview:
    lease: Row[Any] | None
    leading: bool
    mode: str
    upcoming: list[tuple[JobSpec, datetime | None]]
    #: each job's latest runs, newest first, by job id
    runs: dict[str, list[JobRun]]


#: how many of each job's runs the jobs page shows
RUNS_PER_JOB = 5


def latest_runs(per_job: int = RUNS_PER_JOB) -> dict[str, list[JobRun]]:
    """Each job's ``per_job`` latest runs, in one query: the every-minute mail job cannot
    crowd the others out, as a single "last 50 runs" would."""
    ranked = select(
        JobRun.id,
        func.row_number()
        .over(
            partition_by=JobRun.job_id,
            order_by=(JobRun.started_at.desc(), JobRun.id.desc()),
        )
        .label("nth"),
    ).subquery()
    runs: dict[str, list[JobRun]] = {}
    for run in db.session.scalars(
        select(JobRun)
        .join(ranked, ranked.c.id == JobRun.id)
        .where(ranked.c.nth <= per_job)
        .order_by(JobRun.job_id, JobRun.started_at.desc(), JobRun.id.desc())
    ):
        runs.setdefault(run.job_id, []).append(run)
    return runs


def jobs_overview() -> JobsOverview:
    """Who runs the background jobs, when each runs next, and how each job's last runs went."""
    now = utcnow()
    row = lease.current()
    upcoming = scheduler.next_run_times(current_app.config, now)
    found = latest_runs()
    # in the schedule's order, then the jobs no longer scheduled that left runs behind
    order = [spec.id for spec, _next in upcoming]
    order += sorted(set(found) - set(order))
    return JobsOverview(
        lease=row,
        leading=lease.is_held(row, now),
        mode=current_app.config["SCHEDULER"],
        upcoming=upcoming,
        runs={job_id: found.get(job_id, []) for job_id in order},
    )


def factor_counts(users: list[User]) -> dict[int, int]:
    """How many second factors each user has enrolled, by user id."""
    rows = db.session.execute(
        select(SecondFactor.user_id, func.count())
        .where(SecondFactor.user_id.in_([u.id for u in users]))
        .group_by(SecondFactor.user_id)
    )
    counts: dict[int, int] = {user_id: count for user_id, count in rows}
    return {u.id: counts.get(u.id, 0) for u in users}


def reset_factors(user: User, actor: User) -> int:
    """Forget the user's second factors and recovery codes (a lost phone or key): audited, and
    the user is told in the inbox and by e-mail. Where the policy requires a factor, the next
    sign-in enrols a new one. Returns how many factors there were."""
    with unit_of_work():
        removed = mfa.remove_all(user)
        audit.record(
            "admin.mfa_reset", object_type="user", object_id=user.id, actor=actor, factors=removed
        )
        notify_security(
            user,
            f"An administrator ({actor.display_name}) reset your second factors and recovery "
            "codes. Set up a new one on your security settings page.",
            "/settings/security",
        )
    return removed
