"""Places in the app: /api/geocode, the service area, known places and appointments' places.

The geocoder is a local server started by the test (``tests.geocoder_server``) speaking
Nominatim's jsonv2; the app is configured to use it by changing its config.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from jointops.config import Area
from jointops.extensions import db
from jointops.feeds import tokens as feed_tokens
from jointops.models import AppointmentPlace, AuditEntry, Event, GeocodeCacheEntry, KnownPlace
from tests.conftest import user
from tests.geocoder_server import Answer, FakeGeocoder, serve
from tests.test_places_geocoders import NOMINATIM

Login = Callable[[str], FlaskClient]
OFFICE = ZoneInfo("America/New_York")
MIAMI = ("25.7743", "-80.1963")


@pytest.fixture
def nominatim(app: Flask) -> Iterator[FakeGeocoder]:
    """The app's geocoder: Nominatim on a local server answering NOMINATIM."""
    with serve(lambda _: Answer.json(NOMINATIM)) as fake:
        app.config.update(GEOCODER="nominatim", GEOCODER_URL=fake.url, GEOCODER_TIMEOUT_S=10)
        yield fake


def audits(action: str = "place.geocode") -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def day() -> date:
    """A weekday well after the demo data."""
    found = datetime.now(OFFICE).date() + timedelta(days=45)
    while found.weekday() >= 5:
        found += timedelta(days=1)
    return found


def operation(**over: Any) -> dict[str, Any]:
    d = day().isoformat()
    return {
        "kind": "operation",
        "subtype": "search_warrant",
        "title": "Places test warrant",
        "starts_at": f"{d}T09:00",
        "ends_at": f"{d}T10:00",
        "status": "planned",
        "sensitivity": "normal",
        "location_address": "73 W Flagler St, Miami, FL",
        "latitude": MIAMI[0],
        "longitude": MIAMI[1],
    } | over


def appointment(**over: Any) -> dict[str, Any]:
    d = day().isoformat()
    return {
        "kind": "appointment",
        "subtype": "medical",
        "starts_at": f"{d}T14:00",
        "ends_at": f"{d}T15:00",
        "status": "planned",
        "sensitivity": "normal",
        "client_code": "VS-7700101",
    } | over


def events() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Event)) or 0


def known(name: str) -> KnownPlace:
    found = db.session.scalar(select(KnownPlace).where(KnownPlace.name == name))
    assert found is not None, name
    return found


# --- /api/geocode: who may search --------------------------------------------------------


def test_only_those_who_plan_operations_may_search(client: FlaskClient, login: Login) -> None:
    assert client.get("/api/geocode?q=broadway").status_code == 401
    for username in ("advocate.vs", "admin.pbso", "supervisor.vs"):
        response = login(username).get("/api/geocode?q=broadway")
        assert response.status_code == 403, username
        assert response.is_json
    assert [a.outcome for a in audits()] == ["denied"]  # supervisor.vs: a supervisor of VS
    assert login("investigator.pbso").get("/api/geocode?q=broadway").status_code == 200


def test_the_demo_gazetteer_answers_with_quality_and_service_area(login: Login) -> None:
    browser = login("investigator.pbso")
    answer = browser.get("/api/geocode?q=4700+okee")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json() == {
        "candidates": [
            {
                "label": "4700 Okeechobee Blvd, West Palm Beach, FL 33409",
                "lat": 26.7106,
                "lon": -80.1108,
                "quality": "rooftop",
                "in_service_area": True,
            }
        ],
        "geocoder": "demo",
    }
    miami = browser.get("/api/geocode?q=miami+courthouse").get_json()["candidates"]
    assert [c["in_service_area"] for c in miami] == [False]
    [entry] = [a for a in audits() if a.outcome == "success"][:1]
    assert entry.actor_username == "investigator.pbso"
    assert (entry.object_type, entry.object_id) == ("event", "new")
    assert entry.detail["geocoder"] == "demo"
    assert "okee" not in str(entry.detail).lower()


