"""Importing targets from CSV: every row checked as the form checks it, all or nothing.

Columns (a header row, in any order): ``case_number, target_ref, first_name,
last_name, aliases, dob, phones, emails, plates, vins, addresses, handles,
businesses, justification``. Dates as ``YYYY-MM-DD``; several values in one
cell separated by ``;``; plates as ``STATE:PLATE``, handles as
``platform:handle``. A bad row is reported with its line number in the file
and the reason; unless ``skip_bad``, no row of a file with errors is stored.
A case number the agency does not have is a bad row, unless ``create_cases``:
then the case is created (titled with its number), with the targets, in the same
transaction.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from auth.policy import may_edit_targets
from deconflict.targets import target_keys
from jointops import audit
from jointops.alerts.items import load_keys
from jointops.deconfliction import pending
from jointops.deconfliction.candidates import Hit, StoredTarget, many_target_hits
from jointops.deconfliction.records import TARGET, draft_target_record
from jointops.deconfliction.sync import AlertBatch, SyncReport, sync_loaded_target, sync_target
from jointops.extensions import db
from jointops.models import (
    Agency,
    Alert,
    Case,
    Target,
    TargetIdentifier,
    TargetKey,
    User,
    utcnow,
)
from jointops.targets.service import (
    IDENTIFIER_FIELDS,
    TargetDraft,
    TargetErrors,
    add_case,
    check_case_values,
    deconflict_targets,
    draft_from_values,
    parse_dob,
    store_targets,
    years_after,
)
from jointops.transactions import unit_of_work
from jointops.visibility import viewer_of

COLUMNS = (
    "case_number",
    "target_ref",
    "first_name",
    "last_name",
    "aliases",
    "dob",
    "phones",
    "emails",
    "plates",
    "vins",
    "addresses",
    "handles",
    "businesses",
    "justification",
)
REQUIRED_COLUMNS = ("case_number", "target_ref", "justification")
MAX_ROWS = 10_000
#: Targets deconflicted together: one candidate lookup and one transaction of alerts each.
CHUNK = 500
#: Rows of one bulk insert statement.
BULK_ROWS = 5_000

#: Told how many of the stored targets are deconflicted, of how many.
Progress = Callable[[int, int], None]

log = logging.getLogger("jointops.targets.import")


class ImportRefused(Exception):
    """The import cannot start: unknown agency or user, or a file that is not the format."""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    stored: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: doubts about values that were not refused (a VIN whose check digit does not match),
    #: by line: such a row is stored all the same
    warnings: list[RowError] = field(default_factory=list)
    #: rows read (the header excluded)
    rows: int = 0
    alerts: int = 0
    #: case numbers the file names that the agency lacks (created with ``create_cases``)
    new_cases: list[str] = field(default_factory=list)


def resolve_importer(agency_code: str, username: str) -> tuple[Agency, User]:
    """The agency and the submitting user: active, of that agency, allowed to enter targets."""
    agency = db.session.scalar(select(Agency).where(Agency.code == agency_code.strip().upper()))
    if agency is None:
        raise ImportRefused(f"--agency: no agency {agency_code!r}")
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        raise ImportRefused(f"--user: no active user {username!r}")
    if user.agency_id != agency.id:
        raise ImportRefused(f"--user: {user.username} is not of {agency.code}")
    if not may_edit_targets(viewer_of(user), agency.code):
        raise ImportRefused(
            f"--user: {user.username} may not enter targets (investigators and supervisors do)"
        )
    return agency, user


class GoodRow(NamedTuple):
    line: int
    case_number: str
    draft: TargetDraft


def read_rows(
    text: str, agency: Agency, *, create_cases: bool = False
) -> tuple[list[GoodRow], ImportReport]:
    """Parse and check every row; the good rows' drafts, and the errors.

    With ``create_cases``, a row may name a case the agency lacks: its draft's ``case_id`` is
    0 and the number is in ``report.new_cases`` (see ``import_targets``).
    """
    report = ImportReport()
    reader = csv.DictReader(text.splitlines(keepends=True), restval="", strict=True)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise ImportRefused(f"line 1: not CSV ({exc})") from None
    if not header:
        raise ImportRefused("line 1: the file is empty; expected a header row")
    names = [h.strip() for h in header]
    reader.fieldnames = names
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    unknown = [c for c in names if c not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
        raise ImportRefused(f"line 1: {'; '.join(parts)} (columns: {', '.join(COLUMNS)})")
    if len(set(names)) != len(names):
        raise ImportRefused("line 1: a column is named twice")

    stored_cases = list(db.session.scalars(select(Case).where(Case.agency_id == agency.id)))
    cases = {c.number: c.id for c in stored_cases}
    closed = {c.number: refusal for c in stored_cases if (refusal := c.refusal_of_new(None))}
    existing = set(db.session.scalars(select(Target.ref).where(Target.agency_id == agency.id)))
    seen: dict[str, int] = {}
    drafts: list[GoodRow] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.errors.append(RowError(reader.line_num, f"not valid CSV ({exc})"))
            break
        # the line the record starts on (a quoted cell may span lines; blank lines are skipped)
        line = reader.line_num - sum(v.count("\n") for v in row.values() if isinstance(v, str))
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        report.rows += 1
        if report.rows > MAX_ROWS:
            raise ImportRefused(f"line {line}: at most {MAX_ROWS:,} rows per file")
        extra = row.pop(None, None)
        if extra:
            report.errors.append(RowError(line, f"{len(extra)} more cell(s) than columns"))
            continue
        problems = _row_problems(row, cases, existing, seen, agency, create_cases, closed)
        draft, errors, warnings = _draft(row, cases)
        problems += errors
        report.warnings += [RowError(line, warning) for warning in warnings]
        ref = (row.get("target_ref") or "").strip()
        seen.setdefault(ref, line)
        if problems or draft is None:
            report.errors.append(RowError(line, "; ".join(problems)))
            continue
        number = (row.get("case_number") or "").strip()
        if number not in cases and number not in report.new_cases:
            report.new_cases.append(number)
        drafts.append(GoodRow(line, number, draft))
    return drafts, report


def _row_problems(
    row: dict[str, str],
    cases: dict[str, int],
    existing: set[str],
    seen: dict[str, int],
    agency: Agency,
    create_cases: bool,
    closed: dict[str, str],
) -> list[str]:
    problems = []
    number = (row.get("case_number") or "").strip()
    if not number:
        problems.append("case_number: required")
    elif number in closed:
        problems.append(f"case_number: {closed[number]}")
    elif number not in cases and not create_cases:
        problems.append(
            f"case_number: {number} is not a case of {agency.code} "
            "(--create-cases creates the missing ones)"
        )
    elif number not in cases:
        try:
            check_case_values(number, number)
        except TargetErrors as refused:
            problems.append(f"case_number: {' '.join(refused.errors.get('number', []))}")
    ref = (row.get("target_ref") or "").strip()
    if ref in existing:
        problems.append(f"target_ref: {ref} is already a target of {agency.code}")
    elif ref and ref in seen:
        problems.append(f"target_ref: {ref} is also on line {seen[ref]}")
    return problems


def _draft(
    row: dict[str, str], cases: dict[str, int]
) -> tuple[TargetDraft | None, list[str], list[str]]:
    """The row's draft (``None`` if it is bad), its problems and its warnings."""
    problems: list[str] = []
    try:
        dob = parse_dob(row.get("dob") or "")
    except ValueError as exc:
        problems.append(f"dob: {exc}")
        dob = None
    try:
        draft = draft_from_values(
            case_id=cases.get((row.get("case_number") or "").strip(), 0),
            ref=row.get("target_ref") or "",
            first_name=row.get("first_name") or "",
            last_name=row.get("last_name") or "",
            aliases=row.get("aliases") or "",
            dob=dob,
            justification=row.get("justification") or "",
            identifiers={name: row.get(name) or "" for name in IDENTIFIER_FIELDS},
        )
    except TargetErrors as refused:
        problems += [f"{name}: {' '.join(messages)}" for name, messages in refused.errors.items()]
        return None, problems, _warnings(refused.warnings)
    return (None if problems else draft), problems, _warnings(draft.warnings)


