"""Feed tokens: the capabilities in iCal feed URLs, their scopes, creation and revocation.

A feed URL is ``{BASE_URL}/feeds/<secret>.ics``. The secret is 256 random bits
(``secrets.token_urlsafe(32)``), shown once when it is made and stored only as
its SHA-256. A scope says which feed it opens:

* ``personal``: the events the owner takes part in and those of their agency
  that they may see (any signed-in user);
* ``team``: the events of the owner's agency (supervisors);
* ``room:<id>``: a room's busy blocks (anyone who may see that room's busy
  blocks on the calendar: a shared room, or one of their agency's).

Whether a scope is allowed is asked again at every fetch, so a user who loses
the supervisor role, or leaves, gets 404 from a feed they still hold.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import unquote

from flask import current_app
from sqlalchemy import func, select

from auth.policy import EventFacts, Visibility, event_visibility
from calendars import FeedKind
from jointops import audit, revocation
from jointops.config import base_url
from jointops.extensions import db
from jointops.feeds import snapshots
from jointops.models import FeedToken, Resource, User
from jointops.transactions import unit_of_work
from jointops.visibility import viewer_of

#: the shape of ``secrets.token_urlsafe(32)``: 43 URL-safe characters, 256 bits
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_LIVE_TOKENS = 20
LABEL_MAX = 80
#: the reminders a feed may carry, in minutes before each event, and how they read
ALARMS = {
    10: "10 minutes before",
    30: "30 minutes before",
    60: "1 hour before",
    1440: "1 day before",
}


class ScopeError(ValueError):
    """The scope is unknown, or not one this user may subscribe to."""


class TokenLimit(ValueError):
    """The user already holds as many live tokens as allowed."""


@dataclass(frozen=True)
class Scope:
    kind: FeedKind
    room_id: int | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        text = text.strip()
        if text in (FeedKind.PERSONAL.value, FeedKind.TEAM.value):
            return cls(FeedKind(text))
        prefix, _, rest = text.partition(":")
        if prefix == FeedKind.ROOM.value and rest.isdigit():
            return cls(FeedKind.ROOM, int(rest))
        raise ScopeError(f"unknown scope {text[:40]!r}: expected personal, team or room:<id>")

    def __str__(self) -> str:
        return f"room:{self.room_id}" if self.kind is FeedKind.ROOM else self.kind.value


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def log_id(secret: str) -> str:
    """What logs say instead of a secret: a short prefix of its hash (``token_hash`` starts so)."""
    return "sha256:" + hash_secret(unquote(secret))[:12]


def feed_url(secret: str, request_root: str | None = None) -> str:
    """The feed's address (``config.base_url``: pages pass the request's ``root_url``)."""
    return f"{base_url(current_app.config, request_root)}/feeds/{secret}.ics"


def webcal_url(secret: str, request_root: str | None = None) -> str:
    """The same feed as a ``webcal://`` link, which calendar apps open as a subscription."""
    return "webcal://" + feed_url(secret, request_root).split("://", 1)[1]


# --- Scopes ----------------------------------------------------------------------------


def room_of(scope: Scope) -> Resource | None:
    if scope.kind is not FeedKind.ROOM or scope.room_id is None:
        return None
    return db.session.get(Resource, scope.room_id)


def may_see_room(user: User, room: Resource) -> bool:
    """True when the policy lets ``user`` see busy blocks that hold ``room``.

    Asked of ``auth.policy`` as "would another agency's event in this room be a
    busy block to you?", so the rule stays where every other one is.
    """
    facts = EventFacts(
        kind="operation",
        sensitivity="normal",
        owner_agency_code="",  # nobody's agency: the answer cannot come from membership
        resource_agencies=(room.agency.code if room.agency else None,),
    )
    return event_visibility(viewer_of(user), facts) >= Visibility.BUSY


def refusal(user: User, scope: Scope) -> str | None:
    """Why ``user`` may not hold a feed of ``scope`` (now), or ``None`` when they may."""
    if not user.active:
        return "the account is not active"
    if scope.kind is FeedKind.TEAM:
        if "supervisor" not in user.roles:
            return "team feeds are for supervisors"
        if user.agency is None:
            return "a team feed needs an agency"
    if scope.kind is FeedKind.ROOM:
        room = room_of(scope)
        if room is None or not room.is_room or not room.active:
            return "no such room"
        if not may_see_room(user, room):
            return "that room's calendar is not shared with your agency"
    return None


