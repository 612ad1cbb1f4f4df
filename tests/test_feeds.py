"""iCal feeds end to end: what they carry (and never carry), tokens, caching and limits.

Every feed is read back by independent parsers: the ``ical`` package's strict
parser and ``recurring-ical-events`` (over ``icalendar``'s reader).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import recurring_ical_events
import time_machine
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar
from sqlalchemy import select

from auth.directory import DirectoryAgency, DirectoryUser, any_account
from auth.policy import Visibility
from calendars import BUSY, RESTRICTED, FeedSettings, series_uid, uid
from jointops.config import ConfigError, load_config, validate_config
from jointops.events.rules import EventDraft
from jointops.events.service import cancel_event, save_event
from jointops.extensions import db
from jointops.feeds import service as feeds
from jointops.feeds import tokens as feed_tokens
from jointops.feeds.service import feed_text, settings_for
from jointops.feeds.tokens import Scope
from jointops.identity.directory import get_directory, sync_directory
from jointops.models import (
    AuditEntry,
    Case,
    Event,
    FeedFetchCount,
    FeedToken,
    Resource,
    User,
    utcnow,
)
from jointops.officetime import to_local
from jointops.visibility import facts_of, visibility

Login = Callable[[str], FlaskClient]

CANARY = "ZQXCANARY"
WIDE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
ICAL_STATUS = {
    "planned": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "completed": "CONFIRMED",
    "cancelled": "CANCELLED",
}


# --- Helpers ------------------------------------------------------------------------------


def user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None, username
    return found


def room(name: str) -> Resource:
    found = db.session.scalar(select(Resource).where(Resource.name == name))
    assert found is not None, name
    return found


def subscribe(username: str, scope: str = "personal") -> str:
    _, secret = feed_tokens.create(user(username), f"test {scope}", scope)
    return secret


def fetch(client: FlaskClient, secret: str, **headers: str) -> Any:
    return client.get(f"/feeds/{secret}.ics", headers=headers)


def unfold(body: bytes) -> str:
    """The feed's text with RFC 5545 line folding undone, so that no value hides across lines."""
    return body.decode().replace("\r\n ", "").replace("\r\n\t", "")


NAME_LINE = re.compile(rb"^(NAME|X-WR-CALNAME)[;:].*\r\n(?:[ \t].*\r\n)*", re.MULTILINE)


def calendar_names(body: bytes) -> str:
    """The calendar's ``NAME`` and ``X-WR-CALNAME`` lines, unfolded."""
    return unfold(b"".join(m.group(0) for m in NAME_LINE.finditer(body)))


def outside_names(body: bytes) -> bytes:
    """The feed without its calendar's name lines (checked on their own)."""
    return NAME_LINE.sub(b"", body)


def _utc(moment: date | None) -> date:
    """A time in UTC; a day (of an all-day event) as it is."""
    assert moment is not None
    return moment.astimezone(UTC) if isinstance(moment, datetime) else moment


def occurrences(body: bytes) -> dict[tuple[str, date], Any]:
    """(UID, start) -> each occurrence, a series' expanded from its rule, read by the strict
    ``ical`` parser; recurring-ical-events (over ``icalendar``'s reader) must read the same
    ones. A timed start is in UTC, an all-day one is its first day."""
    text = body.decode()
    strict: dict[tuple[str, date], Any] = {
        (e.uid, _utc(e.dtstart)): e
        for e in IcsCalendarStream.calendar_from_ics(text).timeline_tz(UTC).overlapping(*WIDE)
    }
    loose = recurring_ical_events.of(Calendar.from_ical(text)).between(*WIDE)
    assert {(str(e["UID"]), _utc(e.start), _utc(e.end), str(e.get("STATUS"))) for e in loose} == {
        (u, start, _utc(e.end), e.status.value) for (u, start), e in strict.items()
    }
    return strict


def parse(body: bytes) -> dict[str, Any]:
    """UID -> event as the strict ``ical`` parser reads it (of a series, its master or an
    override), once both parsers are found to read the same occurrences."""
    occurrences(body)
    return {e.uid: e for e in IcsCalendarStream.calendar_from_ics(body.decode()).events}


def plan(
    lead: str,
    kind: str,
    subtype: str,
    start_in: timedelta,
    *,
    hours: float = 1,
    rooms: tuple[str, ...] = (),
    people: tuple[tuple[str, str], ...] = (),
    **values: Any,
) -> Event:
    """Schedule an event through the booking service, as the pages do."""
    owner = user(lead)
    start = utcnow().replace(second=0, microsecond=0) + start_in
    draft = EventDraft(
        kind=kind,
        subtype=subtype,
        title=values.pop("title", f"{CANARY}-title {subtype} Maria Gonzalez"),
        owner_agency_id=owner.agency_id,  # type: ignore[arg-type]
        lead_id=owner.id,
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        resource_ids=[room(r).id for r in rooms],
        participants=[(owner.id, "lead")] + [(user(u).id, part) for u, part in people],
        **values,
    )
    return save_event(draft, owner, confirmed=True)


