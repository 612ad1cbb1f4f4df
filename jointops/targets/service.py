"""Targets: entering, changing and re-validating an agency's targets (28 CFR Part 23).

The form and the CSV import build a ``TargetDraft`` through the same
``draft_from_values``, so that a value refused on one is refused on the other
with the same words. ``save_target`` stores the target, its identifiers (as
typed and normalised) and its blocking keys, then runs deconfliction.

A target is valid for at most five years from its validation; only a
re-validation with a reason extends it (``revalidate``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from deconflict.identifiers import InvalidIdentifier, identifier_warning, normalize
from deconflict.targets import target_keys
from jointops import audit
from jointops.deconfliction import pending
from jointops.deconfliction.records import TARGET, target_record
from jointops.deconfliction.sync import sync_target
from jointops.extensions import db
from jointops.models import Case, Target, TargetIdentifier, TargetKey, User, utcnow
from jointops.transactions import unit_of_work

VALIDITY_YEARS = 5
#: form field / CSV column -> identifier kind
IDENTIFIER_FIELDS: dict[str, str] = {
    "phones": "phone",
    "emails": "email",
    "plates": "plate",
    "vins": "vin",
    "addresses": "address",
    "handles": "handle",
    "businesses": "business",
}
REF_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
MIN_JUSTIFICATION = 20
MAX_VALUES = 50
MAX_VALUE_LENGTH = 300
MAX_NAME = 100
MAX_CASE_NUMBER = 64
MAX_CASE_TITLE = 200


class TargetErrors(Exception):
    """Values refused, by field name (the form's field, the CSV's column); ``warnings``, by
    field name too, about values that were not refused (see ``TargetDraft.warnings``)."""

    def __init__(
        self,
        errors: Mapping[str, list[str]],
        warnings: Mapping[str, list[str]] | None = None,
    ) -> None:
        self.errors = {k: list(v) for k, v in errors.items() if v}
        self.warnings = {k: list(v) for k, v in (warnings or {}).items() if v}
        super().__init__(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()) or "invalid"
        )


@dataclass
class TargetDraft:
    """Validated values of a target; identifiers as (kind, raw, normalised)."""

    case_id: int
    ref: str
    first_name: str
    last_name: str
    aliases: list[str]
    dob: date | None
    justification: str
    identifiers: list[tuple[str, str, str]] = field(default_factory=list)
    #: doubts about values stored all the same, by field name (a VIN whose check digit does
    #: not match): the form shows them, the import lists them
    warnings: dict[str, list[str]] = field(default_factory=dict)


def split_values(text: str | None) -> list[str]:
    """One value per line, or several on a line separated by ``;`` (as in CSV cells)."""
    return [v.strip() for v in re.split(r"[;\r\n]+", text or "") if v.strip()]


def parse_identifiers(kind: str, text: str | None) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Normalise each value; returns what was understood and one message per value refused."""
    found: list[tuple[str, str, str]] = []
    errors: list[str] = []
    seen: set[str] = set()
    values = split_values(text)
    if len(values) > MAX_VALUES:
        return [], [f"At most {MAX_VALUES} values."]
    for raw in values:
        if len(raw) > MAX_VALUE_LENGTH:
            errors.append(f"“{raw[:40]}…”: at most {MAX_VALUE_LENGTH} characters.")
            continue
        try:
            normalized = normalize(kind, raw)
        except InvalidIdentifier as exc:
            errors.append(f"“{raw}”: {exc.reason}.")
            continue
        if normalized not in seen:
            seen.add(normalized)
            found.append((kind, raw, normalized))
    return found, errors


@dataclass(frozen=True)
class FieldReading:
    """What one identifier field of the form is read as: ``(kind, raw, normalized)`` values,
    one message per value refused, one per value kept with a warning."""

    values: list[tuple[str, str, str]]
    problems: list[str]
    warnings: list[str]

    def as_data(self) -> dict[str, Any]:
        return {
            "understood": [{"typed": raw, "as": normalized} for _, raw, normalized in self.values],
            "problems": self.problems,
            "warnings": self.warnings,
        }