def scope_choices(user: User) -> list[tuple[str, str]]:
    """The scopes ``user`` may subscribe to, as (value, label) pairs for a form."""
    choices = [(FeedKind.PERSONAL.value, "My events (personal)")]
    if refusal(user, Scope(FeedKind.TEAM)) is None and user.agency is not None:
        choices.append((FeedKind.TEAM.value, f"My team: all {user.agency.code} events"))
    rooms = db.session.scalars(
        select(Resource).where(Resource.active.is_(True)).order_by(Resource.name)
    )
    for room in rooms:
        if room.is_room and may_see_room(user, room):
            choices.append((f"room:{room.id}", f"Room: {room.name} (busy blocks)"))
    return choices


def describe(scope_text: str) -> str:
    """A scope for people: "My events", "My team", "Room: Interview Room A"."""
    try:
        scope = Scope.parse(scope_text)
    except ScopeError:
        return scope_text
    if scope.kind is FeedKind.ROOM:
        room = room_of(scope)
        return f"Room: {room.name}" if room else "Room (removed)"
    return "My events" if scope.kind is FeedKind.PERSONAL else "My team"


def resolve_room_name(name: str) -> str:
    """``room:NAME`` (as typed on the command line) to ``room:<id>``; other scopes unchanged."""
    prefix, _, rest = name.partition(":")
    if prefix != FeedKind.ROOM.value or not rest or rest.isdigit():
        return name
    room = db.session.scalar(select(Resource).where(Resource.name == rest))
    if room is None:
        raise ScopeError(f"no room named {rest!r}")
    return f"room:{room.id}"


# --- Tokens ----------------------------------------------------------------------------


def tokens_of(user: User) -> list[FeedToken]:
    """All of ``user``'s tokens, live first, newest first."""
    rows = db.session.scalars(
        select(FeedToken)
        .where(FeedToken.user_id == user.id)
        .order_by(FeedToken.created_at.desc(), FeedToken.id.desc())
    )
    return sorted(rows, key=lambda t: t.revoked)


def create(
    user: User,
    label: str,
    scope_text: str,
    *,
    actor: User | None = None,
    via: str = "web",
    alarm_minutes: int | None = None,
) -> tuple[FeedToken, str]:
    """Make a token for ``user``; returns it and its secret (never stored).

    ``alarm_minutes``: one of ``ALARMS`` (a reminder that long before each event), or None.
    Raises ``ScopeError`` or ``TokenLimit`` (nothing stored) when it may not be made.
    """
    label = " ".join(label.split())
    if not label or len(label) > LABEL_MAX:
        raise ValueError(f"a label of 1 to {LABEL_MAX} characters is needed")
    if alarm_minutes is not None and alarm_minutes not in ALARMS:
        raise ValueError(f"a reminder of {', '.join(map(str, ALARMS))} minutes, or none")
    scope = Scope.parse(scope_text)
    reason = refusal(user, scope)
    if reason is not None:
        raise ScopeError(reason)
    with unit_of_work():
        live = db.session.scalar(
            select(func.count())
            .select_from(FeedToken)
            .where(FeedToken.user_id == user.id, FeedToken.revoked_at.is_(None))
        )
        if (live or 0) >= MAX_LIVE_TOKENS:
            raise TokenLimit(f"at most {MAX_LIVE_TOKENS} live feed tokens; revoke one first")
        secret = secrets.token_urlsafe(32)
        token = FeedToken(
            token_hash=hash_secret(secret),
            user=user,
            label=label,
            scope=str(scope),
            alarm_minutes=alarm_minutes,
        )
        db.session.add(token)
        db.session.flush()
        audit.record(
            "feed_token.create",
            object_type="feed_token",
            object_id=token.id,
            actor=actor or user,
            owner=user.username,
            scope=token.scope,
            alarm_minutes=alarm_minutes,
            via=via,
        )
    return token, secret


def revoke(token: FeedToken, reason: str, *, actor: User | None = None, via: str = "web") -> bool:
    """Revoke ``token`` at once, and drop the feed kept for it; False when it already was."""
    with unit_of_work():
        done = revocation.revoke(token, reason, actor=actor, via=via)
        snapshots.forget(token.id)
    return done


def revoke_of_inactive_users(_sender: object = None) -> int:
    """Revoke every live token whose owner is no longer active; the caller commits."""
    revoked = revocation.revoke_of_inactive_users(FeedToken)
    snapshots.forget_revoked()
    return revoked


def find_token(token_id: int) -> FeedToken | None:
    return db.session.get(FeedToken, token_id)
