"""The need-to-know matrix: every directory user against a week of events, on every page and list.

The expected answer for each (user, event) pair is worked out here from the
rules of DESIGN.md, written out again in ``expected()`` (on purpose not by
calling ``auth.policy``), and then checked on the week, day and month
calendars, the calendar filters, the event page and the JSON API. Every event
carries canary strings (title, notes, address, client code) so that a leak of
any of them shows up as a plain substring.

Each page is fetched once per user and checked against every event.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.events.rules import EventDraft
from jointops.events.service import cancel_event, save_event
from jointops.extensions import db
from jointops.models import Agency, Resource, User

OFFICE = ZoneInfo("America/New_York")
FULL, BUSY, NONE = "full", "busy", "none"

AGENCIES = {"PBSO", "WPBPD", "FBI", "HSI", "SAO15", "VS"}
#: Which agency owns each demo resource; ``None``: shared by the whole office.
RESOURCE_OWNER: dict[str, str | None] = {
    "Interview Room A": None,
    "Interview Room B": None,
    "Soft Interview Room (observation)": None,
    "Conference Room": None,
    "Unmarked Sedan PB-14": "PBSO",
    "Surveillance Van SV-2": "FBI",
    "Pole Camera Kit": "HSI",
}
ROOMS = {name for name, owner in RESOURCE_OWNER.items() if owner is None}
BUSY_JSON_KEYS = {"id", "busy", "starts_at", "ends_at", "resources"}
KIND_TAGS = {"operation": "OP", "interview": "INT", "appointment": "APPT", "meeting": "MTG"}


@dataclass(frozen=True)
class Spec:
    """One event of the matrix; ``day`` counts from the Sunday that starts the week."""

    key: str
    day: int
    start: str
    hours: float
    agency: str
    lead: str
    kind: str
    subtype: str
    sensitivity: str = "normal"
    resources: tuple[str, ...] = ()
    people: tuple[tuple[str, str], ...] = ()
    client: str | None = None
    located: bool = False
    cancelled: bool = False

    @property
    def title(self) -> str:
        return f"Zq{self.key}Title"

    @property
    def notes(self) -> str:
        return f"Zq{self.key}Notes"

    @property
    def address(self) -> str | None:
        return f"77 Zq{self.key}Street, West Palm Beach" if self.located else None

    @property
    def canaries(self) -> list[str]:
        return [c for c in (self.title, self.notes, self.address, self.client) if c]

    @property
    def involved(self) -> set[str]:
        return {self.lead} | {username for username, _ in self.people}


# fmt: off
SPECS = [
    # Monday
    Spec("OpNormalPbso", 1, "06:00", 3, "PBSO", "investigator.pbso", "operation",
         "search_warrant", resources=("Unmarked Sedan PB-14", "Pole Camera Kit"),
         people=(("det.rivera.pbso", "investigator"),), located=True),
    Spec("IntNormalWpbpd", 1, "10:00", 1, "WPBPD", "investigator.wpbpd", "interview",
         "witness_interview", resources=("Interview Room B",),
         people=(("prosecutor.sao15", "prosecutor"),)),
    Spec("ApptNormalVs", 1, "14:00", 1, "VS", "advocate.vs", "appointment", "medical",
         client="VS-8800101"),
    # Tuesday
    Spec("OpCovertPbso", 2, "09:00", 1, "PBSO", "supervisor.pbso", "operation", "surveillance",
         sensitivity="covert", resources=("Conference Room",),
         people=(("investigator.fbi", "investigator"),), located=True),
    Spec("IntVictimPbso", 2, "11:00", 1.5, "PBSO", "investigator.pbso", "interview",
         "forensic_interview", sensitivity="restricted",
         resources=("Soft Interview Room (observation)",),
         people=(("advocate.vs", "advocate"),), client="VS-8800202"),
    Spec("OpRestrictedHsi", 2, "19:00", 2, "HSI", "investigator.hsi", "operation",
         "undercover_meet", sensitivity="restricted",
         people=(("investigator.wpbpd", "investigator"),), located=True),
    # Wednesday
    Spec("ApptRoomVs", 3, "10:00", 1, "VS", "supervisor.vs", "appointment", "legal",
         resources=("Conference Room",),
         people=(("prosecutor.sao15", "prosecutor"), ("interpreter.vs", "interpreter")),
         client="VS-8800303"),
    Spec("IntRestrictedSao", 3, "13:00", 1, "SAO15", "prosecutor.sao15", "interview",
         "suspect_interview", sensitivity="restricted"),
    Spec("OpCovertFbi", 3, "18:00", 5, "FBI", "investigator.fbi", "operation", "surveillance",
         sensitivity="covert", resources=("Surveillance Van SV-2",),
         people=(("det.rivera.pbso", "investigator"),), located=True),
    # Thursday
    Spec("IntCancelledHsi", 4, "10:00", 1, "HSI", "investigator.hsi", "interview",
         "witness_interview", resources=("Interview Room A",),
         people=(("supervisor.fbi", "investigator"),), cancelled=True),
    Spec("MtgRoomFbi", 4, "14:00", 1, "FBI", "investigator.fbi", "meeting", "case_meeting",
         sensitivity="restricted", resources=("Interview Room A",),
         people=(("prosecutor.sao15", "prosecutor"), ("interpreter.vs", "interpreter"))),
    # Friday
    Spec("MtgTrainingVs", 5, "09:00", 3, "VS", "supervisor.vs", "meeting", "training",
         people=(("investigator.wpbpd", "investigator"),)),
]
# fmt: on
EVENT_DAYS = sorted({s.day for s in SPECS})


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    agency: str | None
    roles: frozenset[str]


def expected(person: Person, spec: Spec) -> str:
    """DESIGN.md's need-to-know, written out for one user and one event."""
    # The people on an event (its lead included) always see it in full.
    if person.username in spec.involved:
        return FULL
    # Interpreters and forensic interviewers with no other role see only what they are on.
    staff = bool(person.roles - {"interpreter", "forensic_interviewer"})
    same_agency = staff and person.agency == spec.agency
    if spec.kind == "operation" and spec.sensitivity == "covert":
        # Covert operations: only the owner agency's investigators and supervisors.
        if same_agency and person.roles & {"investigator", "supervisor"}:
            return FULL
    elif spec.kind == "appointment":
        # Victim-service appointments: only the victim-service agency (and assigned staff).
        if staff and person.agency == "VS":
            return FULL
    elif same_agency:
        # An agency sees its own events.
        return FULL
    # Everyone else: a busy block where the event holds a shared room or a resource of
    # the viewer's own agency; nothing once the event is cancelled.
    if spec.cancelled:
        return NONE
    if any(RESOURCE_OWNER[r] in (None, person.agency) for r in spec.resources):
        return BUSY
    return NONE


