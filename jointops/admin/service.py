"""What administrators see and do: accounts with their locks and live sessions, unlocking,
ending sessions, resetting second factors; the scheduler's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Row, func, select

from jointops import audit
from jointops.extensions import db
from jointops.identity import lockout, sessions
from jointops.identity.mfa import service as mfa
from jointops.jobs import lease, scheduler
from jointops.jobs.registry import JobSpec
from jointops.models import JobRun, LoginThrottle, SecondFactor, User, UserSession, utcnow
from jointops.notifications.service import notify_security
from jointops.transactions import unit_of_work


@dataclass(frozen=True)
class UsersOverview:
    users: list[User]
    locks: dict[int, datetime | None]
    live: dict[int, list[UserSession]]
    counts: dict[str, int]


def users_overview(*, show_inactive: bool) -> UsersOverview:
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    now = utcnow()
    locks = {
        t.username: t.locked_until
        for t in db.session.scalars(select(LoginThrottle).where(LoginThrottle.locked_until > now))
    }
    listed = [u for u in rows if u.active or show_inactive]
    return UsersOverview(
        users=listed,
        locks=lockout.locks_of(listed),
        live={u.id: sessions.live_sessions(u) for u in listed},
        counts={
            "active": sum(u.active for u in rows),
            "inactive": sum(not u.active for u in rows),
            "locked": len(locks),
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


def end_sessions(user: User, actor: User) -> int:
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
    runs: list[JobRun]


def jobs_overview() -> JobsOverview:
    """Who runs the background jobs, when each runs next, and how the last runs went."""
    now = utcnow()
    row = lease.current()
    return JobsOverview(
        lease=row,
        leading=lease.is_held(row, now),
        mode=current_app.config["SCHEDULER"],
        upcoming=scheduler.next_run_times(current_app.config, now),
        runs=scheduler.last_runs(50),
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
