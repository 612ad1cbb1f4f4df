""" "Deconflict this plan": what a save would match, as pointers, without storing the item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from auth.policy import pointer_explanation
from jointops import audit
from jointops.alerts.items import load_keys
from jointops.alerts.pointer import Contact, contact_of, item_values
from jointops.deconfliction.candidates import Hit, event_hits, target_hits
from jointops.deconfliction.records import (
    EVENT,
    TARGET,
    PlannedOperation,
    TargetPlan,
    draft_target_record,
)
from jointops.models import (
    Agency,
    Event,
    User,
)


@dataclass(frozen=True)
class Pointer:
    """What a pre-check shows of a hit: the other agency, who to call and why; nothing more."""

    agency: Agency
    contact: Contact | None
    strength: str
    score: float
    explanation: str


def _pointers(hits: list[Hit], own_values: list[str]) -> list[Pointer]:
    pointers = []
    items = load_keys(h.key for h in hits)
    for hit in sorted(hits, key=lambda h: -h.match.score):
        other = items[hit.key]
        agency = other.owner_agency if isinstance(other, Event) else other.agency
        pointers.append(
            Pointer(
                agency=agency,
                contact=contact_of(other, agency.id),
                strength=str(hit.match.strength),
                score=hit.match.score,
                explanation=pointer_explanation(
                    hit.match.explanation, own_values, item_values(other)
                ),
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


def precheck_event(draft: OperationPlan, actor: User, event_id: int | None) -> list[Pointer] | None:
    """What saving this plan would match, as pointers; stores nothing but the audit entry.

    ``None`` when the plan is not something deconflicted (not an operation).
    """
    hits = event_hits(draft, event_id=event_id, agency_id=draft.owner_agency_id)
    if hits is None:
        return None
    _audit_precheck(EVENT, actor, event_id, hits)
    return _pointers(hits, [draft.title, draft.location_address or ""])


def precheck_target(draft: TargetPlan, actor: User, target_id: int | None) -> list[Pointer]:
    """What saving this target would match, as pointers; stores nothing but the audit entry."""
    agency = actor.agency
    if agency is None:
        return []
    hits = target_hits(
        draft_target_record(draft, agency.id),
        target_id=target_id,
        agency_id=agency.id,
        case_id=draft.case_id,
    )
    _audit_precheck(TARGET, actor, target_id, hits)
    own = [draft.ref, draft.first_name, draft.last_name, *draft.aliases]
    own += [v for _kind, raw, norm in draft.identifiers for v in (raw, norm)]
    return _pointers(hits, own)


def _audit_precheck(kind: str, actor: User, item_id: int | None, hits: list[Hit]) -> None:
    """A pre-check reveals who else works a place or a subject: it is audited like a view."""
    audit.record_now(
        "deconflict.precheck",
        object_type=kind,
        object_id=item_id or "",
        actor=actor,
        hits=[f"{t}:{i}" for t, i in (h.key for h in hits)],
    )
