"""Demo data: rooms, vehicles, cases and two weeks of events around today."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from calendars.recurrence import WEEKDAYS, Rule
from jointops.events.rules import EventDraft
from jointops.events.series import save_series_and_read
from jointops.events.service import save_event
from jointops.extensions import db
from jointops.identity.directory import sync_directory
from jointops.models import Agency, Alert, Case, Event, KnownPlace, Resource, User
from jointops.officetime import local_day_bounds, local_to_utc, today_local
from jointops.places.known import KnownPlaceDraft, known_places, save_known_place
from jointops.transactions import unit_of_work

RESOURCES = [
    ("Interview Room A", "interview_room", None, "Recorded; seats 4"),
    ("Interview Room B", "interview_room", None, "Recorded; seats 4"),
    (
        "Soft Interview Room (observation)",
        "soft_interview_room",
        None,
        "Child-friendly; one-way glass",
    ),
    ("Conference Room", "conference_room", None, "Seats 16; screen"),
    ("Unmarked Sedan PB-14", "vehicle", "PBSO", ""),
    ("Surveillance Van SV-2", "vehicle", "FBI", "Camera mast"),
    ("Pole Camera Kit", "equipment", "HSI", ""),
]

CASES = [
    (
        "PBSO",
        "PB-2026-0417",
        "Operation Riverside: illicit massage businesses",
        "investigator.pbso",
    ),
    ("WPBPD", "WPB-26-03311", "Broadway corridor street-level trafficking", "investigator.wpbpd"),
    ("FBI", "MM-305A-1182", "Interstate online exploitation ring", "investigator.fbi"),
    ("HSI", "MI-26-0093", "Labour trafficking: farm labour contractor", "investigator.hsi"),
]


@dataclass
class DemoEvent:
    day: int
    start: str
    hours: float
    agency: str
    lead: str
    kind: str
    subtype: str
    title: str = ""
    sensitivity: str = "normal"
    status: str = "confirmed"
    case: str | None = None
    where: tuple[str, float, float] | None = None
    client: str | None = None
    resources: list[str] = field(default_factory=list)
    people: list[tuple[str, str]] = field(default_factory=list)
    notes: str = ""
    #: an appointment's known place, by name
    place: str | None = None
    #: whole office days from ``day`` on (an all-day event; ``start`` and ``hours`` unused)
    days: int = 0


EVENTS = [
    DemoEvent(
        -6,
        "06:00",
        3,
        "PBSO",
        "investigator.pbso",
        "operation",
        "search_warrant",
        "Riverside spa warrant",
        case="PB-2026-0417",
        where=("4700 Okeechobee Blvd, West Palm Beach, FL", 26.7106, -80.1108),
        resources=["Unmarked Sedan PB-14"],
        people=[("det.rivera.pbso", "investigator")],
    ),
    DemoEvent(
        -5,
        "10:00",
        1.5,
        "PBSO",
        "investigator.pbso",
        "interview",
        "forensic_interview",
        "Forensic interview after Riverside warrant",
        case="PB-2026-0417",
        client="VS-0142",
        resources=["Soft Interview Room (observation)"],
        people=[("advocate.vs", "advocate")],
    ),
    DemoEvent(
        -4,
        "14:00",
        1,
        "VS",
        "advocate.vs",
        "appointment",
        "medical",
        client="VS-0142",
        place="Lakeside Health Clinic",
    ),
    DemoEvent(
        -3,
        "19:00",
        4,
        "WPBPD",
        "investigator.wpbpd",
        "operation",
        "surveillance",
        "Broadway corridor surveillance",
        case="WPB-26-03311",
        where=("3200 Broadway, West Palm Beach, FL", 26.7407, -80.0566),
    ),
    DemoEvent(
        -2,
        "09:30",
        1,
        "WPBPD",
        "investigator.wpbpd",
        "interview",
        "witness_interview",
        "Motel clerk witness interview",
        case="WPB-26-03311",
        resources=["Interview Room B"],
    ),
    DemoEvent(
        -1,
        "13:00",
        2,
        "HSI",
        "investigator.hsi",
        "interview",
        "suspect_interview",
        "Crew leader interview",
        case="MI-26-0093",
        resources=["Interview Room A"],
        people=[("prosecutor.sao15", "prosecutor")],
    ),
    DemoEvent(-1, "15:00", 1, "VS", "advocate.vs", "appointment", "counselling", client="VS-0187"),
    DemoEvent(
        0,
        "09:00",
        1,
        "SAO15",
        "prosecutor.sao15",
        "interview",
        "witness_interview",
        "Pre-trial witness preparation",
        resources=["Conference Room"],
    ),
    DemoEvent(
        0,
        "11:00",
        1.5,
        "FBI",
        "investigator.fbi",
        "interview",
        "victim_interview",
        "Victim interview, online exploitation",
        case="MM-305A-1182",
        client="VS-0187",
        resources=["Interview Room A"],
        people=[("advocate.vs", "advocate"), ("agent.chen.fbi", "investigator")],
    ),
    DemoEvent(
        0,
        "14:00",
        1,
        "VS",
        "advocate.vs",
        "appointment",
        "housing",
        client="VS-0203",
        place="Harbor House (confidential shelter)",
    ),
    DemoEvent(
        1,
        "18:00",
        5,
        "FBI",
        "investigator.fbi",
        "operation",
        "surveillance",
        "Hotel surveillance",
        sensitivity="covert",
        case="MM-305A-1182",
        where=("1601 Belvedere Rd, West Palm Beach, FL", 26.7000, -80.0720),
        resources=["Surveillance Van SV-2"],
        people=[("agent.chen.fbi", "investigator")],
    ),
    DemoEvent(
        1,
        "10:00",
        1,
        "VS",
        "advocate.vs",
        "appointment",
        "legal",
        client="VS-0142",
        resources=["Conference Room"],
    ),
    DemoEvent(
        2,
        "20:00",
        2,
        "HSI",
        "investigator.hsi",
        "operation",
        "undercover_meet",
        "Recruiter meet",
        sensitivity="restricted",
        case="MI-26-0093",
        where=("Palm Beach Lakes Blvd & I-95, West Palm Beach, FL", 26.7262, -80.0846),
        resources=["Pole Camera Kit"],
    ),
    # 300 m from HSI's recruiter meet in an overlapping window: the demo's operation conflict
    DemoEvent(
        2,
        "19:30",
        2,
        "WPBPD",
        "investigator.wpbpd",
        "operation",
        "search_warrant",
        "Motel room warrant, Palm Beach Lakes Blvd",
        status="planned",
        case="WPB-26-03311",
        where=("1800 Palm Beach Lakes Blvd, West Palm Beach, FL", 26.7289, -80.0846),
    ),
    DemoEvent(
        2,
        "13:00",
        1.5,
        "PBSO",
        "investigator.pbso",
        "interview",
        "victim_interview",
        "Follow-up victim interview",
        case="PB-2026-0417",
        client="VS-0221",
        resources=["Interview Room B"],
        people=[("advocate.vs", "advocate")],
    ),
    DemoEvent(
        3,
        "06:00",
        2,
        "WPBPD",
        "investigator.wpbpd",
        "operation",
        "arrest",
        "Arrest: Broadway suspects",
        case="WPB-26-03311",
        status="planned",
        where=("3400 Broadway, West Palm Beach, FL", 26.7450, -80.0570),
    ),
    DemoEvent(
        3,
        "09:00",
        2,
        "VS",
        "advocate.vs",
        "appointment",
        "court_accompaniment",
        client="VS-0187",
        place="Palm Beach County Courthouse (Main)",
    ),
    DemoEvent(
        4,
        "22:00",
        5,
        "PBSO",
        "investigator.pbso",
        "operation",
        "victim_recovery",
        "Overnight victim recovery",
        case="PB-2026-0417",
        status="planned",
        where=("2500 N Military Trl, West Palm Beach, FL", 26.7350, -80.1150),
        resources=["Unmarked Sedan PB-14"],
        people=[("det.rivera.pbso", "investigator")],
    ),
    DemoEvent(
        5,
        "10:00",
        1,
        "PBSO",
        "supervisor.pbso",
        "interview",
        "witness_interview",
        "Landlord interview",
        case="PB-2026-0417",
        resources=["Interview Room A"],
    ),
    DemoEvent(
        6,
        "07:00",
        3,
        "FBI",
        "investigator.fbi",
        "operation",
        "search_warrant",
        "Residence warrant",
        case="MM-305A-1182",
        status="planned",
        where=("800 Executive Center Dr, West Palm Beach, FL", 26.7180, -80.0980),
        people=[("agent.chen.fbi", "investigator")],
    ),
    DemoEvent(7, "11:00", 1, "VS", "supervisor.vs", "appointment", "counselling", client="VS-0221"),
    # a multi-agency training over three whole days, off site: a meeting takes no address
    DemoEvent(
        4,
        "00:00",
        0,
        "VS",
        "supervisor.vs",
        "meeting",
        "training",
        "Trauma-informed interviewing training",
        days=3,
        people=[
            ("advocate.vs", "advocate"),
            ("investigator.wpbpd", "investigator"),
            ("investigator.hsi", "investigator"),
            ("prosecutor.sao15", "prosecutor"),
            ("interviewer.fbi", "forensic_interviewer"),
        ],
        notes="At the county training centre, 08:30 to 16:30 each day.",
    ),
]


@dataclass
class DemoSeries:
    """A meeting that repeats weekly on ``weekday`` (0 is Monday), ``weeks`` times: the first
    in the demo's first week (from six days before today), so that all fall in its two weeks.
    The meeting's ``day`` is ignored."""

    weekday: int
    weeks: int
    meeting: DemoEvent

    def first_day(self, today: date) -> int:
        """The first occurrence's day, counted from ``today``."""
        earliest = today - timedelta(days=6)
        return -6 + (self.weekday - earliest.weekday()) % 7

    def rule(self) -> Rule:
        return Rule("WEEKLY", 1, (WEEKDAYS[self.weekday],), count=self.weeks)


