""" "Deconflict this plan": what a save would match, as pointers, without storing the item."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from pydantic import BaseModel, Field
from sqlalchemy import Select, select

from auth.policy import (
    DECONFLICTION_OFFICER,
    SUPERVISOR,
    Visibility,
    may_see_targets,
    sees_both_sides,
    told_of_deconfliction,
)
from deconflict.explain import for_side
from deconflict.targets import record_values
from jointops import audit
from jointops.alerts.items import load_keys
from jointops.alerts.notices import involved_user_ids
from jointops.alerts.pointer import Contact, contact_of
from jointops.deconfliction.candidates import Hit, event_hits, target_hits
from jointops.deconfliction.records import (
    EVENT,
    TARGET,
    PlannedOperation,
    TargetPlan,
    draft_target_record,
)
from jointops.extensions import db
from jointops.identity.directory import holders_of
from jointops.models import Agency, AuditEntry, Event, Target, User, utcnow
from jointops.notifications.service import notify
from jointops.officetime import fmt_time
from jointops.transactions import unit_of_work
from jointops.visibility import viewer_of, visibility


@dataclass(frozen=True)
class Pointer:
    """What a pre-check shows of a hit: the other agency, who to call and why; nothing more.

    A hit on the viewer's own agency's item (another case, or none) names that case and its
    lead instead, and never asks the viewer to call themselves.
    """

    agency: Agency
    contact: Contact | None
    strength: str
    score: float
    explanation: str
    own_agency: bool = False
    case: str | None = None
    is_you: bool = False
    #: of a repeating plan, the day of the occurrence the hit concerns
    on: str | None = None

    def as_json(self) -> dict[str, Any]:
        """What the pre-check page shows of it (``PointerOut``): no score, no figure; the
        occurrence's day (``on``) only of a repeating plan."""
        contact = self.contact
        return ({"on": self.on} if self.on is not None else {}) | {
            "agency": self.agency.code,
            "agency_name": self.agency.name,
            "own_agency": self.own_agency,
            "case": self.case,
            "is_you": self.is_you,
            "strength": self.strength,
            "explanation": self.explanation,
            "contact": (
                {"name": contact.name, "phone": contact.phone, "email": contact.email}
                if contact is not None and not self.is_you
                else None
            ),
        }


class ContactOut(BaseModel):
    name: str
    phone: str | None
    email: str | None


class PointerOut(BaseModel):
    """A pre-check's hit: the other agency (or the viewer's own case), who to call and why."""

    agency: str
    agency_name: str
    own_agency: bool
    case: str | None
    is_you: bool
    on: str | None = Field(
        None, description="Of a repeating plan: the day of the occurrence the hit concerns."
    )
    strength: str
    explanation: str
    contact: ContactOut | None


def _pointers(hits: list[Hit], own: Mapping[str, str], viewer: User) -> list[Pointer]:
    """Each hit as the viewer may read it: the other side's agency, who to call, and why in
    terms of the viewer's own plan (the reasons' side "a"); an officer reads both sides."""
    pointers = []
    items = load_keys(h.key for h in hits)
    officer = sees_both_sides(viewer_of(viewer))
    for hit in sorted(hits, key=lambda h: -h.match.score):
        other = items[hit.key]
        agency = other.owner_agency if isinstance(other, Event) else other.agency
        contact = contact_of(other, agency.id)
        own_agency = agency.id == viewer.agency_id
        explanation = hit.match.explanation if officer else for_side(hit.match.reasons, "a", own)
        pointers.append(
            Pointer(
                agency=agency,
                contact=contact,
                strength=str(hit.match.strength),
                score=hit.match.score,
                explanation=explanation,
                own_agency=own_agency,
                case=other.case.number if own_agency and other.case else None,
                is_you=contact is not None and contact.user_id == viewer.id,
            )
        )
    return pointers


class OperationPlan(PlannedOperation, Protocol):
    """An event draft as a pre-check reads it: the rules' facts, its agency, its own words."""

    @property
    def owner_agency_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def location_address(self) -> str | None: ...


ACTION = "deconflict.precheck"
PROBING = "deconflict.probing"