def edit(event: Event, actor: str, **changes: Any) -> Event:
    """Change ``event`` through the booking service."""
    draft = EventDraft(
        kind=event.kind,
        subtype=event.subtype,
        title=event.title,
        owner_agency_id=event.owner_agency_id,
        lead_id=event.lead_id,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        status=event.status,
        sensitivity=event.sensitivity,
        case_id=event.case_id,
        location_address=event.location_address,
        latitude=event.latitude,
        longitude=event.longitude,
        radius_m=event.radius_m,
        client_code=event.client_code,
        notes=event.notes,
        resource_ids=[b.resource_id for b in event.bookings],
        participants=[(p.user_id, p.part) for p in event.participants],
        keep_place=True,  # an appointment's place stays as it is
    )
    for name, value in changes.items():
        setattr(draft, name, value)
    return save_event(draft, user(actor), event, confirmed=True)


def own_room(name: str, kind: str = "interview_room") -> str:
    """A shared room of the test's own, so that no demo booking stands in its way at any hour."""
    if db.session.scalar(select(Resource).where(Resource.name == name)) is None:
        db.session.add(Resource(name=name, kind=kind))
        db.session.commit()
    return name


def all_scopes(*, rooms_once: bool = False) -> Iterator[tuple[User, str]]:
    """Every active user with every scope they may subscribe to.

    ``rooms_once``: each room feed for its first subscriber only (a shared room's
    feed is the same for everyone who may hold it).
    """
    seen_rooms: set[str] = set()
    for person in db.session.scalars(select(User).where(User.active.is_(True))).all():
        for value, _label in feed_tokens.scope_choices(person):
            if value.startswith("room:") and rooms_once:
                if value in seen_rooms:
                    continue
                seen_rooms.add(value)
            yield person, value


def expected_ids(person: User, scope_text: str) -> set[int]:
    """The events a feed should carry, worked out independently of jointops.feeds.service."""
    scope = Scope.parse(scope_text)
    now = utcnow()
    start, end = now - timedelta(days=30), now + timedelta(days=365)
    found = set()
    for event in db.session.scalars(select(Event)):
        if not (event.starts_at < end and event.ends_at > start):
            continue
        if event.is_cancelled and event.updated_at < now - timedelta(days=30):
            continue
        if scope.kind == "room":
            if any(b.resource_id == scope.room_id for b in event.bookings):
                found.add(event.id)  # demo rooms are shared: every booking is a busy block
            continue
        if scope.kind == "team":
            candidate = event.owner_agency_id == person.agency_id or any(
                p.user.agency_id == person.agency_id for p in event.participants
            )
        else:
            candidate = (
                event.owner_agency_id == person.agency_id
                or event.lead_id == person.id
                or any(p.user_id == person.id for p in event.participants)
            )
        if candidate and visibility(person, event) is not Visibility.NONE:
            found.add(event.id)
    return found


def shown_times(event: Event) -> tuple[date, date]:
    """Where a feed puts an event: its times, or of an all-day event its first day and the day
    after its last."""
    if event.all_day:
        return to_local(event.starts_at).date(), to_local(event.ends_at).date()
    return event.starts_at, event.ends_at


def key_in(
    feed: dict[tuple[str, date], Any], event: Event, settings: FeedSettings
) -> tuple[str, date]:
    """The key (``occurrences``) under which a feed carries ``event``: its own ``UID``, or an
    occurrence's series' ``UID`` when the feed writes the series as one master."""
    start = shown_times(event)[0]
    if event.series_id is not None and (series_uid(event.series_id, settings), start) in feed:
        return series_uid(event.series_id, settings), start
    return uid(event.id, settings), start


# --- What feeds carry ----------------------------------------------------------------------