#: The task force's standing case review, every agency at the table. At 16:00: the Conference
#: Room is booked on two demo mornings, and any weekday may be "today".
SERIES = [
    DemoSeries(
        1,
        2,
        DemoEvent(
            0,
            "16:00",
            1,
            "PBSO",
            "supervisor.pbso",
            "meeting",
            "case_meeting",
            "Task force weekly case review",
            resources=["Conference Room"],
            people=[
                ("investigator.pbso", "investigator"),
                ("investigator.wpbpd", "investigator"),
                ("investigator.fbi", "investigator"),
                ("investigator.hsi", "investigator"),
                ("prosecutor.sao15", "prosecutor"),
                ("advocate.vs", "advocate"),
            ],
        ),
    ),
]


#: (name, address, kind, confidential): where the demo's appointments happen
KNOWN_PLACES = [
    (
        "Palm Beach County Courthouse (Main)",
        "205 N Dixie Hwy, West Palm Beach, FL 33401",
        "courthouse",
        False,
    ),
    ("South County Courthouse", "200 W Atlantic Ave, Delray Beach, FL 33444", "courthouse", False),
    ("Lakeside Health Clinic", "1150 45th St, West Palm Beach, FL 33407", "clinic", False),
    (
        "County Housing Office",
        "100 Australian Ave, West Palm Beach, FL 33406",
        "housing_office",
        False,
    ),
    ("Harbor House (confidential shelter)", "Address on file with VS intake", "shelter", True),
]


