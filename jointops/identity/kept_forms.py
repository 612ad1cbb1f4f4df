"""What a page form held when it was posted after its session had ended, given back after
the next sign-in.

A form posted without a live session (idle, past its limit, ended elsewhere) would lose what
was typed. For the views marked ``@keeps_typed_input`` the guard of ``permissions.allow``
keeps the submitted fields in the database (they may hold notes or a client code: never in
the cookie, which carries only a random token), tied to the user whose session it was and to
this browser. When that user signs in again here (after the second factor, if one is asked),
the form's page is filled from what was kept, once, with a notice; nothing is saved. Another
user's sign-in in this browser discards it, and it lives ``KEEP_MINUTES``.

Only a request that passed the CSRF check (so none forged by another site) of a browser whose
signed cookie still names its user is kept, and of it only the form's text fields: never a
password, secret, token, CSRF token, file or confirmation of warnings, and nothing past
``MAX_FIELDS``/``MAX_CHARS``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypedDict, TypeVar

from flask import flash, request, session
from flask_login import current_user
from sqlalchemy import delete, select
from werkzeug.datastructures import MultiDict

from jointops.extensions import db
from jointops.forms import InputRefused, row_id
from jointops.models import KeptForm, User, utcnow
from jointops.transactions import unit_of_work

COOKIE_KEY = "kept_form"
KEEP_MINUTES = 30
MAX_FIELDS = 400
#: of the fields as stored (JSON): a form beyond it is not kept at all, never cut
MAX_CHARS = 64 * 1024
#: field names never kept, whatever the form; a confirmation (``confirm_warnings``) is given
#: again, against the warnings of the moment of the save
NEVER_KEPT = re.compile(r"pass|secret|token|csrf|otp|recovery|credential|webauthn|^confirm", re.I)
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
KEPT_NOTICE = "What you typed was kept: sign in again to get back to it."
RESTORED_NOTICE = "Your session had ended; what you typed was kept. Check it and save again."
MARK = "keeps_typed_input"

F = TypeVar("F", bound=Callable[..., Any])


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keeps_typed_input(view: F) -> F:
    """Mark a page form's view (beneath ``@allow``): a post of it after the session ended is
    kept for the sign-in, and the view fills its form with ``typed_again()``."""
    setattr(view, MARK, True)
    return view


def _cookie_user() -> User | None:
    """The user the signed cookie still names after its server-side session ended."""
    try:
        user_id = row_id(session.get("_user_id"), "_user_id")
    except InputRefused:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def keep(view: Callable[..., Any]) -> bool:
    """Keep the fields of an anonymous post of a marked view, for the browser's next sign-in;
    whether it was kept. Called by the guard before it sends the browser to sign in."""
    if (
        request.method != "POST"
        or not getattr(view, MARK, False)
        or request.mimetype not in FORM_TYPES
        or request.path.startswith("/api/")
    ):
        return False
    fields = [
        [name, value]
        for name, value in request.form.items(multi=True)
        if not NEVER_KEPT.search(name)
    ]
    text = json.dumps(fields, ensure_ascii=False)
    if not fields or len(fields) > MAX_FIELDS or len(text) > MAX_CHARS:
        return False
    user = _cookie_user()
    if user is None:
        return False
    now = utcnow()
    token = secrets.token_urlsafe(32)
    held = session.get(COOKIE_KEY)
    with unit_of_work():
        purge_expired(now)
        if isinstance(held, str):
            db.session.execute(delete(KeptForm).where(KeptForm.token_hash == _hash(held)))
        db.session.add(
            KeptForm(
                token_hash=_hash(token),
                user_id=user.id,
                path=request.path[:500],
                fields=text,
                created_at=now,
                expires_at=now + timedelta(minutes=KEEP_MINUTES),
            )
        )
    session[COOKIE_KEY] = token
    return True


def clear_session(user: User) -> None:
    """``session.clear()`` for a sign-in of ``user`` (password step, or second factor): this
    browser's kept form stays if it is ``user``'s and still live, else it is deleted.

    In the caller's unit of work.
    """
    held = session.get(COOKIE_KEY)
    session.clear()
    purge_expired(utcnow())
    if not isinstance(held, str):
        return
    row = db.session.scalar(select(KeptForm).where(KeptForm.token_hash == _hash(held)))
    if row is None:
        return
    if row.user_id == user.id and row.expires_at > utcnow():
        session[COOKIE_KEY] = held
    else:
        db.session.delete(row)


class Typed(TypedDict, total=False):
    """What ``typed_again`` gives a form's constructor."""

    formdata: MultiDict[str, str]


def typed_again() -> Typed:
    """For the form of a marked view's GET: ``{"formdata": ...}`` with what was kept of this
    page's form for the signed-in user (used once, with the notice), else ``{}``.

    ``EventForm(actor, **typed_again())``: on a POST it is always ``{}``, so the form reads the
    request as usual.
    """
    held = session.get(COOKIE_KEY)
    if request.method != "GET" or not current_user.is_authenticated or not isinstance(held, str):
        return {}
    row = db.session.scalar(select(KeptForm).where(KeptForm.token_hash == _hash(held)))
    if row is None:
        session.pop(COOKIE_KEY, None)
        return {}
    mine = row.user_id == current_user.id and row.expires_at > utcnow()
    if mine and row.path != request.path:
        return {}
    kept_id, fields = row.id, json.loads(row.fields)
    with unit_of_work():
        result = db.session.execute(delete(KeptForm).where(KeptForm.id == kept_id))
    taken = int(getattr(result, "rowcount", 0) or 0)
    session.pop(COOKIE_KEY, None)
    if not mine or taken != 1:
        return {}
    flash(RESTORED_NOTICE, "info")
    return {"formdata": MultiDict([(name, value) for name, value in fields])}


def purge_expired(now: datetime) -> int:
    """Delete the kept forms past their time, in the caller's unit of work; how many.

    Run at each keep and sign-in, and by the daily retention job for a quiet office."""
    result = db.session.execute(delete(KeptForm).where(KeptForm.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