class PrecheckRefused(Exception):
    """Too many pre-checks: the limit of the user or of their agency is reached (429)."""

    status = 429


def precheck_event(draft: OperationPlan, actor: User, event_id: int | None) -> list[Pointer] | None:
    """What saving this plan would match, as pointers; nothing of the plan is stored.

    ``None`` when the plan is not something deconflicted (not an operation).
    Rate-limited (``PrecheckRefused``), audited, and told to the side it hits.
    """
    return precheck_occurrences([(None, draft)], actor, event_id)


def precheck_occurrences(
    plans: Sequence[tuple[str | None, OperationPlan]], actor: User, event_id: int | None
) -> list[Pointer] | None:
    """``precheck_event`` of a repeating plan: each occurrence (its day, its plan) checked as
    saving the series would check it, each hit's pointer naming its day. One pre-check against
    the limits and in the audit trail (its hits are all the occurrences'), so probing is
    flagged as for one plan; each side hit is told once."""
    if not plans or plans[0][1].kind != "operation":
        return None
    now = utcnow()
    _within_limits(actor, now)
    found: list[tuple[str | None, list[Hit]]] = [
        (day, event_hits(plan, event_id=event_id, agency_id=plan.owner_agency_id) or [])
        for day, plan in plans
    ]
    _record(EVENT, actor, event_id, [hit for _, hits in found for hit in hits], now)
    return [replace(p, on=day) for day, hits in found for p in _pointers(hits, {}, actor)]


def precheck_target(draft: TargetPlan, actor: User, target_id: int | None) -> list[Pointer]:
    """What saving this target would match, as pointers; nothing of the target is stored."""
    agency = actor.agency
    if agency is None:
        return []
    now = utcnow()
    _within_limits(actor, now)
    record = draft_target_record(draft, agency.id)
    hits = target_hits(record, target_id=target_id, agency_id=agency.id, case_id=draft.case_id)
    _record(TARGET, actor, target_id, hits, now)
    own = record_values(record)
    own.update({f"{kind}:{n}": raw for n, (kind, raw, _norm) in enumerate(draft.identifiers)})
    return _pointers(hits, own, actor)


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["PRECHECK_WINDOW_MINUTES"])


def _recent(now: datetime) -> Select[Any]:
    """This window's completed pre-checks (bounded by the limits themselves)."""
    return select(AuditEntry).where(
        AuditEntry.action == ACTION,
        AuditEntry.outcome == "success",
        AuditEntry.at > now - _window(),
    )


def _within_limits(actor: User, now: datetime) -> None:
    """Refuse when the user's, or their agency's, pre-checks of this window reach the limit.

    Counted in the database (the audit trail), so the limit holds across workers and hosts.
    """
    config = current_app.config
    mine = list(db.session.scalars(_recent(now).where(AuditEntry.actor_id == actor.id)))
    agency = list(
        db.session.scalars(
            _recent(now)
            .join(User, User.id == AuditEntry.actor_id)
            .where(User.agency_id == actor.agency_id)
        )
    )
    for rows, limit, whose in (
        (mine, config["PRECHECK_LIMIT_PER_USER"], "your"),
        (agency, config["PRECHECK_LIMIT_PER_AGENCY"], "your agency's"),
    ):
        if len(rows) < limit:
            continue
        again = min(r.at for r in rows) + _window()
        audit.record_now(ACTION, outcome="denied", actor=actor, reason="rate_limited")
        raise PrecheckRefused(
            f"That is {whose} limit of {limit} pre-checks in "
            f"{config['PRECHECK_WINDOW_MINUTES']} minutes. Try again after {fmt_time(again)}, "
            "or save the plan: a save is always checked."
        )


def _record(kind: str, actor: User, item_id: int | None, hits: list[Hit], now: datetime) -> None:
    """Audit the pre-check; tell the side each hit concerns; flag repeated probing."""
    with unit_of_work():
        audit.record(
            ACTION,
            object_type=kind,
            object_id=item_id or "",
            actor=actor,
            hits=[f"{t}:{i}" for t, i in (h.key for h in hits)],
        )
        if not hits:
            return
        items = load_keys(h.key for h in hits)
        for key in dict.fromkeys(h.key for h in hits):
            _tell_the_probed(items[key], actor, now)
        _flag_probing(actor, now)


