"""Version 1 of the JSON API: each endpoint's happy path, its need-to-know (another agency's
object answers 404 as a missing one does, audited as the pages audit it), validation naming the
field, the old ``/api/`` paths, and both ways in: a Bearer token, and a session with CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from jointops.deconfliction.sync import sync_event
from jointops.extensions import db
from jointops.forms import MAX_ID, RowIdConverter
from jointops.identity import api_tokens
from jointops.models import Alert, AuditEntry, Event, FeedToken, PendingCheck, Resource, Target
from tests.alert_helpers import LAT_300M, audits, far_day, local
from tests.conftest import user

Login = Callable[[str], FlaskClient]


class Api:
    """A client that sends a user's API token on every request."""

    def __init__(self, client: FlaskClient, username: str) -> None:
        self.client = client
        self.headers = {
            "Authorization": f"Bearer {api_tokens.create(user(username), 'test').secret}"
        }

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(path, json=body, headers=self.headers, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.put(path, json=body, headers=self.headers, **kw)


@pytest.fixture
def api(app: Flask) -> Callable[[str], Api]:
    def make(username: str) -> Api:
        return Api(app.test_client(), username)

    return make


def operation(day: date, **over: Any) -> dict[str, Any]:
    return {
        "kind": "operation",
        "subtype": "search_warrant",
        "title": "API v1 warrant",
        "starts_at": local(day, "09:00"),
        "ends_at": local(day, "11:00"),
        "status": "planned",
        "sensitivity": "normal",
        "location_address": "100 Test Way, Lake Worth, FL",
        "latitude": 26.6,
        "longitude": -80.2,
        "confirm_warnings": True,
    } | over


def pair(api: Callable[[str], Api], day: date) -> tuple[int, int]:
    """PBSO's warrant 09:00–11:00 and FBI's meet 10:00–12:00, 300 m apart: one alert."""
    pbso = api("investigator.pbso").post("/api/v1/events", operation(day))
    fbi = api("investigator.fbi").post(
        "/api/v1/events",
        operation(
            day,
            subtype="undercover_meet",
            starts_at=local(day, "10:00"),
            ends_at=local(day, "12:00"),
            latitude=26.6 + LAT_300M,
        ),
    )
    assert pbso.status_code == fbi.status_code == 201, (pbso.get_json(), fbi.get_json())
    return pbso.get_json()["event"]["id"], fbi.get_json()["event"]["id"]


# --- events --------------------------------------------------------------------------------


def test_events_create_get_list_update_and_cancel(api: Callable[[str], Api]) -> None:
    pbso = api("investigator.pbso")
    day = far_day()
    made = pbso.post("/api/v1/events", operation(day))
    assert made.status_code == 201, made.get_json()
    event = made.get_json()["event"]
    assert event["title"] == "API v1 warrant" and event["owner_agency"] == "PBSO"
    event_id = event["id"]

    shown = pbso.get(f"/api/v1/events/{event_id}")
    assert shown.status_code == 200 and shown.get_json()["event"]["id"] == event_id

    window = {
        "start": f"{day.isoformat()}T00:00:00-05:00",
        "end": f"{day.isoformat()}T23:59:00-05:00",
    }
    listed = pbso.get("/api/v1/events", query_string=window | {"limit": 1})
    assert listed.status_code == 200
    page = listed.get_json()
    assert [e["id"] for e in page["events"]] == [event_id]
    assert page["paging"] == {"page": 1, "limit": 1, "total": 1, "next_page": None}

    changed = pbso.put(f"/api/v1/events/{event_id}", operation(day, title="Renamed by API"))
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["event"]["title"] == "Renamed by API"
    assert db.session.get_one(Event, event_id).title == "Renamed by API"

    refused = pbso.post(f"/api/v1/events/{event_id}/cancel", {"reason": ""})
    assert refused.status_code == 400 and "reason" in refused.get_json()["errors"]
    cancelled = pbso.post(f"/api/v1/events/{event_id}/cancel", {"reason": "Called off"})
    assert cancelled.get_json() == {"id": event_id, "status": "cancelled"}
    db.session.expire_all()
    assert db.session.get_one(Event, event_id).status == "cancelled"


def test_another_agencys_event_answers_404_like_a_missing_one_and_is_audited(
    api: Callable[[str], Api],
) -> None:
    pbso = api("investigator.pbso")
    event_id = pbso.post("/api/v1/events", operation(far_day(), sensitivity="covert")).get_json()[
        "event"
    ]["id"]
    fbi = api("investigator.fbi")
    hidden = fbi.get(f"/api/v1/events/{event_id}")
    missing = fbi.get("/api/v1/events/2147483647")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    assert fbi.put(f"/api/v1/events/{event_id}", operation(far_day())).status_code == 404
    cancel = fbi.post(f"/api/v1/events/{event_id}/cancel", {"reason": "mine now"})
    assert cancel.status_code == 404
    denied = audits("event.view", outcome="denied")
    assert {e.object_id for e in denied} >= {str(event_id), "2147483647"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ("just text", "body"),
        ({"title": 5}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"unknown": 1}, "unknown"),
        ({"case_id": 2**31}, "case_id"),
        ({"investigators": ["x"]}, "investigators.0"),
        ({"starts_at": "tomorrow"}, "starts_at"),
    ],
)
def test_a_body_that_does_not_fit_answers_422_naming_the_field(
    api: Callable[[str], Api], body: Any, field: str
) -> None:
    sent = operation(far_day()) | body if isinstance(body, dict) else body
    answer = api("investigator.pbso").post("/api/v1/events", sent)
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["errors"]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_dates_out_of_the_offices_range_are_refused_by_field(
    api: Callable[[str], Api], moment: str
) -> None:
    answer = api("investigator.pbso").post("/api/v1/events", operation(far_day(), starts_at=moment))
    assert answer.status_code in (400, 422)
    assert "starts_at" in answer.get_json()["errors"]
    window = api("investigator.pbso").get("/api/v1/events", query_string={"start": moment + "Z"})
    assert window.status_code == 422 and "start" in window.get_json()["errors"]