def seed_demo(today: date, *, reset: bool = False) -> str:
    """Load the demo directory's people and a demo calendar around ``today`` (office date).

    Does nothing if events exist. ``today`` is an argument, not the clock, so that
    tests and demos choose the week they get.
    """
    if db.session.scalar(select(func.count()).select_from(Event)) and not reset:
        return "Demo data already present; nothing changed (use --reset to rebuild)."
    if reset:
        with unit_of_work():
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in ("alembic_version",):
                    db.session.execute(table.delete())
    report = sync_directory()
    agencies = {a.code: a for a in db.session.scalars(select(Agency))}
    users = {u.username: u for u in db.session.scalars(select(User))}
    resources = _seed_resources(agencies)
    cases = _seed_cases(agencies, users)
    places = _seed_known_places(users)
    for spec in EVENTS:
        draft = _draft(spec, today, agencies, users, resources, cases)
        draft.place_id = places[spec.place].id if spec.place else None
        save_event(draft, users[spec.lead], confirmed=True)
    for series in SERIES:
        spec = replace(series.meeting, day=series.first_day(today))
        draft = _draft(spec, today, agencies, users, resources, cases)
        save_series_and_read(
            draft, series.rule(), users[spec.lead], confirmed=True, read=lambda e: e.id
        )
    events = db.session.scalar(select(func.count()).select_from(Event))
    targets = _seed_targets(cases)
    alerts = db.session.scalar(select(func.count()).select_from(Alert))
    return (
        f"Seeded {report.agencies} agencies, {len(users)} users, {len(resources)} resources, "
        f"{len(cases)} cases, {events} events and {targets} targets around "
        f"{today:%d %b %Y}; {alerts} deconfliction alerts."
    )