def test_the_expectation_table_says_what_the_rules_say() -> None:
    """Spot checks of ``expected()`` itself, so that a slip in the table cannot hide a leak."""
    pbso_admin = Person(1, "admin.pbso", "PBSO", frozenset({"admin"}))
    pbso_inv = Person(2, "investigator.pbso", "PBSO", frozenset({"investigator"}))
    fbi_sup = Person(3, "supervisor.fbi", "FBI", frozenset({"supervisor"}))
    vs_sup = Person(4, "supervisor.vs", "VS", frozenset({"supervisor"}))
    hsi_inv = Person(5, "investigator.hsi", "HSI", frozenset({"investigator"}))
    sao_sup = Person(6, "supervisor.sao15", "SAO15", frozenset({"supervisor", "prosecutor"}))
    vs_interpreter = Person(7, "interpreter.vs", "VS", frozenset({"interpreter"}))
    fbi_interviewer = Person(8, "interviewer.fbi", "FBI", frozenset({"forensic_interviewer"}))
    by_key = {s.key: s for s in SPECS}
    assert expected(pbso_admin, by_key["OpCovertPbso"]) == BUSY  # own agency, no covert role
    assert expected(pbso_inv, by_key["OpCovertPbso"]) == FULL
    assert expected(pbso_inv, by_key["OpCovertFbi"]) == NONE
    assert expected(fbi_sup, by_key["IntCancelledHsi"]) == FULL  # participant
    assert expected(vs_sup, by_key["IntVictimPbso"]) == BUSY
    assert expected(vs_sup, by_key["ApptNormalVs"]) == FULL
    assert expected(pbso_inv, by_key["ApptNormalVs"]) == NONE
    assert expected(pbso_inv, by_key["ApptRoomVs"]) == BUSY
    assert expected(sao_sup, by_key["ApptRoomVs"]) == BUSY
    assert expected(hsi_inv, by_key["OpNormalPbso"]) == BUSY  # HSI's camera kit
    assert expected(fbi_sup, by_key["OpNormalPbso"]) == NONE
    assert expected(pbso_admin, by_key["IntCancelledHsi"]) == NONE
    assert expected(vs_interpreter, by_key["ApptRoomVs"]) == FULL  # she interprets at it
    assert expected(vs_interpreter, by_key["ApptNormalVs"]) == NONE  # her agency's, not hers
    assert expected(fbi_interviewer, by_key["OpCovertFbi"]) == BUSY  # the van of her agency
    assert expected(fbi_interviewer, by_key["IntVictimPbso"]) == BUSY  # a shared room
    # meetings: the default rule alone
    assert expected(fbi_sup, by_key["MtgRoomFbi"]) == FULL  # his agency's
    assert expected(sao_sup, by_key["MtgRoomFbi"]) == BUSY  # his prosecutor is on it, not he
    assert expected(vs_interpreter, by_key["MtgRoomFbi"]) == FULL  # she interprets at it
    assert expected(fbi_interviewer, by_key["MtgRoomFbi"]) == BUSY  # her agency's, not hers
    assert expected(vs_sup, by_key["MtgTrainingVs"]) == FULL
    assert expected(vs_interpreter, by_key["MtgTrainingVs"]) == NONE
    assert expected(pbso_inv, by_key["MtgTrainingVs"]) == NONE  # no room to share


