"""SQLAlchemy models: the only place that knows the tables.

Times are stored as naive UTC (``UTCDateTime``) and handed back tz-aware, so
no code ever compares a local time with a stored one.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy import event as sa_event
from sqlalchemy import false as sa_false
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from deconflict.events import grid_cell
from deconflict.identifiers import IdentifierKind
from jointops.extensions import Model, db

if TYPE_CHECKING:

    class UserMixin:
        """What ``flask_login.UserMixin`` gives ``User`` (Flask-Login ships no types)."""

        @property
        def is_active(self) -> bool: ...
        @property
        def is_authenticated(self) -> bool: ...
        @property
        def is_anonymous(self) -> bool: ...
        def get_id(self) -> str: ...

else:
    from flask_login import UserMixin


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class EventKind(enum.StrEnum):
    OPERATION = "operation"
    INTERVIEW = "interview"
    APPOINTMENT = "appointment"
    MEETING = "meeting"


class EventStatus(enum.StrEnum):
    PLANNED = "planned"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Sensitivity(enum.StrEnum):
    NORMAL = "normal"
    RESTRICTED = "restricted"
    COVERT = "covert"


class ResourceKind(enum.StrEnum):
    INTERVIEW_ROOM = "interview_room"
    SOFT_INTERVIEW_ROOM = "soft_interview_room"
    CONFERENCE_ROOM = "conference_room"
    VEHICLE = "vehicle"
    EQUIPMENT = "equipment"

    @property
    def is_room(self) -> bool:
        return self in (
            ResourceKind.INTERVIEW_ROOM,
            ResourceKind.SOFT_INTERVIEW_ROOM,
            ResourceKind.CONFERENCE_ROOM,
        )


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class AgencySource(enum.StrEnum):
    """Where an agency comes from: the directory's agency entries, or JointOps itself."""

    DIRECTORY = "directory"
    LOCAL = "local"


