"""Every route declares who may use it.

``@allow(PUBLIC)`` for the login page and static assets, ``@allow(SIGNED_IN)``
for any active user, or ``@allow("supervisor", "admin")`` for roles. Finer
rules (whose event, which agency) are then asked of ``auth.policy`` by the
view's service. A test walks the URL map and fails on a view without one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user

from jointops import audit
from jointops.identity.sessions import end_message

PUBLIC = "public"
SIGNED_IN = "signed-in"

F = TypeVar("F", bound=Callable[..., Any])


def allow(*who: str) -> Callable[[F], F]:
    if not who:
        raise ValueError("allow() needs PUBLIC, SIGNED_IN or at least one role")

    def decorate(view: F) -> F:
        if who == (PUBLIC,):
            view.access = who  # type: ignore[attr-defined]
            return view
        roles = frozenset(who) - {SIGNED_IN}

        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    abort(401)
                reason = g.get("session_end_reason")
                if reason:
                    flash(end_message(reason), "info")
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