def test_every_demo_feed_parses_and_holds_the_apps_events(app: Flask, client: FlaskClient) -> None:
    cancel_event(db.session.get_one(Event, 17), user("investigator.pbso"), "test")  # one CANCELLED
    checked, shapes = 0, set()
    for person, scope_text in all_scopes(rooms_once=True):
        response = fetch(client, subscribe(person.username, scope_text))
        assert response.status_code == 200, (person.username, scope_text)
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        feed = occurrences(response.data)
        settings = settings_for(person, Scope.parse(scope_text))
        events = {
            key_in(feed, event, settings): event
            for event in (db.session.get_one(Event, i) for i in expected_ids(person, scope_text))
        }
        assert set(feed) == set(events), (person.username, scope_text)
        for key, event in events.items():
            got = feed[key]
            assert (got.dtstart, got.end) == shown_times(event)
            room_feed = scope_text.startswith("room:")
            wanted = ICAL_STATUS[event.status]
            if room_feed or visibility(person, event) is Visibility.BUSY:
                wanted = "CANCELLED" if event.is_cancelled else "CONFIRMED"
            assert got.status.value == wanted
            assert got.sequence == event.version - 1
            shapes.add((key[0] != uid(event.id, settings), event.all_day))
        checked += len(feed)
    assert checked > 60
    # the demo's weekly case review as one series, and its three-day training
    assert {(True, False), (False, True)} <= shapes

    # The feed loads columns, not ORM objects: its facts must be those of the web's mapping.
    for person in db.session.scalars(select(User)).all():
        window = feeds.current_window(utcnow())
        for row in feeds._load(person, Scope.parse("personal"), window):
            assert row.facts() == facts_of(db.session.get_one(Event, row.id)), row.id


def test_a_personal_feed_is_the_users_and_agencys_events_in_a_window(
    app: Flask, client: FlaskClient
) -> None:
    feed = parse(fetch(client, subscribe("advocate.vs")).data)
    summaries = sorted(e.summary for e in feed.values())
    assert "Interview: Forensic interview (victim)" in summaries  # a PBSO interview she is on
    assert "Appointment: Medical" in summaries  # her agency's
    assert all(not s.startswith("Operation") for s in summaries)  # no police operations
    assert all(e.url.startswith("http://127.0.0.1:8000/events/") for e in feed.values())

    # A bounded window: from 30 days back to 365 days ahead.
    far = plan("investigator.pbso", "interview", "witness_interview", timedelta(days=366))
    old = plan("investigator.pbso", "interview", "witness_interview", timedelta(days=-32))
    near = plan("investigator.pbso", "interview", "witness_interview", timedelta(days=364))
    settings = settings_for(user("investigator.pbso"), Scope.parse("personal"))
    feed = parse(fetch(client, subscribe("investigator.pbso")).data)
    assert uid(near.id, settings) in feed
    assert uid(far.id, settings) not in feed and uid(old.id, settings) not in feed


def test_a_meeting_is_summed_up_in_the_offices_words_and_busy_to_a_room(
    app: Flask, client: FlaskClient
) -> None:
    """A meeting's SUMMARY is its kind and type ("Meeting: Case meeting"), for its agency and a
    participant of another alike; never its title or notes; a room's subscribers read Busy."""
    meeting = plan(
        "supervisor.pbso",
        "meeting",
        "case_meeting",
        timedelta(days=9),
        rooms=(own_room("Canary Meeting Room", "conference_room"),),
        people=(("advocate.vs", "advocate"),),
        notes=f"{CANARY}-note about the case",
    )
    training = plan("supervisor.vs", "meeting", "training", timedelta(days=10))
    for username in ("supervisor.pbso", "advocate.vs", "investigator.pbso"):
        settings = settings_for(user(username), Scope.parse("personal"))
        body = fetch(client, subscribe(username)).data
        feed = parse(body)
        assert feed[uid(meeting.id, settings)].summary == "Meeting: Case meeting", username
        assert CANARY.casefold() not in unfold(body).casefold()
    advocate = settings_for(user("advocate.vs"), Scope.parse("personal"))
    her_feed = parse(fetch(client, subscribe("advocate.vs")).data)
    assert her_feed[uid(training.id, advocate)].summary == "Meeting: Training"  # her agency's
    # the words are the catalog's, not the codes made readable
    assert feeds.LABELS.kinds["meeting"] == "Meeting"
    assert feeds.LABELS.subtypes["meeting"]["case_meeting"] == "Case meeting"
    fbi = user("investigator.fbi")
    room_scope = f"room:{room('Canary Meeting Room').id}"
    in_room = parse(fetch(client, subscribe(fbi.username, room_scope)).data)
    assert in_room[uid(meeting.id, settings_for(fbi, Scope.parse(room_scope)))].summary == BUSY
    fbi_personal = settings_for(fbi, Scope.parse("personal"))
    assert uid(meeting.id, fbi_personal) not in parse(fetch(client, subscribe(fbi.username)).data)


# --- Privacy --------------------------------------------------------------------------------