def test_a_rule_refusal_answers_400_by_field_and_ids_past_32_bits_answer_404(
    api: Callable[[str], Api],
) -> None:
    pbso = api("investigator.pbso")
    answer = pbso.post("/api/v1/events", operation(far_day(), title="x" * 201))
    assert answer.status_code == 400 and "title" in answer.get_json()["errors"]
    for path in ("/api/v1/events/2147483648", "/api/v1/events/0", "/api/v1/events/-1"):
        assert pbso.get(path).status_code == 404
        assert pbso.put(path, operation(far_day())).status_code == 404


def test_session_and_csrf_as_well_as_bearer(app: Flask, login: Login) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    browser = login("investigator.pbso")
    body = operation(far_day())
    refused = browser.post("/api/v1/events", json=body)
    assert refused.status_code == 400 and "error" in refused.get_json()
    token = _csrf_of(browser.get("/calendar").get_data(as_text=True))
    made = browser.post("/api/v1/events", json=body, headers={"X-CSRFToken": token})
    assert made.status_code == 201, made.get_json()
    assert app.test_client().get("/api/v1/events").status_code == 401


def _csrf_of(page: str) -> str:
    import re

    found = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page
    )
    assert found, "no CSRF token on the page"
    return found.group(1)


def test_the_old_paths_still_answer(api: Callable[[str], Api]) -> None:
    pbso = api("investigator.pbso")
    made = pbso.post("/api/events", operation(far_day()) | {"confirm_warnings": True})
    assert made.status_code == 201
    event_id = made.get_json()["event"]["id"]
    assert pbso.get(f"/api/events/{event_id}").status_code == 200
    assert "events" in pbso.get("/api/events").get_json()
    assert "alerts" in pbso.get("/api/alerts").get_json()


def test_the_precheck_answers_pointers_and_keeps_its_limit(
    app: Flask, api: Callable[[str], Api]
) -> None:
    day = far_day(3)
    pair(api, day)
    hsi = api("investigator.hsi")
    body = operation(day, latitude=26.6, longitude=-80.2)
    before = db.session.scalar(select(db.func.count()).select_from(Event))
    answer = hsi.post("/api/v1/events/precheck", body)
    assert answer.status_code == 200, answer.get_json()
    found = answer.get_json()
    assert found["deconflicted"] is True
    assert sorted(p["agency"] for p in found["pointers"]) == ["FBI", "PBSO"]
    assert set(found["pointers"][0]) == {
        "agency",
        "agency_name",
        "own_agency",
        "case",
        "is_you",
        "strength",
        "explanation",
        "contact",
    }
    assert db.session.scalar(select(db.func.count()).select_from(Event)) == before
    app.config["PRECHECK_LIMIT_PER_USER"] = 1
    limited = hsi.post("/api/v1/events/precheck", body)
    assert limited.status_code == 429 and limited.get_json()["status"] == 429


# --- meetings ------------------------------------------------------------------------------


def meeting(day: date, **over: Any) -> dict[str, Any]:
    return {
        "kind": "meeting",
        "subtype": "case_meeting",
        "title": "API v1 case review",
        "starts_at": local(day, "09:00"),
        "ends_at": local(day, "10:00"),
        "status": "confirmed",
        "sensitivity": "normal",
        "confirm_warnings": True,
    } | over


