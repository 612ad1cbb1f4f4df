"""Stored rows, and the drafts of the forms, onto the records ``deconflict`` compares.

The drafts are described here by what the rules read of them (protocols), so
that this package needs nothing of the events and targets packages that call it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from flask import current_app

from deconflict.events import (
    EventRules,
    OperationRecord,
)
from deconflict.identifiers import Identifier, IdentifierKind
from deconflict.names import PersonName
from deconflict.targets import TargetRecord
from deconflict.windows import Window
from jointops.deconfliction.target_keys import person_name
from jointops.models import (
    EventStatus,
    Target,
)


class PlannedOperation(Protocol):
    """What the event rules read of an event or of an event draft."""

    @property
    def kind(self) -> str: ...
    @property
    def subtype(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def case_id(self) -> int | None: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...
    @property
    def radius_m(self) -> int | None: ...


class PersonFacts(Protocol):
    """What the name rules read of a target or of a target draft."""

    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...
    @property
    def aliases(self) -> list[str] | None: ...
    @property
    def dob(self) -> date | None: ...


class TargetPlan(PersonFacts, Protocol):
    """A target draft: its reference, case and identifiers as (kind, raw, normalised); a draft
    always has its names and aliases (empty when none)."""

    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def aliases(self) -> list[str]: ...
    @property
    def ref(self) -> str: ...
    @property
    def case_id(self) -> int: ...
    @property
    def identifiers(self) -> list[tuple[str, str, str]]: ...


EVENT: Literal["event"] = "event"
TARGET: Literal["target"] = "target"


# --- rows onto records -------------------------------------------------------------------


def event_rules() -> EventRules:
    """The buffer from the configuration; each kind's default radius is the rules' own."""
    return EventRules(buffer=timedelta(minutes=current_app.config["DECONFLICT_BUFFER_MINUTES"]))


def operation_record(item: PlannedOperation, ref: str, agency_id: int) -> OperationRecord | None:
    """An operation with a place, not cancelled; ``None`` for anything else.

    Records name their agency by its id: the rules only compare agencies, and
    the check then needs no agency row."""
    if (
        item.kind != "operation"
        or item.status == EventStatus.CANCELLED
        or item.latitude is None
        or item.longitude is None
    ):
        return None
    return operation_of(item, ref, agency_id)


def operation_of(item: Any, ref: str, agency_id: int) -> OperationRecord:
    """The rules' record of an event, a draft or a row of ``EVENT_COLUMNS``."""
    return OperationRecord(
        ref=ref,
        agency=str(agency_id),
        case=str(item.case_id) if item.case_id is not None else None,
        subtype=item.subtype,
        window=Window(item.starts_at, item.ends_at),
        latitude=item.latitude,
        longitude=item.longitude,
        radius_m=item.radius_m,
    )


def person_of(item: PersonFacts) -> PersonName | None:
    return person_name(item.first_name, item.last_name, item.aliases, item.dob)


def target_record(target: Target) -> TargetRecord:
    """The rules' view of a stored target."""
    return TargetRecord(
        ref=target.ref,
        agency=str(target.agency_id),
        case=str(target.case_id),
        person=person_of(target),
        identifiers=tuple(
            Identifier(IdentifierKind(i.kind), i.normalized) for i in target.identifiers
        ),
    )


def draft_target_record(draft: TargetPlan, agency_id: int) -> TargetRecord:
    return TargetRecord(
        ref=draft.ref or "draft",
        agency=str(agency_id),
        case=str(draft.case_id),
        person=person_of(draft),
        identifiers=tuple(
            Identifier(IdentifierKind(kind), value) for kind, _raw, value in draft.identifiers
        ),
    )