def seed_canaries() -> dict[str, Event]:
    """Events in every state, each full of values that must never reach a feed."""
    pbso_case = db.session.scalar(select(Case).where(Case.number == "PB-2026-0417"))
    assert pbso_case is not None
    secrets: dict[str, Any] = {
        "notes": f"{CANARY}-note victim lives with her aunt",
        "location_address": f"{CANARY}-address 12 Elm St",
        "latitude": 26.71,
        "longitude": -80.1,
        "radius_m": 500,
    }
    # an appointment takes no address or coordinates: its place is words (or a known place)
    appointment_secrets: dict[str, Any] = {
        "notes": secrets["notes"],
        "place_text": f"{CANARY}-place back door of her aunt's house",
    }
    events = {
        "covert": plan(
            "investigator.pbso",
            "operation",
            "surveillance",
            timedelta(days=3),
            rooms=(own_room("Canary Room A"),),
            people=(("det.rivera.pbso", "investigator"),),
            sensitivity="covert",
            case_id=pbso_case.id,
            **secrets,
        ),
        "restricted": plan(
            "investigator.fbi",
            "operation",
            "undercover_meet",
            timedelta(days=4),
            rooms=(own_room("Canary Conference Room", "conference_room"),),
            sensitivity="restricted",
            **secrets,
        ),
        "planned": plan(
            "investigator.pbso",
            "interview",
            "forensic_interview",
            timedelta(days=5),
            rooms=(own_room("Canary Soft Room", "soft_interview_room"),),
            people=(("advocate.vs", "advocate"),),
            status="planned",
            client_code="CNRY-424242",
            case_id=pbso_case.id,
            **secrets,
        ),
        "completed": plan(
            "investigator.wpbpd",
            "interview",
            "victim_interview",
            timedelta(days=-2),
            rooms=(own_room("Canary Room B"),),
            people=(("advocate.vs", "advocate"),),
            status="completed",
            client_code="CNRY-434343",
            **secrets,
        ),
        "cancelled": plan(
            "advocate.vs",
            "appointment",
            "medical",
            timedelta(days=6),
            rooms=(own_room("Canary Conference Room", "conference_room"),),
            client_code="CNRY-454545",
            **appointment_secrets,
        ),
        "edited": plan(
            "supervisor.vs",
            "appointment",
            "housing",
            timedelta(days=7),
            people=(("advocate.vs", "advocate"),),
            client_code="CNRY-464646",
            **appointment_secrets,
        ),
    }
    cancel_event(events["cancelled"], user("advocate.vs"), f"{CANARY}-reason client moved")
    edit(events["edited"], "supervisor.vs", notes=f"{CANARY}-note2 new shelter address")
    return events


def secrets_in_the_database() -> list[str]:
    """Every value of the app that no feed may ever carry."""
    values = {CANARY, "Maria Gonzalez"}
    for event in db.session.scalars(select(Event)):
        values.update(v for v in (event.client_code, event.location_address, event.notes) if v)
        if event.appointment_place is not None and event.appointment_place.place_text:
            values.add(event.appointment_place.place_text)
        if event.case:
            values.update((event.case.number, event.case.title))
    for person in db.session.scalars(select(User)):
        values.update(v for v in (person.display_name, person.email, person.phone) if v)
    return sorted(values)


def test_canaries_never_reach_any_feed_for_anyone(app: Flask, client: FlaskClient) -> None:
    events = seed_canaries()
    forbidden = secrets_in_the_database()
    assert any(v.startswith("CNRY-") for v in forbidden) and "PB-2026-0417" in forbidden
    assert f"{CANARY}-place back door of her aunt's house" in forbidden
    covert_seen = {}
    for person, scope_text in all_scopes():
        # The very bytes a fetch serves (over HTTP for a sample, the rest straight from the
        # service: the same code without the token and audit round trips).
        if scope_text == "personal" or person.username == "investigator.pbso":
            response = fetch(client, subscribe(person.username, scope_text))
            assert response.status_code == 200
            body = response.data
        else:
            body = feed_text(person, Scope.parse(scope_text))
        # A personal feed is named after its subscriber: that name, there, and nowhere else.
        names = calendar_names(body)
        text = unfold(outside_names(body)).casefold()
        raw = outside_names(body).decode().casefold()
        for value in forbidden:
            assert value.casefold() not in text and value.casefold() not in raw, (
                person.username,
                scope_text,
                value,
            )
            if value != person.display_name or scope_text != "personal":
                assert value.casefold() not in names.casefold(), (person.username, value)
        feed = parse(body)
        covert = feed.get(uid(events["covert"].id, settings_for(person, Scope.parse(scope_text))))
        if covert is not None:
            assert covert.summary in (RESTRICTED, BUSY)
            assert covert.url is None
            if covert.summary == RESTRICTED:
                assert covert.location is None
            covert_seen[(person.username, scope_text)] = covert.summary
    # Those who may open it see "Busy (restricted)"; a room's subscribers a plain busy block.
    assert covert_seen[("investigator.pbso", "personal")] == RESTRICTED
    assert covert_seen[("det.rivera.pbso", "personal")] == RESTRICTED
    assert covert_seen[("supervisor.pbso", "team")] == RESTRICTED
    assert covert_seen[("advocate.vs", f"room:{room('Canary Room A').id}")] == BUSY
    assert ("advocate.vs", "personal") not in covert_seen
    assert covert_seen[("admin.pbso", "personal")] == BUSY  # as on the web: a busy room


