"""Known places of appointments: kept by administrators, named by appointments, read by the
appointments' participants only. Never geocoded, never in a feed, never deconflicted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from auth.policy import may_create, may_see_appointment_place
from jointops import audit
from jointops.catalog import PLACE_KIND_LABELS
from jointops.extensions import db
from jointops.models import Event, KnownPlace, KnownPlaceKind, User, utcnow
from jointops.transactions import unit_of_work
from jointops.visibility import facts_of, viewer_of

NAME_MAX = 120
ADDRESS_MAX = 300


@dataclass
class KnownPlaceDraft:
    name: str
    address: str
    kind: str
    confidential: bool = False
    active: bool = True


class KnownPlaceErrors(Exception):
    """The draft breaks rules: field name -> messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def validate_known_place(draft: KnownPlaceDraft, place_id: int | None = None) -> KnownPlaceDraft:
    """The draft as stored (blanks trimmed), or ``KnownPlaceErrors`` naming each field."""
    errors: dict[str, list[str]] = {}
    name, address = " ".join(draft.name.split()), " ".join(draft.address.split())
    if not name:
        errors["name"] = ["A name is required."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"At most {NAME_MAX} characters."]
    else:
        same = select(KnownPlace.id).where(func.lower(KnownPlace.name) == name.lower())
        if place_id is not None:
            same = same.where(KnownPlace.id != place_id)
        if db.session.scalar(same) is not None:
            errors["name"] = ["Another known place has this name."]
    if not address:
        errors["address"] = ["An address is required."]
    elif len(address) > ADDRESS_MAX:
        errors["address"] = [f"At most {ADDRESS_MAX} characters."]
    if draft.kind not in set(KnownPlaceKind):
        errors["kind"] = ["Choose a kind of place."]
    if errors:
        raise KnownPlaceErrors(errors)
    return KnownPlaceDraft(name, address, draft.kind, draft.confidential, draft.active)


def save_known_place(
    draft: KnownPlaceDraft, actor: User, place: KnownPlace | None = None
) -> KnownPlace:
    """Create or change a known place and commit; ``KnownPlaceErrors`` changes nothing."""
    draft = validate_known_place(draft, place.id if place else None)
    creating = place is None
    with unit_of_work():
        saved = KnownPlace() if place is None else db.session.get(KnownPlace, place.id) or place
        changed = sorted(
            name
            for name in ("name", "address", "kind", "confidential", "active")
            if getattr(saved, name) != getattr(draft, name)
        )
        for name in changed:
            setattr(saved, name, getattr(draft, name))
        saved.updated_at = utcnow()
        if creating:
            db.session.add(saved)
        db.session.flush()
        audit.record(
            "place.create" if creating else "place.update",
            object_type="known_place",
            object_id=saved.id,
            actor=actor,
            changed=changed,
        )
    return saved


def set_active(place: KnownPlace, active: bool, actor: User) -> None:
    """Take a place out of use (appointments that name it keep it) or back into use."""
    with unit_of_work():
        place = db.session.get(KnownPlace, place.id) or place
        place.active = active
        place.updated_at = utcnow()
        audit.record(
            "place.activate" if active else "place.deactivate",
            object_type="known_place",
            object_id=place.id,
            actor=actor,
        )


def known_places(*, include_inactive: bool) -> list[KnownPlace]:
    query = select(KnownPlace).order_by(KnownPlace.active.desc(), KnownPlace.name)
    if not include_inactive:
        query = query.where(KnownPlace.active.is_(True))
    return list(db.session.scalars(query))


def find_known_place(place_id: int) -> KnownPlace | None:
    return db.session.get(KnownPlace, place_id)


def choice_label(place: KnownPlace) -> str:
    kind = PLACE_KIND_LABELS.get(place.kind, place.kind)
    return f"{place.name} ({kind}{', confidential' if place.confidential else ''})"


def places_to_choose(actor: User, current: int | None = None) -> list[KnownPlace]:
    """The places an appointment may name, for those who schedule appointments (nobody else is
    told where the shelters are); the event's current place too, even out of use."""
    if not may_create(viewer_of(actor), "appointment"):
        return []
    usable = or_(KnownPlace.active.is_(True), KnownPlace.id == current)
    return list(db.session.scalars(select(KnownPlace).where(usable).order_by(KnownPlace.name)))


@dataclass(frozen=True)
class ShownPlace:
    """An appointment's place as its participants read it."""

    name: str
    address: str | None
    kind: str | None
    confidential: bool


def may_see_place(user: User, event: Event) -> bool:
    return may_see_appointment_place(viewer_of(user), facts_of(event))


def place_shown_to(user: User, event: Event) -> ShownPlace | None:
    """Where the appointment happens, if ``user`` takes part in it (its lead or participant)."""
    if event.kind != "appointment" or not may_see_place(user, event):
        return None
    chosen = event.appointment_place
    if chosen is None:
        return None
    known = chosen.known_place
    if known is None:
        return ShownPlace(chosen.place_text or "", None, None, False)
    return ShownPlace(
        known.name, known.address, PLACE_KIND_LABELS.get(known.kind), known.confidential
    )