def test_the_event_form_searching_is_audited_with_its_event(login: Login) -> None:
    own = db.session.scalar(
        select(Event).where(Event.title == "Riverside spa warrant")  # PBSO's, led by this user
    )
    other = db.session.scalar(select(Event).where(Event.title == "Residence warrant"))  # FBI's
    assert own is not None and other is not None
    browser = login("investigator.pbso")
    assert browser.get(f"/api/geocode?q=broadway&event={own.id}").status_code == 200
    assert audits()[-1].object_id == str(own.id)
    for ref in (str(other.id), "999999", "abc", "-1"):
        refused = browser.get(f"/api/geocode?q=broadway&event={ref}")
        assert refused.status_code == 400, ref
        assert refused.get_json()["field"] == "event"


@pytest.mark.parametrize(
    "query",
    [None, "", "   ", "x" * 201, "4700\x00Okeechobee", "4700\u200bOkee", "!!! ,,, ???"],
    ids=["missing", "empty", "blank", "too-long", "nul", "invisible", "no-letters"],
)
def test_a_bad_query_is_400_naming_q_and_asks_no_geocoder(
    query: str | None, login: Login, nominatim: FakeGeocoder
) -> None:
    browser = login("investigator.pbso")
    response = browser.get("/api/geocode", query_string={} if query is None else {"q": query})
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "q" and body["error"].startswith("q: ")
    assert nominatim.requests == []
    assert db.session.scalar(select(func.count()).select_from(GeocodeCacheEntry)) == 0


def test_the_second_lookup_comes_from_the_cache(login: Login, nominatim: FakeGeocoder) -> None:
    browser = login("investigator.pbso")
    first = browser.get("/api/geocode?q=205+N+Dixie+Hwy")
    assert first.status_code == 200
    assert [c["quality"] for c in first.get_json()["candidates"]] == [
        "rooftop",
        "interpolated",
        "centroid",
    ]
    again = login("det.rivera.pbso").get("/api/geocode?q=  205 n  dixie HWY ")
    assert again.get_json() == first.get_json()
    assert len(nominatim.requests) == 1
    assert [(a.outcome, a.detail["cached"]) for a in audits()] == [
        ("success", False),
        ("success", True),
    ]
    [entry] = db.session.scalars(select(GeocodeCacheEntry)).all()
    assert entry.geocoder == "nominatim" and "dixie" not in entry.query_key.lower()


def test_a_stale_cache_entry_is_asked_again(
    app: Flask, login: Login, nominatim: FakeGeocoder
) -> None:
    browser = login("investigator.pbso")
    browser.get("/api/geocode?q=broadway")
    db.session.rollback()
    entry = db.session.scalars(select(GeocodeCacheEntry)).one()
    entry.fetched_at -= timedelta(days=31)
    db.session.commit()
    browser.get("/api/geocode?q=broadway")
    assert len(nominatim.requests) == 2


def test_a_geocoder_that_hangs_or_fails_is_503_with_retry_after(
    app: Flask, login: Login, nominatim: FakeGeocoder
) -> None:
    app.config["GEOCODER_TIMEOUT_S"] = 0.5
    browser = login("investigator.pbso")
    for answer in (
        Answer(200, b"[]", delay=3),
        Answer(502, b"Bad gateway"),
        Answer(200, b"<html>"),
    ):
        nominatim.answer = lambda _, a=answer: a  # type: ignore[misc]
        response = browser.get("/api/geocode?q=clematis")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert "coordinates" in response.get_json()["error"]
    assert [a.outcome for a in audits()] == ["failure"] * 3
    assert db.session.scalar(select(func.count()).select_from(GeocodeCacheEntry)) == 0
    # the form still works: the page renders, and an operation saves with typed coordinates
    assert browser.get("/events/new").status_code == 200
    saved = browser.post("/events/new", data=operation(latitude="26.7", longitude="-80.1"))
    assert saved.status_code == 302


