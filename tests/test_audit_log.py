"""The audit log page (CJIS audit review): filters in SQL, keyset paging, CSV export, and the
reviewers' own views and exports audited."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from jointops.admin import audit_log
from jointops.admin.audit_log import AuditFilter
from jointops.extensions import db
from jointops.models import AuditEntry
from tests.conftest import user

Login = Callable[[str], FlaskClient]
#: a year no frozen clock of the suite reaches, so the demo's own entries stay out of range
DAY = date(2019, 6, 14)
FORMULA = '=HYPERLINK("http://evil.test","x")'
ENTRY_ROW = re.compile(r'<tr id="entry-(\d+)">')


def _entry(action: str, at: datetime, *, who: str | None = None, **fields: str) -> AuditEntry:
    actor = user(who) if who else None
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_username=actor.username if actor else fields.pop("username", ""),
        action=action,
        at=at,
        outcome=fields.pop("outcome", "success"),
        remote_addr="10.0.0.7",
        detail={"secret": "detail-never-shown"},
        **fields,
    )
    db.session.add(entry)
    return entry


@pytest.fixture
def sample(app: Flask) -> dict[str, int]:
    """Four entries around the office's midnight of 14/15 June 2019 (EDT, UTC-4)."""
    made = {
        "pbso_case": _entry(
            "case.create",
            datetime(2019, 6, 14, 15, 0, tzinfo=UTC),
            who="admin.pbso",
            object_type="case",
            object_id="7",
        ),
        "fbi_late": _entry(  # 23:30 on the 14th in the office
            "target.view",
            datetime(2019, 6, 15, 3, 30, tzinfo=UTC),
            who="investigator.fbi",
            object_type="target",
            object_id="9",
        ),
        "fbi_early": _entry(  # 00:30 on the 15th in the office
            "case.create",
            datetime(2019, 6, 15, 4, 30, tzinfo=UTC),
            who="investigator.fbi",
            object_type="case",
            object_id="8",
        ),
        "stranger": _entry(
            "login",
            datetime(2019, 6, 13, 12, 0, tzinfo=UTC),
            username=FORMULA,
            outcome="failure",
        ),
    }
    db.session.commit()
    return {name: e.id for name, e in made.items()}


def _ids(chosen: AuditFilter) -> list[int]:
    """The entries the filter finds, within the sample's days unless it names its own."""
    days = replace(
        chosen,
        start=chosen.start or DAY - timedelta(days=1),
        end=chosen.end or DAY + timedelta(days=1),
    )
    return [row.entry.id for row in audit_log.page(days).rows]


def test_each_filter_narrows(sample: dict[str, int]) -> None:
    s = sample
    assert _ids(AuditFilter()) == [s["fbi_early"], s["fbi_late"], s["pbso_case"], s["stranger"]]
    assert _ids(AuditFilter(person="INVESTIGATOR.f")) == [s["fbi_early"], s["fbi_late"]]
    assert _ids(AuditFilter(person="priya")) == [s["fbi_early"], s["fbi_late"]]  # display name
    assert _ids(AuditFilter(person="%")) == []  # a wildcard is a character
    assert _ids(AuditFilter(agency="PBSO")) == [s["pbso_case"]]
    assert _ids(AuditFilter(action="case.create")) == [s["fbi_early"], s["pbso_case"]]
    assert _ids(AuditFilter(object_type="target")) == [s["fbi_late"]]
    assert _ids(AuditFilter(object_type="case", object_id="8")) == [s["fbi_early"]]
    assert _ids(AuditFilter(start=DAY, end=DAY)) == [s["fbi_late"], s["pbso_case"]]
    assert _ids(AuditFilter(start=DAY + timedelta(days=1))) == [s["fbi_early"]]


def _walk(client: FlaskClient, query: str) -> list[int]:
    """The entry ids of every page, following "Older" links from the first."""
    seen: list[int] = []
    url: str | None = f"/admin/audit?{query}"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        seen += [int(i) for i in ENTRY_ROW.findall(text)]
        older = re.search(r'rel="next" href="([^"]+)"', text)
        url = older.group(1).replace("&amp;", "&") if older else None
    return seen


