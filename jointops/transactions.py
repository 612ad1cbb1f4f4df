"""How transactions begin, so that concurrent writers never corrupt or refuse each other.

PostgreSQL needs nothing special here: its constraints decide races. SQLite
allows one writer at a time, and a transaction that began by reading cannot
take the write lock once another process has committed ("database is
locked", at once, whatever the busy timeout). So on SQLite a transaction that
will write begins with ``BEGIN IMMEDIATE``: every request whose method
changes state, and every explicit ``begin_write()``.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from jointops.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def begin_write(*, discard: bool = False) -> None:
    """End the current transaction and begin one that holds SQLite's write lock.

    ``discard`` rolls back what the session holds instead of committing it.
    """
    if discard:
        db.session.rollback()
    else:
        db.session.commit()
    db.session.connection(execution_options={"sqlite_immediate": True})


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
        immediate = connection.get_execution_options().get("sqlite_immediate") or (
            has_request_context() and request.method not in SAFE_METHODS
        )
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
