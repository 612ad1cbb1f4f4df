"""iCal feeds: which events a feed carries, and serving it to calendar apps.

The app's half of the feeds. ``auth.policy`` decides which events the token's
owner may see at all and how much, as for every page; this module picks a
feed's candidate events with indexed queries over a bounded window (columns
only: a feed of thousands of events is not worth thousands of ORM objects),
maps them onto the policy's ``EventFacts`` exactly as ``jointops.visibility``
does (a test holds the two mappings equal), and maps what may be seen onto
``calendars.FeedEvent``; ``calendars`` redacts and writes it.

Serving a fetch starts with one short write transaction: it counts the fetch
against the token's per-minute rate window (one atomic ``UPDATE``, shared by
every worker and host), which also returns what the token remembers of the
feed it last served and the feed generation (``validator``). While that
state is current, the answer needs no event: a ``304``, or the kept body
(``snapshots``), and the fetch is counted (``fetch_counts``) in the same
transaction. Otherwise:

1. build the redacted entries and their fingerprint (the ``ETag``);
2. remember the fingerprint, the state it is of, and when it last changed
   (``Last-Modified``, which so moves even when an event only leaves the
   feed), keep the body written (unless the client's copy is current:
   ``304``), and count the fetch.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.orm import aliased

from auth.policy import EventFacts, Visibility, event_visibility
from calendars import (
    Detail,
    Entry,
    FeedEvent,
    FeedKind,
    FeedSeries,
    FeedSettings,
    FeedWindow,
    Labels,
    carried,
    feed_window,
    fingerprint,
    redact_feed,
    render,
)
from calendars.recurrence import Rule
from jointops import audit
from jointops.catalog import KIND_LABELS, MAX_EVENT_DURATION, SUBTYPES
from jointops.config import base_url
from jointops.extensions import db
from jointops.feeds import fetch_counts, snapshots, validator
from jointops.feeds.tokens import (
    SECRET_SHAPE,
    Scope,
    ScopeError,
    hash_secret,
    log_id,
    refusal,
    room_of,
)
from jointops.models import (
    Agency,
    Booking,
    Event,
    EventSeries,
    EventStatus,
    FeedToken,
    Participant,
    Resource,
    ResourceKind,
    User,
    utcnow,
)
from jointops.officetime import to_local
from jointops.transactions import end_read, unit_of_work
from jointops.visibility import viewer_of

LABELS = Labels(
    kinds=KIND_LABELS,
    subtypes={kind: {s.code: s.label for s in subs} for kind, subs in SUBTYPES.items()},
)
RATE_WINDOW = timedelta(minutes=1)


# --- Settings --------------------------------------------------------------------------


def current_window(now: datetime) -> FeedWindow:
    config = current_app.config
    return feed_window(
        now,
        past=timedelta(days=config["FEED_PAST_DAYS"]),
        future=timedelta(days=config["FEED_FUTURE_DAYS"]),
        cancelled_grace=timedelta(days=config["FEED_CANCELLED_DAYS"]),
    )


def feed_name(user: User, scope: Scope) -> str:
    """The calendar's name in the subscriber's app: whose or which calendar it is.

    Staff and rooms only, from the directory and the room list: a feed's name never
    says anything of a victim, an operation or a case.
    """
    if scope.kind is FeedKind.TEAM:
        agency = user.agency.name if user.agency else "Agency"
        return f"JointOps: {agency} (team)"
    if scope.kind is FeedKind.ROOM:
        room = room_of(scope)
        return f"JointOps: {room.name if room else 'Room'} (room)"
    return f"JointOps: {user.display_name or user.username}"


def settings_for(user: User, scope: Scope, alarm_minutes: int | None = None) -> FeedSettings:
    config = current_app.config
    return FeedSettings(
        alarm=timedelta(minutes=alarm_minutes) if alarm_minutes else None,
        name=feed_name(user, scope),
        refresh=timedelta(minutes=config["FEED_REFRESH_MINUTES"]),
        office_address=config["OFFICE_ADDRESS"],
        uid_domain=urlsplit(base_url(config)).hostname or "jointops",
        uid_key=hmac.new(
            str(config["SECRET_KEY"]).encode(), b"jointops feed uid", hashlib.sha256
        ).digest(),
    )


# --- Which events ----------------------------------------------------------------------

#: no event lasts longer (the event form refuses more), which bounds the index range scanned
LONGEST_EVENT = MAX_EVENT_DURATION


@dataclass
class _Row:
    """One candidate event as loaded: its columns, people and bookings (no ORM objects)."""

    id: int
    kind: str
    subtype: str
    status: str
    sensitivity: str
    starts_at: datetime
    ends_at: datetime
    version: int
    updated_at: datetime
    lead_id: int | None
    owner_agency_code: str
    series_id: int | None
    recurrence_id: datetime | None
    all_day: bool
    participant_ids: set[int] = field(default_factory=set)
    #: (resource name, is a room, owning agency code, booking active)
    bookings: list[tuple[str, bool, str | None, bool]] = field(default_factory=list)

    def facts(self) -> EventFacts:
        """The policy's facts of this event: the mapping of ``jointops.visibility.facts_of``."""
        return EventFacts(
            kind=self.kind,
            sensitivity=self.sensitivity,
            owner_agency_code=self.owner_agency_code,
            participant_ids=frozenset(self.participant_ids),
            lead_id=self.lead_id,
            resource_agencies=tuple(agency for _, _, agency, active in self.bookings if active),
            cancelled=self.status == EventStatus.CANCELLED.value,
        )


