"""Agencies kept in JointOps (admin page, ``jointops agency``) and an agency's cases (the cases
page, closed cases, ``import-targets --create-cases``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from jointops.extensions import db
from jointops.models import Agency, Case, Event, Target
from tests.alert_helpers import (
    audits,
    case_of,
    far_day,
    new_id,
    operation,
    save_operation,
    target_data,
    text,
)
from tests.test_target_import import GOOD, WHY, csv_file, refs, run

Login = Callable[[str], FlaskClient]


def field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="{re.escape(name)}-error">(.*?)</p>', page, re.S)
    return found[1].strip() if found else ""


def agencies() -> dict[str, Agency]:
    db.session.rollback()
    return {a.code: a for a in db.session.scalars(select(Agency))}


def cases_of(code: str) -> dict[str, Case]:
    db.session.rollback()
    rows = db.session.scalars(select(Case).join(Agency).where(Agency.code == code))
    return {c.number: c for c in rows}


# -- agencies ---------------------------------------------------------------------------


def test_agency_add_and_list_from_the_command_line(runner: FlaskCliRunner) -> None:
    added = runner.invoke(
        args=["agency", "add", "BSO", "--name", "Broward Sheriff's Office", "--kind", "local"]
    )
    assert added.exit_code == 0, added.output
    assert added.output == "Added agency BSO (Broward Sheriff's Office, local).\n"
    bso = agencies()["BSO"]
    assert (bso.name, bso.kind, bso.source) == ("Broward Sheriff's Office", "local", "local")
    assert agencies()["PBSO"].source == "directory"
    assert audits("agency.create", code="BSO")

    listed = runner.invoke(args=["agency", "list"]).output.splitlines()
    assert "BSO\tlocal\tlocal\tBroward Sheriff's Office" in listed
    assert any(line.startswith("PBSO\tlocal\tdirectory\t") for line in listed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pbso2", "--name", "X", "--kind", "local"], "CODE: “pbso2” is not an agency code"),
        (["B SO", "--name", "X", "--kind", "local"], "CODE: “B SO” is not an agency code"),
        (["A", "--name", "X", "--kind", "local"], "CODE: “A” is not an agency code"),
        (["ABCDEFGHIJKLMNOPQ", "--name", "X", "--kind", "local"], "is not an agency code"),
        (["PBSO", "--name", "Again", "--kind", "local"], "CODE: PBSO is already an agency."),
        (["BSO", "--name", "X", "--kind", "county"], "--kind: “county” is not a kind: one of"),
        (["BSO", "--name", "  ", "--kind", "local"], "--name: A name is required."),
    ],
)
def test_agency_add_refuses_bad_values_and_stores_nothing(
    runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    before = agencies()
    result = runner.invoke(args=["agency", "add", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert set(agencies()) == set(before)
    assert agencies()["PBSO"].name == before["PBSO"].name


def test_the_admin_page_lists_and_adds_agencies(app: Flask, login: Login) -> None:
    admin = login("admin.pbso")
    page = text(admin.get("/admin/agencies"))
    assert "<code>PBSO</code>" in page and "<td>the directory</td>" in page

    refused = admin.post("/admin/agencies", data={"code": "x", "name": "", "kind": "other"})
    assert refused.status_code == 400
    page = text(refused)
    assert "is not an agency code" in field_error(page, "code")
    assert field_error(page, "name") == "A name is required."
    assert "is not a kind" in field_error(page, "kind")
    duplicate = admin.post("/admin/agencies", data={"code": "FBI", "name": "F", "kind": "federal"})
    assert field_error(text(duplicate), "code") == "FBI is already an agency."
    assert set(agencies()) == {"PBSO", "WPBPD", "FBI", "HSI", "SAO15", "VS"}

    added = admin.post(
        "/admin/agencies", data={"code": "DEA", "name": "DEA Miami", "kind": "federal"}
    )
    assert added.status_code == 302
    assert (agencies()["DEA"].kind, agencies()["DEA"].source) == ("federal", "local")
    assert "<td>JointOps</td>" in text(admin.get("/admin/agencies"))


def test_only_administrators_manage_agencies(app: Flask, login: Login) -> None:
    supervisor = login("supervisor.pbso")
    assert supervisor.get("/admin/agencies").status_code == 403
    refused = supervisor.post("/admin/agencies", data={"code": "DEA", "name": "D", "kind": "local"})
    assert refused.status_code == 403
    assert "DEA" not in agencies()


# -- cases ------------------------------------------------------------------------------


def test_cases_are_created_edited_closed_and_reopened(app: Flask, login: Login) -> None:
    client = login("investigator.pbso")
    created = client.post("/cases/new", data={"number": "PB-2027-1", "title": "Motel ring"})
    assert created.status_code == 302
    case = cases_of("PBSO")["PB-2027-1"]
    assert (case.title, case.closed_at) == ("Motel ring", None)
    assert "PB-2027-1" in text(client.get("/cases"))

    page = client.get(f"/cases/{case.id}/edit")
    assert page.status_code == 200 and 'value="Motel ring"' in text(page)
    taken = case_of("PBSO").number
    clash = client.post(f"/cases/{case.id}/edit", data={"number": taken, "title": "T"})
    assert clash.status_code == 400
    assert field_error(text(clash), "number") == f"{taken} is already a case of your agency."
    empty = client.post(f"/cases/{case.id}/edit", data={"number": "PB-2027-1", "title": " "})
    assert field_error(text(empty), "title") == "A title is required."
    saved = client.post(
        f"/cases/{case.id}/edit", data={"number": "PB-2027-1A", "title": "Motel ring (I-95)"}
    )
    assert saved.status_code == 302
    assert cases_of("PBSO")["PB-2027-1A"].title == "Motel ring (I-95)"

    assert client.post(f"/cases/{case.id}/close").status_code == 302
    assert cases_of("PBSO")["PB-2027-1A"].closed_at is not None
    assert "Closed" in text(client.get("/cases"))
    assert audits("case.close", object_id=str(case.id))
    assert client.post(f"/cases/{case.id}/reopen").status_code == 302
    assert cases_of("PBSO")["PB-2027-1A"].closed_at is None


def test_bad_case_values_are_refused_by_field(app: Flask, login: Login) -> None:
    client = login("supervisor.pbso")
    before = len(cases_of("PBSO"))
    response = client.post("/cases/new", data={"number": "", "title": "x" * 201})
    assert response.status_code == 400
    page = text(response)
    assert field_error(page, "number") == "A case number is required."
    assert field_error(page, "title") == "At most 200 printable characters."
    assert len(cases_of("PBSO")) == before


def test_another_agencys_case_answers_404_and_readers_cannot_change_cases(
    app: Flask, login: Login
) -> None:
    fbi_case = case_of("FBI")
    pbso = login("investigator.pbso")
    assert pbso.get(f"/cases/{fbi_case.id}/edit").status_code == 404
    assert pbso.post(f"/cases/{fbi_case.id}/close").status_code == 404
    assert pbso.get("/cases/999999999/edit").status_code == 404
    assert cases_of("FBI")[fbi_case.number].closed_at is None
    assert "FBI" not in text(pbso.get("/cases")).split("<h1>")[1].split("</h1>")[0]

    opened = login("supervisor.sao15").post("/cases/new", data={"number": "15-1", "title": "T"})
    assert opened.status_code == 302
    sao_case = case_of("SAO15")
    prosecutor = login("prosecutor.sao15")
    assert "15-1" in text(prosecutor.get("/cases"))
    assert prosecutor.post(f"/cases/{sao_case.id}/close").status_code == 403
    assert login("advocate.vs").get("/cases").status_code == 403


def test_a_closed_case_takes_no_new_target_but_keeps_and_edits_its_own(
    app: Flask, login: Login
) -> None:
    client = login("investigator.pbso")
    case = case_of("PBSO")
    kept = new_id(
        client.post("/targets/new", data=target_data(case.id, "PB-T-CL1", last_name="Ortiz")),
        "targets",
    )
    assert client.post(f"/cases/{case.id}/close").status_code == 302

    refused = client.post("/targets/new", data=target_data(case.id, "PB-T-CL2", last_name="Ruiz"))
    assert refused.status_code == 400
    assert field_error(text(refused), "case_id") == (
        f"Case {case.number} is closed: it takes no new targets or events."
    )
    assert "PB-T-CL2" not in refs()

    edited = client.post(
        f"/targets/{kept}/edit", data=target_data(case.id, "PB-T-CL1", last_name="Ortiz Vega")
    )
    assert edited.status_code == 302
    db.session.rollback()
    assert db.session.get_one(Target, kept).last_name == "Ortiz Vega"
    assert f"{case.number} {case.title} (closed)" in text(client.get("/targets/new"))


def test_a_closed_case_takes_no_new_event_but_keeps_its_own(app: Flask, login: Login) -> None:
    client = login("investigator.pbso")
    case = case_of("PBSO")
    kept = save_operation(client, operation(far_day(), case_id=str(case.id)))
    assert client.post(f"/cases/{case.id}/close").status_code == 302
    events = db.session.scalar(select(func.count()).select_from(Event))

    refused = client.post("/events/new", data=operation(far_day(3), case_id=str(case.id)))
    assert refused.status_code == 400
    assert field_error(text(refused), "case_id") == (
        f"Case {case.number} is closed: it takes no new targets or events."
    )
    assert db.session.scalar(select(func.count()).select_from(Event)) == events

    changed = save_operation(
        client, operation(far_day(), case_id=str(case.id), title="Warrant, moved"), kept
    )
    assert changed == kept
    db.session.rollback()
    assert db.session.get_one(Event, kept).title == "Warrant, moved"


# -- import-targets --create-cases ------------------------------------------------------


NEW_CASES = [
    f"PB-2027-20,NEW-1,Ana,Lima,,,,,,,,,,{WHY}",
    f"PB-2027-21,NEW-2,Bruno,Reyes,,,,,,,,,,{WHY}",
    f"PB-2027-20,NEW-3,Caio,Dias,,,,,,,,,,{WHY}",
]


def test_without_create_cases_an_unknown_case_stays_a_line_error(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    result = run(runner, csv_file(tmp_path, GOOD[0], *NEW_CASES))
    assert result.exit_code == 1
    assert (
        "line 3: case_number: PB-2027-20 is not a case of PBSO "
        "(--create-cases creates the missing ones)" in result.output
    )
    assert "3 bad rows of 4: nothing stored" in result.output
    assert not {"PB-2027-20", "PB-2027-21"} & set(cases_of("PBSO"))
    assert "IMP-1" not in refs()


def test_create_cases_creates_the_missing_cases_with_the_targets(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    result = run(runner, csv_file(tmp_path, GOOD[0], *NEW_CASES), "--create-cases")
    assert result.exit_code == 0, result.output
    assert "Stored 4 targets for PBSO; created 2 cases: PB-2027-20, PB-2027-21;" in result.output
    cases = cases_of("PBSO")
    assert cases["PB-2027-20"].title == "PB-2027-20"
    assert cases["PB-2027-21"].lead is not None
    assert cases["PB-2027-21"].lead.username == "investigator.pbso"
    assert {"IMP-1", "NEW-1", "NEW-2", "NEW-3"} <= refs()
    by_ref = {t.ref: t.case.number for t in db.session.scalars(select(Target))}
    assert (by_ref["NEW-1"], by_ref["NEW-2"], by_ref["NEW-3"]) == (
        "PB-2027-20",
        "PB-2027-21",
        "PB-2027-20",
    )
    assert len(audits("case.create", via="import")) == 2


def test_create_cases_creates_nothing_when_a_row_is_bad(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    bad = f"PB-2027-22,NEW-9,,,,,,,,,,,,{WHY}"  # no name, no identifier
    result = run(runner, csv_file(tmp_path, *NEW_CASES, bad), "--create-cases")
    assert result.exit_code == 1
    assert "line 5:" in result.output and "nothing stored" in result.output
    assert not {"PB-2027-20", "PB-2027-21", "PB-2027-22"} & set(cases_of("PBSO"))

    skipped = run(runner, csv_file(tmp_path, *NEW_CASES, bad), "--create-cases", "--skip-bad")
    assert skipped.exit_code == 0, skipped.output
    assert "created 2 cases: PB-2027-20, PB-2027-21" in skipped.output
    assert "PB-2027-22" not in cases_of("PBSO")


def test_a_closed_case_takes_no_imported_target(
    app: Flask, runner: Any, tmp_path: Path, login: Login
) -> None:
    case = case_of("PBSO")
    assert login("investigator.pbso").post(f"/cases/{case.id}/close").status_code == 302
    row = f"{case.number},IMP-CL,Ana,Lima,,,,,,,,,,{WHY}"
    result = run(runner, csv_file(tmp_path, row), "--create-cases")
    assert result.exit_code == 1
    assert f"line 2: case_number: Case {case.number} is closed" in result.output
    assert "IMP-CL" not in refs()