# --- Tokens --------------------------------------------------------------------------------


def test_tokens_are_random_stored_as_hashes_and_never_shown_again(app: Flask, login: Login) -> None:
    browser = login("advocate.vs")
    page = browser.post("/feeds", data={"label": "Work phone", "scope": "personal"})
    assert page.status_code == 201
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    url = re.search(r'value="(http://localhost/feeds/([A-Za-z0-9_-]{43})\.ics)"', html)
    assert url is not None, html
    secret = url.group(2)
    assert f"webcal://localhost/feeds/{secret}.ics" in html
    token = db.session.scalar(select(FeedToken).where(FeedToken.label == "Work phone"))
    assert token is not None and token.scope == "personal"
    assert token.token_hash == feed_tokens.hash_secret(secret) != secret
    assert len(secret) * 6 >= 128 and secret not in repr(vars(token))
    listing = browser.get("/feeds").get_data(as_text=True)
    assert "Work phone" in listing and secret not in listing
    assert fetch(browser, secret).status_code == 200
    db.session.refresh(token)
    assert token.last_used_at is not None


def test_scopes_follow_roles(app: Flask, login: Login) -> None:
    advocate = login("advocate.vs")
    page = advocate.get("/feeds").get_data(as_text=True)
    assert 'value="team"' not in page and "Room: Interview Room A" in page
    refused = advocate.post("/feeds", data={"label": "x", "scope": "team"})
    assert refused.status_code == 400
    assert db.session.scalar(select(FeedToken)) is None
    supervisor = login("supervisor.pbso")
    assert 'value="team"' in supervisor.get("/feeds").get_data(as_text=True)
    assert supervisor.post("/feeds", data={"label": "Team", "scope": "team"}).status_code == 201
    assert advocate.post("/feeds", data={"label": "", "scope": "personal"}).status_code == 400
    vehicle = room("Unmarked Sedan PB-14")
    refused = advocate.post("/feeds", data={"label": "x", "scope": f"room:{vehicle.id}"})
    assert refused.status_code == 400


def test_a_revoked_token_answers_404_at_once(app: Flask, login: Login) -> None:
    secret = subscribe("advocate.vs")
    token = db.session.scalar(select(FeedToken))
    assert token is not None and fetch(login("advocate.vs"), secret).status_code == 200
    outsider = login("investigator.fbi")
    assert outsider.post(f"/feeds/{token.id}/revoke").status_code == 404
    assert fetch(outsider, secret).status_code == 200
    owner = login("advocate.vs")
    assert owner.post(f"/feeds/{token.id}/revoke").status_code == 302
    gone = fetch(owner, secret)
    assert gone.status_code == 404 and b"BEGIN:VCALENDAR" not in gone.data
    assert gone.headers["Referrer-Policy"] == "no-referrer"
    assert fetch(owner, "x" * 43).status_code == 404
    assert fetch(owner, "short").status_code == 404


class ShrunkDirectory:
    """The demo directory without one person, as after they left."""

    def __init__(self, gone: str) -> None:
        self.inner, self.gone = get_directory(), gone

    def authenticate(
        self, username: str, password: str, *, before_bind: Callable[[str], None] = any_account
    ) -> DirectoryUser:
        return self.inner.authenticate(username, password, before_bind=before_bind)

    def users(self) -> Iterator[DirectoryUser]:
        return (u for u in self.inner.users() if u.username != self.gone)

    def agencies(self) -> list[DirectoryAgency]:
        return self.inner.agencies()


def test_deactivation_in_the_directory_revokes_every_token(app: Flask, client: FlaskClient) -> None:
    personal, team = subscribe("supervisor.wpbpd"), subscribe("supervisor.wpbpd", "team")
    other = subscribe("investigator.wpbpd")
    assert fetch(client, personal).status_code == 200
    report = sync_directory(ShrunkDirectory("supervisor.wpbpd"))
    assert report.deactivated == ["supervisor.wpbpd"]
    assert fetch(client, personal).status_code == 404
    assert fetch(client, team).status_code == 404
    assert fetch(client, other).status_code == 200
    reasons = db.session.scalars(
        select(FeedToken.revoke_reason).where(FeedToken.user_id == user("supervisor.wpbpd").id)
    ).all()
    assert reasons == ["deactivated", "deactivated"]

    # A team feed asks again at every fetch whether its owner is still a supervisor.
    team = subscribe("supervisor.hsi", "team")
    assert fetch(client, team).status_code == 200
    user("supervisor.hsi").set_roles({"investigator"})
    assert fetch(client, team).status_code == 404