def events_stored() -> int:
    db.session.rollback()
    return db.session.scalar(select(db.func.count()).select_from(Event)) or 0


def test_a_meeting_is_scheduled_listed_and_changed_with_or_without_a_room(
    api: Callable[[str], Api],
) -> None:
    day = far_day(7)
    conference = db.session.scalar(select(Resource.id).where(Resource.name == "Conference Room"))
    prosecutor = user("prosecutor.sao15").id
    pbso = api("supervisor.pbso")
    made = pbso.post("/api/v1/events", meeting(day, room_id=conference, prosecutors=[prosecutor]))
    assert made.status_code == 201, made.get_json()
    event = made.get_json()["event"]
    assert (event["kind"], event["subtype"], event["rooms"]) == (
        "meeting",
        "case_meeting",
        ["Conference Room"],
    )
    assert event["location"] == dict.fromkeys(("address", "latitude", "longitude", "radius_m"))
    assert event["client_code"] is None
    bare = pbso.post(
        "/api/v1/events",
        meeting(
            day,
            subtype="court_date",
            title="Arraignment",
            starts_at=local(day, "13:00"),
            ends_at=local(day, "15:00"),
        ),
    )
    assert bare.status_code == 201, bare.get_json()
    assert bare.get_json()["event"]["rooms"] == [] and bare.get_json()["event"]["kind"] == "meeting"

    window = {
        "start": f"{day.isoformat()}T00:00:00-05:00",
        "end": f"{day.isoformat()}T23:59:00-05:00",
    }
    listed = pbso.get("/api/v1/events", query_string=window).get_json()["events"]
    assert {(e["id"], e["kind"]) for e in listed} >= {
        (event["id"], "meeting"),
        (bare.get_json()["event"]["id"], "meeting"),
    }
    changed = pbso.put(
        f"/api/v1/events/{event['id']}",
        meeting(day, subtype="briefing", room_id=conference, prosecutors=[prosecutor]),
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["event"]["subtype"] == "briefing"

    # the prosecutor on it reads it in full; her office's supervisor a busy block of the room
    on_it = api("prosecutor.sao15").get(f"/api/v1/events/{event['id']}").get_json()["event"]
    assert (on_it["busy"], on_it["kind"]) == (False, "meeting")
    busy = api("supervisor.sao15").get(f"/api/v1/events/{event['id']}").get_json()["event"]
    assert busy["busy"] is True and "kind" not in busy and "title" not in busy
    # the room is never double-booked
    clash = api("investigator.fbi").post("/api/v1/events", meeting(day, room_id=conference))
    assert clash.status_code == 409 and clash.get_json()["field"] == "room_id"


@pytest.mark.parametrize(
    "over",
    [
        {"location_address": "100 Test Way, Lake Worth, FL"},
        {"latitude": 26.6, "longitude": -80.2},
        {"radius_m": 500},
        {"client_code": "VS-0142"},
        {"sensitivity": "covert"},
    ],
)
def test_a_meeting_refuses_an_operations_fields_by_name(
    api: Callable[[str], Api], over: dict[str, Any]
) -> None:
    before = events_stored()
    answer = api("investigator.pbso").post("/api/v1/events", meeting(far_day(), **over))
    assert answer.status_code == 400, answer.get_json()
    assert set(answer.get_json()["errors"]) == set(over)
    assert events_stored() == before


def test_an_unknown_kind_answers_422_naming_the_kinds(api: Callable[[str], Api]) -> None:
    answer = api("investigator.pbso").post("/api/v1/events", meeting(far_day(), kind="party"))
    assert answer.status_code == 422
    assert "meeting" in " ".join(answer.get_json()["errors"]["kind"])


def test_a_meeting_is_never_deconflicted(api: Callable[[str], Api]) -> None:
    """Not by a pre-check, not when saved at the time of another agency's operation, and not
    even as a row that holds a place (which the rules never save for a meeting)."""
    day = far_day(9)
    fbi = api("investigator.fbi")
    operation_id = fbi.post("/api/v1/events", operation(day)).get_json()["event"]["id"]
    alerts = db.session.scalar(select(db.func.count()).select_from(Alert))
    pbso = api("investigator.pbso")
    same_time = meeting(day, ends_at=local(day, "11:00"))
    checked = pbso.post("/api/v1/events/precheck", same_time)
    assert checked.status_code == 200
    assert checked.get_json() == {"deconflicted": False, "pointers": []}
    made = pbso.post("/api/v1/events", same_time)
    assert made.status_code == 201, made.get_json()
    meeting_id = made.get_json()["event"]["id"]

    row = db.session.get_one(Event, meeting_id)
    row.latitude, row.longitude, row.radius_m = 26.6, -80.2, 500
    db.session.commit()
    assert row.grid_cell is not None  # where deconfliction's candidates are looked up
    renamed = fbi.put(f"/api/v1/events/{operation_id}", operation(day, title="Renamed warrant"))
    assert renamed.status_code == 200, renamed.get_json()
    sync_event(row, user("investigator.pbso"))
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(Alert)) == alerts
    assert not db.session.scalars(
        select(PendingCheck).where(PendingCheck.item_id == meeting_id)
    ).all()


