"""Idempotency keys: a create retried after its answer was lost gets the first one's answer.

A client that sent ``POST /api/v1/events`` and lost the answer (the database committed, then
the connection dropped; a proxy timed out; the network failed) cannot know whether the event
was saved. Sent again, the same booking would answer 409 against the client's own room. With
an ``Idempotency-Key`` header (the IETF httpapi draft's name; any 1–255 visible ASCII
characters, e.g. a UUID, one per intended create), the first request that saves records the
key, its user and a digest of the request **in the save's own transaction**: committed
exactly when the event is. A later request of the same user with the same key

- and the same request (method, path, body) answers as the first did, built from the stored
  object as the user may see it now, with ``Idempotent-Replayed: true``, and saves nothing;
- and another request answers 422 naming the header: a key names one request.

Keys are per user (another user's key is another key) and kept ``KEEP_HOURS``; the retention
job deletes older ones. Without the header a create behaves as before.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import request
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from jointops.extensions import db
from jointops.models import IdempotentRequest, utcnow

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEEP_HOURS = 24
KEY = re.compile(r"[\x21-\x7e]{1,255}")

Reply = tuple[dict[str, Any], int] | tuple[dict[str, Any], int, dict[str, str]]
F = TypeVar("F", bound=Callable[..., Reply])


@dataclass(frozen=True)
class _Asked:
    user_id: int
    key_hash: str
    request_hash: str


_asked: ContextVar[_Asked | None] = ContextVar("idempotency_asked", default=None)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _request_hash() -> str:
    """The request a key names: its method, path and body (JSON read as data, so that
    spacing or the order of names does not make a retry another request)."""
    raw = request.get_data(cache=True)
    try:
        body: Any = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    except ValueError:
        body = raw.hex()
    return _digest(f"{request.method}\n{request.path}\n{body}")


def _stored(asked: _Asked) -> IdempotentRequest | None:
    return db.session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.user_id == asked.user_id,
            IdempotentRequest.key_hash == asked.key_hash,
            IdempotentRequest.created_at >= utcnow() - timedelta(hours=KEEP_HOURS),
        )
    )


def _answer(stored: IdempotentRequest, asked: _Asked, replay: Callable[[int], Reply]) -> Reply:
    if stored.request_hash != asked.request_hash:
        message = "This key was already used for another request; send a new key."
        return {"errors": {HEADER: [message]}}, 422
    body, status = replay(stored.object_id)[:2]
    return body, stored.status_code if status < 300 else status, {REPLAYED: "true"}


def idempotent(object_type: str, replay: Callable[[int], Reply]) -> Callable[[F], F]:
    """Make a create view honour ``Idempotency-Key`` (beneath ``@allow``).

    The view's save must call ``remember(object_type, id)`` inside its transaction (its
    ``read`` callback runs there). ``replay(id)`` answers for a stored object as its view
    would now: ``(body, status)``, where a status of 300 or more (e.g. 404, the object no
    longer the user's to see) is answered as it is.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def keyed(*args: Any, **kwargs: Any) -> Reply:
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            if not KEY.fullmatch(key):
                reason = "Use 1 to 255 visible ASCII characters, e.g. a UUID."
                return {"errors": {HEADER: [reason]}}, 422
            asked = _Asked(current_user.id, _digest(key), _request_hash())
            stored = _stored(asked)
            if stored is not None:
                return _answer(stored, asked, replay)
            token = _asked.set(asked)
            try:
                reply = view(*args, **kwargs)
            except IntegrityError:
                # the same key's first request committed between the look-up and this save
                db.session.rollback()
                stored = _stored(asked)
                if stored is None:
                    raise
                return _answer(stored, asked, replay)
            finally:
                _asked.reset(token)
            if reply[1] == 409:
                # refused as taken: by this key's own first request, committed meanwhile?
                stored = _stored(asked)
                if stored is not None:
                    return _answer(stored, asked, replay)
            return reply

        return keyed  # type: ignore[return-value]

    return decorate


def remember(object_type: str, object_id: int, status_code: int = 201) -> None:
    """Record the request's key for the object it created, in the caller's transaction
    (nothing without a key). A concurrent request with the same key then fails to commit."""
    asked = _asked.get()
    if asked is None:
        return
    db.session.execute(  # the same key's row past ``KEEP_HOURS``, not yet purged
        delete(IdempotentRequest).where(
            IdempotentRequest.user_id == asked.user_id,
            IdempotentRequest.key_hash == asked.key_hash,
            IdempotentRequest.created_at < utcnow() - timedelta(hours=KEEP_HOURS),
        )
    )
    db.session.add(
        IdempotentRequest(
            user_id=asked.user_id,
            key_hash=asked.key_hash,
            request_hash=asked.request_hash,
            object_type=object_type,
            object_id=object_id,
            status_code=status_code,
        )
    )
    db.session.flush()


def purge_expired(now: datetime) -> int:
    """Delete keys older than ``KEEP_HOURS`` (the retention job; inside its transaction)."""
    result = db.session.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.created_at < now - timedelta(hours=KEEP_HOURS)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