def _warnings(by_field: dict[str, list[str]]) -> list[str]:
    return [f"{name}: {message}" for name, messages in by_field.items() for message in messages]


def import_targets(
    text: str,
    agency: Agency,
    user: User,
    *,
    skip_bad: bool = False,
    create_cases: bool = False,
    batched: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row; store them all (or, with ``skip_bad``, the good ones); deconflict.

    Nothing is stored when any row is bad and ``skip_bad`` is false. A row with a warning
    (``report.warnings``) is not a bad row: it is stored, and the warning listed. With
    ``create_cases``, the cases the good rows name and the agency lacks are created first,
    in the targets' transaction (``report.new_cases``).

    ``batched`` (the command's way): the targets are stored with a few bulk statements and
    deconflicted ``CHUNK`` at a time (``deconflict_stored``), raising the very alerts that
    storing and checking them one by one (``batched=False``, as a form saves) raises.
    ``progress`` is told how many of the stored targets have been deconflicted, of how many.
    """
    drafts, report = read_rows(text, agency, create_cases=create_cases)
    if report.errors and not skip_bad:
        report.new_cases = []
        return report
    if not drafts:
        return report
    with unit_of_work():
        created = {
            number: add_case(agency.id, number, number, user, via="import").id
            for number in report.new_cases
        }
        ready = [
            replace(row.draft, case_id=created[row.case_number])
            if row.case_number in created
            else row.draft
            for row in drafts
        ]
        if batched:
            ids = store_many(ready, agency.id, user)
        else:
            stored = store_targets(ready, user, via="import")
            ids = [t.id for t in stored]  # before the commit expires them
    report.stored = [draft.ref for draft in ready]
    before = _alert_count()
    if batched:
        checks = [
            StoredTarget(i, agency.id, d.case_id, draft_target_record(d, agency.id))
            for i, d in zip(ids, ready, strict=True)
        ]
        deconflict_stored(checks, user, progress)
    else:
        for done, target_id in enumerate(ids, 1):
            deconflict_targets([db.session.get_one(Target, target_id)], user)
            if progress is not None:
                progress(done, len(ids))
    report.alerts = _alert_count() - before
    return report


def _alert_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Alert)) or 0)


def store_many(drafts: list[TargetDraft], agency_id: int, actor: User) -> list[int]:
    """Store checked drafts of new targets in the caller's unit of work; their ids, in order.

    What ``store_targets`` stores of a new target (the same values, validity, keys, pending
    check and audit entry), with one bulk statement per table instead of a flush per target.
    The cases were checked when the rows were read (``read_rows``); one closed since is
    refused here, as a reference another writer took meanwhile is by the unique constraint.
    """
    case_ids = sorted({d.case_id for d in drafts})
    for case in db.session.scalars(select(Case).where(Case.id.in_(case_ids))):
        refused = case.refusal_of_new(None)
        if case.agency_id != agency_id or refused:
            raise ImportRefused(f"case_number: {case.number}: {refused or 'not your agency'}")
    now = utcnow()
    try:
        ids = list(
            db.session.scalars(
                insert(Target.__table__).returning(
                    Target.__table__.c.id, sort_by_parameter_order=True
                ),
                [
                    {
                        "agency_id": agency_id,
                        "case_id": d.case_id,
                        "ref": d.ref,
                        "first_name": d.first_name,
                        "last_name": d.last_name,
                        "aliases": list(d.aliases),
                        "dob": d.dob,
                        "justification": d.justification,
                        "submitter_id": actor.id,
                        "validated_at": now,
                        "expires_at": years_after(now),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for d in drafts
                ],
            )
        )
    except IntegrityError:
        raise ImportRefused("target_ref: a reference of the file was taken a moment ago") from None
    identifiers = [
        {"target_id": i, "kind": kind, "raw": raw, "normalized": value}
        for i, d in zip(ids, drafts, strict=True)
        for kind, raw, value in d.identifiers
    ]
    keys = [
        {"target_id": i, "key": key}
        for i, d in zip(ids, drafts, strict=True)
        for key in sorted(target_keys(draft_target_record(d, agency_id)))
    ]
    for table, rows in ((TargetIdentifier, identifiers), (TargetKey, keys)):
        for part in range(0, len(rows), BULK_ROWS):
            db.session.execute(insert(table.__table__), rows[part : part + BULK_ROWS])
    pending.mark_many(TARGET, ids, now)
    audit.record_many([_created_entry(i, d, actor) for i, d in zip(ids, drafts, strict=True)])
    return ids


def _created_entry(target_id: int, draft: TargetDraft, actor: User) -> dict[str, Any]:
    """The audit entry of a new target, as ``store_targets`` records it."""
    warned: dict[str, Any] = {"warnings": sorted(draft.warnings)} if draft.warnings else {}
    return audit.values(
        "target.create",
        object_type="target",
        object_id=target_id,
        actor=actor,
        ref=draft.ref,
        changed=created_fields(draft),
        via="import",
        **warned,
    )


def created_fields(draft: TargetDraft) -> list[str]:
    """The fields a new target's audit entry lists as set (as ``apply_draft`` finds them on a
    new row: every column it copies, the date of birth, aliases and identifiers if given)."""
    given = {
        "dob": draft.dob is not None,
        "aliases": bool(draft.aliases),
        "identifiers": bool(draft.identifiers),
    }
    always = ["case_id", "ref", "first_name", "last_name", "justification"]
    return sorted(always + [name for name, present in given.items() if present])


def deconflict_stored(
    targets: list[StoredTarget], actor: User, progress: Progress | None = None
) -> None:
    """Deconflict stored targets ``CHUNK`` at a time, each chunk in a unit of work of its own.

    A chunk's hits come from ``many_target_hits`` (the same as each target's
    ``target_hits``); then, in order, every target with hits, or with an alert (one
    raised by an earlier target of the import, or stored before), has its alerts synced
    as ``sync_target`` does after a save, so that a pair of the file is raised, then
    updated or closed, just as checking the targets one after the other would. The chunk's
    alerts are read at once, and what it raises, audits and tells is inserted at its end
    (``AlertBatch``). If a chunk fails (among others when another writer raised one of its
    pairs meanwhile), its targets are checked one by one as after a save: those that fail
    again stay pending for the sweep.
    """
    touched: set[int] = set()
    for start in range(0, len(targets), CHUNK):
        chunk = targets[start : start + CHUNK]
        try:
            with unit_of_work():
                _sync_chunk(chunk, actor, touched)
        except Exception:
            log.exception("a batch of imported targets failed deconfliction; one by one now")
            for stored in chunk:
                report = pending.check(TARGET, stored.id, partial(_sync_one, stored.id, actor))
                for alert in report.raised if report is not None else []:
                    touched.update(i for i in (alert.item_a_id, alert.item_b_id) if i is not None)
        if progress is not None:
            progress(start + len(chunk), len(targets))


def _sync_chunk(chunk: list[StoredTarget], actor: User, touched: set[int]) -> None:
    ids = [t.id for t in chunk]
    alerted = _alerted(ids)
    due: list[tuple[StoredTarget, list[Hit]]] = []
    for stored, hits in zip(chunk, many_target_hits(chunk), strict=True):
        if hits or stored.id in touched or stored.id in alerted:
            due.append((stored, hits))
        touched.update(h.key[1] for h in hits)
    # The chunk's targets and the items their hits name, loaded once and held for the chunk.
    known = load_keys(
        {(TARGET, stored.id) for stored, _ in due} | {h.key for _, hits in due for h in hits},
        identifiers=False,
    )
    batch = AlertBatch()
    batch.load((TARGET, stored.id) for stored, _ in due)
    for stored, hits in due:
        sync_loaded_target(db.session.get_one(Target, stored.id), actor, hits, known, batch)
    batch.write()
    pending.clear_many(TARGET, ids)


def _sync_one(target_id: int, actor: User) -> SyncReport:
    return sync_target(db.session.get_one(Target, target_id), actor)


def _alerted(ids: list[int]) -> set[int]:
    """Which of the targets ``ids`` are an item of some alert."""
    found: set[int] = set()
    for side_type, side_id in (
        (Alert.item_a_type, Alert.item_a_id),
        (Alert.item_b_type, Alert.item_b_id),
    ):
        found.update(
            i
            for i in db.session.scalars(
                select(side_id).where(side_type == TARGET, side_id.in_(ids))
            )
            if i is not None
        )
    return found
