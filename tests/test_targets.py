"""Targets: the form, its errors, need-to-know, 28 CFR Part 23 facts and target hits.

A target is entered with its identifiers (normalised and indexed by blocking
key), a justification and a five-year validity. Saving one runs target
deconfliction against other agencies' and other cases' targets; each side
then sees only the pointer, with the other record's values kept out of the
explanation. Advocates never see targets; another agency's target answers 404.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.extensions import db
from jointops.models import Alert, Case, Target, TargetKey
from tests.alert_helpers import (
    alerts_between,
    alerts_of,
    audits,
    case_of,
    count,
    new_id,
    target,
    target_data,
    text,
    user,
)

Login = Callable[[str], FlaskClient]
VIN = "1HGCM82633A004352"
BAD_VIN = "1HGCM82633A004353"


def save(client: FlaskClient, data: dict[str, str], target_id: int | None = None) -> int:
    url = f"/targets/{target_id}/edit" if target_id else "/targets/new"
    return new_id(client.post(url, data=data), "targets")


def field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="{re.escape(name)}-error">(.*?)</p>', page, re.S)
    return found[1] if found else ""


def test_a_target_is_stored_with_normalised_identifiers_keys_and_its_validity(
    app: Flask, login: Login
) -> None:
    case = case_of("PBSO")
    data = target_data(
        case.id,
        "PB-T-900",
        first_name="Jonathan",
        last_name="Smyth",
        aliases="Johnny Smyth; Jay",
        dob="1988-03-04",
        phones="(561) 555-0134\n561.555.0134",  # the same phone twice: stored once
        plates="fl: abc-123",
        vins=VIN.lower(),
        handles="IG:@Some.User",
        emails="J.Smyth+ads@gmail.com",
    )
    target_id = save(login("investigator.pbso"), data)
    stored = target(target_id)
    assert (stored.agency.code, stored.case_id, stored.ref) == ("PBSO", case.id, "PB-T-900")
    assert stored.dob is not None
    assert stored.aliases == ["Johnny Smyth", "Jay"] and stored.dob.isoformat() == "1988-03-04"
    assert stored.submitter_id == user("investigator.pbso").id
    assert {(i.kind, i.normalized) for i in stored.identifiers} == {
        ("phone", "+15615550134"),
        ("plate", "FL:ABC123"),
        ("vin", VIN),
        ("handle", "instagram:some.user"),
        ("email", "jsmyth@gmail.com"),
    }
    assert "(561) 555-0134" in {i.raw for i in stored.identifiers}
    keys = set(db.session.scalars(select(TargetKey.key).where(TargetKey.target_id == target_id)))
    assert {"phone:+15615550134", f"vin:{VIN}", "plate~:FL:ABC123"} <= keys
    assert any(k.startswith("name:") for k in keys)
    validity = stored.expires_at - stored.validated_at
    assert timedelta(days=365 * 5) <= validity <= timedelta(days=365 * 5 + 2)
    assert abs(stored.validated_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert audits("target.create", object_id=str(target_id))

    page = text(login("supervisor.pbso").get(f"/targets/{target_id}"))
    assert "PB-T-900" in page and "Jonathan Smyth" in page and "FL:ABC123" in page
    assert "<dd>04 Mar 1988</dd>" in page  # a date of birth reads as every other date
    assert audits("target.view", object_id=str(target_id), actor_username="supervisor.pbso")
    listing = text(login("investigator.pbso").get("/targets"))
    assert "PB-T-900" in listing and "Jonathan Smyth" in listing


def test_bad_values_are_named_next_to_their_field_keep_what_was_typed_and_store_nothing(
    app: Flask, login: Login
) -> None:
    before = count(Target)
    data = target_data(
        case_of("PBSO").id,
        "PB-T-901",
        last_name="Okoro",
        vins=BAD_VIN + "\nIHGCM82633A0Q4352",
        plates="ABC123",
        handles="someone",
        phones="555",
        emails="not-an-email",
        justification="",
        dob="2999-01-01",
    )
    response = login("investigator.pbso").post("/targets/new", data=data)
    assert response.status_code == 400
    page = text(response)
    assert "VINs never use I, O or Q" in field_error(page, "vins")
    assert BAD_VIN not in field_error(page, "vins")  # only a warning: see below
    assert "check digit" in page and 'id="warning-summary"' in page
    assert "state is missing" in field_error(page, "plates")
    assert "platform is missing" in field_error(page, "handles")
    assert field_error(page, "phones") and field_error(page, "emails")
    assert "reasonable suspicion" in field_error(page, "justification")
    assert "between 1900 and today" in field_error(page, "dob")
    assert 'id="error-summary"' in page and "VINs:" in page and "Justification" in page
    assert f"{BAD_VIN}\nIHGCM82633A0Q4352</textarea>" in page and 'value="Okoro"' in page
    assert count(Target) == before

    short = target_data(case_of("PBSO").id, "PB-T-902", last_name="Okoro", justification="gut")
    page = text(login("investigator.pbso").post("/targets/new", data=short))
    assert "at least 20" in field_error(page, "justification")
    nothing = target_data(case_of("PBSO").id, "PB-T-903")
    page = text(login("investigator.pbso").post("/targets/new", data=nothing))
    assert "a name or at least one identifier" in field_error(page, "last_name")
    no_case = target_data(case_of("PBSO").id, "PB-T-904", last_name="Okoro") | {"case_id": ""}
    page = text(login("investigator.pbso").post("/targets/new", data=no_case))
    assert "Choose the case" in field_error(page, "case_id")
    fbi_case = target_data(case_of("FBI").id, "PB-T-905", last_name="Okoro")
    response = login("investigator.pbso").post("/targets/new", data=fbi_case)
    assert response.status_code == 400 and "Not a valid choice" in field_error(
        text(response), "case_id"
    )
    assert count(Target) == before


def test_a_vin_whose_check_digit_does_not_match_is_stored_with_a_warning(
    app: Flask, login: Login
) -> None:
    """Pre-1981 and foreign VINs, or a typo: a doubt about the data, not a reason to refuse the
    target. It is stored, the form says why it may be wrong, and it matches exactly as typed."""
    pbso, fbi = login("investigator.pbso"), login("investigator.fbi")
    data = target_data(case_of("PBSO").id, "PB-T-906", last_name="Okoro", vins=BAD_VIN.lower())
    precheck = text(pbso.post("/targets/new", data=data | {"precheck": "1"}))
    assert 'id="warning-summary"' in precheck and "check digit 3 does not match" in precheck
    assert not field_error(precheck, "vins")

    response = pbso.post("/targets/new", data=data, follow_redirects=True)
    page = text(response)
    assert response.status_code == 200 and "Saved target PB-T-906" in page
    assert "Stored with a warning: VINs:" in page and "check digit 3 does not match" in page
    stored = db.session.scalar(select(Target).where(Target.ref == "PB-T-906"))
    assert stored is not None
    assert [(i.kind, i.normalized) for i in stored.identifiers] == [("vin", BAD_VIN)]
    assert audits("target.create", object_id=str(stored.id))[-1].detail["warnings"] == ["vins"]

    other = save(
        fbi, target_data(case_of("FBI").id, "FBI-T-906", vins=f"{BAD_VIN[:9]} {BAD_VIN[9:]}")
    )
    [alert] = alerts_between("target", stored.id, other)
    assert alert.strength == "exact" and BAD_VIN in alert.explanation


def test_a_common_name_alone_counts_less_the_more_stored_targets_share_it(
    app: Flask, login: Login
) -> None:
    """A name without a date of birth matches every namesake; damped by how many stored
    targets share it (counted through the index), a name shared by dozens is no evidence."""
    pbso, fbi = login("investigator.pbso"), login("investigator.fbi")
    case = case_of("PBSO").id
    name = {"first_name": "Wilnerio", "last_name": "Dorvilusca"}
    few = [save(pbso, target_data(case, f"PB-NS-{i}", **name)) for i in range(3)]
    single = save(fbi, target_data(case_of("FBI").id, "FBI-NS-1", **name))
    assert {a.strength for a in alerts_of("target", single)} == {"possible"}
    assert len(alerts_of("target", single)) == len(few)
    assert all("a common name" not in a.explanation for a in alerts_of("target", single))

    for i in range(3, 40):
        save(pbso, target_data(case, f"PB-NS-{i}", **name))
    crowd = save(fbi, target_data(case_of("FBI").id, "FBI-NS-2", **name))
    assert alerts_of("target", crowd) == []  # 40 namesakes: a name alone says nothing
    # the more common of two names counts: a rarer spelling of it (another sound, one typo
    # away) is weighed by the namesakes of the name it meets
    typo = {"first_name": "Wilnerio", "last_name": "Dorvilusa"}
    assert alerts_of("target", save(fbi, target_data(case_of("FBI").id, "FBI-NS-5", **typo))) == []
    # a date of birth on one side only leaves the name alone, as common as before
    dated = save(fbi, target_data(case_of("FBI").id, "FBI-NS-3", dob="1990-01-02", **name))
    assert alerts_of("target", dated) == []
    # what else two records share still counts
    phone = {"phones": "772-555-0419"}
    save(pbso, target_data(case, "PB-NS-PHONE", **name, **phone))
    called = save(fbi, target_data(case_of("FBI").id, "FBI-NS-4", **name, **phone))
    assert [a.strength for a in alerts_of("target", called)] == ["exact"]


def test_a_reference_is_unique_within_an_agency_only(app: Flask, login: Login) -> None:
    save(login("investigator.pbso"), target_data(case_of("PBSO").id, "T-1", last_name="Abara"))
    again = login("investigator.pbso").post(
        "/targets/new", data=target_data(case_of("PBSO").id, "T-1", last_name="Obi")
    )
    assert again.status_code == 400
    assert "already a target of yours" in field_error(text(again), "target_ref")
    save(login("investigator.fbi"), target_data(case_of("FBI").id, "T-1", last_name="Obi"))


def test_advocates_never_see_targets(app: Flask, login: Login) -> None:
    pbso_target = db.session.scalar(select(Target).where(Target.ref == "PB-T-001"))
    assert pbso_target is not None
    advocate = login("advocate.vs")
    for url in ("/targets", "/targets/new", "/cases/new"):
        assert advocate.get(url).status_code == 403, url
    assert advocate.get(f"/targets/{pbso_target.id}").status_code == 404
    assert advocate.post(f"/targets/{pbso_target.id}/edit", data={}).status_code == 404
    assert 'href="/targets"' not in advocate.get("/calendar").get_data(as_text=True)
    [hit] = alerts_of("target", pbso_target.id)
    assert advocate.get(f"/alerts/{hit.id}").status_code == 404
    assert all(
        a["kind"] != "target" for a in advocate.get("/api/alerts?status=all").get_json()["alerts"]
    )
    assert audits("target.list", outcome="denied", actor_username="advocate.vs")


def test_another_agency_gets_404_and_a_prosecutor_reads_but_does_not_write(
    app: Flask, login: Login
) -> None:
    pbso_target = db.session.scalar(select(Target).where(Target.ref == "PB-T-001"))
    assert pbso_target is not None
    fbi = login("investigator.fbi")
    for method, url in (
        ("GET", f"/targets/{pbso_target.id}"),
        ("GET", f"/targets/{pbso_target.id}/edit"),
        ("POST", f"/targets/{pbso_target.id}/edit"),
        ("POST", f"/targets/{pbso_target.id}/revalidate"),
    ):
        response = fbi.open(url, method=method, data={"reason": "hijack", "target_ref": "x"})
        assert response.status_code == 404, url
        assert "Mei Zhao" not in response.get_data(as_text=True)
    assert "PB-T-001" not in fbi.get("/targets").get_data(as_text=True)
    assert audits("target.view", outcome="denied", actor_username="investigator.fbi")

    prosecutor = login("prosecutor.sao15")
    assert prosecutor.get("/targets").status_code == 200
    assert prosecutor.get("/targets/new").status_code == 403


def test_a_target_hit_shows_each_side_only_the_pointer(app: Flask, login: Login) -> None:
    pbso = save(
        login("investigator.pbso"),
        target_data(
            case_of("PBSO").id,
            "PB-T-910",
            first_name="Jonathan",
            last_name="Smyth",
            dob="1988-03-04",
            phones="561-555-0166",
            addresses="1200 N Dixie Hwy, West Palm Beach, FL 33401",
        ),
    )
    fbi = save(
        login("investigator.fbi"),
        target_data(
            case_of("FBI").id,
            "FBI-T-910",
            first_name="John",
            last_name="Smith",
            dob="1988-03-04",
            phones="+1 (561) 555-0166",
            vins=VIN,
            handles="telegram:@jsmith_vip",
        ),
    )
    [alert] = alerts_between("target", pbso, fbi)
    assert (alert.kind, alert.strength) == ("target", "exact")
    assert "phone +15615550166 matches" in alert.explanation
    assert "John Smith" in alert.explanation and "Jonathan Smyth" in alert.explanation

    secrets = {
        "investigator.pbso": ["FBI-T-910", "John Smith", VIN, "jsmith_vip", "Smith"],
        "investigator.fbi": ["PB-T-910", "Jonathan Smyth", "1200 N Dixie", "DIXIE", "Smyth"],
    }
    for name, hidden in secrets.items():
        client = login(name)
        page = text(client.get(f"/alerts/{alert.id}"))
        raw = json.dumps(client.get(f"/api/alerts/{alert.id}").get_json())
        listing = text(client.get("/alerts?kind=target"))
        for secret in hidden:
            assert secret not in page, (name, secret)
            assert secret not in raw, (name, secret)
            assert secret not in listing, (name, secret)
        # why, in the side's own words: its own phone number and name, no date-of-birth relation
        assert "Your phone number" in page and "your name" in page
        assert "date of birth" not in page.split("Why")[-1][:400]
    pbso_page = text(login("investigator.pbso").get(f"/alerts/{alert.id}"))
    assert "Federal Bureau of Investigation" in pbso_page and "Priya Raman" in pbso_page
    assert "Jonathan Smyth" in pbso_page  # its own name, which it may read

    officer = text(login("deconfliction_officer.pbso").get(f"/alerts/{alert.id}"))
    assert "John Smith" in officer and VIN in officer and "PB-T-910" in officer
    assert audits("alert.view", object_id=str(alert.id), sides="both")

    target_page = text(login("investigator.pbso").get(f"/targets/{pbso}"))
    assert f"Alert #{alert.id}" in target_page and "FBI" in target_page
    assert "John Smith" not in target_page


def test_removing_the_shared_identifier_closes_the_hit(app: Flask, login: Login) -> None:
    pbso_client = login("investigator.pbso")
    form = target_data(case_of("PBSO").id, "PB-T-920", last_name="Ferreira", plates="FL:QRS789")
    pbso = save(pbso_client, form)
    fbi = save(
        login("investigator.fbi"),
        target_data(case_of("FBI").id, "FBI-T-920", last_name="Kovacs", plates="fl:qrs 789"),
    )
    [alert] = alerts_between("target", pbso, fbi)
    assert alert.status == "open" and "plate FL:QRS789 matches" in alert.explanation
    save(pbso_client, form | {"plates": "FL:ZZZ111"}, pbso)
    [closed] = alerts_between("target", pbso, fbi)
    assert closed.status == "closed" and closed.closed_reason == "the targets no longer match"
    save(pbso_client, form, pbso)
    assert alerts_between("target", pbso, fbi)[0].status == "open"


def test_one_case_never_hits_itself_but_another_case_of_the_agency_does(
    app: Flask, login: Login
) -> None:
    client = login("investigator.pbso")
    case = case_of("PBSO")
    one = save(client, target_data(case.id, "PB-T-930", last_name="Ayala", phones="5615550155"))
    two = save(client, target_data(case.id, "PB-T-931", last_name="Bravo", phones="5615550155"))
    assert alerts_between("target", one, two) == []
    created = client.post("/cases/new", data={"number": "PB-2027-7", "title": "Spin-off"})
    assert created.status_code == 302
    other = db.session.scalar(select(Case.id).where(Case.number == "PB-2027-7"))
    assert other is not None
    three = save(client, target_data(other, "PB-T-932", last_name="Cruz", phones="5615550155"))
    assert len(alerts_between("target", one, three)) == 1


def test_an_expired_target_is_not_deconflicted_until_revalidated(app: Flask, login: Login) -> None:
    pbso = save(
        login("investigator.pbso"),
        target_data(case_of("PBSO").id, "PB-T-940", last_name="Duarte", emails="dd@example.org"),
    )
    stale = target(pbso)
    stale.validated_at = datetime.now(UTC) - timedelta(days=365 * 6)
    stale.expires_at = stale.validated_at + timedelta(days=365 * 5)
    db.session.commit()
    fbi = save(
        login("investigator.fbi"),
        target_data(case_of("FBI").id, "FBI-T-940", last_name="Duarte", emails="DD@example.org"),
    )
    assert alerts_between("target", pbso, fbi) == []
    assert "Expired" in text(login("investigator.pbso").get("/targets?validity=expired"))

    client = login("supervisor.pbso")
    refused = client.post(f"/targets/{pbso}/revalidate", data={"reason": ""})
    assert refused.status_code == 400 and "still justified" in field_error(text(refused), "reason")
    reason = "Subject re-arrested in 2026; case remains open with new victims identified."
    assert client.post(f"/targets/{pbso}/revalidate", data={"reason": reason}).status_code == 302
    fresh = target(pbso)
    assert fresh.revalidation_reason == reason and not fresh.is_expired()
    assert fresh.expires_at - fresh.validated_at >= timedelta(days=365 * 5)
    assert audits("target.revalidate", object_id=str(pbso))
    assert len(alerts_between("target", pbso, fbi)) == 1  # deconflicted again at once


def test_the_target_precheck_shows_the_pointer_and_saves_nothing(app: Flask, login: Login) -> None:
    save(
        login("investigator.fbi"),
        target_data(case_of("FBI").id, "FBI-T-950", last_name="Ivanova", vins=VIN),
    )
    before, alerts = count(Target), count(Alert)
    response = login("investigator.pbso").post(
        "/targets/new",
        data=target_data(case_of("PBSO").id, "PB-T-950", last_name="Petrova", vins=VIN)
        | {"precheck": "1"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "Deconfliction: 1 match" in page and f"VIN {VIN} matches" in page
    assert "Federal Bureau of Investigation" in page and "FBI-T-950" not in page
    assert "Ivanova" not in page and 'value="Petrova"' in page
    assert (count(Target), count(Alert)) == (before, alerts)
    assert audits("deconflict.precheck", object_type="target")


# --- what the form understood, shown before saving ------------------------------------------


def test_the_form_shows_what_each_identifier_will_be_saved_as_and_the_save_agrees(
    login: Login,
) -> None:
    browser = login("investigator.pbso")
    typed = {
        "plates": "ABC 123 (Florida)\nFLABC999",
        "handles": "IG @Some.User\n@nobody",
        "phones": "(561) 555-0134",
    }
    shown = {
        name: browser.post("/targets/understood", json={"field": name, "text": value}).get_json()
        for name, value in typed.items()
    }
    assert shown["plates"]["understood"] == [{"typed": "ABC 123 (Florida)", "as": "FL:ABC123"}]
    assert "issuing state is missing" in shown["plates"]["problems"][0]
    assert shown["handles"]["understood"] == [
        {"typed": "IG @Some.User", "as": "instagram:some.user"}
    ]
    assert "platform is missing" in shown["handles"]["problems"][0]
    assert shown["phones"]["understood"] == [{"typed": "(561) 555-0134", "as": "+15615550134"}]
    before = count(Target)
    # what was shown is what a save stores (the refused lines left out)
    data = target_data(
        case_of("PBSO").id,
        "PB-T-950",
        last_name="Okafor",
        **{name: value.split("\n")[0] for name, value in typed.items()},
    )
    saved = db.session.get(Target, save(browser, data))
    assert saved is not None and count(Target) == before + 1
    assert sorted(i.normalized for i in saved.identifiers) == sorted(
        [v["as"] for reading in shown.values() for v in reading["understood"]]
    )


def test_reading_identifiers_refuses_bad_bodies_by_field_and_is_for_target_editors_only(
    login: Login,
) -> None:
    browser = login("investigator.pbso")
    for body, field in [
        ({"text": "FL ABC123"}, "field"),
        ({"field": "names", "text": "x"}, "field"),
        ({"field": ["plates"], "text": "x"}, "field"),
        ({"field": "plates"}, "text"),
        ({"field": "plates", "text": 7}, "text"),
        ({"field": "plates", "text": "x" * 10_001}, "text"),
    ]:
        answer = browser.post("/targets/understood", json=body)
        assert answer.status_code == 400, body
        assert answer.get_json()["field"] == field, body
    not_json = browser.post("/targets/understood", data={"field": "plates", "text": "x"})
    assert not_json.status_code == 400
    advocate = login("advocate.vs").post(
        "/targets/understood", json={"field": "plates", "text": "FL ABC123"}
    )
    assert advocate.status_code == 403