# --- alerts --------------------------------------------------------------------------------


def test_alerts_list_get_acknowledge_and_resolve(api: Callable[[str], Api]) -> None:
    pbso_op, fbi_op = pair(api, far_day(5))
    alert = db.session.scalars(select(Alert).where(Alert.kind == "event")).all()
    ours = [a for a in alert if {a.item_a_id, a.item_b_id} == {pbso_op, fbi_op}]
    assert len(ours) == 1
    alert_id = ours[0].id

    pbso = api("investigator.pbso")
    listed = pbso.get("/api/v1/alerts", query_string={"kind": "event"})
    assert listed.status_code == 200
    assert alert_id in [a["id"] for a in listed.get_json()["alerts"]]
    assert listed.get_json()["paging"]["limit"] == 50
    assert pbso.get("/api/v1/alerts", query_string={"status": "bogus"}).status_code == 422

    shown = pbso.get(f"/api/v1/alerts/{alert_id}").get_json()["alert"]
    assert {p["agency"] for p in shown["parties"]} == {"PBSO", "FBI"}
    acked = pbso.post(f"/api/v1/alerts/{alert_id}/acknowledge")
    assert acked.status_code == 200 and acked.get_json()["acknowledged_for"] == ["PBSO"]
    assert pbso.post(f"/api/v1/alerts/{alert_id}/acknowledge").status_code == 409
    assert api("investigator.fbi").post(f"/api/v1/alerts/{alert_id}/acknowledge").status_code == 200

    outsider = api("investigator.hsi")
    assert outsider.get(f"/api/v1/alerts/{alert_id}").status_code == 404
    assert outsider.post(f"/api/v1/alerts/{alert_id}/acknowledge").status_code == 404
    assert audits("alert.view", outcome="denied")

    supervisor = api("supervisor.pbso")
    bad = supervisor.post(f"/api/v1/alerts/{alert_id}/resolve", {"outcome": "maybe", "note": "x"})
    assert bad.status_code == 422 and "outcome" in bad.get_json()["errors"]
    empty = supervisor.post(
        f"/api/v1/alerts/{alert_id}/resolve", {"outcome": "proceed", "note": ""}
    )
    assert empty.status_code == 400 and "note" in empty.get_json()["errors"]
    assert (
        pbso.post(
            f"/api/v1/alerts/{alert_id}/resolve", {"outcome": "proceed", "note": "Agreed"}
        ).status_code
        == 403
    )
    resolved = supervisor.post(
        f"/api/v1/alerts/{alert_id}/resolve", {"outcome": "joint_operation", "note": "Together"}
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["alert"]["status"] == "resolved"


# --- targets and cases ---------------------------------------------------------------------


def test_targets_and_cases(api: Callable[[str], Api]) -> None:
    pbso = api("investigator.pbso")
    opened = pbso.post("/api/v1/cases", {"number": "PB-API-1", "title": "API case"})
    assert opened.status_code == 201, opened.get_json()
    case_id = opened.get_json()["case"]["id"]
    assert pbso.post("/api/v1/cases", {"number": "PB-API-1", "title": "Again"}).status_code == 400
    renamed = pbso.put(f"/api/v1/cases/{case_id}", {"number": "PB-API-1", "title": "Renamed"})
    assert renamed.get_json()["case"]["title"] == "Renamed"
    assert case_id in [c["id"] for c in pbso.get("/api/v1/cases").get_json()["cases"]]

    target = {
        "case_id": case_id,
        "target_ref": "API-T1",
        "first_name": "Jon",
        "last_name": "Testperson",
        "phones": ["(561) 555-0199"],
        "justification": "Reasonable suspicion from two controlled buys.",
    }
    checked = pbso.post("/api/v1/targets", target | {"precheck": True})
    assert checked.status_code == 200 and checked.get_json()["pointers"] == []
    made = pbso.post("/api/v1/targets", target)
    assert made.status_code == 201, made.get_json()
    target_id = made.get_json()["target"]["id"]
    assert made.get_json()["target"]["identifiers"] == [
        {"kind": "phone", "value": "(561) 555-0199"}
    ]
    changed = pbso.put(f"/api/v1/targets/{target_id}", target | {"last_name": "Changed"})
    assert changed.status_code == 200 and changed.get_json()["target"]["last_name"] == "Changed"
    short = pbso.post(f"/api/v1/targets/{target_id}/revalidate", {"reason": "short"})
    assert short.status_code == 400 and "reason" in short.get_json()["errors"]
    again = pbso.post(
        f"/api/v1/targets/{target_id}/revalidate", {"reason": "Still active: new buys in May."}
    )
    assert again.status_code == 200
    listed = pbso.get("/api/v1/targets", query_string={"case_id": case_id})
    assert [t["id"] for t in listed.get_json()["targets"]] == [target_id]

    bad_dob = pbso.post("/api/v1/targets", target | {"target_ref": "API-T2", "dob": "0001-01-01"})
    assert bad_dob.status_code == 400 and "dob" in bad_dob.get_json()["errors"]
    assert pbso.post("/api/v1/targets", target | {"phones": "one"}).status_code == 422

    fbi = api("investigator.fbi")
    assert fbi.get(f"/api/v1/targets/{target_id}").status_code == 404
    assert fbi.put(f"/api/v1/targets/{target_id}", target).status_code == 404
    assert fbi.get(f"/api/v1/cases/{case_id}").status_code == 404
    assert audits("target.view", outcome="denied")
    assert api("advocate.vs").get("/api/v1/targets").status_code == 403

    closed = pbso.put(f"/api/v1/cases/{case_id}/closed", {"closed": True})
    assert closed.get_json()["case"]["closed_at"] is not None
    refused = pbso.post("/api/v1/targets", target | {"target_ref": "API-T3"})
    assert refused.status_code == 400 and "case_id" in refused.get_json()["errors"]
    assert db.session.scalar(select(Target).where(Target.ref == "API-T3")) is None


# --- feed tokens ---------------------------------------------------------------------------


def test_feed_tokens(api: Callable[[str], Api]) -> None:
    advocate = api("advocate.vs")
    listed = advocate.get("/api/v1/feeds").get_json()
    assert "personal" in [s["scope"] for s in listed["scopes"]]
    made = advocate.post("/api/v1/feeds", {"label": "Phone", "scope": "personal"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["url"].endswith(".ics") and body["webcal"].startswith("webcal://")
    assert advocate.client.get(body["url"].split("localhost", 1)[1]).status_code == 200
    refused = advocate.post("/api/v1/feeds", {"label": "Team", "scope": "team"})
    assert refused.status_code == 400 and "scope" in refused.get_json()["errors"]
    token_id = body["token"]["id"]
    assert api("investigator.pbso").post(f"/api/v1/feeds/{token_id}/revoke").status_code == 404
    revoked = advocate.post(f"/api/v1/feeds/{token_id}/revoke")
    assert revoked.get_json()["revoked"] is True
    assert db.session.get_one(FeedToken, token_id).revoked_at is not None
    assert advocate.client.get(body["url"].split("localhost", 1)[1]).status_code == 404
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "feed_token.revoke"))
        is not None
    )


@given(st.integers(min_value=-10, max_value=2**64))
def test_a_path_id_matches_exactly_the_ids_a_column_holds(number: int) -> None:
    assert bool(re.fullmatch(RowIdConverter.regex, str(number))) == (1 <= number <= MAX_ID)
    assert not re.fullmatch(RowIdConverter.regex, f"0{number}")


@time_machine.travel(datetime(2027, 10, 1, 14, tzinfo=UTC), tick=True)
def test_a_time_that_happens_twice_needs_its_reading(api: Callable[[str], Api]) -> None:
    """2027-11-07 01:30 happens twice in New York: the API, like the form, asks which."""
    pbso = api("investigator.pbso")
    body = operation(date(2027, 11, 7), starts_at="2027-11-07T01:30", ends_at="2027-11-07 03:00")
    refused = pbso.post("/api/v1/events", body)
    assert refused.status_code == 400 and "starts_at" in refused.get_json()["errors"]
    wrong = pbso.post("/api/v1/events", body | {"starts_at_fold": "2"})
    assert wrong.status_code == 422 and "starts_at_fold" in wrong.get_json()["errors"]
    made = pbso.post("/api/v1/events", body | {"starts_at_fold": "1"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["event"]["starts_at"].startswith("2027-11-07T06:30")
