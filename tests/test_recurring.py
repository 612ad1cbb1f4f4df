"""Recurring events: a series materialised as occurrences, each booked and checked as an event.

Dates are fixed in 2027 around the change to summer time in New York (Sunday 14 March), and
"now" is frozen before them, so nothing depends on the day the tests run.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar
from sqlalchemy import func, select

from calendars import Detail, FeedEvent, FeedKind, FeedSeries, Labels, redact_feed, series_uid, uid
from calendars.recurrence import Rule, RuleRefused, occurrences
from jointops.demo import SERIES as DEMO_SERIES
from jointops.events.calendar_data import filter_choices, window
from jointops.events.rules import EventDraft
from jointops.events.series import (
    OccurrenceConflict,
    cancel_series,
    save_series_and_read,
    series_summary,
)
from jointops.events.service import NeedsConfirmation, cancel_event, save_event
from jointops.extensions import db
from jointops.feeds.service import feed_text, settings_for
from jointops.feeds.tokens import Scope
from jointops.models import (
    AuditEntry,
    Booking,
    Event,
    EventSeries,
    PendingCheck,
    Resource,
    User,
)
from tests.conftest import own_investigator

NEW_YORK = ZoneInfo("America/New_York")
#: Tuesdays at 10:00 from 2 March 2027: the third is after the clocks go forward
FIRST = datetime(2027, 3, 2, 10, 0, tzinfo=NEW_YORK)
BEFORE = datetime(2027, 2, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen(app: Flask) -> Iterator[None]:
    with time_machine.travel(BEFORE, tick=False):
        yield


def user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def own_room(name: str) -> Resource:
    room = db.session.scalar(select(Resource).where(Resource.name == name))
    if room is None:
        room = Resource(name=name, kind="conference_room")
        db.session.add(room)
        db.session.commit()
    return room


def meeting(lead: User, room: Resource, start: datetime = FIRST, hours: float = 1) -> EventDraft:
    return EventDraft(
        kind="interview",
        subtype="witness_interview",
        title="Weekly case meeting",
        owner_agency_id=lead.agency_id,  # type: ignore[arg-type]
        lead_id=lead.id,
        starts_at=start.astimezone(UTC),
        ends_at=(start + timedelta(hours=hours)).astimezone(UTC),
        resource_ids=[room.id],
        participants=[(lead.id, "lead")],
    )


def weekly(count: int = 6) -> Rule:
    return Rule("WEEKLY", 1, ("TU",), count=count)


def series_events(series_id: int) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event).where(Event.series_id == series_id).order_by(Event.starts_at)
        )
    )


def series_stored() -> int:
    """The series stored besides the demo's (``jointops.demo.SERIES``, in every test's data)."""
    stored = db.session.scalar(select(func.count()).select_from(EventSeries)) or 0
    return stored - len(DEMO_SERIES)


def create(draft: EventDraft, rule: Rule, actor: User) -> Event:
    event_id = save_series_and_read(draft, rule, actor, confirmed=True, read=lambda e: e.id)
    return db.session.get_one(Event, event_id)


def test_the_rule_gives_bounded_wall_clock_dates() -> None:
    local = FIRST.replace(tzinfo=None)
    assert [d.day for d in occurrences(weekly(4), local)] == [2, 9, 16, 23]
    fortnightly = Rule("WEEKLY", 2, ("TU", "TH"), until=date(2027, 3, 31))
    assert [d.day for d in occurrences(fortnightly, local)] == [2, 4, 16, 18, 30]
    monthly = Rule("MONTHLY", 1, count=4)
    jan31 = datetime(2027, 1, 31, 9, 0)
    assert [d.date() for d in occurrences(monthly, jan31)] == [
        date(2027, 1, 31),
        date(2027, 3, 31),
        date(2027, 5, 31),
        date(2027, 7, 31),
    ]
    assert Rule.parse(fortnightly.text()) == fortnightly
    assert weekly(10).describe(local) == "Weekly on Tuesday, 10 times"
    for rule, field in (
        (Rule("WEEKLY", 1, ("TU",), count=261), "repeat_count"),
        (Rule("WEEKLY", 1, ("TU",)), "repeat_count"),
        (Rule("DAILY", 1, until=date(2029, 3, 3)), "repeat_until"),
        (Rule("DAILY", 1, count=260, until=None), None),
        (Rule("MONTHLY", 2, count=20), "repeat_count"),
        (Rule("YEARLY", 1, count=3), "repeat"),
    ):
        if field is None:
            assert len(occurrences(rule, local)) == 260
            continue
        with pytest.raises(RuleRefused) as refused:
            occurrences(rule, local)
        assert field in refused.value.errors, rule


def test_a_weekly_series_keeps_its_local_time_across_the_dst_change(
    app: Flask, frozen: None
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("Series room A")
    first = create(meeting(lead, room), weekly(), lead)
    events = series_events(first.series_id or 0)
    assert len(events) == 6
    local = [e.starts_at.astimezone(NEW_YORK) for e in events]
    assert [t.time() for t in local] == [time(10, 0)] * 6
    assert [t.date() for t in local] == [date(2027, 3, 2) + timedelta(weeks=i) for i in range(6)]
    assert [e.starts_at.hour for e in events] == [15, 15, 14, 14, 14, 14]  # UTC: EST, then EDT
    assert all(e.recurrence_id == e.starts_at and not e.is_moved for e in events)
    assert all(e.ends_at - e.starts_at == timedelta(hours=1) for e in events)
    # every occurrence is booked, marked for deconfliction and audited
    bookings = db.session.scalars(select(Booking).where(Booking.resource_id == room.id)).all()
    assert len(bookings) == 6
    series = db.session.get_one(EventSeries, first.series_id)
    assert series.rule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=6"
    assert series.first_start == datetime(2027, 3, 2, 10, 0)
    assert series.zone == "America/New_York"
    created = db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "event.create",
            AuditEntry.object_id.in_([str(e.id) for e in events]),
        )
    )
    assert created == 6
    summary = series_summary(events[2])
    assert summary is not None
    assert str(summary) == "Weekly on Tuesday, 6 times, occurrence 3"


def test_a_room_taken_on_occurrence_4_refuses_the_series_naming_its_date(
    app: Flask, frozen: None
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("Series room B")
    other = user("investigator.fbi")
    taken = FIRST + timedelta(weeks=3, minutes=30)
    save_event(meeting(other, room, taken), other, confirmed=True)
    events_before = db.session.scalar(select(func.count()).select_from(Event))
    pending_before = db.session.scalar(select(func.count()).select_from(PendingCheck))
    with pytest.raises(OccurrenceConflict) as refused:
        save_series_and_read(meeting(lead, room), weekly(), lead, confirmed=True, read=id)
    message = str(refused.value)
    assert message.startswith("Occurrence 4, Tue 23 Mar 2027: Series room B is already booked")
    assert refused.value.field == "room_id"
    assert db.session.scalar(select(func.count()).select_from(Event)) == events_before
    assert series_stored() == 0
    assert db.session.scalar(select(func.count()).select_from(PendingCheck)) == pending_before


def test_warnings_name_the_occurrence_and_wait_for_confirmation(app: Flask, frozen: None) -> None:
    lead = own_investigator("PBSO")
    busy = FIRST + timedelta(weeks=1)
    save_event(meeting(lead, own_room("Series room C"), busy), lead, confirmed=True)
    with pytest.raises(NeedsConfirmation) as asked:
        save_series_and_read(meeting(lead, own_room("Series room D")), weekly(3), lead, read=id)
    assert [w.message.split(":")[0] for w in asked.value.warnings] == ["Tue 09 Mar 2027"]
    assert series_stored() == 0


def test_a_series_beyond_the_bound_or_at_a_skipped_time_is_refused(
    app: Flask, frozen: None
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("Series room E")
    with pytest.raises(RuleRefused) as refused:
        save_series_and_read(meeting(lead, room), weekly(300), lead, read=id)
    assert "repeat_count" in refused.value.errors
    night = datetime(2027, 3, 7, 2, 30, tzinfo=NEW_YORK)  # Sundays at 02:30: 14 March skips it
    with pytest.raises(RuleRefused) as skipped:
        save_series_and_read(
            meeting(lead, room, night), Rule("WEEKLY", 1, ("SU",), count=3), lead, read=id
        )
    assert "2027-03-14" in skipped.value.errors["repeat"][0]
    assert series_stored() == 0


def test_cancel_one_occurrence_then_the_rest_of_the_series(app: Flask, frozen: None) -> None:
    lead = own_investigator("PBSO")
    room = own_room("Series room F")
    first = create(meeting(lead, room), weekly(), lead)
    series_id = first.series_id or 0
    events = series_events(series_id)
    cancel_event(events[2], lead, "court date moved")
    assert [e.is_cancelled for e in series_events(series_id)] == [False, False, True] + [False] * 3
    # the cancelled occurrence's room is free again for anyone
    other = user("investigator.fbi")
    save_event(meeting(other, room, FIRST + timedelta(weeks=2)), other, confirmed=True)

    with time_machine.travel(FIRST + timedelta(weeks=1, hours=2), tick=False):
        assert cancel_series(events[0], lead, "case closed") == 3
    after = series_events(series_id)
    assert [e.is_cancelled for e in after] == [False, False, True, True, True, True]
    assert all(not b.active for e in after[3:] for b in e.bookings)
    audited = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "event.cancel",
            AuditEntry.object_id.in_([str(e.id) for e in after]),
        )
    ).all()
    assert len(audited) == 4


# --- Feeds ----------------------------------------------------------------------------------

WIDE = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))


def edit_times(event: Event, actor: User, start: datetime, end: datetime) -> None:
    """Move ``event`` through the booking service, as its edit page does."""
    draft = EventDraft(
        kind=event.kind,
        subtype=event.subtype,
        title=event.title,
        owner_agency_id=event.owner_agency_id,
        lead_id=event.lead_id,
        starts_at=start.astimezone(UTC),
        ends_at=end.astimezone(UTC),
        resource_ids=[b.resource_id for b in event.bookings],
        participants=[(p.user_id, p.part) for p in event.participants],
    )
    save_event(draft, actor, event, confirmed=True)


def parsed_starts(body: bytes) -> tuple[list[tuple[str, datetime, datetime]], list[Any]]:
    """(UID, start, end) of every occurrence, read by recurring-ical-events (over icalendar)
    and by ``ical``; the two must agree."""
    text = body.decode()
    loose = sorted(
        (str(e["UID"]), e.start, e.end)
        for e in recurring_ical_events.of(Calendar.from_ical(text)).between(*WIDE)
    )
    strict_calendar = IcsCalendarStream.calendar_from_ics(text)
    strict = sorted(
        (e.uid or "", cast(datetime, e.dtstart), cast(datetime, e.end))
        for e in strict_calendar.timeline_tz(NEW_YORK).overlapping(
            WIDE[0].astimezone(NEW_YORK), WIDE[1].astimezone(NEW_YORK)
        )
    )
    assert [(u, s.astimezone(UTC), e.astimezone(UTC)) for u, s, e in loose] == [
        (u, s.astimezone(UTC), e.astimezone(UTC)) for u, s, e in strict
    ]
    return loose, list(strict_calendar.events)


def app_starts(viewer: User, series_id: int) -> list[datetime]:
    """The occurrences the calendar page shows the viewer over the same window."""
    shown = window(filter_choices(viewer), *WIDE)
    ids = {e.id for e in series_events(series_id)}
    return sorted(
        s.event.starts_at for s in shown if s.event.id in ids and s.event.status != "cancelled"
    )


def test_a_series_is_one_master_with_exdate_and_an_override_read_alike_by_two_parsers(
    app: Flask, frozen: None
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("Series room G")
    first = create(meeting(lead, room), weekly(), lead)
    series_id = first.series_id or 0
    events = series_events(series_id)
    cancel_event(events[2], lead, "no meeting that week")  # 16 March: EXDATE
    moved = FIRST + timedelta(weeks=4, hours=3)  # 30 March 13:00 instead of 10:00
    edit_times(events[4], lead, moved, moved + timedelta(hours=1))
    assert db.session.get_one(Event, events[4].id).is_moved

    body = feed_text(lead, Scope.parse("personal"))
    text = body.decode().replace("\r\n ", "")
    settings = settings_for(lead, Scope.parse("personal"))
    master_uid = series_uid(series_id, settings)
    assert "BEGIN:VTIMEZONE" in text and "TZID:America/New_York" in text
    assert "DTSTART;TZID=America/New_York:20270302T100000" in text
    assert "RRULE:FREQ=WEEKLY;COUNT=6;INTERVAL=1;BYDAY=TU" in text
    assert "EXDATE;TZID=America/New_York:20270316T100000" in text
    assert "RECURRENCE-ID;TZID=America/New_York:20270330T100000" in text
    assert "Weekly case meeting" not in text  # titles never reach a feed
    for event in events:
        assert uid(event.id, settings) not in text  # one UID for the series

    occurrences, _ = parsed_starts(body)
    ours = [(s, e) for u, s, e in occurrences if u == master_uid]
    local = [s.astimezone(NEW_YORK) for s, _ in ours]
    assert [(t.date().day, t.hour) for t in local] == [
        (2, 10),
        (9, 10),
        (23, 10),
        (30, 13),
        (6, 10),
    ]
    assert all(e - s == timedelta(hours=1) for s, e in ours)
    assert [s.astimezone(UTC) for s, _ in ours] == app_starts(lead, series_id)

    # another agency that shares the room sees busy blocks: the same occurrences, no more
    other = user("investigator.fbi")
    room_scope = Scope.parse(f"room:{room.id}")
    room_body = feed_text(other, room_scope)
    room_occurrences, _ = parsed_starts(room_body)
    room_uid = series_uid(series_id, settings_for(other, room_scope))
    assert [s.astimezone(UTC) for u, s, _ in room_occurrences if u == room_uid] == app_starts(
        lead, series_id
    )
    assert "Weekly case meeting" not in room_body.decode()


def test_mixed_levels_fall_back_to_one_vevent_per_occurrence() -> None:
    start = datetime(2027, 3, 2, 15, 0, tzinfo=UTC)

    def occurrence(n: int, detail: Detail) -> FeedEvent:
        begins = start + timedelta(weeks=n)
        return FeedEvent(
            id=100 + n,
            kind="interview",
            subtype="witness_interview",
            status="confirmed",
            sensitivity="normal",
            starts_at=begins,
            ends_at=begins + timedelta(hours=1),
            rooms=("Room",),
            version=1,
            updated_at=start,
            url=f"https://ops.example/events/{100 + n}",
            detail=detail,
            series_id=7,
            recurrence_id=begins,
        )

    series = {
        7: FeedSeries(
            id=7,
            rule="FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=2",
            tzid="America/New_York",
            first_start=start.astimezone(NEW_YORK),
            duration=timedelta(hours=1),
            starts=(start, start + timedelta(weeks=1)),
        )
    }
    labels = Labels()
    alike = redact_feed(
        [occurrence(0, Detail.FULL), occurrence(1, Detail.FULL)], series, FeedKind.PERSONAL, labels
    )
    assert [(e.series_id, e.rule is not None) for e in alike] == [(7, True)]
    mixed = redact_feed(
        [occurrence(0, Detail.FULL), occurrence(1, Detail.BUSY)], series, FeedKind.PERSONAL, labels
    )
    assert [(e.event_id, e.series_id, e.summary) for e in mixed] == [
        (100, None, "Interview: Witness interview"),
        (101, None, "Busy"),
    ]
    with pytest.raises(ValueError, match="bounded"):
        FeedSeries(7, "FREQ=WEEKLY;BYDAY=TU", "UTC", start, timedelta(hours=1), (start,))


# --- The form and the event page ------------------------------------------------------------


def form(room: Resource, **over: str) -> dict[str, str]:
    data = {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": "Weekly case meeting",
        "starts_at": "2027-03-02 10:00",
        "ends_at": "2027-03-02 11:00",
        "status": "planned",
        "sensitivity": "normal",
        "room_id": str(room.id),
        "repeat": "weekly",
        "repeat_ends": "count",
        "repeat_count": "4",
    }
    return data | over


def test_the_form_creates_a_series_and_its_page_offers_cancelling_it(
    app: Flask, frozen: None, login: Callable[[str], FlaskClient]
) -> None:
    room = own_room("Series room H")
    pbso = login(own_investigator("PBSO").username)
    refused = pbso.post("/events/new", data=form(room, repeat_count="300"))
    assert refused.status_code == 400
    assert "Between 2 and 260 times." in refused.get_data(as_text=True)
    refused = pbso.post(
        "/events/new", data=form(room, repeat_ends="until", repeat_until="2030-01-01")
    )
    assert refused.status_code == 400
    assert "At most two years after the first day" in refused.get_data(as_text=True)
    assert series_stored() == 0

    created = pbso.post("/events/new", data=form(room))
    assert created.status_code == 302, created.get_data(as_text=True)[:3000]
    first_id = int(created.headers["Location"].rsplit("/", 1)[1])
    first = db.session.get_one(Event, first_id)
    events = series_events(first.series_id or 0)
    assert [e.starts_at.astimezone(NEW_YORK).strftime("%d %H:%M") for e in events] == [
        "02 10:00",
        "09 10:00",
        "16 10:00",
        "23 10:00",
    ]
    page = pbso.get(f"/events/{events[2].id}").get_data(as_text=True)
    assert "Weekly on Tuesday, 4 times, occurrence 3 of 4" in page
    assert "Cancel this occurrence…" in page and "Cancel the whole series…" in page

    # another agency sees a busy block of a shared room, and nothing of the series
    fbi = login("investigator.fbi")
    busy = fbi.get(f"/events/{events[2].id}").get_data(as_text=True)
    assert "Weekly" not in busy and "Repeats" not in busy
    assert fbi.get(f"/events/{events[2].id}/cancel-series").status_code == 404
    assert (
        fbi.post(f"/events/{events[2].id}/cancel-series", data={"reason": "probe"}).status_code
        == 404
    )

    # a series from February whose fifth week meets the first one: refused, naming that date
    clash = pbso.post(
        "/events/new",
        data=form(room, starts_at="2027-02-02 10:30", ends_at="2027-02-02 11:30", repeat_count="8"),
    )
    assert clash.status_code == 409
    assert "Occurrence 5, Tue 02 Mar 2027: Series room H is already booked" in html.unescape(
        clash.get_data(as_text=True)
    )

    done = pbso.post(f"/events/{events[1].id}/cancel-series", data={"reason": "case closed"})
    assert done.headers["Location"] == f"/events/{events[1].id}"
    after = series_events(first.series_id or 0)
    assert [e.is_cancelled for e in after] == [True, True, True, True]  # all still to come
    assert pbso.get(f"/events/{events[1].id}/cancel-series").status_code == 403


def test_a_weekly_case_meeting_is_a_series_of_meetings_never_deconflicted(
    app: Flask, frozen: None, login: Callable[[str], FlaskClient]
) -> None:
    """A standing case meeting of two agencies: a series of meetings, each booked in its room
    at 10:00 across the change of the clocks, none waiting for a deconfliction check nor shown
    with one, written in feeds as one rule under the office's words."""
    room = own_room("Series room M")
    lead, fbi = own_investigator("PBSO"), own_investigator("FBI")
    pbso = login(lead.username)
    data = form(
        room,
        kind="meeting",
        subtype="case_meeting",
        title="Weekly case review Zq7101",
        investigators=str(fbi.id),
    )
    created = pbso.post("/events/new", data=data)
    assert created.status_code == 302, created.get_data(as_text=True)[:3000]
    first = db.session.get_one(Event, int(created.headers["Location"].rsplit("/", 1)[1]))
    events = series_events(first.series_id or 0)
    assert [e.starts_at.astimezone(NEW_YORK).strftime("%d %H:%M") for e in events] == [
        "02 10:00",
        "09 10:00",
        "16 10:00",
        "23 10:00",
    ]
    assert {(e.kind, e.subtype, e.location_address, e.latitude) for e in events} == {
        ("meeting", "case_meeting", None, None)
    }
    assert [[b.resource_id for b in e.bookings] for e in events] == [[room.id]] * 4
    ids = [e.id for e in events]
    assert not db.session.scalars(select(PendingCheck).where(PendingCheck.item_id.in_(ids))).all()
    page = html.unescape(login(fbi.username).get(f"/events/{events[2].id}").get_data(as_text=True))
    assert "Weekly on Tuesday, 4 times, occurrence 3 of 4" in page
    assert "Meeting · Case meeting" in page and 'id="alerts-title"' not in page

    body = feed_text(user(fbi.username), Scope.parse("personal")).decode().replace("\r\n ", "")
    assert "RRULE:FREQ=WEEKLY;COUNT=4;INTERVAL=1;BYDAY=TU" in body
    assert "SUMMARY:Meeting: Case meeting\r\n" in body and "Zq7101" not in body

    # the room is never double-booked: a second series on it is refused, naming the date
    clash = login(fbi.username).post(
        "/events/new",
        data=form(
            room,
            kind="meeting",
            subtype="briefing",
            starts_at="2027-03-16 10:30",
            ends_at="2027-03-16 11:30",
        ),
    )
    assert clash.status_code == 409
    assert "Occurrence 1, Tue 16 Mar 2027: Series room M is already booked" in html.unescape(
        clash.get_data(as_text=True)
    )