def test_paging_shows_each_entry_once(app: Flask, login: Login) -> None:
    # ties on the time: the keyset orders them by id too
    base = datetime(2019, 6, 14, 12, 0, tzinfo=UTC)
    for i in range(audit_log.PAGE_SIZE * 2 + 5):
        _entry("test.page", base + timedelta(minutes=i // 3), object_type="x", object_id=str(i))
    db.session.commit()
    expected = list(
        db.session.scalars(
            select(AuditEntry.id)
            .where(AuditEntry.action == "test.page")
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        )
    )
    admin = login("admin.pbso")
    assert _walk(admin, "action=test.page") == expected
    # and back: "Newer" from the last page returns the pages above it
    first = audit_log.page(AuditFilter(action="test.page"), size=10)
    older = audit_log.page(AuditFilter(action="test.page"), before=first.older, size=10)
    assert older.newer is not None
    back = audit_log.page(AuditFilter(action="test.page"), after=older.newer, size=10)
    assert [r.entry.id for r in back.rows] == [r.entry.id for r in first.rows]
    assert back.newer is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2019-13-01", "start"),
        ("end=yesterday", "end"),
        ("start=2019-06-15&end=2019-06-14", "end"),
        ("action=no.such.action", "action"),
        ("agency=NOPE", "agency"),
        ("object_type=spaceship", "object_type"),
        ("person=" + "p" * 129, "person"),
        ("object_id=" + "9" * 65, "object_id"),
        ("before=abc", "before"),
        ("before=999999999", "before"),
    ],
)
def test_bad_filters_are_400_naming_the_field(
    sample: dict[str, int], login: Login, query: str, field: str
) -> None:
    admin = login("admin.pbso")
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    # the export takes the filters but no page cursor
    paths = ["/admin/audit"] if field == "before" else ["/admin/audit", "/admin/audit.csv"]
    for path in paths:
        reply = admin.get(f"{path}?{query}")
        assert reply.status_code == 400
        text = reply.get_data(as_text=True)
        assert f"<li>{field}: " in text
        assert 'id="audit-table"' not in text
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
    kept = login("admin.pbso").get("/admin/audit?person=keep+me&start=2019-02-30")
    assert 'value="keep me"' in kept.get_data(as_text=True)
    assert 'value="2019-02-30"' in kept.get_data(as_text=True)


def _csv(reply_text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(reply_text)))


def test_csv_holds_the_filtered_rows_with_formulas_neutralised(
    sample: dict[str, int], login: Login
) -> None:
    admin = login("deconfliction_officer.pbso")
    # buffered: read the stream inside the request's context, as a WSGI server does
    reply = admin.get("/admin/audit.csv?start=2019-06-13&end=2019-06-14", buffered=True)
    assert reply.status_code == 200
    assert reply.mimetype == "text/csv"
    rows = _csv(reply.get_data(as_text=True))
    assert rows[0] == audit_log.CSV_HEADER
    assert [(r[1], r[3], r[4], r[5]) for r in rows[1:]] == [
        ("investigator.fbi", "target.view", "target", "9"),
        ("admin.pbso", "case.create", "case", "7"),
        ("'" + FORMULA, "login", "", ""),
    ]
    assert rows[1][0] == "2019-06-14T23:30:00-04:00" and rows[1][2] == "FBI"
    assert "detail-never-shown" not in reply.get_data(as_text=True)
    exported = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.export"))
    assert exported is not None and exported.actor_username == "deconfliction_officer.pbso"
    assert exported.detail == {"filters": {"start": "2019-06-13", "end": "2019-06-14"}, "rows": 3}


def test_an_export_beyond_its_bound_is_refused_and_audited(
    sample: dict[str, int], login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_log, "EXPORT_LIMIT", 2)
    reply = login("admin.pbso").get("/admin/audit.csv?start=2019-06-13&end=2019-06-15")
    assert reply.status_code == 400
    assert "at most 2" in reply.get_data(as_text=True)
    refused = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.export"))
    assert refused is not None and refused.outcome == "refused" and refused.detail["matched"] == 4


def test_viewing_is_audited_and_shows_no_detail(sample: dict[str, int], login: Login) -> None:
    page = login("admin.pbso").get("/admin/audit?agency=FBI&start=2019-06-14&end=2019-06-15")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert [int(i) for i in ENTRY_ROW.findall(text)] == [sample["fbi_early"], sample["fbi_late"]]
    assert "detail-never-shown" not in text
    viewed = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.view"))
    assert viewed is not None and viewed.actor_username == "admin.pbso"
    assert viewed.detail == {
        "filters": {"agency": "FBI", "start": "2019-06-14", "end": "2019-06-15"}
    }


@pytest.mark.parametrize("who", ["investigator.pbso", "advocate.vs", "supervisor.fbi"])
def test_other_roles_are_refused_and_audited(login: Login, who: str) -> None:
    client = login(who)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
    assert "Audit log" not in client.get("/calendar").get_data(as_text=True)
    denied = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied"))
    assert [d.actor_username for d in denied] == [who, who]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.view")) is None


def test_reviewers_find_the_page_in_the_menu(login: Login) -> None:
    for who in ("admin.pbso", "deconfliction_officer.pbso"):
        assert 'href="/admin/audit"' in login(who).get("/calendar").get_data(as_text=True)