#: (case number, reference, first, last, aliases, dob, identifiers by form field, justification);
#: PB-T-001 and FBI-1182-07 share a phone: the demo's target hit.
TARGETS: list[tuple[str, str, str, str, str, str, dict[str, str], str]] = [
    (
        "PB-2026-0417",
        "PB-T-001",
        "Mei",
        "Zhao",
        "Auntie May",
        "1979-04-12",
        {
            "phones": "+1 561 555 0190",
            "businesses": "Riverside Wellness Spa LLC",
            "addresses": "4700 Okeechobee Blvd, West Palm Beach, FL 33409",
        },
        "Manager of Riverside Wellness Spa; surveillance and two victim statements say she "
        "recruits and houses workers held in debt bondage.",
    ),
    (
        "PB-2026-0417",
        "PB-T-002",
        "Carlos",
        "Benitez",
        "",
        "1985-11-02",
        {"plates": "FL:JTX4471"},
        "Drives workers between the spa and an apartment on Military Trail (surveillance logs "
        "of three weeks).",
    ),
    (
        "MM-305A-1182",
        "FBI-1182-07",
        "",
        "",
        "",
        "",
        {
            "phones": "(561) 555-0190",
            "handles": "instagram:@vip.relax.pb",
            "emails": "vip.relax.pb@gmail.com",
        },
        "Number and accounts post online ads offering commercial sex with persons who appear "
        "to be minors (subpoena returns pending).",
    ),
    (
        "MI-26-0093",
        "HSI-0093-1",
        "Ramón",
        "Esquivel",
        "Moncho",
        "1971-09-30",
        {"businesses": "Esquivel Farm Labor Services Inc", "plates": "FL:LBR442"},
        "Registered farm labour contractor; workers report confiscated passports and wage "
        "deductions for housing they cannot leave.",
    ),
    (
        "WPB-26-03311",
        "WPB-T-12",
        "Darnell",
        "Hughes",
        "D-Money",
        "1994-06-18",
        {"handles": "instagram:@dhughes_561", "phones": "561-555-0177"},
        "Seen placing two juveniles at motels on Broadway; phone tied to the ads by a "
        "confidential source.",
    ),
]