def conditions(user: User, scope: Scope, window: FeedWindow) -> list[ColumnElement[bool]]:
    """Which events a feed of ``scope`` looks at (the policy then says which it shows).

    Overlapping the window, with the start bounded on both sides so that
    ``ix_events_window`` and ``ix_events_agency_window`` are range scans, and
    cancelled events only within their grace period.
    """
    where: list[ColumnElement[bool]] = [
        Event.starts_at < window.end,
        Event.starts_at > window.start - LONGEST_EVENT,
        Event.ends_at > window.start,
        or_(
            Event.status != EventStatus.CANCELLED.value,
            Event.updated_at >= window.cancelled_after,
        ),
    ]
    if scope.kind is FeedKind.ROOM:
        held = select(Booking.event_id).where(
            Booking.resource_id == scope.room_id,
            Booking.starts_at < window.end,
            Booking.starts_at > window.start - LONGEST_EVENT,
            Booking.ends_at > window.start,
        )
        where.append(Event.id.in_(held))
    elif scope.kind is FeedKind.TEAM:
        members = select(User.id).where(User.agency_id == user.agency_id)
        taking_part = select(Participant.event_id).where(Participant.user_id.in_(members))
        where.append(or_(Event.owner_agency_id == user.agency_id, Event.id.in_(taking_part)))
    else:
        taking_part = select(Participant.event_id).where(Participant.user_id == user.id)
        mine = [Event.lead_id == user.id, Event.id.in_(taking_part)]
        if user.agency_id is not None:
            mine.append(Event.owner_agency_id == user.agency_id)
        where.append(or_(*mine))
    return where


def _load(user: User, scope: Scope, window: FeedWindow) -> list[_Row]:
    """The candidates in three column queries: events, their people, their bookings."""
    where = conditions(user, scope, window)
    rows = {
        r.id: _Row(*tuple(r))
        for r in db.session.execute(
            select(
                Event.id,
                Event.kind,
                Event.subtype,
                Event.status,
                Event.sensitivity,
                Event.starts_at,
                Event.ends_at,
                Event.version,
                Event.updated_at,
                Event.lead_id,
                Agency.code,
                Event.series_id,
                Event.recurrence_id,
                Event.all_day,
            )
            .join(Agency, Event.owner_agency_id == Agency.id)
            .where(*where)
            .order_by(Event.starts_at, Event.id)
        )
    }
    if not rows:
        return []
    people = select(Participant.event_id, Participant.user_id).join(
        Event, Participant.event_id == Event.id
    )
    for event_id, user_id in db.session.execute(people.where(*where)):
        rows[event_id].participant_ids.add(user_id)
    owner = aliased(Agency)
    held = (
        select(Booking.event_id, Resource.name, Resource.kind, owner.code, Booking.active)
        .join(Event, Booking.event_id == Event.id)
        .join(Resource, Booking.resource_id == Resource.id)
        .outerjoin(owner, Resource.agency_id == owner.id)
        .order_by(Booking.id)
    )
    for event_id, name, kind, agency, active in db.session.execute(held.where(*where)):
        rows[event_id].bookings.append((name, ResourceKind(kind).is_room, agency, bool(active)))
    return list(rows.values())