class Agency(Model):
    __tablename__ = "agencies"
    __table_args__ = (CheckConstraint(_in("source", AgencySource), name="source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(
        String(16), default=AgencySource.DIRECTORY.value, server_default="directory"
    )

    users: Mapped[list[User]] = relationship(back_populates="agency")

    @property
    def is_victim_services(self) -> bool:
        return self.kind == "victim_services"

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class User(UserMixin, Model):
    """A mirror of a directory account; the directory stays the source of truth."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    dn: Mapped[str] = mapped_column(String(512))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(64))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    agency: Mapped[Agency | None] = relationship(back_populates="users")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def set_roles(self, roles: frozenset[str] | set[str]) -> None:
        keep = [r for r in self.role_rows if r.role in roles]
        have = {r.role for r in keep}
        self.role_rows = keep + [UserRole(role=r) for r in sorted(roles - have)]

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserRole(Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class Case(Model):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("agency_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    number: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: a closed case takes no new targets or events; what it holds stays
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship()
    lead: Mapped[User | None] = relationship()

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def label(self) -> str:
        """How pickers show the case."""
        return f"{self.number} {self.title}" + (" (closed)" if self.is_closed else "")

    def refusal_of_new(self, stored_case_id: int | None) -> str | None:
        """Why a target or event may not be put on this case: it is closed (what is on it
        already, ``stored_case_id``, stays there)."""
        if self.is_closed and self.id != stored_case_id:
            return f"Case {self.number} is closed: it takes no new targets or events."
        return None


class Resource(Model):
    """A room, vehicle or piece of equipment; never booked twice at once."""

    __tablename__ = "resources"
    __table_args__ = (CheckConstraint(_in("kind", ResourceKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    description: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency | None] = relationship()

    @property
    def is_room(self) -> bool:
        return ResourceKind(self.kind).is_room


class EventSeries(Model):
    """A recurring event: the rule that made its occurrences, each an ``Event`` of its own.

    The rule (``calendars.recurrence.Rule``, a bounded RRULE) is read against
    ``first_start``, a wall-clock time in ``zone``, so that 10:00 stays 10:00 across a change
    of the clocks; ``duration_minutes`` is each occurrence's length on the wall clock.
    """

    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    rule: Mapped[str] = mapped_column(String(120))
    first_start: Mapped[datetime] = mapped_column(DateTime())
    zone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Event(Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(_in("kind", EventKind), name="kind"),
        CheckConstraint(_in("status", EventStatus), name="status"),
        CheckConstraint(_in("sensitivity", Sensitivity), name="sensitivity"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        Index("ix_events_window", "starts_at", "ends_at"),
        Index("ix_events_agency_window", "owner_agency_id", "starts_at"),
        # the alerts list (``jointops.alerts.listing``): the events a viewer leads, and which
        # of their agency's they see (by kind and sensitivity) from the index alone
        Index("ix_events_lead", "lead_id"),
        Index("ix_events_agency_kind", "owner_agency_id", "kind", "sensitivity"),
        # deconfliction's candidate query: operations by grid cell and start (or, for a search
        # too wide for the grid, by start alone), with the place and window in the index; and
        # the operations with a radius wider than any kind's default, by radius
        Index(
            "ix_events_kind_cell_start",
            "kind",
            "grid_cell",
            "starts_at",
            "ends_at",
            "latitude",
            "longitude",
        ),
        Index("ix_events_kind_start_place", "kind", "starts_at", "latitude", "longitude"),
        Index("ix_events_location", "latitude", "longitude"),
        Index("ix_events_kind_radius", "kind", "radius_m"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subtype: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    location_address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[int | None] = mapped_column(Integer)
    #: ``deconflict.events.grid_cell`` of the place, kept by ``_place_grid_cell``
    grid_cell: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.PLANNED.value)
    sensitivity: Mapped[str] = mapped_column(String(16), default=Sensitivity.NORMAL.value)
    client_code: Mapped[str | None] = mapped_column(String(32), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: the series this event is an occurrence of, if any
    series_id: Mapped[int | None] = mapped_column(ForeignKey("event_series.id"), index=True)
    #: the start the series' rule gave this occurrence (UTC), kept when the occurrence moves
    recurrence_id: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: whole office days: stored from local midnight of the first day to local midnight after
    #: the last, so that bookings and deconfliction treat it as any other window
    all_day: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    owner_agency: Mapped[Agency] = relationship()
    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])
    series: Mapped[EventSeries | None] = relationship()
    case: Mapped[Case | None] = relationship()
    participants: Mapped[list[Participant]] = relationship(
        back_populates="event", cascade="all, delete-orphan", lazy="selectin"
    )
    bookings: Mapped[list[Booking]] = relationship(
        back_populates="event", cascade="all, delete-orphan", lazy="selectin"
    )
    #: an appointment's place: loaded only when asked for, shown only to its participants
    appointment_place: Mapped[AppointmentPlace | None] = relationship(
        cascade="all, delete-orphan", lazy="select"
    )

    @property
    def resources(self) -> list[Resource]:
        return [b.resource for b in self.bookings]

    @property
    def room(self) -> Resource | None:
        return next((r for r in self.resources if r.is_room), None)

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def is_moved(self) -> bool:
        """An occurrence of a series that no longer starts when the rule said."""
        return self.recurrence_id is not None and self.recurrence_id != self.starts_at

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.kind}/{self.subtype}>"


@sa_event.listens_for(Event, "before_insert")
@sa_event.listens_for(Event, "before_update")
def _place_grid_cell(_mapper: Any, _connection: Any, event: Event) -> None:
    """Whatever changed the place, the grid cell follows it."""
    if event.latitude is None or event.longitude is None:
        event.grid_cell = None
    else:
        event.grid_cell = grid_cell(event.latitude, event.longitude)


class Participant(Model):
    __tablename__ = "participants"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    part: Mapped[str] = mapped_column(String(32))

    event: Mapped[Event] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(lazy="joined")


class Booking(Model):
    """One resource held by one event over the event's window.

    The window is copied from the event so that PostgreSQL can enforce "never
    double-booked" with an exclusion constraint (which cannot span tables);
    only ``jointops.events.service`` writes these rows.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("event_id", "resource_id"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_bookings_resource_window", "resource_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    event: Mapped[Event] = relationship(back_populates="bookings")
    resource: Mapped[Resource] = relationship(lazy="joined")


BOOKING_EXCLUSION = "ex_bookings_resource_window"
BTREE_GIST = DDL("CREATE EXTENSION IF NOT EXISTS btree_gist")
NO_DOUBLE_BOOKING = DDL(
    f"ALTER TABLE bookings ADD CONSTRAINT {BOOKING_EXCLUSION} EXCLUDE USING gist "
    "(resource_id WITH =, tsrange(starts_at, ends_at, '[)') WITH &&) WHERE (active)"
)
event.listen(db.metadata, "before_create", BTREE_GIST.execute_if(dialect="postgresql"))
event.listen(Booking.__table__, "after_create", NO_DOUBLE_BOOKING.execute_if(dialect="postgresql"))


class AuditEntry(Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_object", "object_type", "object_id"),
        # newest first, and the audit log's keyset pages: (at, id)
        Index("ix_audit_at_id", "at", "id"),
        # one person's entries in a window: the per-user limits, the audit log's person filter
        Index("ix_audit_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_username: Mapped[str] = mapped_column(String(128), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(db.JSON, default=dict)


class UserSession(Model):
    """A server-side session: the cookie carries only a random id, stored here as a hash.

    Ending a row ends the session at once on every worker and host.
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_live", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(32))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()


class LoginThrottle(Model):
    """Failed sign-ins per login name (known or not), directory account or client address,
    shared by every worker; ``username`` is the counter's key (``jointops.identity.lockout``)."""

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FeedToken(Model):
    """A capability for one iCal feed: whoever has the URL reads the feed, until it is revoked.

    Only the SHA-256 of the random secret is stored. ``scope`` is ``personal``,
    ``team`` or ``room:<resource id>``. The rate window and count throttle
    fetches across every worker; ``content_etag`` and ``content_changed_at``
    remember the feed last served, so that ``Last-Modified`` moves whenever
    the content does (an event leaving the feed included).
    """

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(String(32))
    rate_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rate_count: Mapped[int] = mapped_column(Integer, default=0)
    content_etag: Mapped[str | None] = mapped_column(String(64))
    content_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: what ``content_etag`` was computed from (``jointops.feeds.validator``), and until when
    #: the passing of time alone leaves it current
    content_state: Mapped[str | None] = mapped_column(String(64))
    content_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: minutes before each event that subscribed calendars remind (``VALARM``), or none;
    #: chosen when the token is made
    alarm_minutes: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class FeedGeneration(Model):
    """One row whose number grows with every commit that may change some feed.

    Bumped by ``jointops.feeds.validator`` at commit; a feed whose stored
    ``content_state`` names the current generation needs no reading of events.
    """

    __tablename__ = "feed_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedSnapshot(Model):
    """The feed last served through a token, as written (zlib), under its ``ETag``."""

    __tablename__ = "feed_snapshots"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("feed_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    etag: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)


class FeedFetchCount(Model):
    """The audit of feed fetches: one row per token and office day, with counts.

    Fetches that are refused (revoked, rate-limited, out of scope) are audit
    entries of their own (``feed.fetch``, outcome ``denied``). Like an audit
    entry, a row outlives its token and its user: no foreign keys.
    """

    __tablename__ = "feed_fetch_counts"
    __table_args__ = (Index("ix_feed_fetch_counts_day", "day"),)

    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    username: Mapped[str] = mapped_column(String(128), default="")
    served: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- targets and deconfliction -------------------------------------------------------


class Target(Model):
    """A subject of an agency's case, held under 28 CFR Part 23.

    ``justification`` states the reasonable suspicion; the record is valid
    from ``validated_at`` until ``expires_at`` (at most five years later),
    and only a re-validation with a reason extends it.
    """

    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("agency_id", "ref"),
        CheckConstraint("expires_at > validated_at", name="expires_after_validation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    ref: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    aliases: Mapped[list[str]] = mapped_column(db.JSON, default=list)
    dob: Mapped[date | None] = mapped_column(Date)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    justification: Mapped[str] = mapped_column(Text)
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revalidation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    agency: Mapped[Agency] = relationship()
    case: Mapped[Case] = relationship()
    submitter: Mapped[User] = relationship()
    identifiers: Mapped[list[TargetIdentifier]] = relationship(
        back_populates="target",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="TargetIdentifier.id",
    )
    keys: Mapped[list[TargetKey]] = relationship(cascade="all, delete-orphan")

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or utcnow())

    def __repr__(self) -> str:
        return f"<Target {self.ref}>"


class TargetIdentifier(Model):
    """One identifier as typed (``raw``) and in its normal form (``normalized``)."""

    __tablename__ = "target_identifiers"
    __table_args__ = (CheckConstraint(_in("kind", IdentifierKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    raw: Mapped[str] = mapped_column(String(300))
    normalized: Mapped[str] = mapped_column(String(300))

    target: Mapped[Target] = relationship(back_populates="identifiers")


class TargetKey(Model):
    """A blocking key of a target (``deconflict.targets.target_keys``): how hits are found."""

    __tablename__ = "target_keys"
    __table_args__ = (Index("ix_target_keys_key_target", "key", "target_id"),)

    target_id: Mapped[int] = mapped_column(
        ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(320), primary_key=True)


class PendingCheck(Model):
    """An operation or target saved but not yet deconflicted.

    Written in the same transaction as the save, deleted by the check that
    completes (``jointops.deconfliction``): an item whose check failed or was
    cut off stays here until the sweep job has checked it.
    """

    __tablename__ = "pending_checks"
    __table_args__ = (
        CheckConstraint("item_type IN ('event', 'target')", name="item_type"),
        Index("ix_pending_checks_due", "next_attempt_at"),
    )

    item_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: when the deconfliction officers were told that it keeps failing
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertKind(enum.StrEnum):
    EVENT = "event"
    TARGET = "target"


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"


class AlertOutcome(enum.StrEnum):
    PROCEED = "proceed"
    JOINT_OPERATION = "joint_operation"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"
    NO_CONFLICT = "no_conflict"


class Alert(Model):
    """A deconfliction hit between two items of two agencies (or of two cases).

    The pair is stored ordered (``a`` < ``b`` by type, then id), so that one
    pair has one row whichever item was saved last. ``starts_at`` is the
    earlier start of two operations: the review page's urgency.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("item_a_type", "item_a_id", "item_b_type", "item_b_id"),
        Index("ix_alerts_item_b", "item_b_type", "item_b_id"),
        # the review list (``jointops.alerts.listing``) filters, counts, sorts and cuts a page
        # from this index alone, then reads the page's rows; it serves (status, starts_at) too
        Index(
            "ix_alerts_list",
            *("status", "starts_at", "raised_at", "strength", "score", "kind"),
            *("item_a_type", "item_a_id", "item_b_type", "item_b_id", "agency_a_id", "agency_b_id"),
        ),
        CheckConstraint(_in("kind", AlertKind), name="kind"),
        CheckConstraint(_in("status", AlertStatus), name="status"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', AlertOutcome)}", name="outcome"),
        CheckConstraint("strength IN ('exact', 'probable', 'possible')", name="strength"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    strength: Mapped[str] = mapped_column(String(16))
    explanation: Mapped[str] = mapped_column(Text)
    #: ``deconflict.match.Reason.as_data()`` of each reason, oriented a -> b: rendered per
    #: viewer from their own side's values (``deconflict.explain.for_side``)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(db.JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.OPEN.value)
    outcome: Mapped[str | None] = mapped_column(String(32))
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    item_a_type: Mapped[str] = mapped_column(String(16))
    #: NULL once the item was purged under the retention rule (a tombstone: the alert's
    #: history stays, the reference goes)
    item_a_id: Mapped[int | None] = mapped_column(Integer)
    item_b_type: Mapped[str] = mapped_column(String(16))
    item_b_id: Mapped[int | None] = mapped_column(Integer)
    agency_a_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    agency_b_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    acked_a_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_a_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acked_b_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_b_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[str] = mapped_column(String(200), default="")

    agency_a: Mapped[Agency] = relationship(foreign_keys=[agency_a_id], lazy="joined")
    agency_b: Mapped[Agency] = relationship(foreign_keys=[agency_b_id], lazy="joined")
    acked_a_by: Mapped[User | None] = relationship(foreign_keys=[acked_a_by_id])
    acked_b_by: Mapped[User | None] = relationship(foreign_keys=[acked_b_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    @property
    def is_active(self) -> bool:
        """Open or acknowledged: still waiting for a resolution."""
        return self.status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)

    def __repr__(self) -> str:
        return f"<Alert {self.id} {self.kind} {self.status}>"


class Notification(Model):
    """A line in a user's inbox; the header's badge counts the unread ones.

    Written only by ``jointops.notifications.service.notify``. ``category`` is one of
    ``jointops.notifications.service.CATEGORIES``; ``link`` is the page it leads to (a path);
    ``alert_id`` is set for lines about an alert (opening the alert marks them read).
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(16), default="alert", server_default="alert")
    link: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    alert: Mapped[Alert | None] = relationship()


# --- background jobs -------------------------------------------------------------------


class SchedulerLease(Model):
    """Who runs the background jobs: one row per lease, held until ``expires_at``.

    A process takes the lease when it is free or expired and renews it while it
    lives; see ``jointops.jobs.lease``.
    """

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobRun(Model):
    """One run of a background job; the (job, scheduled time) pair is claimed once only."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job_id", "scheduled_for", name="uq_job_runs_slot"),
        Index("ix_job_runs_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    holder: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: running, success, failure or interrupted (its scheduler stopped before the end)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    error: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[dict[str, Any]] = mapped_column(db.JSON, default=dict)


# --- notifications by e-mail, and what the jobs remember ---------------------------------


class NotificationPreference(Model):
    """A user's choice to get one category of notifications by e-mail too (no row: yes).

    The agency's policy (``JOINTOPS_EMAIL_POLICY``) still decides; see
    ``jointops.notifications.service``.
    """

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxEmail(Model):
    """One e-mail to send: requests and jobs only insert these; the mail job sends them.

    A failed send is retried with backoff until ``JOINTOPS_MAIL_MAX_ATTEMPTS``,
    then given up (``gave_up_at``, logged and audited); nothing is dropped silently.
    """

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_due", "sent_at", "gave_up_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    category: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertEscalation(Model):
    """How often, and when last, one side's missing acknowledgement was escalated."""

    __tablename__ = "alert_escalations"
    __table_args__ = (CheckConstraint("side IN ('a', 'b')", name="side"),)

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    side: Mapped[str] = mapped_column(String(1), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_escalated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_escalated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EventReminder(Model):
    """A reminder sent: one per event, user, offset and start time (a moved event re-arms)."""

    __tablename__ = "event_reminders"
    __table_args__ = (UniqueConstraint("event_id", "user_id", "offset_minutes", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    offset_minutes: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExpiryWarning(Model):
    """The supervisors were warned that a target expires at ``expires_at`` (re-validation
    moves the expiry, and with it re-arms the warning)."""

    __tablename__ = "target_expiry_warnings"

    target_id: Mapped[int] = mapped_column(
        ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    warned_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- places ---------------------------------------------------------------------------------


class KnownPlaceKind(enum.StrEnum):
    COURTHOUSE = "courthouse"
    CLINIC = "clinic"
    HOSPITAL = "hospital"
    HOUSING_OFFICE = "housing_office"
    SHELTER = "shelter"
    ADVOCACY_CENTER = "advocacy_center"
    OTHER = "other"


class KnownPlace(Model):
    """A place where victim-service appointments happen, kept by the administrators.

    Never geocoded, never sent anywhere: appointments name it, their participants read it.
    A ``confidential`` one (a shelter) is marked as such wherever it is shown.
    """

    __tablename__ = "known_places"
    __table_args__ = (CheckConstraint(_in("kind", KnownPlaceKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AppointmentPlace(Model):
    """Where an appointment happens: a known place or words typed by victim services.

    A table of its own, apart from ``events``: nothing that reads events (feeds,
    deconfliction, the grid) reads it.
    """

    __tablename__ = "appointment_places"
    __table_args__ = (
        CheckConstraint(
            "(known_place_id IS NULL) <> (place_text IS NULL)", name="known_place_or_text"
        ),
    )

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    known_place_id: Mapped[int | None] = mapped_column(ForeignKey("known_places.id"), index=True)
    place_text: Mapped[str | None] = mapped_column(String(300))

    known_place: Mapped[KnownPlace | None] = relationship(lazy="joined")


class GeocodeCacheEntry(Model):
    """A geocoder's answer to one search, kept ``JOINTOPS_GEOCODER_CACHE_DAYS``.

    ``query_key`` is a hash of the geocoder, its address and the normalised text searched: the
    text itself is not stored.
    """

    __tablename__ = "geocode_cache"

    query_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    geocoder: Mapped[str] = mapped_column(String(16))
    #: ``[{"label", "lat", "lon", "quality"}, ...]`` as the geocoder answered
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(db.JSON, default=list)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


# --- second factors (jointops.identity.mfa) -------------------------------------------------


class FactorKind(enum.StrEnum):
    TOTP = "totp"
    WEBAUTHN = "webauthn"


class SecondFactor(Model):
    """A user's named second factor: an authenticator app (TOTP) or a WebAuthn credential.

    ``totp_sealed`` is the TOTP seed encrypted (``jointops.identity.mfa.sealing``); never shown
    again after enrolment. ``totp_last_step`` is the last time step accepted, so a code cannot
    be used twice. A WebAuthn credential keeps only its public key and signature counter.
    """

    __tablename__ = "second_factors"
    __table_args__ = (
        UniqueConstraint("user_id", "name", name="uq_second_factors_user_name"),
        CheckConstraint(_in("kind", FactorKind), name="kind"),
        CheckConstraint(
            "(kind = 'totp') = (totp_sealed IS NOT NULL)"
            " AND (kind = 'webauthn') = (credential_id IS NOT NULL)",
            name="kind_data",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_sealed: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    #: base64url of the WebAuthn credential id, unique across all users
    credential_id: Mapped[str | None] = mapped_column(String(1400), unique=True)
    public_key: Mapped[str | None] = mapped_column(Text)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)


class RecoveryCode(Model):
    """A single-use recovery code, stored as an HMAC (``jointops.identity.mfa.sealing``)."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash", name="uq_recovery_codes_user_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PendingSignIn(Model):
    """A sign-in past the password, waiting for its second factor (or first enrolment).

    The cookie carries a random token, stored here as a hash, until ``expires_at``. Nothing is
    reachable with it but the second-factor pages; completing it deletes the row and opens a
    ``UserSession`` under a new id.
    ``challenge`` is the WebAuthn challenge last offered (base64url), used once.
    """

    __tablename__ = "pending_sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    enrol: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    challenge: Mapped[str | None] = mapped_column(String(128))

    user: Mapped[User] = relationship()


class KeptForm(Model):
    """What a page form held when it was posted after its session had ended
    (``jointops.identity.kept_forms``): as sensitive as the form (notes, a client code), so it
    stays here, never in the cookie, which carries only a random token, stored as a hash.
    Deleted when used, when another user signs in in that browser, or after ``expires_at``.
    ``fields`` is a JSON list of ``[name, value]`` pairs.
    """

    __tablename__ = "kept_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    fields: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# --- personal API tokens (jointops.identity.api_tokens) --------------------------------------


class ApiToken(Model):
    """A personal API token: a script acting as its owner, with the owner's roles, until it
    expires, is revoked or the owner is deactivated. Only an HMAC of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def live_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at and self.user.active


# --- idempotency keys of creates (jointops.idempotency) --------------------------------------


class IdempotentRequest(Model):
    """A create that carried an ``Idempotency-Key``: the key (hashed), its user, a digest of
    the request and what it created, committed in the create's own transaction."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("user_id", "key_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
