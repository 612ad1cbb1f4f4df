"""The audit trail: who did what to which object, when, from where, and how it ended."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert

from jointops.extensions import db
from jointops.models import AuditEntry, User
from jointops.transactions import unit_of_work


def record(
    action: str,
    *,
    outcome: str = "success",
    object_type: str = "",
    object_id: object = "",
    actor: User | None = None,
    username: str | None = None,
    **detail: Any,
) -> AuditEntry:
    """Add an audit entry to the session; the caller's commit makes it durable."""
    entry = AuditEntry(
        **values(
            action,
            outcome=outcome,
            object_type=object_type,
            object_id=object_id,
            actor=actor,
            username=username,
            **detail,
        )
    )
    db.session.add(entry)
    return entry


def values(
    action: str,
    *,
    outcome: str = "success",
    object_type: str = "",
    object_id: object = "",
    actor: User | None = None,
    username: str | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """The columns of the entry ``record`` adds (``record_many`` inserts many at once)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    return {
        "actor_id": actor.id if actor else None,
        "actor_username": username or (actor.username if actor else ""),
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id) if object_id != "" else "",
        "remote_addr": (request.remote_addr or "") if has_request_context() else "cli",
        "outcome": outcome,
        "detail": detail,
    }


def record_many(entries: Sequence[dict[str, Any]]) -> None:
    """Insert entries made by ``values`` in one statement, in order, in the caller's unit of
    work (an import's thousands of entries, which one by one took a flush each)."""
    if entries:
        db.session.execute(insert(AuditEntry.__table__), list(entries))


def record_now(action: str, **kwargs: Any) -> None:
    """Record in a unit of work of its own (or join the one in progress).

    For views and denials, whose request changes nothing else.
    """
    with unit_of_work():
        record(action, **kwargs)