def feed_events(user: User, scope: Scope, now: datetime) -> list[FeedEvent]:
    """What ``user``'s feed of ``scope`` may know, as ``FeedEvent``s (the allow-list)."""
    window = current_window(now)
    viewer = viewer_of(user)
    room = room_of(scope)
    base = base_url(current_app.config)
    found = []
    for row in _load(user, scope, window):
        facts = row.facts()
        if room is not None:
            # A room feed asks: would this event, holding this room, be seen at all? It
            # asks so of a cancelled one too, whose busy block must leave as CANCELLED.
            facts = replace(
                facts,
                cancelled=False,
                resource_agencies=(room.agency.code if room.agency else None,),
            )
        seen = event_visibility(viewer, facts)
        if seen is Visibility.NONE:
            continue
        rooms = (
            (room.name,)
            if room is not None
            else tuple(name for name, is_room, _, _ in row.bookings if is_room)
        )
        found.append(
            FeedEvent(
                id=row.id,
                kind=row.kind,
                subtype=row.subtype,
                status=row.status,
                sensitivity=row.sensitivity,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                rooms=rooms,
                version=row.version,
                updated_at=row.updated_at,
                url=f"{base}/events/{row.id}",
                detail=Detail.FULL if seen is Visibility.FULL else Detail.BUSY,
                series_id=row.series_id,
                recurrence_id=row.recurrence_id,
                days=_days(row) if row.all_day else None,
            )
        )
    return [e for e in found if carried(e, window)]


def _days(row: _Row) -> tuple[date, date]:
    """An all-day event's first day and the day after its last, in the office."""
    return to_local(row.starts_at).date(), to_local(row.ends_at).date()


def series_of(events: Sequence[FeedEvent]) -> dict[int, FeedSeries]:
    """The series the events are occurrences of: each rule, as a bounded ``COUNT`` rule from
    its first start in the office zone, and every start it gives (one query each)."""
    ids = {e.series_id for e in events if e.series_id is not None}
    if not ids:
        return {}
    starts: dict[int, list[datetime]] = {i: [] for i in ids}
    for series_id, start in db.session.execute(
        select(Event.series_id, Event.recurrence_id).where(Event.series_id.in_(ids))
    ):
        if series_id is not None and start is not None:
            starts[series_id].append(start)
    found = {}
    for series in db.session.scalars(select(EventSeries).where(EventSeries.id.in_(ids))):
        given = sorted(starts[series.id])
        rule = replace(Rule.parse(series.rule), count=len(given), until=None)
        found[series.id] = FeedSeries(
            id=series.id,
            rule=rule.text(),
            tzid=series.zone,
            first_start=series.first_start.replace(tzinfo=ZoneInfo(series.zone)),
            duration=timedelta(minutes=series.duration_minutes),
            starts=tuple(given),
        )
    return found


def redacted(events: Sequence[FeedEvent], kind: FeedKind) -> list[Entry]:
    """The entries a feed of ``kind`` writes for ``events``, series grouped."""
    return redact_feed(events, series_of(events), kind, LABELS)


def entries_for(user: User, scope: Scope, now: datetime) -> list[Entry]:
    """The redacted entries of a feed."""
    return redacted(feed_events(user, scope, now), scope.kind)


def feed_text(user: User, scope: Scope, now: datetime | None = None) -> bytes:
    """The whole feed, as served (for the CLI, tests and benchmarks)."""
    return render(entries_for(user, scope, now or utcnow()), settings_for(user, scope))


# --- Serving ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedReply:
    """What to answer a fetch: 200 with a body, 304, 404 or 429."""

    status: int
    body: bytes = b""
    etag: str | None = None
    last_modified: datetime | None = None
    retry_after: int | None = None


#: ``is_modified(etag, last_modified)``: whether the client's copy is out of date
Revalidator = Callable[[str, datetime], bool]


@dataclass(frozen=True)
class _Counted:
    """A fetch counted against its token's rate window, and what the token remembers."""

    token_id: int
    count: int
    revoked: bool
    username: str
    state: str
    #: the remembered ``ETag`` and ``Last-Modified``, when ``state`` is still theirs
    current: tuple[str, datetime] | None