def read_field(name: str, text: str | None) -> FieldReading:
    """The identifiers of the form's field ``name`` (a key of ``IDENTIFIER_FIELDS``)."""
    kind = IDENTIFIER_FIELDS[name]
    values, problems = parse_identifiers(kind, text)
    warnings = [
        f"“{raw}”: {warning}."
        for _kind, raw, normalized in values
        if (warning := identifier_warning(kind, normalized))
    ]
    return FieldReading(values, problems, warnings)


def parse_dob(text: str) -> date | None:
    """``YYYY-MM-DD`` or nothing; raises ``ValueError`` with the reason."""
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"“{text}” is not a date as YYYY-MM-DD.")


def draft_from_values(
    *,
    case_id: int,
    ref: str,
    first_name: str,
    last_name: str,
    aliases: str,
    dob: date | None,
    justification: str,
    identifiers: Mapping[str, str],
) -> TargetDraft:
    """Check and normalise a target's values; raises ``TargetErrors`` naming each field."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    ref = ref.strip()
    if not ref:
        fail("target_ref", "A reference is required.")
    elif not REF_PATTERN.match(ref):
        fail(
            "target_ref",
            "Letters, digits and . _ / - only, at most 64 characters, starting with a letter "
            "or digit.",
        )
    first_name, last_name = first_name.strip(), last_name.strip()
    for name, value in (("first_name", first_name), ("last_name", last_name)):
        if len(value) > MAX_NAME:
            fail(name, f"At most {MAX_NAME} characters.")
    alias_list = split_values(aliases)
    if len(alias_list) > 20 or any(len(a) > MAX_NAME for a in alias_list):
        fail("aliases", f"At most 20 aliases of {MAX_NAME} characters each.")
    if dob is not None and not date(1900, 1, 1) <= dob <= date.today():
        fail("dob", "A date of birth between 1900 and today.")
    justification = justification.strip()
    if not justification:
        fail(
            "justification",
            "State the reasonable suspicion of criminal activity (28 CFR 23.20): it is required.",
        )
    elif len(justification) < MIN_JUSTIFICATION:
        fail(
            "justification",
            f"Say what the reasonable suspicion rests on, in at least {MIN_JUSTIFICATION} "
            "characters.",
        )
    elif len(justification) > 5000:
        fail("justification", "At most 5,000 characters.")
    found: list[tuple[str, str, str]] = []
    warnings: dict[str, list[str]] = {}
    for name in IDENTIFIER_FIELDS:
        reading = read_field(name, identifiers.get(name))
        found += reading.values
        for problem in reading.problems:
            fail(name, problem)
        if reading.warnings:
            warnings[name] = reading.warnings
    if not (first_name or last_name or alias_list or found) and not errors:
        fail("last_name", "Give a name or at least one identifier.")
    if errors:
        raise TargetErrors(errors, warnings)
    return TargetDraft(
        case_id=case_id,
        ref=ref,
        first_name=first_name,
        last_name=last_name,
        aliases=alias_list,
        dob=dob,
        justification=justification,
        identifiers=found,
        warnings=warnings,
    )


def years_after(moment: datetime, years: int = VALIDITY_YEARS) -> datetime:
    """The same instant ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def agency_cases(agency_id: int | None) -> list[Case]:
    return list(
        db.session.scalars(select(Case).where(Case.agency_id == agency_id).order_by(Case.number))
    )


def ref_taken(agency_id: int, ref: str, exclude_id: int | None = None) -> bool:
    query = select(Target.id).where(Target.agency_id == agency_id, Target.ref == ref)
    if exclude_id is not None:
        query = query.where(Target.id != exclude_id)
    return db.session.scalar(query) is not None


def _check_case(draft: TargetDraft, agency_id: int, stored_case_id: int | None) -> None:
    """The case is the agency's, and open unless the target is already on it."""
    case = db.session.get(Case, draft.case_id)
    if case is None or case.agency_id != agency_id:
        raise TargetErrors({"case_id": ["Choose a case of your agency."]})
    closed = case.refusal_of_new(stored_case_id)
    if closed:
        raise TargetErrors({"case_id": [closed]})


