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
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from sqlalchemy import func, select

from auth.policy import may_edit_targets
from jointops.extensions import db
from jointops.models import Agency, Alert, Case, Target, User
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
    text: str, agency: Agency, user: User, *, skip_bad: bool = False, create_cases: bool = False
) -> ImportReport:
    """Check every row; store them all (or, with ``skip_bad``, the good ones); deconflict.

    Nothing is stored when any row is bad and ``skip_bad`` is false. A row with a warning
    (``report.warnings``) is not a bad row: it is stored, and the warning listed. With
    ``create_cases``, the cases the good rows name and the agency lacks are created first,
    in the targets' transaction (``report.new_cases``).
    """
    drafts, report = read_rows(text, agency, create_cases=create_cases)
    if report.errors and not skip_bad:
        report.new_cases = []
        return report
    if drafts:
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
            stored = store_targets(ready, user, via="import")
        report.stored = [t.ref for t in stored]
        before = _alert_count()
        deconflict_targets(stored, user)
        report.alerts = _alert_count() - before
    return report


def _alert_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Alert)) or 0)
