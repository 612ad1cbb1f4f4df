"""The audit of feed fetches: per token and office day, how often it was served and revalidated.

A calendar app polls every few minutes, so one audit entry per fetch made
the audit trail mostly feed fetches. A fetch is instead counted, in one
``INSERT … ON CONFLICT DO UPDATE`` on the row of its token and day, in the
transaction that serves it. Refused fetches (revoked, rate-limited, out of
scope) stay audit entries of their own (``feed.fetch``, ``denied``): they are
rare and are what a reviewer looks for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from jointops.extensions import db
from jointops.models import FeedFetchCount
from jointops.officetime import to_local


def note(token_id: int, username: str, status: int, now: datetime) -> None:
    """Count a fetch answered ``status`` (200 or 304); in the caller's transaction."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = insert(FeedFetchCount).values(
        token_id=token_id,
        day=to_local(now).date(),
        username=username,
        served=int(status == 200),
        not_modified=int(status == 304),
        first_at=now,
        last_at=now,
    )
    db.session.execute(
        row.on_conflict_do_update(
            index_elements=[FeedFetchCount.token_id, FeedFetchCount.day],
            set_={
                "served": FeedFetchCount.served + row.excluded.served,
                "not_modified": FeedFetchCount.not_modified + row.excluded.not_modified,
                "last_at": row.excluded.last_at,
            },
        )
    )


def counts_of(token_id: int) -> list[FeedFetchCount]:
    """A token's daily counts, newest day first."""
    return list(
        db.session.scalars(
            select(FeedFetchCount)
            .where(FeedFetchCount.token_id == token_id)
            .order_by(FeedFetchCount.day.desc())
        )
    )