# --- building the week -----------------------------------------------------------------


@dataclass
class World:
    week: date  # the Sunday
    people: list[Person]
    ids: dict[str, int]  # spec key -> event id
    specs: dict[int, Spec] = field(default_factory=dict)  # event id -> spec
    room_ids: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    def answers(self, person: Person) -> dict[int, str]:
        return {eid: expected(person, spec) for eid, spec in self.specs.items()}


def _local(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=OFFICE)


@pytest.fixture
def world(app: Flask) -> World:
    agencies = {a.code: a for a in db.session.scalars(select(Agency))}
    users = {u.username: u for u in db.session.scalars(select(User))}
    resources = {r.name: r for r in db.session.scalars(select(Resource))}
    assert set(agencies) == AGENCIES
    assert len(users) >= 16
    assert {u.agency.code for u in users.values() if u.agency} == AGENCIES
    for name, owner in RESOURCE_OWNER.items():  # the table above matches the demo data
        held_by = resources[name].agency
        assert (held_by.code if held_by else None) == owner, name

    today = datetime.now(OFFICE).date() + timedelta(days=70)
    week = today - timedelta(days=(today.weekday() + 1) % 7)
    ids: dict[str, int] = {}
    for spec in SPECS:
        lead = users[spec.lead]
        starts = _local(week + timedelta(days=spec.day), spec.start)
        draft = EventDraft(
            kind=spec.kind,
            subtype=spec.subtype,
            title=spec.title,
            owner_agency_id=agencies[spec.agency].id,
            lead_id=lead.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=spec.hours),
            status="confirmed",
            sensitivity=spec.sensitivity,
            location_address=spec.address,
            latitude=26.71 if spec.located else None,
            longitude=-80.07 if spec.located else None,
            radius_m=500 if spec.located else None,
            client_code=spec.client,
            notes=spec.notes,
            resource_ids=[resources[name].id for name in spec.resources],
            participants=[(lead.id, "lead")] + [(users[u].id, part) for u, part in spec.people],
        )
        event = save_event(draft, lead, confirmed=True)
        if spec.cancelled:
            cancel_event(event, lead, "Matrix test: witness unavailable")
        ids[spec.key] = event.id
    people = [
        Person(u.id, u.username, u.agency.code if u.agency else None, u.roles)
        for u in sorted(users.values(), key=lambda u: u.username)
    ]
    world = World(week, people, ids)
    world.specs = {ids[s.key]: s for s in SPECS}
    world.room_ids = {name: r.id for name, r in resources.items()}
    world.user_ids = {u.username: u.id for u in people}
    answers = [a for p in people for a in world.answers(p).values()]
    assert {FULL, BUSY, NONE} <= set(answers)  # the matrix exercises every outcome
    return world