def apply_draft(draft: TargetDraft, target: Target) -> set[str]:
    """Copy the draft onto the target with its identifiers and keys; the names of the fields
    that changed."""
    changed: set[str] = set()
    for name in ("case_id", "ref", "first_name", "last_name", "dob", "justification"):
        value = getattr(draft, name)
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed.add(name)
    if list(target.aliases or []) != draft.aliases:
        target.aliases = list(draft.aliases)
        changed.add("aliases")
    before = [(i.kind, i.raw, i.normalized) for i in target.identifiers]
    if before != draft.identifiers:
        kept = {(i.kind, i.raw, i.normalized): i for i in target.identifiers}
        target.identifiers = [
            kept.get(v) or TargetIdentifier(kind=v[0], raw=v[1], normalized=v[2])
            for v in draft.identifiers
        ]
        changed.add("identifiers")
    wanted = target_keys(target_record(target))
    have = {k.key: k for k in target.keys}
    if set(have) != wanted:
        target.keys = [have.get(k) or TargetKey(key=k) for k in sorted(wanted)]
    return changed


def save_target(draft: TargetDraft, actor: User, target: Target | None = None) -> Target:
    """Create (or change) a target and commit; then deconflict it against other agencies'.

    Raises ``TargetErrors`` (nothing stored) when the reference is taken or the
    case is not the agency's.
    """
    [saved] = store_targets([draft], actor, target)
    deconflict_targets([saved], actor)
    return saved


def store_targets(
    drafts: list[TargetDraft], actor: User, target: Target | None = None, *, via: str = "form"
) -> list[Target]:
    """Store drafts in one transaction (all or nothing); deconfliction is the caller's next step.

    ``target`` is the one being changed when a single draft edits it.
    """
    if actor.agency_id is None:
        raise TargetErrors({"case_id": ["You belong to no agency."]})
    agency_id = actor.agency_id
    stored: list[Target] = []
    try:
        with unit_of_work():
            for draft in drafts:
                current = (
                    db.session.get(Target, target.id, populate_existing=True)
                    if target is not None
                    else None
                )
                _check_case(draft, agency_id, current.case_id if current else None)
                if ref_taken(agency_id, draft.ref, current.id if current else None):
                    raise TargetErrors(
                        {"target_ref": [f"{draft.ref} is already a target of yours."]}
                    )
                now = utcnow()
                creating = current is None
                row = current or Target(
                    agency_id=agency_id,
                    submitter_id=actor.id,
                    validated_at=now,
                    expires_at=years_after(now),
                    aliases=[],
                )
                if creating:
                    db.session.add(row)
                changed = apply_draft(draft, row)
                if changed and not creating:
                    row.updated_at = now
                db.session.flush()
                pending.mark(TARGET, row.id, now)
                audit.record(
                    "target.create" if creating else "target.update",
                    object_type="target",
                    object_id=row.id,
                    actor=actor,
                    ref=row.ref,
                    changed=sorted(changed),
                    via=via,
                    **_warned(draft),
                )
                stored.append(row)
    except IntegrityError:
        raise TargetErrors({"target_ref": ["That reference was taken a moment ago."]}) from None
    return stored


def _warned(draft: TargetDraft) -> dict[str, Any]:
    """The audit's note of the fields stored with a warning, if any."""
    return {"warnings": sorted(draft.warnings)} if draft.warnings else {}


def deconflict_targets(targets: list[Target], actor: User | None) -> None:
    """Run deconfliction for stored targets, each in a transaction of its own.

    A check that fails leaves its target marked for the sweep; the others go on.
    """
    for target in targets:
        pending.check(TARGET, target.id, partial(sync_target, target, actor))


def revalidate(target: Target, actor: User, reason: str) -> Target:
    """Validate the target again from now, for another five years; the reason is kept."""
    with unit_of_work():
        row = db.session.get_one(Target, target.id, populate_existing=True)
        now = utcnow()
        before = row.expires_at
        row.validated_at, row.expires_at = now, years_after(now)
        row.revalidation_reason = reason
        row.updated_at = now
        pending.mark(TARGET, row.id, now)
        audit.record(
            "target.revalidate",
            object_type="target",
            object_id=row.id,
            actor=actor,
            reason=reason,
            expired_before=before.isoformat(),
        )
    deconflict_targets([row], actor)  # an expired target is deconflicted again
    return row