def _seed_targets(cases: dict[str, Case]) -> int:
    """A few targets per agency, entered as their case leads would, then deconflicted."""
    from jointops.targets.service import (
        deconflict_targets,
        draft_from_values,
        parse_dob,
        store_targets,
    )

    stored = 0
    for number, ref, first, last, aliases, dob, identifiers, justification in TARGETS:
        case = cases[number]
        draft = draft_from_values(
            case_id=case.id,
            ref=ref,
            first_name=first,
            last_name=last,
            aliases=aliases,
            dob=parse_dob(dob),
            justification=justification,
            identifiers=identifiers,
        )
        lead = case.lead
        if lead is None:
            continue
        deconflict_targets(store_targets([draft], lead, via="demo"), lead)
        stored += 1
    return stored


def _seed_resources(agencies: dict[str, Agency]) -> dict[str, Resource]:
    with unit_of_work():
        found = {r.name: r for r in db.session.scalars(select(Resource))}
        for name, kind, agency, description in RESOURCES:
            if name not in found:
                found[name] = Resource(
                    name=name, kind=kind, agency=agencies.get(agency or ""), description=description
                )
                db.session.add(found[name])
    return found


def _seed_known_places(users: dict[str, User]) -> dict[str, KnownPlace]:
    found = {p.name: p for p in known_places(include_inactive=True)}
    admin = next((u for u in users.values() if "admin" in u.roles), None)
    for name, address, kind, confidential in KNOWN_PLACES:
        if name not in found and admin is not None:
            found[name] = save_known_place(
                KnownPlaceDraft(name, address, kind, confidential), admin
            )
    return found


def _seed_cases(agencies: dict[str, Agency], users: dict[str, User]) -> dict[str, Case]:
    with unit_of_work():
        found = {c.number: c for c in db.session.scalars(select(Case))}
        for agency, number, title, lead in CASES:
            if number not in found:
                found[number] = Case(
                    agency=agencies[agency], number=number, title=title, lead=users[lead]
                )
                db.session.add(found[number])
    return found


def _draft(
    spec: DemoEvent,
    today: date,
    agencies: dict[str, Agency],
    users: dict[str, User],
    resources: dict[str, Resource],
    cases: dict[str, Case],
) -> EventDraft:
    first_day = today + timedelta(days=spec.day)
    if spec.days:
        starts, ends = local_day_bounds(first_day, spec.days)
    else:
        starts = local_to_utc(datetime.combine(first_day, time.fromisoformat(spec.start)), fold=0)
        ends = starts + timedelta(hours=spec.hours)
    lead = users[spec.lead]
    people = [(lead.id, "lead")] + [(users[u].id, part) for u, part in spec.people]
    title = spec.title or f"{spec.subtype.replace('_', ' ').capitalize()} appointment"
    return EventDraft(
        kind=spec.kind,
        subtype=spec.subtype,
        title=title,
        owner_agency_id=agencies[spec.agency].id,
        lead_id=lead.id,
        starts_at=starts,
        ends_at=ends,
        all_day=bool(spec.days),
        status=spec.status,
        sensitivity=spec.sensitivity,
        case_id=cases[spec.case].id if spec.case else None,
        location_address=spec.where[0] if spec.where else None,
        latitude=spec.where[1] if spec.where else None,
        longitude=spec.where[2] if spec.where else None,
        radius_m=(1500 if spec.subtype == "surveillance" else 500) if spec.where else None,
        client_code=spec.client,
        resource_ids=[resources[name].id for name in spec.resources],
        participants=people,
        notes=spec.notes,
    )


@click.command("seed-demo")
@click.option("--reset", is_flag=True, help="Delete all data first, then seed.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The office date the demo weeks are built around (default: today).",
)
@with_appcontext
def seed_demo_command(reset: bool, today: datetime | None) -> None:
    """Load the demo directory's people, rooms, cases and two weeks of events."""
    click.echo(seed_demo(today.date() if today else today_local(), reset=reset))