def serve(secret: str, is_modified: Revalidator) -> FeedReply:
    """Answer one fetch of ``/feeds/<secret>.ics``.

    While nothing a feed is made of has changed since the token was last
    served (``validator``), the answer comes from what the token remembers:
    a 304, or the kept body (``snapshots``), without reading any event.
    """
    log = current_app.logger
    if not SECRET_SHAPE.fullmatch(secret):
        log.info("feed %s: malformed token, 404", log_id(secret))
        return FeedReply(404)
    now = utcnow()
    token_id = db.session.scalar(
        select(FeedToken.id).where(FeedToken.token_hash == hash_secret(secret))
    )
    if token_id is None:  # one indexed read and no write: guessing takes no write locks
        end_read()
        log.info("feed %s: unknown token, 404", log_id(secret))
        return FeedReply(404)
    limit = current_app.config["FEED_RATE_PER_MINUTE"]
    with unit_of_work(durable=False):
        counted = _count_fetch(token_id, now)
        if counted is None:
            return FeedReply(404)
        if counted.revoked:
            snapshots.forget(token_id)
        elif counted.count <= limit and counted.current is not None:
            reply = _from_memory(counted, counted.current, is_modified, now)
            if reply is not None:
                log.info(
                    "feed %s (token %s): %s, unchanged", log_id(secret), token_id, reply.status
                )
                return reply
    if counted.revoked:
        _audit_refusal(token_id, "revoked", 404, audited=counted.count <= limit)
        return FeedReply(404)
    if counted.count > limit:
        _audit_refusal(token_id, "rate_limited", 429, audited=counted.count == limit + 1)
        window_end = now.replace(second=0, microsecond=0) + RATE_WINDOW
        return FeedReply(429, retry_after=max(1, int((window_end - now).total_seconds() + 0.999)))
    return _serve_built(secret, counted, is_modified, now)


def _from_memory(
    counted: _Counted, current: tuple[str, datetime], is_modified: Revalidator, now: datetime
) -> FeedReply | None:
    """The answer from the token's remembered feed, or None when its body is not kept.

    In the counting unit of work, so that a revalidation is one transaction.
    """
    etag_value, last_modified = current
    etag = _quoted(etag_value)
    if not is_modified(etag, last_modified):
        status, body = 304, b""
    else:
        kept = snapshots.load(counted.token_id, etag_value)
        if kept is None:
            return None
        status, body = 200, kept
    fetch_counts.note(counted.token_id, counted.username, status, now)
    return FeedReply(status, body=body, etag=etag, last_modified=last_modified)


def _serve_built(
    secret: str, counted: _Counted, is_modified: Revalidator, now: datetime
) -> FeedReply:
    """Answer by reading the feed's events: the validator's state moved on, or time did."""
    token_id = counted.token_id
    token = db.session.get(FeedToken, token_id)
    if token is None:  # its owner was deleted since
        return FeedReply(404)
    user = token.user
    try:
        scope = Scope.parse(token.scope)
        reason = refusal(user, scope)
    except ScopeError as exc:
        reason = str(exc)
    if reason is not None:
        with unit_of_work():
            snapshots.forget(token_id)
        _audit_refusal(token_id, "scope", 404, audited=True, why=reason)
        return FeedReply(404)

    window = current_window(now)
    events = feed_events(user, scope, now)
    entries = redacted(events, scope.kind)
    settings = settings_for(user, scope, token.alarm_minutes)
    etag_value = validator.etag_of(fingerprint(entries, settings))
    until = _valid_until(events, window)
    etag = _quoted(etag_value)
    # Written before the write transaction, which on SQLite would hold every writer back
    # meanwhile, unless the client's copy is current (then Last-Modified stays as it was).
    body: bytes | None = None
    packed: bytes | None = None
    known = token.content_etag == etag_value and token.content_changed_at is not None
    if not (known and not is_modified(etag, token.content_changed_at or now)):
        body = snapshots.load(token_id, etag_value) if known else None
        if body is None:
            body = render(entries, settings)
            packed = snapshots.pack(body)
    with unit_of_work():
        last_modified = _remember(token_id, etag_value, entries, (counted.state, until))
        fresh = not is_modified(etag, last_modified)
        if packed is not None:
            snapshots.keep(token_id, etag_value, packed)
        if not fresh and body is None:  # another fetch changed what the token remembers
            body = render(entries, settings)
        status = 304 if fresh else 200
        fetch_counts.note(counted.token_id, counted.username, status, now)
    current_app.logger.info(
        "feed %s (token %s): %s, %d events", log_id(secret), token_id, status, len(entries)
    )
    return FeedReply(
        status, body=b"" if fresh else body or b"", etag=etag, last_modified=last_modified
    )