# --- HTTP caching -----------------------------------------------------------------------------


def test_304_until_a_visible_change_then_a_new_etag(app: Flask, client: FlaskClient) -> None:
    secret = subscribe("advocate.vs")
    first = fetch(client, secret)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"].startswith("private")
    assert first.headers["Referrer-Policy"] == "no-referrer"
    again = fetch(client, secret, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert fetch(client, secret, **{"If-Modified-Since": modified}).status_code == 304

    # A change she cannot see changes nothing...
    hidden = db.session.get(Event, 4)  # WPBPD surveillance, no room
    assert hidden is not None and visibility(user("advocate.vs"), hidden) is Visibility.NONE
    edit(hidden, "investigator.wpbpd", ends_at=hidden.ends_at + timedelta(hours=1))
    assert fetch(client, secret, **{"If-None-Match": etag}).status_code == 304

    # ...one she can see gives a new ETag and a later Last-Modified.
    mine = db.session.scalar(select(Event).where(Event.client_code == "VS-0203"))
    assert mine is not None
    edit(mine, "advocate.vs", ends_at=mine.ends_at + timedelta(minutes=30))
    changed = fetch(client, secret, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert fetch(client, secret, **{"If-Modified-Since": modified}).status_code == 200


def test_sequence_grows_with_every_change(app: Flask, client: FlaskClient) -> None:
    secret = subscribe("investigator.pbso")
    event = plan("investigator.pbso", "interview", "witness_interview", timedelta(days=2))
    key = uid(event.id, settings_for(user("investigator.pbso"), Scope.parse("personal")))
    sequences = [parse(fetch(client, secret).data)[key].sequence]
    event = edit(event, "investigator.pbso", status="confirmed")
    sequences.append(parse(fetch(client, secret).data)[key].sequence)
    later = timedelta(hours=1)
    event = edit(
        event, "investigator.pbso", starts_at=event.starts_at + later, ends_at=event.ends_at + later
    )
    sequences.append(parse(fetch(client, secret).data)[key].sequence)
    cancel_event(event, user("investigator.pbso"), "test")
    last = parse(fetch(client, secret).data)[key]
    sequences.append(last.sequence)
    assert sequences == sorted(set(sequences)) and len(sequences) == 4
    assert last.status.value == "CANCELLED"


def test_cancelled_events_stay_for_the_grace_period_then_leave(
    app: Flask, client: FlaskClient
) -> None:
    secret = subscribe("investigator.pbso")
    event = plan("investigator.pbso", "interview", "witness_interview", timedelta(days=60))
    key = uid(event.id, settings_for(user("investigator.pbso"), Scope.parse("personal")))
    cancel_event(event, user("investigator.pbso"), "test")
    cancelled_at = utcnow()
    assert parse(fetch(client, secret).data)[key].status.value == "CANCELLED"
    with time_machine.travel(cancelled_at + timedelta(days=29, hours=23), tick=False):
        kept = fetch(client, secret)
        assert parse(kept.data)[key].status.value == "CANCELLED"
        assert fetch(client, secret, **{"If-None-Match": kept.headers["ETag"]}).status_code == 304
    with time_machine.travel(cancelled_at + timedelta(days=30, minutes=1), tick=False):
        # A client that revalidates by date alone learns that it left: Last-Modified moved on.
        dropped = fetch(client, secret, **{"If-Modified-Since": kept.headers["Last-Modified"]})
        assert dropped.status_code == 200
        assert key not in parse(dropped.data)
        assert dropped.headers["ETag"] != kept.headers["ETag"]


def test_feed_requests_are_rate_limited_per_token(app: Flask, client: FlaskClient) -> None:
    app.config["FEED_RATE_PER_MINUTE"] = 3
    secret, other = subscribe("advocate.vs"), subscribe("advocate.vs")
    with time_machine.travel(datetime(2026, 12, 1, 15, 0, 20, tzinfo=UTC), tick=False):
        assert [fetch(client, secret).status_code for _ in range(3)] == [200] * 3
        limited = fetch(client, secret)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "40"
        assert fetch(client, other).status_code == 200  # per token
    with time_machine.travel(datetime(2026, 12, 1, 15, 1, 0, tzinfo=UTC), tick=False):
        assert fetch(client, secret).status_code == 200


def test_fetches_are_counted_by_token_id_and_the_secret_is_never_logged(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    secret = subscribe("advocate.vs")
    token = db.session.scalar(select(FeedToken))
    assert token is not None
    today = utcnow()
    with time_machine.travel(today, tick=False):  # all on one office day, whatever the clock
        fetch(client, secret)
        etag = fetch(client, secret).headers["ETag"]
        fetch(client, secret, **{"If-None-Match": etag})
        fetch(client, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    with time_machine.travel(today + timedelta(days=1), tick=False):
        assert fetch(client, secret, **{"If-None-Match": etag}).status_code == 304
    # Served fetches are counted per token and office day, not an audit entry each...
    assert (
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "feed.fetch")).all() == []
    )
    counted = db.session.scalars(select(FeedFetchCount).order_by(FeedFetchCount.day)).all()
    day = to_local(today).date()
    assert [(c.token_id, c.day, c.username, c.served, c.not_modified) for c in counted] == [
        (token.id, day, "advocate.vs", 2, 1),
        (token.id, day + timedelta(days=1), "advocate.vs", 0, 1),
    ]
    # ...while a refused fetch is an audit entry of its own.
    feed_tokens.revoke(token, "test")
    assert fetch(client, secret).status_code == 404
    refused = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "feed.fetch")).all()
    assert [(a.object_id, a.outcome, a.detail["reason"]) for a in refused] == [
        (str(token.id), "denied", "revoked")
    ]
    everything = db.session.scalars(select(AuditEntry)).all()
    assert not any(secret in repr((a.detail, a.object_id)) for a in everything)
    assert secret not in caplog.text
    assert feed_tokens.log_id(secret) in caplog.text