def test_searches_beyond_the_limit_of_a_minute_are_429_and_ask_no_geocoder(
    app: Flask, login: Login, nominatim: FakeGeocoder
) -> None:
    app.config["GEOCODE_LIMIT_PER_MINUTE"] = 3
    browser = login("investigator.pbso")
    answers = [browser.get(f"/api/geocode?q=clematis+{n}") for n in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert "try again" in answers[-1].get_json()["error"]
    assert len(nominatim.requests) == 3
    assert [(a.outcome, a.detail.get("reason")) for a in audits()][-1] == (
        "denied",
        "rate_limited",
    )
    # the limit is the user's own, and a minute later theirs is open again
    assert login("det.rivera.pbso").get("/api/geocode?q=clematis").status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61)):
        assert browser.get("/api/geocode?q=clematis+again").status_code == 200


def test_off_answers_no_candidates(app: Flask, login: Login) -> None:
    app.config["GEOCODER"] = "off"
    answer = login("investigator.pbso").get("/api/geocode?q=broadway")
    assert answer.get_json() == {"candidates": [], "geocoder": "off"}
    assert audits()[-1].outcome == "off"


# --- the service area --------------------------------------------------------------------


def test_a_pin_outside_the_service_area_needs_confirming_on_the_form(login: Login) -> None:
    browser = login("investigator.pbso")
    before = events()
    page = browser.post("/events/new", data=operation(notes="Typed notes Qx81"))
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert re.search(r'id="latitude-error">Outside the office’s service area', html)
    assert re.search(r'id="longitude-error">Outside the office’s service area', html)
    assert 'name="confirm_outside_area"' in html
    assert "Typed notes Qx81</textarea>" in html and f'value="{MIAMI[0]}"' in html
    assert events() == before
    inside = browser.get("/events/new").get_data(as_text=True)
    assert 'name="confirm_outside_area"' not in inside
    saved = browser.post("/events/new", data=operation(confirm_outside_area="y"))
    assert saved.status_code == 302
    assert events() == before + 1


def test_a_pin_outside_the_service_area_needs_confirming_on_the_api(login: Login) -> None:
    browser = login("investigator.pbso")
    body = operation() | {"latitude": float(MIAMI[0]), "longitude": float(MIAMI[1])}
    refused = browser.post("/api/events", json=body)
    assert refused.status_code == 400
    answer = refused.get_json()
    assert answer["confirm"] == ["confirm_outside_area"]
    assert set(answer["errors"]) == {"latitude", "longitude"}
    assert (
        browser.post("/api/events", json=body | {"confirm_outside_area": True}).status_code == 201
    )


def test_the_service_area_is_configured(app: Flask, login: Login) -> None:
    app.config["SERVICE_AREA"] = Area(25.0, -81.0, 26.0, -80.0)  # Miami-Dade, roughly
    browser = login("investigator.pbso")
    assert browser.post("/events/new", data=operation()).status_code == 302
    refused = browser.post("/events/new", data=operation(latitude="26.7", longitude="-80.1"))
    assert refused.status_code == 400
    assert "south 25, west -81, north 26, east -80" in refused.get_data(as_text=True)


# --- known places, for administrators ------------------------------------------------------


def test_only_administrators_manage_known_places(login: Login) -> None:
    for username in ("investigator.pbso", "advocate.vs", "supervisor.vs"):
        assert login(username).get("/admin/places").status_code == 403
    page = login("admin.pbso").get("/admin/places").get_data(as_text=True)
    assert "Harbor House (confidential shelter)" in page and "Confidential" in page


