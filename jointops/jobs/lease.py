"""The scheduler's leadership: a lease row that at most one process holds at a time.

``acquire`` takes the lease when it is expired (or already ours, which renews
it) with one conditional UPDATE whose row count says who won; the very first
time there is no row, and the primary key lets exactly one INSERT through.
Each statement runs in a short write transaction of its own on its own
connection, whatever the caller's session holds. Times come from this
process's clock, so hosts must keep their clocks in sync (NTP); a skew eats
into the lease.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, case, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from jointops.extensions import db
from jointops.models import SchedulerLease, UTCDateTime, utcnow

SCHEDULER = "scheduler"


def new_holder_id() -> str:
    """``hostname:pid:random``: unique per process, readable on the admin page."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _write_connection() -> Connection:
    # BEGIN IMMEDIATE on SQLite (see jointops.transactions); nothing special on PostgreSQL
    return db.engine.connect().execution_options(sqlite_immediate=True)


def acquire(holder: str, seconds: float, *, name: str = SCHEDULER) -> bool:
    """Take or renew the lease for ``seconds``; True when ``holder`` has it now."""
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    lease = SchedulerLease.__table__
    take = (
        update(lease)
        .where(lease.c.name == name)
        .where((lease.c.holder == holder) | (lease.c.expires_at < now))
        .values(
            holder=holder,
            acquired_at=case(
                (lease.c.holder == holder, lease.c.acquired_at),
                else_=literal(now, UTCDateTime()),
            ),
            renewed_at=now,
            expires_at=expires,
        )
    )
    with _write_connection() as conn:
        with conn.begin():
            if conn.execute(take).rowcount == 1:
                return True
            if conn.execute(select(lease.c.name).where(lease.c.name == name)).first():
                return False  # held by someone else, not expired
        try:
            with conn.begin():
                conn.execute(
                    insert(lease).values(
                        name=name,
                        holder=holder,
                        acquired_at=now,
                        renewed_at=now,
                        expires_at=expires,
                    )
                )
        except IntegrityError:
            return False  # another process inserted it first
    return True


def release(holder: str, *, name: str = SCHEDULER) -> bool:
    """Give the lease up at once (it expires now) if ``holder`` has it; True if it did."""
    lease = SchedulerLease.__table__
    with _write_connection() as conn, conn.begin():
        result = conn.execute(
            update(lease)
            .where(lease.c.name == name, lease.c.holder == holder)
            .values(expires_at=utcnow())
        )
        return result.rowcount == 1


def current(*, name: str = SCHEDULER) -> Row[Any] | None:
    """The lease as committed now (possibly expired), or None before anyone took it.

    Read on a connection of its own, so the caller's transaction (a SQLite
    snapshot, say) cannot show an older holder.
    """
    lease = SchedulerLease.__table__
    with db.engine.connect() as conn:
        return conn.execute(select(lease).where(lease.c.name == name)).first()


def is_held(row: Row[Any] | None, now: datetime | None = None) -> bool:
    return row is not None and row.expires_at > (now or utcnow())
