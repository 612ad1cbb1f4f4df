"""Forms as their users meet them (issue 12): a date of birth and the audit log's days are
typed as every other date of the app (YYYY-MM-DD), not in the browser's locale; the
advocate's event form asks only what applies to appointments."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from jointops.models import Target
from tests.alert_helpers import case_of, count, new_id, target, target_data, text

Login = Callable[[str], FlaskClient]


def control(page: str, name: str) -> str:
    """The opening tag of the input or select named ``name`` ('' if the page has none)."""
    found = re.search(rf'<(?:input|select|textarea)[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    return found[0] if found else ""


def field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="{re.escape(name)}-error">(.*?)</p>', page, re.S)
    return found[1] if found else ""


def test_a_date_of_birth_is_typed_as_every_other_date_and_a_us_date_is_refused_by_name(
    app: Flask, login: Login
) -> None:
    client = login("investigator.pbso")
    tag = control(text(client.get("/targets/new")), "dob")
    assert 'type="text"' in tag and 'placeholder="YYYY-MM-DD"' in tag, tag

    before = count(Target)
    data = target_data(case_of("PBSO").id, "PB-T-E01", last_name="Okafor", dob="04/12/1990")
    response = client.post("/targets/new", data=data)
    assert response.status_code == 400
    page = text(response)
    assert "YYYY-MM-DD, for example 1990-04-12" in field_error(page, "dob")
    assert 'value="04/12/1990"' in control(page, "dob"), "what was typed is kept"
    assert count(Target) == before

    data = target_data(case_of("PBSO").id, "PB-T-E02", last_name="Okafor", dob=" 1990-04-12 ")
    stored = target(new_id(client.post("/targets/new", data=data), "targets"))
    assert stored.dob is not None and stored.dob.isoformat() == "1990-04-12"


def test_the_audit_log_days_are_typed_as_yyyy_mm_dd(app: Flask, login: Login) -> None:
    client = login("admin.pbso")
    page = text(client.get("/admin/audit"))
    for name in ("start", "end"):
        tag = control(page, name)
        assert 'type="text"' in tag and 'placeholder="YYYY-MM-DD"' in tag, tag
    refused = text(client.get("/admin/audit?start=12/01/2026"))
    assert "expected a date as YYYY-MM-DD" in refused


def test_the_advocates_form_asks_only_what_applies_to_appointments(
    app: Flask, login: Login
) -> None:
    advocate = text(login("advocate.vs").get("/events/new"))
    # a title is asked of the kinds that have one (a meeting's), never of an appointment
    titled = re.search(
        r'data-kinds="([^"]*)">\s*<div class="field[^"]*" id="field-title"', advocate
    )
    assert not control(advocate, "title") or (titled and "appointment" not in titled[1].split())
    assert not control(advocate, "case_id"), "victim services keep no cases"
    assert 'value="covert"' not in advocate and "Covert:" not in advocate
    assert 'name="precheck"' not in advocate, "only operations are deconflicted"
    assert control(advocate, "client_code") and control(advocate, "place_id")

    investigator = text(login("investigator.pbso").get("/events/new"))
    assert control(investigator, "title") and control(investigator, "case_id")
    assert 'value="covert"' in investigator
    assert re.search(r'<button[^>]*name="precheck"[^>]*data-kinds="operation"', investigator)


def test_an_advocate_saves_an_appointment_without_title_or_case(app: Flask, login: Login) -> None:
    from tests.test_event_forms import winter_day

    day = winter_day()
    response = login("advocate.vs").post(
        "/events/new",
        data={
            "kind": "appointment",
            "subtype": "medical",
            "starts_at": f"{day.isoformat()} 09:00",
            "ends_at": f"{day.isoformat()} 10:00",
            "status": "planned",
            "sensitivity": "normal",
            "client_code": "VS-0977",
        },
    )
    assert response.status_code == 302, text(response)[:2000]