def test_an_administrator_adds_edits_and_takes_places_out_of_use(login: Login) -> None:
    admin = login("admin.pbso")
    added = admin.post(
        "/admin/places/new",
        data={"name": " Mercy  Clinic ", "address": "1 Main St, Belle Glade, FL", "kind": "clinic"},
    )
    assert added.status_code == 302
    place = known("Mercy Clinic")
    assert (place.kind, place.confidential, place.active) == ("clinic", False, True)
    edited = admin.post(
        f"/admin/places/{place.id}/edit",
        data={
            "name": "Mercy Clinic",
            "address": "2 Main St",
            "kind": "clinic",
            "confidential": "y",
            "active": "y",
        },
    )
    assert edited.status_code == 302
    assert known("Mercy Clinic").address == "2 Main St" and known("Mercy Clinic").confidential
    advocate = login("advocate.vs")
    assert "Mercy Clinic" in advocate.get("/events/new?kind=appointment").get_data(as_text=True)
    assert admin.post(f"/admin/places/{place.id}/deactivate").status_code == 302
    assert "Mercy Clinic" not in advocate.get("/events/new").get_data(as_text=True)
    refused = advocate.post("/events/new", data=appointment(place_id=str(place.id)))
    assert refused.status_code == 400
    trail = [
        (a.action, a.actor_username)
        for action in ("place.create", "place.update", "place.deactivate")
        for a in audits(action)
        if a.object_id == str(place.id)
    ]
    assert trail == [
        ("place.create", "admin.pbso"),
        ("place.update", "admin.pbso"),
        ("place.deactivate", "admin.pbso"),
    ]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "address": "1 Main St", "kind": "clinic"}, "name", "A name is required"),
        ({"name": "X", "address": "  ", "kind": "clinic"}, "address", "An address is required"),
        ({"name": "X", "address": "1 Main St", "kind": "spa"}, "kind", "Not a valid choice"),
        ({"name": "X", "address": "a" * 301, "kind": "clinic"}, "address", "At most 300"),
        (
            {"name": "south county COURTHOUSE", "address": "1 Main St", "kind": "clinic"},
            "name",
            "Another known place has this name",
        ),
    ],
)
def test_a_bad_known_place_is_refused_by_field_and_stores_nothing(
    data: dict[str, str], field: str, message: str, login: Login
) -> None:
    before = db.session.scalar(select(func.count()).select_from(KnownPlace))
    page = login("admin.pbso").post("/admin/places/new", data=data)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', html), html[-3000:]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(KnownPlace)) == before


def test_unknown_known_places_are_404(login: Login) -> None:
    admin = login("admin.pbso")
    assert admin.get("/admin/places/99999/edit").status_code == 404
    assert admin.post("/admin/places/99999/deactivate").status_code == 404


# --- an appointment's place ------------------------------------------------------------------


def test_an_appointments_place_is_shown_to_its_participants_only(login: Login) -> None:
    shelter = known("Harbor House (confidential shelter)")
    advocate = login("advocate.vs")
    assert "Harbor House" not in login("investigator.pbso").get("/events/new").get_data(
        as_text=True
    )
    created = advocate.post("/events/new", data=appointment(place_id=str(shelter.id)))
    assert created.status_code == 302, created.get_data(as_text=True)[:3000]
    event_id = int(created.headers["Location"].rsplit("/", 1)[1])
    page = advocate.get(f"/events/{event_id}").get_data(as_text=True)
    assert "Harbor House" in page and "Confidential: do not share" in page
    colleague = login("supervisor.vs")  # same agency, sees the appointment, not on it
    seen = colleague.get(f"/events/{event_id}")
    assert seen.status_code == 200 and "Harbor House" not in seen.get_data(as_text=True)
    # editing it without seeing the place keeps the place
    form = colleague.get(f"/events/{event_id}/edit").get_data(as_text=True)
    assert "Harbor House" not in form and 'name="place_id"' not in form
    kept = colleague.post(f"/events/{event_id}/edit", data=appointment(notes="moved an hour"))
    assert kept.status_code == 302
    db.session.rollback()
    stored = db.session.get(AppointmentPlace, event_id)
    assert stored is not None and stored.known_place_id == shelter.id
    assert login("investigator.pbso").get(f"/events/{event_id}").status_code == 404


def test_typed_places_and_their_rules(login: Login) -> None:
    advocate = login("advocate.vs")
    clinic = known("Lakeside Health Clinic")
    both = advocate.post(
        "/events/new", data=appointment(place_id=str(clinic.id), place_text="Room 4")
    )
    assert both.status_code == 400 and "not both" in both.get_data(as_text=True)
    typed = advocate.post(
        "/events/new", data=appointment(place_text="Client’s workplace, back door")
    )
    assert typed.status_code == 302
    assert "back door" in advocate.get(typed.headers["Location"]).get_data(as_text=True)
    on_operation = login("supervisor.pbso").post(
        "/api/events",
        json=operation(latitude=26.7, longitude=-80.1, place_text="Anywhere"),
    )
    assert on_operation.status_code == 400
    assert on_operation.get_json()["errors"]["place_text"] == [
        "You may not set an appointment’s place here."
    ]