@pytest.fixture
def clients(world: World, login: Callable[[str], FlaskClient]) -> list[tuple[Person, FlaskClient]]:
    return [(p, login(p.username)) for p in world.people]


# --- reading pages -----------------------------------------------------------------------

ANCHOR = re.compile(
    r'<a class="(?P<cls>[^"]*)"\s+href="/events/(?P<id>\d+)"[^>]*>(?P<body>.*?)</a>',
    re.S,
)
TAG = re.compile(r"<[^>]+>")
EVENT_LINK = re.compile(r"/events/(\d+)\b")
COUNTS = re.compile(r'<p class="counts"[^>]*>\s*(\d+) events?(?:, (\d+) busy blocks?)?\s*</p>')


@dataclass
class Block:
    classes: set[str]
    label: str  # the link's name: its text, the screen reader's words included
    body: str


def blocks_of(page: str) -> dict[int, list[Block]]:
    found: dict[int, list[Block]] = {}
    for m in ANCHOR.finditer(page):
        spoken = " ".join(html.unescape(TAG.sub(" ", m["body"])).split())
        block = Block(set(m["cls"].split()), spoken, html.unescape(m["body"]))
        found.setdefault(int(m["id"]), []).append(block)
    return found


def get_page(client: FlaskClient, url: str, **query: object) -> str:
    response = client.get(url, query_string=query)
    assert response.status_code == 200, (url, query, response.status_code)
    return response.get_data(as_text=True)


class Problems(list[str]):
    def check(self, ok: bool, who: Person, where: str, message: str) -> None:
        if not ok:
            self.append(f"{who.username} @ {where}: {message}")

    def raise_any(self) -> None:
        shown = "\n".join(self[:60])
        assert not self, f"{len(self)} visibility problems:\n{shown}"


def on_day(offset: int) -> Callable[[Spec, str], bool]:
    """``shown`` for a day page: the events of that day (offset in the test week)."""
    return lambda spec, _seen: spec.day == offset


