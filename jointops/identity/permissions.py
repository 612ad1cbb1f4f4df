"""Every route declares who may use it.

``@allow(PUBLIC)`` for the login page and static assets, ``@allow(SIGNED_IN)``
for any active user, ``@allow("supervisor", "admin")`` for roles, or
``@allow(SECOND_FACTOR)`` for the pages of a sign-in past its password that waits for its
second factor (``jointops.identity.pending``), and for nobody else. Finer
rules (whose event, which agency) are then asked of ``auth.policy`` by the
view's service. A test walks the URL map and fails on a view without one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user

from jointops import audit
from jointops.identity import kept_forms, pending
from jointops.identity.sessions import end_message

PUBLIC = "public"
SIGNED_IN = "signed-in"
SECOND_FACTOR = "second-factor"
PENDING_EXPIRED = "Your sign-in waited too long for its second factor. Sign in again."

F = TypeVar("F", bound=Callable[..., Any])


def allow(*who: str) -> Callable[[F], F]:
    if not who:
        raise ValueError("allow() needs PUBLIC, SIGNED_IN or at least one role")

    def decorate(view: F) -> F:
        if who == (PUBLIC,):
            view.access = who  # type: ignore[attr-defined]
            return view
        if who == (SECOND_FACTOR,):
            return _pending_only(view)
        roles = frozenset(who) - {SIGNED_IN}

        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    abort(401)
                reason = g.get("session_end_reason")
                if reason:
                    flash(end_message(reason), "info")
                if kept_forms.keep(view):
                    flash(kept_forms.KEPT_NOTICE, "info")
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and not (current_user.roles & roles):
                audit.record_now(
                    "access.denied", outcome="denied", path=request.path, needs=sorted(roles)
                )
                abort(403)
            return view(*args, **kwargs)

        guarded.access = who  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def _pending_only(view: F) -> F:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if pending.current() is None:
            if request.path.startswith("/api/"):
                abort(401, PENDING_EXPIRED)
            if pending.waiting():
                flash(PENDING_EXPIRED, "info")
            return redirect(url_for("auth.login"))
        return view(*args, **kwargs)

    guarded.access = (SECOND_FACTOR,)  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only same-site paths, never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("schedule.calendar")