@pytest.mark.parametrize(
    "where",
    [
        {"location_address": "12 Qzclient Home Rd, Lake Worth Beach, FL"},
        {"latitude": "26.6168", "longitude": "-80.0684"},
        {"radius_m": "200"},
    ],
    ids=["address", "coordinates", "radius"],
)
def test_an_appointment_takes_no_operation_address_nor_coordinates(
    login: Login, where: dict[str, str]
) -> None:
    """A client's home typed into the operation's address fields (left filled in the hidden
    fieldset after switching the kind, or sent to the API) is refused by name, never stored:
    an appointment's place is a known place or words, shown to its participants only."""
    advocate = login("advocate.vs")
    before = events()
    page = advocate.post("/events/new", data=appointment(**where))
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "An appointment’s place is chosen under “Where (appointments)”" in text
    api = advocate.post("/api/events", json=appointment(client_code="VS-7700109", **where))
    assert api.status_code == 400
    assert set(api.get_json()["errors"]) == set(where)
    assert events() == before


def test_appointments_places_never_reach_a_geocoder_nor_a_feed(
    app: Flask, login: Login, nominatim: FakeGeocoder
) -> None:
    admin, advocate = login("admin.pbso"), login("advocate.vs")
    admin.post(
        "/admin/places/new",
        data={
            "name": "Qzplace Safe House",
            "address": "77 Qzstreet Ave, Lake Worth Beach, FL",
            "kind": "shelter",
            "confidential": "y",
        },
    )
    place = known("Qzplace Safe House")
    made = [
        advocate.post("/events/new", data=appointment(place_id=str(place.id))),
        advocate.post(
            "/events/new",
            data=appointment(
                place_text="Qztyped kitchen, 12 Qzlane",
                starts_at=f"{day().isoformat()}T11:00",
                ends_at=f"{day().isoformat()}T12:00",
            ),
        ),
        advocate.post(
            "/api/events",
            json=appointment(
                place_text="Qzapi place",
                subtype="housing",
                client_code="VS-7700102",
                starts_at=f"{day().isoformat()}T16:00",
                ends_at=f"{day().isoformat()}T17:00",
            ),
        ),
    ]
    assert [m.status_code for m in made] == [302, 302, 201]
    ids = [int(m.headers["Location"].rsplit("/", 1)[1]) for m in made[:2]] + [
        made[2].get_json()["event"]["id"]
    ]
    for event_id in ids:
        assert advocate.get(f"/events/{event_id}").status_code == 200
        assert advocate.get(f"/events/{event_id}/edit").status_code == 200
        assert "Qz" not in str(advocate.get(f"/api/events/{event_id}").get_json())
    assert nominatim.requests == []
    _, secret = feed_tokens.create(user("advocate.vs"), "test personal", "personal")
    _, team = feed_tokens.create(user("supervisor.vs"), "test team", "team")
    db.session.commit()
    for token in (secret, team):
        feed = app.test_client().get(f"/feeds/{token}.ics")
        assert feed.status_code == 200
        text = feed.get_data(as_text=True).replace("\r\n ", "")
        assert "VS-7700101" not in text
        assert "Qz" not in text and "qz" not in text.casefold()


def test_the_retention_job_forgets_stale_answers(
    app: Flask, login: Login, nominatim: FakeGeocoder
) -> None:
    from jointops.jobs.tasks.retention import apply_retention
    from jointops.models import utcnow

    browser = login("investigator.pbso")
    browser.get("/api/geocode?q=broadway")
    browser.get("/api/geocode?q=clematis")
    db.session.rollback()
    old = db.session.scalars(select(GeocodeCacheEntry)).first()
    assert old is not None
    old.fetched_at -= timedelta(days=31)
    db.session.commit()
    assert apply_retention(utcnow())["purged_geocode_cache"] == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(GeocodeCacheEntry)) == 1
