"""The audit log as reviewers read it (CJIS audit review): filtered, newest first, paged by
keyset and exported as CSV, all in SQL.

An entry is shown as DESIGN.md defines it: who, what, which object, when, from where, and
how it ended. Its ``detail`` is not shown: it may hold what the entry's subject typed (a
cancellation reason, a place searched for), which the audit record keeps for investigation,
not for display.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from jointops.extensions import db
from jointops.models import Agency, AuditEntry, User
from jointops.officetime import TimeRefused, local_day_bounds, parse_day, to_local

PAGE_SIZE = 50
#: the most rows one export holds; a wider filter is refused rather than cut short
EXPORT_LIMIT = 10_000
#: cells a spreadsheet would read as a formula (OWASP "CSV injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ["time", "person", "agency", "action", "object type", "object id", "from", "outcome"]
_TEXT_LIMITS = {"person": 128, "object_id": 64}


@dataclass(frozen=True)
class AuditFilter:
    """What the reviewer asked for; every field is optional and they narrow together."""

    person: str = ""
    agency: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    start: date | None = None
    end: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filter as URL arguments (and as the audit detail of a view or export)."""
        return {
            k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items() if v
        }


class FilterRefused(ValueError):
    """Filters that cannot be used: a message per field, by field name."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Choices:
    """What the select filters offer, and accept."""

    agencies: list[str]
    actions: list[str]
    object_types: list[str]


def choices() -> Choices:
    """Agencies by code, and the actions and object kinds the log holds."""
    return Choices(
        agencies=list(db.session.scalars(select(Agency.code).order_by(Agency.code))),
        actions=list(
            db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
        ),
        object_types=list(
            db.session.scalars(
                select(AuditEntry.object_type)
                .where(AuditEntry.object_type != "")
                .distinct()
                .order_by(AuditEntry.object_type)
            )
        ),
    )


def parse_filter(args: Mapping[str, str], offered: Choices) -> AuditFilter:
    """The filter of a request's arguments; ``FilterRefused`` naming every field at fault."""
    errors: dict[str, str] = {}
    text: dict[str, str] = {}
    # control characters never reach a view (``jointops.web`` refuses them for every route)
    for name in ("person", "agency", "action", "object_type", "object_id"):
        raw = text[name] = args.get(name, "").strip()
        limit = _TEXT_LIMITS.get(name)
        if limit is not None and len(raw) > limit:
            errors[name] = f"at most {limit} characters."
    for name, known in (
        ("agency", offered.agencies),
        ("action", offered.actions),
        ("object_type", offered.object_types),
    ):
        if text.get(name) and text[name] not in known:
            errors[name] = "not one of the choices offered."
    days: dict[str, date | None] = {}
    for name in ("start", "end"):
        raw = args.get(name, "").strip()
        try:
            days[name] = parse_day(raw) if raw else None
        except TimeRefused as refused:
            errors[name] = str(refused)
    start, end = days.get("start"), days.get("end")
    if start and end and end < start:
        errors["end"] = "must not be before the first day."
    if errors:
        raise FilterRefused(errors)
    return AuditFilter(
        person=text["person"],
        agency=text["agency"],
        action=text["action"],
        object_type=text["object_type"],
        object_id=text["object_id"],
        start=start,
        end=end,
    )


def _conditions(chosen: AuditFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if chosen.person:
        typed = chosen.person.lower()
        found.append(
            or_(
                func.lower(AuditEntry.actor_username).contains(typed, autoescape=True),
                func.lower(User.display_name).contains(typed, autoescape=True),
            )
        )
    if chosen.agency:
        found.append(Agency.code == chosen.agency)
    if chosen.action:
        found.append(AuditEntry.action == chosen.action)
    if chosen.object_type:
        found.append(AuditEntry.object_type == chosen.object_type)
    if chosen.object_id:
        found.append(AuditEntry.object_id == chosen.object_id)
    if chosen.start:
        found.append(AuditEntry.at >= local_day_bounds(chosen.start, 1)[0])
    if chosen.end:
        found.append(AuditEntry.at < local_day_bounds(chosen.end, 1)[1])
    return found


def entries_query(chosen: AuditFilter) -> Select[AuditEntry, str]:
    """Each matching entry with its actor's agency code (the actor's agency today)."""
    return (
        select(AuditEntry, Agency.code)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .where(*_conditions(chosen))
    )


@dataclass(frozen=True)
class LogRow:
    entry: AuditEntry
    agency: str | None


@dataclass(frozen=True)
class LogPage:
    rows: list[LogRow]
    total: int
    #: the cursors of the neighbouring pages (``None``: there is none)
    newer: int | None
    older: int | None


def count(chosen: AuditFilter) -> int:
    return (
        db.session.scalar(select(func.count()).select_from(entries_query(chosen).subquery())) or 0
    )


def page(
    chosen: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> LogPage:
    """A page newest first: the entries older than entry ``before``, or those newer than
    ``after``, or the newest. A keyset rather than an offset, so that entries recorded while
    the reviewer pages (each view is one) shift nothing: each entry appears on one page."""
    query = entries_query(chosen)
    newest_first = (AuditEntry.at.desc(), AuditEntry.id.desc())
    cursor = before if before is not None else after
    at = db.session.scalar(select(AuditEntry.at).where(AuditEntry.id == cursor)) if cursor else None
    if cursor is not None and at is None:
        raise FilterRefused({"before" if before is not None else "after": "no such entry."})
    if after is not None and at is not None:
        # the plain bound on ``at`` lets the planner range-scan its index
        newer = and_(
            AuditEntry.at >= at,
            or_(AuditEntry.at > at, and_(AuditEntry.at == at, AuditEntry.id > after)),
        )
        found = list(
            db.session.execute(
                query.where(newer).order_by(AuditEntry.at, AuditEntry.id).limit(size + 1)
            )
        )
        more_newer, found = len(found) > size, found[:size]
        found.reverse()
        rows = [LogRow(e, code) for e, code in found]
        return LogPage(
            rows,
            count(chosen),
            newer=rows[0].entry.id if rows and more_newer else None,
            older=rows[-1].entry.id if rows else None,
        )
    if before is not None and at is not None:
        query = query.where(
            AuditEntry.at <= at,
            or_(AuditEntry.at < at, and_(AuditEntry.at == at, AuditEntry.id < before)),
        )
    found = list(db.session.execute(query.order_by(*newest_first).limit(size + 1)))
    more_older, found = len(found) > size, found[:size]
    rows = [LogRow(e, code) for e, code in found]
    return LogPage(
        rows,
        count(chosen),
        newer=rows[0].entry.id if rows and before is not None else None,
        older=rows[-1].entry.id if rows and more_older else None,
    )


def safe_cell(value: str) -> str:
    """A cell that a spreadsheet shows as text: one starting like a formula gets a quote."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(c) for c in cells])
    return out.getvalue()


def _stamp(moment: datetime) -> str:
    return to_local(moment).isoformat(timespec="seconds")


def csv_lines(chosen: AuditFilter) -> Iterator[str]:
    """The filtered entries newest first as CSV lines, read from the database in batches; at most
    ``EXPORT_LIMIT`` (the caller refuses a wider filter before it starts)."""
    yield _csv_line(CSV_HEADER)
    query = (
        entries_query(chosen)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(EXPORT_LIMIT)
        .execution_options(yield_per=500)
    )
    for entry, code in db.session.execute(query):
        yield _csv_line(
            [
                _stamp(entry.at),
                entry.actor_username,
                code or "",
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.remote_addr,
                entry.outcome,
            ]
        )
