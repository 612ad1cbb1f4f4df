"""The feed last served through each token, kept as written so that it is not written again.

A calendar app that does not revalidate fetches the whole feed every few
minutes; while its content is unchanged (``jointops.feeds.validator``) the
stored bytes are served as they are. Compressed (zlib): an iCal feed of
thousands of events is a few megabytes of very repetitive text.
"""

from __future__ import annotations

import zlib

from sqlalchemy import delete, select

from jointops.extensions import db
from jointops.models import FeedSnapshot, FeedToken


def load(token_id: int, etag: str) -> bytes | None:
    """The body served under ``etag`` through this token, if it is the one kept."""
    packed = db.session.scalar(
        select(FeedSnapshot.body).where(
            FeedSnapshot.token_id == token_id, FeedSnapshot.etag == etag
        )
    )
    return None if packed is None else zlib.decompress(packed)


def pack(body: bytes) -> bytes:
    """``body`` as stored (done before the write transaction begins: it takes a while)."""
    return zlib.compress(body, 1)


def keep(token_id: int, etag: str, packed: bytes) -> None:
    """Keep ``packed`` as this token's snapshot; in the caller's transaction, after it
    locked the token's row (so that two fetches of one token take turns)."""
    db.session.merge(FeedSnapshot(token_id=token_id, etag=etag, body=packed))


def forget(token_id: int) -> None:
    """Drop a token's snapshot (it was revoked); in the caller's transaction."""
    db.session.execute(delete(FeedSnapshot).where(FeedSnapshot.token_id == token_id))


def forget_revoked() -> None:
    """Drop the snapshots of every revoked token; in the caller's transaction."""
    revoked = select(FeedToken.id).where(FeedToken.revoked_at.is_not(None))
    db.session.execute(delete(FeedSnapshot).where(FeedSnapshot.token_id.in_(revoked)))
