"""Transactions: each use case owns one, begun and committed by ``unit_of_work``.

A use case (save an event, save a target, import, acknowledge, resolve, sign in,
a job's run) opens ``with unit_of_work():`` around what it writes; the block
commits when it ends and rolls back when it raises. Helpers called inside it
only add to the session: they never commit what they did not begin. A use case
called from inside another joins the outer one's transaction.

A unit of work never commits someone else's changes: it refuses to begin while
the session holds uncommitted changes it did not make (``ForeignChanges``). It
first ends the session's read transaction (what a request loaded so far),
which loses nothing.

PostgreSQL needs nothing special here: its constraints decide races. SQLite
allows one writer at a time, and a transaction that began by reading cannot
take the write lock once another process has committed ("database is
locked", at once, whatever the busy timeout). So on SQLite a unit of work
begins with ``BEGIN IMMEDIATE``, as does every request whose method changes
state.

A database that cannot serve (stopped, restarting, unreachable, its pool exhausted) raises
one of ``UNAVAILABLE``; the app answers those 503 with ``Retry-After``, never 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from jointops.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEPTH = "jointops.unit_of_work_depth"
_FLUSHED = "jointops.flushed_uncommitted"
#: an execution option: SQLite's ``synchronous`` level for the transaction about to begin
_SQLITE_SYNCHRONOUS = "sqlite_synchronous"


#: What the database raises when it cannot serve now but may in a moment: a refused or lost
#: connection, a server shutting down, no connection free in the pool, a lock or
#: serialisation conflict. Worth a retry: 503, not 500.
UNAVAILABLE: tuple[type[SQLAlchemyError], ...] = (OperationalError, InterfaceError, PoolTimeout)


class ForeignChanges(RuntimeError):
    """A unit of work would have committed changes that another owner made and left pending."""


@contextmanager
def unit_of_work(*, durable: bool = True) -> Iterator[None]:
    """Begin a write transaction, commit it when the block ends, roll it back if it raises.

    ``durable=False`` is for a transaction that writes only counters (a feed fetch's rate
    window, last use and count of the day): its commit does not wait for the disk, so a crash
    may lose its last fraction of a second, never corrupt anything (PostgreSQL
    ``synchronous_commit`` off for it alone; SQLite ``synchronous = NORMAL`` in WAL mode for
    it alone). Joining an outer unit of work, it is as durable as that one.
    """
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    if depth:
        session.info[_DEPTH] = depth + 1
        try:
            yield
        finally:
            session.info[_DEPTH] = depth
        return
    end_read()
    options: dict[str, Any] = {"sqlite_immediate": True}
    if not durable:
        options[_SQLITE_SYNCHRONOUS] = "NORMAL"
    connection = session.connection(execution_options=options)
    if not durable and connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    session.info[_DEPTH] = 1
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_DEPTH, None)


def end_read() -> None:
    """End the session's read transaction, so that no lock is held while waiting elsewhere.

    Refuses (``ForeignChanges``) when the session holds changes: they are not ours to drop.
    """
    if holds_changes():
        raise ForeignChanges(
            "The session holds uncommitted changes of another owner; commit or discard them "
            "before a use case begins."
        )
    db.session.rollback()


def discard() -> None:
    """Roll back whatever the session holds, even when the database has gone away.

    A rollback on a lost connection fails; the session's connections are then invalidated
    (dropped from the pool, not used again) and the session closed: all a rollback could do.
    """
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session().invalidate()


def holds_changes() -> bool:
    """Whether the session has changes not yet committed, flushed or not."""
    session = db.session
    return bool(session.new or session.dirty or session.deleted or session.info.get(_FLUSHED))


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[_FLUSHED] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _ended(session: Session) -> None:
    session.info.pop(_FLUSHED, None)


def tune_sqlite(engine: Engine) -> None:
    """Foreign keys, WAL, a busy timeout, and transactions begun by the app.

    pysqlite's own transaction handling is switched off so that the ``begin``
    listener decides between ``BEGIN`` and ``BEGIN IMMEDIATE``.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        options = connection.get_execution_options()
        immediate = options.get("sqlite_immediate") or (
            has_request_context() and request.method not in SAFE_METHODS
        )
        # SQLite takes the level only outside a transaction, and keeps it per connection.
        synchronous = options.get(_SQLITE_SYNCHRONOUS, "FULL")
        if connection.info.get(_SQLITE_SYNCHRONOUS, "FULL") != synchronous:
            connection.exec_driver_sql(f"PRAGMA synchronous = {synchronous}")
            connection.info[_SQLITE_SYNCHRONOUS] = synchronous
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