def check_case_values(number: str, title: str) -> tuple[str, str]:
    """A case's number and title, stripped; ``TargetErrors`` naming each field refused."""
    number, title = number.strip(), title.strip()
    errors: dict[str, list[str]] = {}
    if not number:
        errors["number"] = ["A case number is required."]
    elif len(number) > MAX_CASE_NUMBER or not number.isprintable():
        errors["number"] = [f"At most {MAX_CASE_NUMBER} printable characters."]
    if not title:
        errors["title"] = ["A title is required."]
    elif len(title) > MAX_CASE_TITLE or not title.isprintable():
        errors["title"] = [f"At most {MAX_CASE_TITLE} printable characters."]
    if errors:
        raise TargetErrors(errors)
    return number, title


def _number_taken(
    agency_id: int, number: str, exclude_id: int | None = None
) -> TargetErrors | None:
    query = select(Case.id).where(Case.agency_id == agency_id, Case.number == number)
    if exclude_id is not None:
        query = query.where(Case.id != exclude_id)
    if db.session.scalar(query) is None:
        return None
    return TargetErrors({"number": [f"{number} is already a case of your agency."]})


def add_case(agency_id: int, number: str, title: str, lead: User, *, via: str = "form") -> Case:
    """Add a case to the session (the caller's unit of work commits it)."""
    number, title = check_case_values(number, title)
    taken = _number_taken(agency_id, number)
    if taken is not None:
        raise taken
    case = Case(agency_id=agency_id, number=number, title=title, lead_id=lead.id)
    db.session.add(case)
    db.session.flush()
    audit.record(
        "case.create", object_type="case", object_id=case.id, actor=lead, number=number, via=via
    )
    return case


def create_case(agency_id: int, number: str, title: str, lead: User) -> Case:
    """Open a case of the agency, led by ``lead``; ``TargetErrors`` if refused."""
    try:
        with unit_of_work():
            case = add_case(agency_id, number, title, lead)
    except IntegrityError:
        raise TargetErrors({"number": ["That case number was taken a moment ago."]}) from None
    return case


def update_case(case: Case, number: str, title: str, actor: User) -> Case:
    """Change a case's number and title; ``TargetErrors`` if refused (nothing changed)."""
    number, title = check_case_values(number, title)
    try:
        with unit_of_work():
            row = db.session.get_one(Case, case.id, populate_existing=True)
            taken = _number_taken(row.agency_id, number, row.id)
            if taken is not None:
                raise taken
            changed = sorted(
                name
                for name, value in (("number", number), ("title", title))
                if getattr(row, name) != value
            )
            row.number, row.title = number, title
            audit.record(
                "case.update", object_type="case", object_id=row.id, actor=actor, changed=changed
            )
    except IntegrityError:
        raise TargetErrors({"number": ["That case number was taken a moment ago."]}) from None
    return row


def set_case_closed(case: Case, closed: bool, actor: User) -> Case:
    """Close a case (it takes no new targets or events; what it holds stays) or reopen it."""
    with unit_of_work():
        row = db.session.get_one(Case, case.id, populate_existing=True)
        if row.is_closed != closed:
            row.closed_at = utcnow() if closed else None
            audit.record(
                "case.close" if closed else "case.reopen",
                object_type="case",
                object_id=row.id,
                actor=actor,
                number=row.number,
            )
    return row


def find_case(case_id: int) -> Case | None:
    return db.session.get(Case, case_id)


def case_counts(case_ids: list[int]) -> dict[int, int]:
    """How many targets each case holds."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(Target.case_id, func.count())
        .where(Target.case_id.in_(case_ids))
        .group_by(Target.case_id)
    )
    return {case_id: count for case_id, count in rows}


def find_target(target_id: int) -> Target | None:
    return db.session.get(Target, target_id)


def agency_targets(agency_id: int | None) -> list[Target]:
    """The agency's targets, by reference."""
    return list(
        db.session.scalars(select(Target).where(Target.agency_id == agency_id).order_by(Target.ref))
    )