def check_calendar_page(
    problems: Problems,
    who: Person,
    where: str,
    page: str,
    answers: dict[int, str],
    specs: dict[int, Spec],
    shown: Callable[[Spec, str], bool],
) -> None:
    """Every event the viewer may see at all and ``shown`` keeps is on the page as it should be."""
    blocks = blocks_of(page)
    text = html.unescape(page)
    linked = {int(i) for i in EVENT_LINK.findall(page)}
    wanted = {eid for eid, seen in answers.items() if seen != NONE and shown(specs[eid], seen)}
    problems.check(
        linked == wanted, who, where, f"links {sorted(linked)} != expected {sorted(wanted)}"
    )
    for eid, spec in specs.items():
        seen = answers[eid]
        if seen != FULL:
            for canary in spec.canaries:
                problems.check(canary not in text, who, where, f"{spec.key} leaks {canary!r}")
        if eid not in wanted:
            continue
        for block in blocks.get(eid, []):
            if seen == FULL:
                problems.check("ev-busy" not in block.classes, who, where, f"{spec.key} grey")
                problems.check(spec.title in block.body, who, where, f"{spec.key} title missing")
                problems.check(
                    f"ev-{spec.kind}" in block.classes, who, where, f"{spec.key} kind class missing"
                )
            else:
                problems.check("ev-busy" in block.classes, who, where, f"{spec.key} not grey")
                problems.check("Busy" in block.body, who, where, f"{spec.key} not labelled Busy")
                problems.check(block.label.startswith("BUSY "), who, where, f"{spec.key} label")
                problems.check(
                    "ev-agency" not in block.body and f">{KIND_TAGS[spec.kind]}<" not in block.body,
                    who,
                    where,
                    f"{spec.key} busy block names its agency or kind",
                )
                problems.check(
                    not any(f"ev-{k}" in block.classes for k in KIND_TAGS),
                    who,
                    where,
                    f"{spec.key} busy block carries its kind class",
                )
        problems.check(bool(blocks.get(eid)), who, where, f"{spec.key} ({seen}) has no block")


# --- the matrix ------------------------------------------------------------------------


def test_week_day_and_month_calendars(
    world: World, clients: list[tuple[Person, FlaskClient]]
) -> None:
    problems = Problems()
    monday = world.week + timedelta(days=1)
    for who, client in clients:
        answers = world.answers(who)
        everything: Callable[[Spec, str], bool] = lambda spec, seen: True  # noqa: E731

        week = get_page(client, "/calendar", view="week", date=monday.isoformat())
        check_calendar_page(problems, who, "week", week, answers, world.specs, everything)
        counts = COUNTS.search(week)
        problems.check(counts is not None, who, "week", "no counts line")
        if counts:
            full = sum(1 for a in answers.values() if a == FULL)
            busy = sum(1 for a in answers.values() if a == BUSY)
            got = (int(counts[1]), int(counts[2] or 0))
            problems.check(got == (full, busy), who, "week", f"counts {got} != {(full, busy)}")

        month = get_page(client, "/calendar", view="month", date=monday.isoformat())
        check_calendar_page(problems, who, "month", month, answers, world.specs, everything)

        for offset in EVENT_DAYS:
            day = world.week + timedelta(days=offset)
            page = get_page(client, "/calendar", view="day", date=day.isoformat())
            check_calendar_page(
                problems,
                who,
                f"day {day}",
                page,
                answers,
                world.specs,
                on_day(offset),
            )
    problems.raise_any()


def test_calendar_filters_never_show_busy_blocks_by_agency_person_or_kind(
    world: World, clients: list[tuple[Person, FlaskClient]]
) -> None:
    problems = Problems()
    monday = (world.week + timedelta(days=1)).isoformat()
    rivera = world.user_ids["det.rivera.pbso"]
    conference = world.room_ids["Conference Room"]
    filters: list[tuple[dict[str, object], Callable[[Spec, str], bool]]] = [
        ({"kind": "operation"}, lambda s, seen: seen == FULL and s.kind == "operation"),
        ({"kind": "interview"}, lambda s, seen: seen == FULL and s.kind == "interview"),
        ({"kind": "meeting"}, lambda s, seen: seen == FULL and s.kind == "meeting"),
        ({"person": rivera}, lambda s, seen: seen == FULL and "det.rivera.pbso" in s.involved),
        ({"agency": "PBSO"}, lambda s, seen: seen == FULL and s.agency == "PBSO"),
        ({"room": conference}, lambda s, seen: "Conference Room" in s.resources),
    ]
    for who, client in clients:
        answers = world.answers(who)
        for query, keep in filters:
            page = get_page(client, "/calendar", view="week", date=monday, **query)
            where = f"week?{query}"
            check_calendar_page(problems, who, where, page, answers, world.specs, keep)
            if "room" not in query:
                problems.check("ev-busy" not in blocks_text(page), who, where, "busy block shown")
    problems.raise_any()