def _tell_the_probed(item: Event | Target, actor: User, now: datetime) -> None:
    """The people of the item hit learn who ran a pre-check against it: their own item and who
    to call, nothing of the plan (as the watch desks of RISSafe and NVPS do)."""
    agency = actor.agency
    who = f"{actor.display_name} ({agency.code if agency else 'no agency'}"
    who += "".join(f", {v}" for v in (actor.phone, actor.email) if v) + ")"
    if isinstance(item, Event):
        own = f"your operation “{item.title}”"
        link = f"/events/{item.id}"
        item_agency = item.owner_agency_id
    else:
        own = f"your target {item.ref}"
        link = f"/targets/{item.id}"
        item_agency = item.agency_id
    people = involved_user_ids(item) | {
        u.id for u in holders_of(SUPERVISOR, agency_ids=[item_agency])
    }
    for person in db.session.scalars(select(User).where(User.id.in_(people - {actor.id}))):
        if not (person.active and told_of_deconfliction(viewer_of(person))):
            continue  # advocates are never told of deconfliction
        if not _may_see(person, item):
            continue
        notify(
            person,
            "alert",
            f"A pre-check by {who} matched {own}. Nothing was saved; "
            "call them before you go ahead.",
            link,
            now=now,
        )


def _may_see(person: User, item: Event | Target) -> bool:
    if isinstance(item, Event):
        return visibility(person, item) is Visibility.FULL
    return may_see_targets(viewer_of(person), item.agency.code)


def _flag_probing(actor: User, now: datetime) -> None:
    """Pre-checks that keep hitting other items are shown to the deconfliction officers, once a
    window per user."""
    hitting = [
        r
        for r in db.session.scalars(_recent(now).where(AuditEntry.actor_id == actor.id))
        if r.detail.get("hits")
    ]
    if len(hitting) + 1 < current_app.config["PRECHECK_PROBING_HITS"]:  # + this one, unflushed
        return
    already = db.session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == PROBING,
            AuditEntry.object_id == str(actor.id),
            AuditEntry.at > now - _window(),
        )
    )
    if already is not None:
        return
    count = len(hitting) + 1
    audit.record(PROBING, object_type="user", object_id=actor.id, actor=actor, hits=count)
    agency = actor.agency.code if actor.agency else "no agency"
    minutes = current_app.config["PRECHECK_WINDOW_MINUTES"]
    for officer in holders_of(DECONFLICTION_OFFICER):
        notify(
            officer,
            "escalation",
            f"Repeated pre-checks: {actor.display_name} ({agency}) ran {count} "
            f"pre-checks that matched other items within {minutes} minutes.",
            "/alerts#precheck-hits",
            now=now,
        )


@dataclass(frozen=True)
class PrecheckHit:
    """A pre-check that matched something, for the deconfliction officers' review page."""

    at: datetime
    who: str
    agency: str
    kind: str
    hits: int
    flagged: bool


def recent_hits(user: User, days: int = 7) -> list[PrecheckHit]:
    """Pre-checks that hit other items in the last ``days`` days; only for the officers."""
    if not sees_both_sides(viewer_of(user)):
        return []
    since = utcnow() - timedelta(days=days)
    flagged = {
        r.object_id
        for r in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == PROBING, AuditEntry.at > since)
        )
    }
    rows = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == ACTION, AuditEntry.outcome == "success", AuditEntry.at > since)
        .order_by(AuditEntry.at.desc())
    )
    found = []
    for row in rows:
        if not row.detail.get("hits"):
            continue
        person = db.session.get(User, row.actor_id) if row.actor_id else None
        found.append(
            PrecheckHit(
                at=row.at,
                who=person.display_name if person else row.actor_username,
                agency=person.agency.code if person and person.agency else "",
                kind="Operation" if row.object_type == EVENT else "Target",
                hits=len(row.detail["hits"]),
                flagged=str(row.actor_id) in flagged,
            )
        )
    return found
