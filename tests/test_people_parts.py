"""Parts of an event are filled by those who hold them (an administrator is never an interpreter):
the form offers only them, and every entry point (form, ``/api/events``, ``/api/v1/events``, the
events service itself) refuses anyone else by the part's field, storing nothing. Someone who holds
only a skill role (interpreter, forensic interviewer) sees the events they take part in, and
nothing more."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from auth.policy import (
    EventFacts,
    Viewer,
    Visibility,
    creatable_kinds,
    event_visibility,
    may_see_targets,
    may_take_part,
    told_of_deconfliction,
)
from jointops.events.rules import EventDraft, EventErrors, validate_draft
from jointops.extensions import db
from jointops.models import Event, Participant, Resource, User
from tests.conftest import user
from tests.test_api_v1 import Api
from tests.test_event_forms import (
    D,
    Ids,
    field_errors,
    fresh,
    interview,
    new_event_id,
    stored,
    victim_interview,
)

Login = Callable[[str], FlaskClient]

SELECT = r'<select[^>]*\bid="{name}"[^>]*>(.*?)</select>'
OPTION = re.compile(r'<option(?: selected)? value="(\d+)">(.*?)</option>')


def offered(page: str, name: str) -> dict[int, str]:
    """The choices of the multiple select ``name``: user id -> label."""
    found = re.search(SELECT.format(name=name), page, re.S)
    assert found, f"no select {name}"
    return {int(i): html.unescape(label) for i, label in OPTION.findall(found[1])}


@pytest.fixture
def ids(app: Flask) -> Ids:
    return Ids(
        users={u.username: u.id for u in db.session.scalars(select(User))},
        rooms={r.name: r.id for r in db.session.scalars(select(Resource))},
    )


# --- the form offers those who hold the part ----------------------------------------------


def test_each_part_offers_only_those_who_hold_it(login: Login, ids: Ids) -> None:
    page = login("investigator.pbso").get("/events/new").get_data(as_text=True)
    assert set(offered(page, "interpreters").values()) == {
        "Luis Rivera (PBSO)",
        "Nadège Joseph (VS)",
    }
    assert set(offered(page, "forensic_interviewers").values()) == {"Sarah Lindqvist (FBI)"}
    assert set(offered(page, "advocates").values()) == {"Rose-Andrée Pierre-Louis (VS)"}
    assert set(offered(page, "prosecutors").values()) == {
        "Hannah Feldman (SAO15)",
        "Curtis Jameson (SAO15)",
    }
    investigators = set(offered(page, "investigators").values())
    assert {"Marisol Delgado (PBSO)", "Luis Rivera (PBSO)", "Robert Ashford (FBI)"} <= investigators
    everyone = {
        label
        for name in ("investigators", "advocates", "prosecutors", "interpreters")
        for label in offered(page, name).values()
    } | investigators
    for nobody in ("Glen Whitaker (PBSO)", "Tamika Brooks (PBSO)", "Angela Moreau (VS)"):
        assert nobody not in everyone  # the admin, the deconfliction officer, the VS supervisor
    assert ids.user("interpreter.vs") not in offered(page, "investigators")


# --- anyone else is refused by the part's field, whatever the entry point --------------------

REFUSED = [
    ("interpreters", "admin.pbso"),
    ("interpreters", "advocate.vs"),
    ("forensic_interviewers", "agent.chen.fbi"),
    ("forensic_interviewers", "interpreter.vs"),
    ("advocates", "interpreter.vs"),
    ("investigators", "interviewer.fbi"),
]


@pytest.mark.parametrize(("name", "username"), REFUSED)
def test_someone_not_holding_the_part_is_refused_by_field_and_nothing_is_stored(
    name: str, username: str, login: Login, ids: Ids, app: Flask
) -> None:
    data = interview(D, title="Parts test Zq9101", **{name: [str(ids.user(username))]})
    client = login("investigator.pbso")
    before = stored()

    page = client.post("/events/new", data=data)
    assert page.status_code == 400
    assert "Not a valid choice" in field_errors(page.get_data(as_text=True), name)
    assert stored() == before

    body = data | {name: [ids.user(username)]}
    for path, answer in (
        ("/api/events", client.post("/api/events", json=body)),
        (
            "/api/v1/events",
            Api(app.test_client(), "investigator.pbso").post("/api/v1/events", body),
        ),
    ):
        assert answer.status_code == 400, (path, answer.get_data(as_text=True))
        errors = answer.get_json()["errors"]
        assert list(errors) == [name], (path, errors)
        assert stored() == before, path


@pytest.mark.parametrize(
    ("part", "username", "message"),
    [
        ("interpreter", "admin.pbso", "Glen Whitaker is not an interpreter."),
        ("forensic_interviewer", "agent.chen.fbi", "Michael Chen is not a forensic interviewer."),
        ("advocate", "interpreter.vs", "Nadège Joseph is not an advocate."),
        ("investigator", "interviewer.fbi", "Sarah Lindqvist is not an investigator."),
    ],
)
def test_the_events_service_refuses_a_part_not_held(
    part: str, username: str, message: str, login: Login, ids: Ids
) -> None:
    """The rule lives in the service, for every caller (the demo, an import), not in the form."""
    actor = user("investigator.pbso")
    draft = EventDraft(
        kind="interview",
        subtype="witness_interview",
        title="Parts test Zq9102",
        owner_agency_id=actor.agency_id,  # type: ignore[arg-type]
        lead_id=actor.id,
        starts_at=datetime(D.year, D.month, D.day, 14, tzinfo=UTC),
        ends_at=datetime(D.year, D.month, D.day, 15, tzinfo=UTC),
        participants=[(actor.id, "lead"), (ids.user(username), part)],
    )
    with pytest.raises(EventErrors) as refused:
        validate_draft(draft, actor)
    assert refused.value.errors == {f"participants:{part}": [message]}


# --- those who hold a part are saved in it, and see what they take part in ---------------------


def test_interpreter_and_forensic_interviewer_are_saved_and_see_only_their_events(
    login: Login, ids: Ids
) -> None:
    data = victim_interview(
        D,
        ids,
        title="Parts test Zq9103",
        interpreters=[str(ids.user("interpreter.vs"))],
        forensic_interviewers=[str(ids.user("interviewer.fbi"))],
    )
    event_id = new_event_id(login("investigator.pbso").post("/events/new", data=data))
    assert {(p.user.username, p.part) for p in fresh(event_id).participants} == {
        ("investigator.pbso", "lead"),
        ("advocate.vs", "advocate"),
        ("interpreter.vs", "interpreter"),
        ("interviewer.fbi", "forensic_interviewer"),
    }
    page = login("investigator.pbso").get(f"/events/{event_id}").get_data(as_text=True)
    assert "Nadège Joseph" in page and "Sarah Lindqvist" in page

    for username in ("interpreter.vs", "interviewer.fbi"):
        client = login(username)
        assert client.get(f"/events/{event_id}").status_code == 200
        assert client.get("/events/new").status_code == 403
        assert client.get("/targets").status_code == 403
    # an appointment of her own agency that she is not on: a skill role alone opens nothing
    appointment = db.session.scalar(
        select(Event.id)
        .where(Event.kind == "appointment")
        .where(~Event.participants.any(Participant.user_id == ids.user("interpreter.vs")))
    )
    assert appointment is not None
    assert login("interpreter.vs").get(f"/events/{appointment}").status_code == 404
    assert login("advocate.vs").get(f"/events/{appointment}").status_code == 200


def test_an_edit_shows_someone_who_no_longer_holds_the_part_and_says_why_they_may_not_stay(
    login: Login, ids: Ids
) -> None:
    data = interview(D, title="Parts test Zq9104", interpreters=[str(ids.user("det.rivera.pbso"))])
    client = login("investigator.pbso")
    event_id = new_event_id(client.post("/events/new", data=data))
    rivera = user("det.rivera.pbso")
    rivera.set_roles(frozenset({"investigator"}))  # the directory took the role away
    db.session.commit()

    form = client.get(f"/events/{event_id}/edit").get_data(as_text=True)
    assert offered(form, "interpreters") == {
        rivera.id: "Luis Rivera (PBSO)",
        ids.user("interpreter.vs"): "Nadège Joseph (VS)",
    }
    assert f'<option selected value="{rivera.id}">' in form

    page = client.post(f"/events/{event_id}/edit", data=data | {"title": "Parts test Zq9105"})
    assert page.status_code == 400
    assert field_errors(page.get_data(as_text=True), "interpreters") == (
        "Luis Rivera is not an interpreter."
    )
    assert fresh(event_id).title == "Parts test Zq9104"


# --- the policy of a skill role held alone ----------------------------------------------------

VS_INTERPRETER = Viewer(7, "VS", "victim_services", frozenset({"interpreter"}))
FBI_INTERVIEWER = Viewer(8, "FBI", "federal", frozenset({"forensic_interviewer"}))
PBSO_DETECTIVE = Viewer(9, "PBSO", "local", frozenset({"investigator", "interpreter"}))


def facts(
    agency: str,
    participant_ids: frozenset[int] = frozenset(),
    resource_agencies: tuple[str | None, ...] = (),
) -> EventFacts:
    return EventFacts(
        kind="interview",
        sensitivity="normal",
        owner_agency_code=agency,
        participant_ids=participant_ids,
        resource_agencies=resource_agencies,
    )


def test_a_skill_role_alone_sees_the_events_it_is_on_and_creates_nothing() -> None:
    for viewer in (VS_INTERPRETER, FBI_INTERVIEWER):
        own = viewer.agency_code or ""
        assert event_visibility(viewer, facts(own)) is Visibility.NONE
        assert event_visibility(viewer, facts(own, resource_agencies=(None,))) is Visibility.BUSY
        on_it = facts(own, participant_ids=frozenset({viewer.user_id}))
        assert event_visibility(viewer, on_it) is Visibility.FULL
        elsewhere = facts("HSI", participant_ids=frozenset({viewer.user_id}))
        assert event_visibility(viewer, elsewhere) is Visibility.FULL
        assert creatable_kinds(viewer) == []
        assert not may_see_targets(viewer, viewer.agency_code)
        assert not told_of_deconfliction(viewer)
    # with another role, the skill changes nothing of what that role allows
    assert event_visibility(PBSO_DETECTIVE, facts("PBSO")) is Visibility.FULL
    assert creatable_kinds(PBSO_DETECTIVE) == ["operation", "interview", "meeting"]
    assert may_see_targets(PBSO_DETECTIVE, "PBSO")
    assert told_of_deconfliction(PBSO_DETECTIVE)


@pytest.mark.parametrize(
    ("part", "roles", "kind", "allowed"),
    [
        ("interpreter", {"interpreter"}, "victim_services", True),
        ("interpreter", {"admin"}, "local", False),
        ("interpreter", {"advocate"}, "victim_services", False),
        ("forensic_interviewer", {"forensic_interviewer"}, "federal", True),
        ("forensic_interviewer", {"investigator"}, "federal", False),
        ("investigator", {"supervisor"}, "local", True),
        ("investigator", {"supervisor"}, "victim_services", False),
        ("investigator", {"interpreter"}, "local", False),
        ("lead", {"investigator"}, "local", False),
        ("nobody", {"admin"}, "local", False),
    ],
)
def test_may_take_part(part: str, roles: set[str], kind: str, allowed: bool) -> None:
    assert may_take_part(part, roles, kind) is allowed