def blocks_text(page: str) -> str:
    return " ".join(" ".join(b.classes) for bs in blocks_of(page).values() for b in bs)


def test_event_page(world: World, clients: list[tuple[Person, FlaskClient]]) -> None:
    problems = Problems()
    for who, client in clients:
        for eid, seen in world.answers(who).items():
            spec = world.specs[eid]
            where = f"/events/{eid} ({spec.key})"
            response = client.get(f"/events/{eid}")
            text = html.unescape(response.get_data(as_text=True))
            want = 404 if seen == NONE else 200
            problems.check(
                response.status_code == want, who, where, f"{response.status_code} != {want}"
            )
            if seen == FULL:
                for canary in spec.canaries:
                    problems.check(canary in text, who, where, f"{canary!r} missing")
            else:
                for canary in spec.canaries:
                    problems.check(canary not in text, who, where, f"leaks {canary!r}")
            if seen == BUSY:
                problems.check("<h1>Busy</h1>" in text, who, where, "not a busy page")
                problems.check(
                    spec.agency not in text.split("<main", 1)[1], who, where, "names agency"
                )
    problems.raise_any()


def test_json_api_list_and_detail(world: World, clients: list[tuple[Person, FlaskClient]]) -> None:
    problems = Problems()
    start = datetime.combine(world.week, time.min, tzinfo=OFFICE)
    end = start + timedelta(days=7)
    for who, client in clients:
        answers = world.answers(who)
        response = client.get(
            "/api/events", query_string={"start": start.isoformat(), "end": end.isoformat()}
        )
        assert response.status_code == 200
        listed = {item["id"]: item for item in response.get_json()["events"]}
        wanted = {eid for eid, seen in answers.items() if seen != NONE}
        problems.check(
            set(listed) == wanted, who, "api list", f"{sorted(listed)} != {sorted(wanted)}"
        )
        for eid, seen in answers.items():
            spec = world.specs[eid]
            detail = client.get(f"/api/events/{eid}")
            want = 404 if seen == NONE else 200
            where = f"/api/events/{eid} ({spec.key})"
            problems.check(
                detail.status_code == want, who, where, f"{detail.status_code} != {want}"
            )
            bodies = [("api list", listed.get(eid))]
            if detail.status_code == 200:
                bodies.append((where, detail.get_json()["event"]))
            for place, body in bodies:
                if body is None:
                    continue
                dumped = json.dumps(body)
                if seen == FULL:
                    problems.check(body["busy"] is False, who, place, f"{spec.key} busy")
                    problems.check(body.get("title") == spec.title, who, place, f"{spec.key} title")
                    problems.check(body.get("notes") == spec.notes, who, place, f"{spec.key} notes")
                    problems.check(
                        body.get("client_code") == spec.client, who, place, f"{spec.key} client"
                    )
                    problems.check(body.get("kind") == spec.kind, who, place, f"{spec.key} kind")
                else:
                    problems.check(body["busy"] is True, who, place, f"{spec.key} not busy")
                    problems.check(
                        set(body) == BUSY_JSON_KEYS, who, place, f"{spec.key} keys {sorted(body)}"
                    )
                    told = {r for r in spec.resources if RESOURCE_OWNER[r] in (None, who.agency)}
                    problems.check(
                        set(body["resources"]) == told,
                        who,
                        place,
                        f"{spec.key} resources {body['resources']}",
                    )
                    for canary in spec.canaries:
                        problems.check(canary not in dumped, who, place, f"leaks {canary!r}")
    problems.raise_any()