# --- The command line -------------------------------------------------------------------------


def test_the_command_line_creates_lists_and_revokes(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient
) -> None:
    made = runner.invoke(
        args=["feed-token", "create", "--user", "advocate.vs", "--label", "Script"]
    )
    assert made.exit_code == 0, made.output
    url = made.stdout.strip().splitlines()[0]
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/feeds/[A-Za-z0-9_-]{43}\.ics", url)
    secret = url.rsplit("/", 1)[1].removesuffix(".ics")
    room_made = runner.invoke(
        args=[
            "feed-token",
            "create",
            "--user",
            "advocate.vs",
            "--label",
            "Room",
            "--scope",
            "room:Interview Room A",
        ]
    )
    assert room_made.exit_code == 0, room_made.output
    listed = runner.invoke(args=["feed-token", "list", "--user", "advocate.vs"])
    assert listed.exit_code == 0
    assert "Script\tMy events" in listed.output and "Room: Interview Room A" in listed.output
    assert secret not in listed.output
    token = db.session.scalar(select(FeedToken).where(FeedToken.label == "Script"))
    assert token is not None
    assert fetch(client, secret).status_code == 200
    fetches = runner.invoke(args=["feed-token", "fetches", str(token.id)])
    assert fetches.exit_code == 0, fetches.output
    assert re.search(r"^\d{4}-\d\d-\d\d\tadvocate\.vs\t1\t0\t", fetches.output, re.MULTILINE)
    revoked = runner.invoke(args=["feed-token", "revoke", str(token.id)])
    assert revoked.exit_code == 0, revoked.output
    assert fetch(client, secret).status_code == 404
    assert "cli" in runner.invoke(args=["feed-token", "list", "--user", "advocate.vs"]).output

    team = runner.invoke(
        args=["feed-token", "create", "--user", "advocate.vs", "--label", "x", "--scope", "team"]
    )
    assert team.exit_code == 1 and "supervisors" in team.output
    nobody = runner.invoke(args=["feed-token", "create", "--user", "nobody", "--label", "x"])
    assert nobody.exit_code == 2
    assert runner.invoke(args=["feed-token", "revoke", "999"]).exit_code == 1
    assert runner.invoke(args=["feed-token", "fetches", "999"]).exit_code == 1