def _quoted(etag_value: str) -> str:
    return f'"{etag_value[:40]}"'


def _valid_until(events: Sequence[FeedEvent], window: FeedWindow) -> datetime | None:
    """When time alone would next change this feed (see ``validator.valid_until``)."""
    config = current_app.config
    next_start = db.session.scalar(
        select(func.min(Event.starts_at)).where(Event.starts_at >= window.end)
    )
    return validator.valid_until(
        # An event longer than the longest allowed leaves the candidates early: count that too.
        [
            (
                e.starts_at,
                min(e.ends_at, e.starts_at + LONGEST_EVENT),
                e.updated_at if e.cancelled else None,
            )
            for e in events
        ],
        next_start,
        past=timedelta(days=config["FEED_PAST_DAYS"]),
        future=timedelta(days=config["FEED_FUTURE_DAYS"]),
        grace=timedelta(days=config["FEED_CANCELLED_DAYS"]),
    )


def _count_fetch(token_id: int, now: datetime) -> _Counted | None:
    """Count a fetch in the token's minute (atomically) and note the token's last use, in
    the caller's unit of work.

    The same statement returns what the token remembers and the feed
    generation, read before any event is (see ``validator``).
    """
    minute = now.replace(second=0, microsecond=0)
    owner = select(User.username).where(User.id == FeedToken.user_id).scalar_subquery()
    row = db.session.execute(
        update(FeedToken)
        .where(FeedToken.id == token_id)
        .values(
            rate_count=case(
                (FeedToken.rate_window_start == minute, FeedToken.rate_count + 1), else_=1
            ),
            rate_window_start=minute,
            last_used_at=now,
        )
        .returning(
            FeedToken.rate_count,
            FeedToken.revoked_at,
            FeedToken.user_id,
            FeedToken.scope,
            FeedToken.content_etag,
            FeedToken.content_changed_at,
            FeedToken.content_state,
            FeedToken.content_valid_until,
            owner,
            validator.generation_query(),
        )
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    count, revoked_at, user_id, scope, etag, changed_at, known_state, until, username, gen = row
    state = validator.state(int(gen or 0), token_id, user_id, scope, LABELS)
    current = None
    if (
        etag is not None
        and changed_at is not None
        and known_state == state
        and (until is None or now < until)
    ):
        current = (etag, changed_at)
    return _Counted(token_id, int(count), revoked_at is not None, username or "", state, current)


def _remember(
    token_id: int, etag: str, entries: Sequence[Entry], state: tuple[str, datetime | None]
) -> datetime:
    """Note the content served and the validator's state it is of (``validator``: the
    state, and until when time leaves it current); returns the content's ``Last-Modified``.

    ``Last-Modified`` is the newest change among the feed's events, moved on by
    at least a second whenever the content differs from what this token was
    last served, so that a client revalidating by date alone also sees an
    event leave. In the caller's unit of work; locks the token's row.
    """
    token = db.session.scalars(
        select(FeedToken).where(FeedToken.id == token_id).with_for_update()
    ).one()
    token.content_state, token.content_valid_until = state
    if token.content_etag == etag and token.content_changed_at is not None:
        return token.content_changed_at
    newest = max((e.last_modified for e in entries), default=token.created_at)
    changed = newest.replace(microsecond=0)
    if token.content_changed_at is not None:
        changed = max(changed, token.content_changed_at + timedelta(seconds=1))
    token.content_etag, token.content_changed_at = etag, changed
    return changed


def _audit_refusal(
    token_id: int, reason: str, status: int, *, audited: bool, why: str = ""
) -> None:
    current_app.logger.info("feed token %s: %s, %s", token_id, reason, status)
    if not audited:
        return
    with unit_of_work():
        token = db.session.get(FeedToken, token_id)
        audit.record(
            "feed.fetch",
            outcome="denied",
            object_type="feed_token",
            object_id=token_id,
            actor=token.user if token else None,
            reason=reason,
            status=status,
            **({"why": why} if why else {}),
        )
