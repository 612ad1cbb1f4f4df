"""A feed's cheap validator: is the ``ETag`` served last time through a token still current?

Computing a feed's ``ETag`` (the fingerprint of its redacted entries) reads
every event in its window. Instead, each token remembers the fingerprint it
last served together with a *state*: a hash of everything else the content
depends on, taken before the events were read:

* the feed generation, one number that grows with every commit that writes
  anything a feed is made of (events, their participants and bookings,
  resources, agencies, users and their roles): an event added, edited,
  cancelled or deleted (by retention too), someone joining or leaving one,
  a viewer's rights or a room's owner changing;
* the token (its scope and owner);
* the settings a feed is written with (office time zone, base URL, window
  lengths, refresh, the UID key) and the code version of the feed's format.

and the moment until which the passing of time alone changes nothing (the
next event to enter or leave the window). While the state is unchanged and
that moment has not come, the remembered fingerprint is the feed's, and a
revalidation costs two indexed single-row statements.

Why a counter bumped on writes, and not an aggregate over the events: an
aggregate that sees edits, deletions and participants is a scan of the
window again, and timestamps written by the app may commit out of order
(PostgreSQL), so a maximum of them can miss a change. The events package
belongs to its own engineer, so the counter is bumped here, by SQLAlchemy
session listeners on every ``Session``: the unit of work of any package
that flushes such a row (or runs a bulk ``UPDATE``/``DELETE`` on its table)
bumps the generation as its very last statement before ``COMMIT``, so that
the row lock on the counter is held for no longer than the commit itself
and no writer waits on it while holding locks another writer needs. A
reader takes the generation *before* it reads the events; a write that
commits in between makes the stored state older than the content, never
newer, so the worst case is one needless recomputation.

Writes that bypass the ORM session (raw DB-API connections, ``psql``) are
not seen; nothing in JointOps writes these tables so.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.sql import Delete, Insert, TextClause, Update

from jointops.models import (
    Agency,
    Booking,
    Event,
    FeedGeneration,
    Participant,
    Resource,
    User,
    UserRole,
)

#: the module that writes feeds (not ``calendars.render``: the package exports a function so
#: named), read at every call so that a new ``FORMAT_VERSION`` is seen
written = importlib.import_module("calendars.render")
#: bump when the app's half of a feed (which events, which labels) changes how a feed reads
FEED_CODE_VERSION = "3"
#: the tables a feed is made of: any write to them may change some feed
WATCHED = (Event, Participant, Booking, Resource, Agency, User, UserRole)
WATCHED_TABLES = frozenset(model.__tablename__ for model in WATCHED)
#: columns of watched tables that no feed reads, whose changes need not bump the generation
IGNORED: dict[type, frozenset[str]] = {User: frozenset({"last_login_at"})}
#: the configuration a feed is written with
SETTINGS = (
    "TIMEZONE",
    "BASE_URL",
    "OFFICE_ADDRESS",
    "FEED_REFRESH_MINUTES",
    "FEED_CANCELLED_DAYS",
    "FEED_PAST_DAYS",
    "FEED_FUTURE_DAYS",
)
_CHANGED = "jointops.feeds.generation_due"
GENERATION_ROW = 1


def state(generation: int, token_id: int, user_id: int, scope: str, labels: object) -> str:
    """The hash of what a feed's content depends on besides its events (see the module)."""
    config = current_app.config
    secret = hashlib.sha256(str(config["SECRET_KEY"]).encode()).hexdigest()
    parts = (
        FEED_CODE_VERSION,
        written.FORMAT_VERSION,
        written.PRODID,
        generation,
        token_id,
        user_id,
        scope,
        secret,
        repr(labels),
        *(str(config[name]) for name in SETTINGS),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def etag_of(content: str) -> str:
    """The ``ETag`` of a feed whose entries and settings have the fingerprint ``content``.

    It also names the app's feed code version and the office time zone: a feed
    written by other code, or for an office elsewhere, is another
    representation even where its text happens to be the same (it is in UTC).
    """
    app_side = (FEED_CODE_VERSION, str(current_app.config["TIMEZONE"]))
    return hashlib.sha256(repr((content, app_side)).encode()).hexdigest()


def generation_query() -> Any:
    """The current generation, as a scalar subquery (for a ``RETURNING`` clause)."""
    return (
        select(FeedGeneration.generation)
        .where(FeedGeneration.id == GENERATION_ROW)
        .scalar_subquery()
    )


def valid_until(
    spans: Iterable[tuple[datetime, datetime, datetime | None]],
    next_start: datetime | None,
    *,
    past: timedelta,
    future: timedelta,
    grace: timedelta,
) -> datetime | None:
    """When time alone would next change a feed: an event leaving or entering its window.

    ``spans`` are the events the feed carries, (start, end, cancelled at or
    None); ``next_start`` the earliest start of any event not yet in the
    window. An event leaves once its end is ``past`` behind; a cancelled one
    once its cancellation is ``grace`` behind; an event enters when its start
    is ``future`` ahead. ``None``: never.
    """
    moments = []
    for _start, end, cancelled_at in spans:
        moments.append(end + past)
        if cancelled_at is not None:
            moments.append(cancelled_at + grace)
    if next_start is not None:
        moments.append(next_start - future)
    return min(moments, default=None)


# --- Bumping the generation ------------------------------------------------------------


def _matters(target: object) -> bool:
    model = type(target)
    if model not in WATCHED:
        return False
    ignored = IGNORED.get(model)
    if ignored is None:
        return True
    changed = {attr.key for attr in inspect(target).attrs if attr.history.has_changes()} - ignored
    return bool(changed)


@event.listens_for(Session, "before_flush")
def _note_writes(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    if session.info.get(_CHANGED):
        return
    if any(type(o) in WATCHED for o in (*session.new, *session.deleted)) or any(
        _matters(o) for o in session.dirty if session.is_modified(o)
    ):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, Insert | Update | Delete):
        table = getattr(statement.table, "name", None)
        if table in WATCHED_TABLES:
            state.session.info[_CHANGED] = True
    elif isinstance(statement, TextClause):
        # Raw SQL might write anything: assume it did, unless it plainly only reads.
        if not statement.text.lstrip().upper().startswith(("SELECT", "PRAGMA", "SET", "SHOW")):
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    """Count the generation once per transaction: SQLAlchemy calls this for each savepoint's
    release too, whose changes the outer commit still carries (the mark stays set for it)."""
    if session.in_nested_transaction():
        return
    session.flush()
    if session.info.pop(_CHANGED, False):
        session.execute(
            update(FeedGeneration)
            .where(FeedGeneration.id == GENERATION_ROW)
            .values(generation=FeedGeneration.generation + 1)
            .execution_options(synchronize_session=False)
        )


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A rolled-back transaction leaves nothing to tell (a savepoint's does not end it)."""
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)