# --- Configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"JOINTOPS_BASE_URL": "ops.example"}, "JOINTOPS_BASE_URL"),
        ({"JOINTOPS_BASE_URL": "https://"}, "JOINTOPS_BASE_URL"),
        ({"JOINTOPS_FEED_REFRESH_MINUTES": "0"}, "JOINTOPS_FEED_REFRESH_MINUTES"),
        ({"JOINTOPS_FEED_RATE_PER_MINUTE": "0"}, "JOINTOPS_FEED_RATE_PER_MINUTE"),
        ({"JOINTOPS_FEED_PAST_DAYS": "-1"}, "JOINTOPS_FEED_PAST_DAYS"),
    ],
)
def test_feed_settings_are_checked(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        validate_config(load_config(env))


def test_production_feed_urls_need_https() -> None:
    production = {
        "JOINTOPS_ENV": "production",
        "JOINTOPS_SECRET_KEY": "5nWtGw2tmX8mylC7p_yBKhGf7wjexvuCFOwHI8t0eow",
        "JOINTOPS_LDAP_URL": "ldaps://dc1.example.test",
    }
    with pytest.raises(ConfigError, match="https"):
        validate_config(load_config(production | {"JOINTOPS_BASE_URL": "http://ops.example"}))
    config = load_config(production | {"JOINTOPS_BASE_URL": "https://ops.example/jointops/"})
    validate_config(config)
    assert config["BASE_URL"] == "https://ops.example/jointops"
    defaults = load_config({})
    assert (defaults["FEED_REFRESH_MINUTES"], defaults["FEED_CANCELLED_DAYS"]) == (15, 30)
    assert (defaults["FEED_PAST_DAYS"], defaults["FEED_FUTURE_DAYS"]) == (30, 365)


# --- Names and places ------------------------------------------------------------------------

OFFICE = "100 Australian Ave, West Palm Beach, FL 33406"


def expected_name(person: User, scope_text: str) -> str:
    """Whose or which calendar: worked out here, not by jointops.feeds.service."""
    scope = Scope.parse(scope_text)
    if scope.room_id is not None:
        return f"JointOps: {db.session.get_one(Resource, scope.room_id).name} (room)"
    if scope_text == "team":
        assert person.agency is not None
        return f"JointOps: {person.agency.name} (team)"
    return f"JointOps: {person.display_name}"


def test_a_feed_is_named_for_whose_or_which_calendar_it_is(app: Flask, client: FlaskClient) -> None:
    seed_canaries()
    kinds = set()
    for person, scope_text in all_scopes(rooms_once=True):
        body = feed_text(person, Scope.parse(scope_text))
        wanted = expected_name(person, scope_text)
        # icalendar reads NAME (RFC 7986) as an unknown property, without unescaping its TEXT
        loose = Calendar.from_ical(body.decode())
        assert str(loose["X-WR-CALNAME"]) == str(loose["NAME"])
        assert IcsCalendarStream.calendar_from_ics(body.decode()).name == [wanted]
        assert CANARY not in wanted and "CNRY" not in wanted and "Maria" not in wanted
        kinds.add(Scope.parse(scope_text).kind)
    assert len(kinds) == 3  # personal, team and room feeds were all read


def test_room_events_are_placed_at_the_office_and_operations_nowhere(
    app: Flask, client: FlaskClient
) -> None:
    app.config["OFFICE_ADDRESS"] = OFFICE
    events = seed_canaries()
    street = plan(
        "investigator.pbso",
        "operation",
        "search_warrant",
        timedelta(days=8),
        location_address=f"{CANARY}-address 9 Oak St, Riviera Beach",
        latitude=26.77,
        longitude=-80.06,
        radius_m=500,
    )
    investigator = user("investigator.pbso")
    personal = parse(fetch(client, subscribe("investigator.pbso")).data)
    settings = settings_for(investigator, Scope.parse("personal"))
    located = {key: e.location for key, e in personal.items()}
    assert located[uid(events["planned"].id, settings)] == f"Canary Soft Room, {OFFICE}"
    assert located[uid(street.id, settings)] is None  # an operation's place never
    assert located[uid(events["covert"].id, settings)] is None  # "Busy (restricted)" alone
    assert {p for p in located.values() if p} <= {
        f"{r.name}, {OFFICE}" for r in db.session.scalars(select(Resource))
    }

    soft = room("Canary Soft Room")
    body = fetch(client, subscribe("investigator.pbso", f"room:{soft.id}")).data
    by_icalendar = Calendar.from_ical(body.decode()).walk("VEVENT")
    assert by_icalendar and {str(e["LOCATION"]) for e in by_icalendar} == {
        f"Canary Soft Room, {OFFICE}"
    }
    assert {e.location for e in parse(body).values()} == {f"Canary Soft Room, {OFFICE}"}
    assert CANARY.casefold() not in unfold(body).casefold()


def test_a_new_office_address_or_name_changes_the_feed_served(
    app: Flask, client: FlaskClient
) -> None:
    soft = own_room("Canary Soft Room", "soft_interview_room")
    plan("investigator.pbso", "interview", "witness_interview", timedelta(days=2), rooms=(soft,))
    secret = subscribe("investigator.pbso")
    first = fetch(client, secret)
    etag = first.headers["ETag"]
    assert fetch(client, secret, **{"If-None-Match": etag}).status_code == 304

    app.config["OFFICE_ADDRESS"] = OFFICE
    moved = fetch(client, secret, **{"If-None-Match": etag})
    assert moved.status_code == 200 and moved.headers["ETag"] != etag
    assert f"Canary Soft Room, {OFFICE}" in {e.location for e in parse(moved.data).values()}

    user("investigator.pbso").display_name = "Det. Renamed Example"
    db.session.commit()
    renamed = fetch(client, secret, **{"If-None-Match": moved.headers["ETag"]})
    assert renamed.status_code == 200
    assert str(Calendar.from_ical(renamed.data)["X-WR-CALNAME"]) == "JointOps: Det. Renamed Example"
