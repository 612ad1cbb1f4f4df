"""Event deconfliction end to end: saving operations raises, updates and closes alerts.

Two agencies' operations 300 m apart in overlapping windows raise one alert
that both investigators and both supervisors see, each side showing only the
pointer (own item, other agency, point of contact, why); both acknowledge; a
supervisor resolves it with an outcome and a note. Then: no duplicates on
re-save, closing and re-opening, the pre-check, the review page, the deconfliction
officer's audited view, refusals, the inbox and ``jointops alerts --json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.extensions import db
from jointops.models import Alert, Event, Participant
from tests.alert_helpers import (
    LAT_300M,
    alerts_between,
    alerts_of,
    audits,
    count,
    far_day,
    local,
    notifications,
    operation,
    save_operation,
    text,
    user,
)

Login = Callable[[str], FlaskClient]

PBSO_OP = {
    "title": "PBSO canary warrant on Oleander",
    "location_address": "11 Oleander Canary Ln, Lake Worth, FL",
    "notes": "pbso-canary-notes",
}
FBI_OP = {
    "title": "FBI canary surveillance on Hibiscus",
    "location_address": "22 Hibiscus Canary Rd, Lake Worth, FL",
    "notes": "fbi-canary-notes",
}
FBI_CONTACT = ("Priya Raman", "+1 561 555 0121", "investigator.fbi@fbi.demo.test")
PBSO_CONTACT = ("Marisol Delgado", "+1 561 555 0101", "investigator.pbso@pbso.demo.test")


def pair(login: Login, day: date, *, fbi_lat: float = 26.6 + LAT_300M) -> tuple[int, int]:
    """PBSO's warrant 09:00–11:00 and FBI's surveillance 10:00–12:00, 300 m apart."""
    pbso = save_operation(login("investigator.pbso"), operation(day, **PBSO_OP))
    fbi = save_operation(
        login("investigator.fbi"),
        operation(
            day,
            **FBI_OP,
            subtype="undercover_meet",
            starts_at=local(day, "10:00"),
            ends_at=local(day, "12:00"),
            latitude=f"{fbi_lat:.4f}",
        ),
    )
    return pbso, fbi


def assert_pointer_only(page: str, own: dict[str, str], other: dict[str, str], who: str) -> None:
    """The page shows this side's own item and nothing of the other side's."""
    assert own["title"] in page, who
    for secret in other.values():
        assert secret not in page, (who, secret)


def test_two_agencies_300_m_apart_raise_one_alert_that_both_sides_resolve(
    app: Flask, login: Login
) -> None:
    day = far_day()
    pbso_id, fbi_id = pair(login, day)

    [alert] = alerts_between("event", pbso_id, fbi_id)
    assert (alert.kind, alert.status, alert.strength) == ("event", "open", "exact")
    assert "within 300 m" in alert.explanation and "overlap by 1 h" in alert.explanation
    assert {alert.agency_a.code, alert.agency_b.code} == {"PBSO", "FBI"}

    sides = {
        "investigator.pbso": (PBSO_OP, FBI_OP, FBI_CONTACT, "Federal Bureau of Investigation"),
        "supervisor.pbso": (PBSO_OP, FBI_OP, FBI_CONTACT, "Federal Bureau of Investigation"),
        "investigator.fbi": (FBI_OP, PBSO_OP, PBSO_CONTACT, "Palm Beach County Sheriff"),
        "supervisor.fbi": (FBI_OP, PBSO_OP, PBSO_CONTACT, "Palm Beach County Sheriff"),
    }
    clients = {name: login(name) for name in sides}
    for name, (own, other, contact, other_agency) in sides.items():
        client = clients[name]
        listing = text(client.get("/alerts"))
        assert f'href="/alerts/{alert.id}"' in listing, name
        assert_pointer_only(listing, own, other, name)

        page = client.get(f"/alerts/{alert.id}")
        assert page.status_code == 200, name
        body = text(page)
        assert_pointer_only(body, own, other, name)
        assert other_agency in body and all(c in body for c in contact), name
        # why, in the side's own terms: no distance, limit or overlap of the other side
        assert "Near your location, at an overlapping time" in body and "300 m" not in body

        api = client.get(f"/api/alerts/{alert.id}").get_json()["alert"]
        raw = json.dumps(api)
        for secret in other.values():
            assert secret not in raw, (name, secret)
        mine, theirs = api["parties"]
        assert mine["own"] and mine["label"] == own["title"]
        assert not theirs["own"] and "label" not in theirs and "ref" not in theirs
        assert theirs["contact"] == dict(zip(("name", "phone", "email"), contact, strict=True))

        assert notifications(alert.id, name), f"{name} was notified"

    # Each side acknowledges; then a supervisor resolves with an outcome and a note.
    assert clients["investigator.pbso"].post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    assert alerts_between("event", pbso_id, fbi_id)[0].status == "open"
    assert clients["investigator.fbi"].post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    assert alerts_between("event", pbso_id, fbi_id)[0].status == "acknowledged"

    note = "Agreed by phone: joint operation, FBI leads, PBSO covers the rear."
    resolved = clients["supervisor.fbi"].post(
        f"/alerts/{alert.id}/resolve", data={"outcome": "joint_operation", "note": note}
    )
    assert resolved.status_code == 302
    [done] = alerts_between("event", pbso_id, fbi_id)
    assert (done.status, done.outcome, done.resolution_note) == (
        "resolved",
        "joint_operation",
        note,
    )
    assert done.resolved_by_id == user("supervisor.fbi").id and done.resolved_at is not None
    assert done.acked_a_at is not None and done.acked_b_at is not None
    [entry] = audits("alert.resolve", object_id=str(alert.id))
    assert entry.detail["outcome_code"] == "joint_operation" and entry.detail["note"] == note
    pbso_page = text(clients["supervisor.pbso"].get(f"/alerts/{alert.id}"))
    assert "Joint operation" in pbso_page and note in pbso_page
    assert any("resolved" in n.text for n in notifications(alert.id, "investigator.pbso"))


def test_each_acknowledgement_is_told_to_the_others(app: Flask, login: Login) -> None:
    pbso_id, fbi_id = pair(login, far_day(2))
    [alert] = alerts_between("event", pbso_id, fbi_id)

    def acks(username: str) -> list[str]:
        return [n.text for n in notifications(alert.id, username) if "acknowledged" in n.text]

    assert login("investigator.pbso").post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    assert acks("investigator.pbso") == []  # who acknowledged knows it
    [told] = acks("investigator.fbi")
    assert "with PBSO" in told and "acknowledged by PBSO, waiting for FBI" in told
    assert acks("supervisor.fbi") and acks("deconfliction_officer.pbso")
    assert login("investigator.fbi").post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    assert any("both sides, ready to resolve" in t for t in acks("supervisor.pbso"))
    assert any("both sides" in t for t in acks("investigator.pbso"))
    assert not any("both sides" in t for t in acks("investigator.fbi"))
    for username in ("investigator.pbso", "supervisor.fbi", "deconfliction_officer.pbso"):
        assert all("canary" not in t.lower() for t in acks(username))


def test_everyone_told_at_once_and_the_badge_counts_unread(app: Flask, login: Login) -> None:
    pbso_id, fbi_id = pair(login, far_day(1))
    [alert] = alerts_between("event", pbso_id, fbi_id)
    told = {n.user_id for n in notifications(alert.id)}
    expected = {
        "investigator.pbso",
        "supervisor.pbso",
        "investigator.fbi",
        "supervisor.fbi",
        "deconfliction_officer.pbso",
    }
    assert {user(u).id for u in expected} == told
    assert user("investigator.hsi").id not in told and user("advocate.vs").id not in told
    by_user = {n.user_id: n.text for n in notifications(alert.id)}
    assert "with FBI" in by_user[user("supervisor.pbso").id]
    assert "with PBSO" in by_user[user("investigator.fbi").id]
    for line in by_user.values():
        assert "canary" not in line.lower()

    sup = login("supervisor.pbso")
    calendar = sup.get("/calendar").get_data(as_text=True)
    badge = re.search(r'<span class="count-badge" id="inbox-count">(\d+)</span>', calendar)
    assert badge is not None
    before = int(badge[1])
    inbox = text(sup.get("/inbox"))
    assert f"Alert #{alert.id}" in inbox and "with FBI" in inbox
    sup.get(f"/alerts/{alert.id}")  # opening the alert reads its notifications
    after = re.search(r'id="inbox-count">(\d+)<', sup.get("/calendar").get_data(as_text=True))
    assert (int(after[1]) if after else 0) == before - 1
    assert sup.post("/inbox/read").status_code == 302
    assert 'id="inbox-count"' not in sup.get("/calendar").get_data(as_text=True)


def test_saving_again_updates_the_one_alert_and_never_adds_another(
    app: Flask, login: Login
) -> None:
    day = far_day(2)
    pbso_id, fbi_id = pair(login, day)
    [alert] = alerts_between("event", pbso_id, fbi_id)
    sent = len(notifications(alert.id))
    fbi = login("investigator.fbi")
    fbi_form = operation(
        day,
        **FBI_OP,
        subtype="undercover_meet",
        starts_at=local(day, "10:00"),
        ends_at=local(day, "12:00"),
        latitude=f"{26.6 + LAT_300M:.4f}",
    )
    # Unchanged match (only the notes change): same alert, nobody told again.
    save_operation(fbi, fbi_form | {"notes": "fbi-canary-notes, updated"}, fbi_id)
    save_operation(login("investigator.pbso"), operation(day, **PBSO_OP), pbso_id)
    [same] = alerts_between("event", pbso_id, fbi_id)
    assert same.id == alert.id and same.explanation == alert.explanation
    assert len(notifications(alert.id)) == sent

    # Acknowledged, then the time moves: the alert is updated, acknowledgements cleared.
    login("investigator.pbso").post(f"/alerts/{alert.id}/acknowledge")
    assert alerts_between("event", pbso_id, fbi_id)[0].acked_a_at is not None
    save_operation(
        fbi, fbi_form | {"starts_at": local(day, "10:30"), "ends_at": local(day, "12:00")}, fbi_id
    )
    [moved] = alerts_between("event", pbso_id, fbi_id)
    assert moved.id == alert.id and "overlap by 30 min" in moved.explanation
    assert moved.status == "open" and moved.acked_a_at is None and moved.acked_b_at is None
    assert len(notifications(alert.id)) > sent
    assert audits("alert.update", object_id=str(alert.id))


def test_moving_away_closes_the_alert_and_coming_back_reopens_it(app: Flask, login: Login) -> None:
    day = far_day(3)
    pbso_id, fbi_id = pair(login, day)
    [alert] = alerts_between("event", pbso_id, fbi_id)
    fbi = login("investigator.fbi")
    base = operation(day, **FBI_OP, starts_at=local(day, "10:00"), ends_at=local(day, "12:00"))
    save_operation(fbi, base | {"latitude": "26.7000"}, fbi_id)  # 11 km north
    [closed] = alerts_between("event", pbso_id, fbi_id)
    assert closed.status == "closed" and "no longer conflict" in closed.closed_reason
    assert any("closed" in n.text for n in notifications(alert.id, "investigator.pbso"))

    save_operation(fbi, base | {"latitude": f"{26.6 + LAT_300M:.4f}"}, fbi_id)
    [back] = alerts_between("event", pbso_id, fbi_id)
    assert back.id == alert.id and back.status == "open" and back.closed_at is None
    assert audits("alert.reopen", object_id=str(alert.id))


def test_cancelling_an_operation_closes_its_alert(app: Flask, login: Login) -> None:
    pbso_id, fbi_id = pair(login, far_day(4))
    pbso = login("investigator.pbso")
    assert (
        pbso.post(f"/events/{pbso_id}/cancel", data={"reason": "Target moved"}).status_code == 302
    )
    [alert] = alerts_between("event", pbso_id, fbi_id)
    assert alert.status == "closed" and alert.closed_reason == "the operation was cancelled"


def test_one_agency_one_case_never_conflicts_but_two_cases_do(app: Flask, login: Login) -> None:
    day = far_day(5)
    pbso = login("investigator.pbso")
    pbso_case = _case_id("PB-2026-0417")
    one = save_operation(pbso, operation(day, case_id=str(pbso_case)))
    two = save_operation(
        pbso, operation(day, case_id=str(pbso_case), latitude=f"{26.6 + LAT_300M:.4f}")
    )
    assert alerts_between("event", one, two) == []
    other_case = _new_case(pbso, "PB-2027-0001")
    three = save_operation(pbso, operation(day, case_id=str(other_case), latitude="26.6010"))
    assert len(alerts_between("event", one, three)) == 1
    assert len(alerts_between("event", two, three)) == 1


def _case_id(number: str) -> int:
    from jointops.models import Case

    found = db.session.scalar(select(Case.id).where(Case.number == number))
    assert found is not None
    return found


def _new_case(client: FlaskClient, number: str) -> int:
    response = client.post("/cases/new", data={"number": number, "title": "Second case"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return _case_id(number)


def test_the_deconfliction_officer_sees_both_sides_and_every_view_is_audited(
    app: Flask, login: Login
) -> None:
    pbso_id, fbi_id = pair(login, far_day(6))
    [alert] = alerts_between("event", pbso_id, fbi_id)
    officer = login("deconfliction_officer.pbso")
    page = text(officer.get(f"/alerts/{alert.id}"))
    assert PBSO_OP["title"] in page and FBI_OP["title"] in page
    assert FBI_OP["location_address"] in page
    assert "recorded in the audit trail" in page
    [entry] = audits(
        "alert.view", object_id=str(alert.id), actor_username="deconfliction_officer.pbso"
    )
    assert entry.detail["sides"] == "both" and entry.object_type == "alert"

    api = officer.get(f"/api/alerts/{alert.id}").get_json()["alert"]
    assert {p["label"] for p in api["parties"]} == {PBSO_OP["title"], FBI_OP["title"]}
    assert len(audits("alert.view", object_id=str(alert.id), sides="both")) == 2

    listing = text(officer.get("/alerts"))
    assert FBI_OP["title"] in listing
    [listed] = [
        e
        for e in audits("alert.list", actor_username="deconfliction_officer.pbso")
        if alert.id in e.detail["alert_ids"]
    ]
    assert listed.detail["sides"] == "both"

    # A party's own view is audited too, as their own side only.
    login("investigator.fbi").get(f"/alerts/{alert.id}")
    [own] = audits("alert.view", object_id=str(alert.id), actor_username="investigator.fbi")
    assert own.detail["sides"] == "own"


def test_an_uninvolved_agency_and_an_advocate_see_nothing(app: Flask, login: Login) -> None:
    pbso_id, fbi_id = pair(login, far_day(7))
    [alert] = alerts_between("event", pbso_id, fbi_id)
    for name in ("investigator.hsi", "supervisor.hsi", "advocate.vs", "prosecutor.sao15"):
        client = login(name)
        assert client.get(f"/alerts/{alert.id}").status_code == 404, name
        assert client.get(f"/api/alerts/{alert.id}").status_code == 404, name
        assert f'/alerts/{alert.id}"' not in client.get("/alerts").get_data(as_text=True), name
        ids = [a["id"] for a in client.get("/api/alerts?status=all").get_json()["alerts"]]
        assert alert.id not in ids, name
        assert client.post(f"/alerts/{alert.id}/acknowledge").status_code == 404, name
    assert audits("alert.view", object_id=str(alert.id), outcome="denied")
    assert (
        login("supervisor.hsi")
        .post(
            f"/alerts/{alert.id}/resolve", data={"outcome": "proceed", "note": "Not mine to say."}
        )
        .status_code
        == 404
    )
    assert alerts_between("event", pbso_id, fbi_id)[0].status == "open"


def test_an_advocate_taking_part_in_an_operation_still_sees_none_of_its_alerts(
    app: Flask, login: Login
) -> None:
    """Advocates learn of their own events, never of the matches and agencies behind them."""
    pbso_id, fbi_id = pair(login, far_day(9))
    [alert] = alerts_between("event", pbso_id, fbi_id)
    db.session.add(Participant(event_id=pbso_id, user_id=user("advocate.vs").id, part="advocate"))
    db.session.commit()
    advocate = login("advocate.vs")
    assert advocate.get(f"/events/{pbso_id}").status_code == 200  # their event, in full
    assert advocate.get(f"/alerts/{alert.id}").status_code == 404
    assert advocate.get(f"/api/alerts/{alert.id}").status_code == 404
    assert advocate.get("/api/alerts?status=all").get_json()["alerts"] == []
    assert f'/alerts/{alert.id}"' not in advocate.get("/alerts").get_data(as_text=True)
    assert advocate.post(f"/alerts/{alert.id}/acknowledge").status_code == 404


def test_resolving_needs_a_supervisor_both_acknowledgements_an_outcome_and_a_note(
    app: Flask, login: Login
) -> None:
    pbso_id, fbi_id = pair(login, far_day(8))
    [alert] = alerts_between("event", pbso_id, fbi_id)
    url = f"/alerts/{alert.id}/resolve"
    good = {"outcome": "postponed", "note": "PBSO moves to next week."}

    assert login("investigator.pbso").post(url, data=good).status_code == 403
    supervisor = login("supervisor.pbso")
    early = supervisor.post(url, data=good)
    assert early.status_code == 409
    assert "waiting for" in text(early) and "FBI" in text(early)

    login("investigator.pbso").post(f"/alerts/{alert.id}/acknowledge")
    again = supervisor.post(f"/alerts/{alert.id}/acknowledge")
    assert again.status_code == 302
    assert "already acknowledged" in text(supervisor.get(f"/alerts/{alert.id}"))
    login("supervisor.fbi").post(f"/alerts/{alert.id}/acknowledge")

    empty = supervisor.post(url, data={"outcome": "", "note": "  "})
    assert empty.status_code == 400
    page = text(empty)
    assert re.search(r'id="outcome-error">[^<]*Choose an outcome', page)
    assert re.search(r'id="note-error">[^<]*Write a note', page)
    assert "Outcome: Choose an outcome." in page  # the summary names the field
    bogus = supervisor.post(url, data={"outcome": "ignore_it", "note": "x" * 20})
    assert bogus.status_code == 400 and "Not a valid choice" in text(bogus)
    assert alerts_between("event", pbso_id, fbi_id)[0].status == "acknowledged"

    assert supervisor.post(url, data=good).status_code == 302
    assert alerts_between("event", pbso_id, fbi_id)[0].outcome == "postponed"
    late = login("supervisor.fbi").post(url, data={"outcome": "proceed", "note": "Changed my mind"})
    assert late.status_code == 409 and "already resolved" in text(late)
    assert alerts_between("event", pbso_id, fbi_id)[0].outcome == "postponed"


def test_the_officer_resolves_without_belonging_to_either_side(app: Flask, login: Login) -> None:
    day = far_day(9)
    fbi_id = save_operation(login("investigator.fbi"), operation(day, title="FBI op"))
    hsi_id = save_operation(
        login("investigator.hsi"), operation(day, title="HSI op", latitude="26.6010")
    )
    [alert] = alerts_between("event", fbi_id, hsi_id)
    officer = login("deconfliction_officer.pbso")
    # not a party: nothing to acknowledge for
    assert officer.post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    assert "each for its own side" in text(officer.get(f"/alerts/{alert.id}"))
    [still] = alerts_between("event", fbi_id, hsi_id)
    assert still.acked_a_at is None and still.acked_b_at is None
    login("investigator.fbi").post(f"/alerts/{alert.id}/acknowledge")
    login("investigator.hsi").post(f"/alerts/{alert.id}/acknowledge")
    response = officer.post(
        f"/alerts/{alert.id}/resolve",
        data={"outcome": "no_conflict", "note": "Same building, different floors; agreed."},
    )
    assert response.status_code == 302
    assert alerts_between("event", fbi_id, hsi_id)[0].outcome == "no_conflict"


def test_the_precheck_shows_the_pointer_and_saves_nothing(app: Flask, login: Login) -> None:
    day = far_day(10)
    save_operation(login("investigator.fbi"), operation(day, **FBI_OP))
    events, alerts = count(Event), count(Alert)
    pbso = login("investigator.pbso")
    plan = operation(day, **PBSO_OP, latitude=f"{26.6 + LAT_300M:.4f}") | {"precheck": "1"}
    response = pbso.post("/events/new", data=plan)
    assert response.status_code == 200
    page = text(response)
    assert "Deconfliction: 1 match" in page
    assert "Federal Bureau of Investigation" in page and all(c in page for c in FBI_CONTACT)
    # why, in terms of the viewer's own plan: no distance, limit or overlap of the other side
    assert "Near your location, at an overlapping time" in page
    assert not re.search(r"\d[\d,]* ?(m|km|min|minutes)\b", page.split('id="precheck"')[1][:3000])
    for secret in FBI_OP.values():
        assert secret not in page
    assert 'value="PBSO canary warrant on Oleander"' in page  # what was typed is kept
    assert (count(Event), count(Alert)) == (events, alerts)
    assert audits("deconflict.precheck", actor_username="investigator.pbso")

    quiet = pbso.post("/events/new", data=operation(far_day(40)) | {"precheck": "1"})
    assert quiet.status_code == 200 and "Deconfliction: no match" in text(quiet)
    interview = operation(day, kind="interview", subtype="witness_interview") | {"precheck": "1"}
    interview.update(location_address="", latitude="", longitude="")
    assert "nothing to check" in text(pbso.post("/events/new", data=interview))
    invalid = pbso.post("/events/new", data=plan | {"ends_at": local(day, "08:00")})
    assert invalid.status_code == 400 and "Must be after the start." in text(invalid)
    assert count(Event) == events


def test_the_review_page_sorts_by_urgency_filters_and_counts(app: Flask, login: Login) -> None:
    later_pbso, later_fbi = pair(login, far_day(20))
    soon_pbso, soon_fbi = pair(login, far_day(12), fbi_lat=26.6 + LAT_300M / 3)
    [later] = alerts_between("event", later_pbso, later_fbi)
    [soon] = alerts_between("event", soon_pbso, soon_fbi)
    sup = login("supervisor.pbso")
    page = sup.get("/alerts").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'data-alert-id="(\d+)"', page)]
    assert order.index(soon.id) < order.index(later.id)
    assert re.search(r"\d+ open", page) and "waiting" in page.lower()

    login("investigator.pbso").post(f"/alerts/{soon.id}/acknowledge")
    login("investigator.fbi").post(f"/alerts/{soon.id}/acknowledge")
    sup.post(f"/alerts/{soon.id}/resolve", data={"outcome": "proceed", "note": "Both go ahead."})
    active = sup.get("/api/alerts").get_json()
    ids = [a["id"] for a in active["alerts"]]
    assert later.id in ids and soon.id not in ids
    assert active["counts"]["resolved"] >= 1
    resolved = [a["id"] for a in sup.get("/api/alerts?status=resolved").get_json()["alerts"]]
    assert soon.id in resolved and later.id not in resolved
    assert [
        a for a in sup.get("/api/alerts?kind=target").get_json()["alerts"] if a["kind"] != "target"
    ] == []
    assert later.id in [a["id"] for a in sup.get("/api/alerts?agency=FBI").get_json()["alerts"]]
    assert later.id not in [a["id"] for a in sup.get("/api/alerts?agency=HSI").get_json()["alerts"]]
    assert later.id in [a["id"] for a in sup.get("/api/alerts?strength=exact").get_json()["alerts"]]
    waiting = [a["id"] for a in sup.get("/api/alerts?sort=waiting").get_json()["alerts"]]
    assert later.id in waiting
    for bad in ("status=nope", "kind=x", "strength=certain", "sort=random"):
        response = sup.get(f"/alerts?{bad}")
        assert response.status_code == 400, bad
        assert bad.split("=")[0] in text(response)


def test_the_review_list_comes_in_pages(
    app: Flask, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair(login, far_day(21))
    pair(login, far_day(22))
    monkeypatch.setattr("jointops.alerts.listing.PER_PAGE", 2)
    sup = login("supervisor.pbso")
    everything = sup.get("/api/alerts?status=all").get_json()
    total = everything["total"]
    assert total >= 3 and everything["pages"] == -(-total // 2) and everything["page"] == 1
    assert len(everything["alerts"]) == 2
    seen = []
    for number in range(1, everything["pages"] + 1):
        page = sup.get(f"/api/alerts?status=all&page={number}").get_json()
        assert page["page"] == number and page["total"] == total
        seen += [a["id"] for a in page["alerts"]]
    assert len(seen) == len(set(seen)) == total  # each alert on exactly one page, in order
    beyond = sup.get("/api/alerts?status=all&page=999").get_json()
    assert beyond["page"] == everything["pages"] and beyond["alerts"]

    html = sup.get("/alerts?status=all&page=2").get_data(as_text=True)
    assert f"3–{min(4, total)} of {total}" in html
    assert 'rel="prev"' in html and "page=1" in html
    assert [int(i) for i in re.findall(r'data-alert-id="(\d+)"', html)] == seen[2:4]
    for bad in ("page=0", "page=x", "page=-1"):
        response = sup.get(f"/alerts?{bad}")
        assert response.status_code == 400 and "page" in text(response), bad


def test_jointops_alerts_json_prints_every_alert_with_both_parties(
    app: Flask, login: Login, runner: Any
) -> None:
    pbso_id, fbi_id = pair(login, far_day(14))
    result = runner.invoke(args=["alerts", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert isinstance(records, list) and records
    for record in records:
        assert {"kind", "strength", "score", "explanation", "status", "parties"} <= set(record)
        assert record["kind"] in ("event", "target")
        assert record["strength"] in ("exact", "probable", "possible")
        assert 0 <= record["score"] <= 1
        assert len(record["parties"]) == 2
        for party in record["parties"]:
            assert {"agency", "ref"} <= set(party)
    [mine] = [r for r in records if {p["ref"] for p in r["parties"]} == {pbso_id, fbi_id}]
    assert {p["agency"] for p in mine["parties"]} == {"PBSO", "FBI"}
    assert mine["status"] == "open" and "within 300 m" in mine["explanation"]
    demo_target = [r for r in records if r["kind"] == "target"]
    assert {"PB-T-001", "FBI-1182-07"} == {p["ref"] for p in demo_target[0]["parties"]}
    assert audits("alert.export")

    resolved = json.loads(runner.invoke(args=["alerts", "--json", "--status", "resolved"]).output)
    assert resolved == []
    table = runner.invoke(args=["alerts"])
    assert table.exit_code == 0 and "PBSO:" in table.output


def test_candidates_come_from_indexes_never_a_scan(app: Flask, login: Login, backend: str) -> None:
    """The plan of every candidate query a save runs uses an index, never a table scan.

    PostgreSQL's planner prefers a scan on tables this small, so there the
    plan is taken with sequential scans priced out: a query that no index can
    serve still shows its "Seq Scan".
    """
    day = far_day(15)
    fbi_id = save_operation(login("investigator.fbi"), operation(day))
    statements: list[tuple[str, Any]] = []

    def capture(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        save_operation(login("investigator.pbso"), operation(day, latitude="26.6010"))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    candidate = [s for s in statements if "events.latitude BETWEEN" in s[0]]
    assert candidate, "the candidate query ran"
    with db.engine.connect() as conn:
        if backend == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, params in candidate + [s for s in statements if "target_keys" in s[0]]:
            if backend == "postgresql":
                plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {statement}", params).scalars())
                assert "Seq Scan on events" not in plan, (statement, plan)
                assert "Seq Scan on target_keys" not in plan, (statement, plan)
                assert "Index" in plan, (statement, plan)
                continue
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            details = [row[-1] for row in rows]
            scans = [d for d in details if d.startswith("SCAN") and "INDEX" not in d]
            assert not scans, (statement, details)
            assert any("USING INDEX" in d or "USING COVERING INDEX" in d for d in details)
            if "events.latitude BETWEEN" in statement:  # by grid cell, not the fortnight's starts
                assert any("ix_events_kind_cell_start" in d for d in details), details
                wide = [d for d in details if "radius_m>?" in d]  # and the wide ones by radius
                assert wide and all("ix_events_kind_radius" in d for d in wide), details
                assert not any("ix_events_kind_start_place" in d for d in details), details
    assert len(alerts_of("event", fbi_id)) == 1


@pytest.mark.parametrize("wide_first", [True, False])
def test_an_operation_with_a_wide_radius_of_its_own_is_found_from_afar(
    app: Flask, login: Login, wide_first: bool
) -> None:
    """15 km apart, yet inside a 20 km surveillance radius: outside the grid's usual reach,
    found by radius (saved first) or by a search as wide as its own radius (saved second)."""
    app.config["OPERATION_MAX_RADIUS_M"] = 20_000  # an office that allows such areas
    day = far_day(17 + wide_first)
    wide = operation(day, **FBI_OP, subtype="surveillance", radius_m="20000")
    near = operation(day, **PBSO_OP, latitude=f"{26.6 + 15_000 / 111_195:.4f}")
    far = operation(day, latitude=f"{26.6 + 30_000 / 111_195:.4f}", title="Out of reach")
    saves = [("investigator.fbi", wide), ("investigator.pbso", near), ("investigator.pbso", far)]
    if not wide_first:
        saves.reverse()
    ids = {data["title"]: save_operation(login(who), data) for who, data in saves}
    fbi_id = ids[FBI_OP["title"]]
    assert len(alerts_between("event", fbi_id, ids[PBSO_OP["title"]])) == 1
    assert alerts_between("event", fbi_id, ids["Out of reach"]) == []


def test_an_events_grid_cell_follows_its_place(app: Flask, login: Login) -> None:
    from deconflict.events import grid_cell

    client = login("investigator.pbso")
    data = operation(far_day(16))
    event_id = save_operation(client, data)
    assert db.session.get_one(Event, event_id).grid_cell == grid_cell(26.6, -80.2)
    save_operation(client, data | {"latitude": "26.7000", "longitude": "-80.0500"}, event_id)
    db.session.expire_all()
    assert db.session.get_one(Event, event_id).grid_cell == grid_cell(26.7, -80.05)


def test_a_pair_raised_by_two_saves_at_once_is_stored_once(app: Flask, login: Login) -> None:
    """The loser of the race hits the unique pair and updates the winner's alert instead."""
    from deconflict.match import Match, Reason, Rule, Strength
    from jointops.alerts.items import item_keys
    from jointops.deconfliction.sync import _new_alert, _Party
    from jointops.transactions import unit_of_work

    pbso_id, fbi_id = pair(login, far_day(16))
    [alert] = alerts_between("event", pbso_id, fbi_id)
    with unit_of_work():  # the session is still usable after the refused insert: it commits
        why = Reason(Rule.PLACE_TIME, "location", Strength.EXACT, "within 300 m (limit 1,000 m)")
        match = Match("event", 0.9, Strength.EXACT, (why,))
        a, b = item_keys(alert)
        parties = {a: _Party(alert.agency_a_id, None), b: _Party(alert.agency_b_id, None)}
        found, created = _new_alert((a, b), parties, match, "event")
        assert not created and found.id == alert.id
    assert len(alerts_between("event", pbso_id, fbi_id)) == 1
