"""Account lockout: too many failed sign-ins in a row lock a username for a while.

Counted per username as typed (case-folded), whether or not it exists, so that
the lock itself reveals nothing; kept in the database so that every worker and
host shares one count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from jointops.extensions import db
from jointops.models import LoginThrottle, utcnow


def key(username: str) -> str:
    return username.strip().casefold()[:128]


def locked_until(username: str) -> datetime | None:
    row = db.session.get(LoginThrottle, key(username))
    if row is None or row.locked_until is None or row.locked_until <= utcnow():
        return None
    return row.locked_until


def record_failure(username: str) -> bool:
    """Count a failure atomically, in the caller's unit of work; True when it locks the account."""
    name, now = key(username), utcnow()
    bumped = db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.username == name)
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
    )
    if not getattr(bumped, "rowcount", 0):
        try:
            with db.session.begin_nested():
                db.session.add(LoginThrottle(username=name, failures=1, last_failure_at=now))
        except IntegrityError:
            return record_failure(username)
    row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.username == name))
    config = current_app.config
    locks = row is not None and row.failures >= config["LOCKOUT_FAILURES"]
    if locks and row is not None:
        row.locked_until = now + timedelta(minutes=config["LOCKOUT_MINUTES"])
        row.failures = 0
    return locks


def clear(username: str) -> None:
    """Forget the failures (a successful sign-in, or an administrator's unlock)."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == key(username)))
