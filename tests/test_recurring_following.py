"""Changing "this and the following occurrences" of a series: the series split in two.

A weekly meeting on Tuesdays at 10:00 from 16 February 2027, eight times, crosses the change
to summer time in New York (Sunday 14 March); "now" is frozen on 25 February, so the first
two occurrences are past whatever day the tests run.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from calendars import series_uid
from calendars.recurrence import Rule
from jointops.events.rules import EventDraft, EventErrors
from jointops.events.series import (
    SCOPE,
    OccurrenceConflict,
    change_following_and_read,
    series_summary,
)
from jointops.events.service import NeedsConfirmation, cancel_event, save_event
from jointops.extensions import db
from jointops.feeds.service import feed_text, settings_for
from jointops.feeds.tokens import Scope
from jointops.models import AuditEntry, Event, EventSeries, User
from tests.conftest import own_investigator
from tests.test_recurring import (
    NEW_YORK,
    app_starts,
    create,
    edit_times,
    meeting,
    own_room,
    parsed_starts,
    series_events,
    series_stored,
    user,
)

START = datetime(2027, 2, 16, 10, 0, tzinfo=NEW_YORK)
NOW = datetime(2027, 2, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def after_two(app: Flask) -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def weekly(count: int = 8) -> Rule:
    return Rule("WEEKLY", 1, ("TU",), count=count)


def edited(event: Event, start: datetime, hours: float = 1.5, **over: object) -> EventDraft:
    """The occurrence's edit form as sent: its values, changed by ``over``, at ``start``."""
    draft = EventDraft(
        kind=event.kind,
        subtype=event.subtype,
        title=event.title,
        owner_agency_id=event.owner_agency_id,
        lead_id=event.lead_id,
        starts_at=start.astimezone(UTC),
        ends_at=(start + timedelta(hours=hours)).astimezone(UTC),
        resource_ids=[b.resource_id for b in event.bookings],
        participants=[(p.user_id, p.part) for p in event.participants],
    )
    for name, value in over.items():
        setattr(draft, name, value)
    return draft


def local(event: Event) -> str:
    begins, ends = event.starts_at.astimezone(NEW_YORK), event.ends_at.astimezone(NEW_YORK)
    return f"{begins:%d %b %H:%M}-{ends:%H:%M}"


def updates(series_id: int) -> list[AuditEntry]:
    return [
        a
        for a in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.update"))
        if a.detail.get("series") == series_id
    ]


def test_this_and_following_splits_the_series_keeping_past_and_exceptions(
    app: Flask, after_two: None
) -> None:
    lead = own_investigator("PBSO")
    room, other_room = own_room("Split room A"), own_room("Split room B")
    first = create(meeting(lead, room, START), weekly(), lead)
    old_id = first.series_id or 0
    events = series_events(old_id)
    cancel_event(events[5], lead, "no meeting that week")  # 23 March
    moved = START + timedelta(weeks=7, hours=3)  # 6 April at 13:00
    edit_times(events[7], lead, moved, moved + timedelta(hours=1))
    third = events[2]  # 2 March, before the clocks change

    change_following_and_read(
        edited(
            third,
            datetime(2027, 3, 2, 11, 0, tzinfo=NEW_YORK),
            title="Weekly case review",
            resource_ids=[other_room.id],
        ),
        third,
        lead,
        confirmed=True,
        read=lambda e: e.id,
    )

    db.session.expire_all()
    old = db.session.get_one(EventSeries, old_id)
    assert old.rule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=2"
    past = series_events(old_id)
    assert [local(e) for e in past] == ["16 Feb 10:00-11:00", "23 Feb 10:00-11:00"]
    assert {(e.title, e.version) for e in past} == {("Weekly case meeting", 1)}
    assert str(series_summary(past[1])) == "Weekly on Tuesday, 2 times, occurrence 2"

    new_id = db.session.get_one(Event, third.id).series_id or 0
    assert new_id != old_id
    new = db.session.get_one(EventSeries, new_id)
    assert (new.rule, new.first_start, new.duration_minutes) == (
        "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=6",
        datetime(2027, 3, 2, 11, 0),
        90,
    )
    rest = series_events(new_id)
    assert [e.id for e in rest] == [e.id for e in events[2:]]
    assert [local(e) for e in rest] == [
        "02 Mar 11:00-12:30",
        "09 Mar 11:00-12:30",
        "16 Mar 11:00-12:30",
        "23 Mar 10:00-11:00",  # cancelled: left as it was, and still cancelled
        "30 Mar 11:00-12:30",
        "06 Apr 13:00-14:00",  # moved on purpose: keeps its own time
    ]
    assert [e.starts_at.hour for e in rest] == [16, 16, 15, 14, 15, 17]  # UTC: EST, then EDT
    assert [e.is_cancelled for e in rest] == [False, False, False, True, False, False]
    slots = [datetime(2027, 3, 2, 11, 0, tzinfo=NEW_YORK) + timedelta(weeks=n) for n in range(6)]
    assert [e.recurrence_id for e in rest] == [s.astimezone(UTC) for s in slots]
    assert [e.is_moved for e in rest] == [False, False, False, True, False, True]
    shown = [e for e in rest if not e.is_cancelled]
    assert {e.title for e in shown} == {"Weekly case review"}
    assert all([b.resource_id for b in e.bookings if b.active] == [other_room.id] for e in shown)
    assert all(not b.active for b in rest[3].bookings)
    # the first room is free again after the split, for anyone
    fbi = user("investigator.fbi")
    save_event(meeting(fbi, room, START + timedelta(weeks=4)), fbi, confirmed=True)
    # each changed occurrence audited once, with its new series
    audited = updates(new_id)
    assert sorted(int(a.object_id or 0) for a in audited) == sorted(e.id for e in shown)
    assert str(series_summary(rest[1])) == "Weekly on Tuesday, 6 times, occurrence 2"


def test_the_split_feed_reads_as_the_calendar_in_two_parsers(app: Flask, after_two: None) -> None:
    lead = own_investigator("PBSO")
    room = own_room("Split room C")
    first = create(meeting(lead, room, START), weekly(), lead)
    old_id = first.series_id or 0
    events = series_events(old_id)
    cancel_event(events[5], lead, "no meeting that week")
    moved = START + timedelta(weeks=7, hours=3)
    edit_times(events[7], lead, moved, moved + timedelta(hours=1))
    change_following_and_read(
        edited(events[2], datetime(2027, 3, 2, 11, 0, tzinfo=NEW_YORK)),
        events[2],
        lead,
        confirmed=True,
        read=lambda e: e.id,
    )
    new_id = db.session.get_one(Event, events[2].id).series_id or 0

    scope = Scope.parse("personal")
    body = feed_text(lead, scope)
    text = body.decode().replace("\r\n ", "")
    settings = settings_for(lead, scope)
    assert "RRULE:FREQ=WEEKLY;COUNT=6;INTERVAL=1;BYDAY=TU" in text
    assert "DTSTART;TZID=America/New_York:20270302T110000" in text
    assert "EXDATE;TZID=America/New_York:20270323T110000" in text
    assert "RECURRENCE-ID;TZID=America/New_York:20270406T110000" in text
    found, _ = parsed_starts(body)
    for series_id in (old_id, new_id):
        uid = series_uid(series_id, settings)
        starts = [s.astimezone(UTC) for u, s, _ in found if u == uid]
        assert starts == app_starts(lead, series_id), series_id
    new_starts = [s.astimezone(NEW_YORK) for u, s, _ in found if u == series_uid(new_id, settings)]
    assert [f"{s:%d %H:%M}" for s in new_starts] == [
        "02 11:00",
        "09 11:00",
        "16 11:00",
        "30 11:00",
        "06 13:00",
    ]


def test_a_room_taken_on_a_late_occurrence_refuses_the_whole_change(
    app: Flask, after_two: None
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("Split room D")
    events = series_events(create(meeting(lead, room, START), weekly(), lead).series_id or 0)
    fbi = user("investigator.fbi")
    taken = datetime(2027, 4, 6, 11, 30, tzinfo=NEW_YORK)
    save_event(meeting(fbi, room, taken), fbi, confirmed=True)
    before = [(e.id, e.starts_at, e.series_id, e.recurrence_id, e.version) for e in events]
    with pytest.raises(OccurrenceConflict) as refused:
        change_following_and_read(
            edited(events[2], datetime(2027, 3, 2, 11, 0, tzinfo=NEW_YORK)),
            events[2],
            lead,
            confirmed=True,
            read=id,
        )
    assert str(refused.value).startswith("Occurrence 8, Tue 06 Apr 2027: Split room D is")
    assert refused.value.field == "room_id"
    db.session.expire_all()
    after = series_events(events[0].series_id or 0)
    assert [(e.id, e.starts_at, e.series_id, e.recurrence_id, e.version) for e in after] == before
    assert series_stored() == 1
    assert db.session.get_one(EventSeries, events[0].series_id).rule.endswith("COUNT=8")
    assert updates(events[0].series_id or 0) == []


def test_warnings_name_each_occurrence_and_wait(app: Flask, after_two: None) -> None:
    lead = own_investigator("PBSO")
    events = series_events(
        create(meeting(lead, own_room("Split room E"), START), weekly(), lead).series_id or 0
    )
    busy = datetime(2027, 3, 16, 11, 0, tzinfo=NEW_YORK)
    save_event(meeting(lead, own_room("Split room F"), busy), lead, confirmed=True)
    with pytest.raises(NeedsConfirmation) as asked:
        change_following_and_read(
            edited(events[2], datetime(2027, 3, 2, 11, 0, tzinfo=NEW_YORK)),
            events[2],
            lead,
            read=id,
        )
    assert [w.message.split(":")[0] for w in asked.value.warnings] == ["Tue 16 Mar 2027"]
    assert series_stored() == 1


def test_a_begun_occurrence_or_a_single_event_is_refused_by_scope(
    app: Flask, after_two: None
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("Split room G")
    events = series_events(create(meeting(lead, room, START), weekly(), lead).series_id or 0)
    with pytest.raises(EventErrors) as begun:
        change_following_and_read(
            edited(events[1], START + timedelta(weeks=1, hours=1)), events[1], lead, read=id
        )
    assert SCOPE in begun.value.errors
    single = save_event(meeting(lead, room, START + timedelta(days=1)), lead, confirmed=True)
    single = db.session.get_one(Event, single.id)
    with pytest.raises(EventErrors) as alone:
        change_following_and_read(
            edited(single, START + timedelta(days=1, hours=1)), single, lead, read=id
        )
    assert SCOPE in alone.value.errors


def test_from_the_first_occurrence_the_series_is_rewritten_and_a_day_change_shifts_it(
    app: Flask,
) -> None:
    with time_machine.travel(START - timedelta(days=5), tick=False):
        lead = own_investigator("PBSO")
        events = series_events(
            create(meeting(lead, own_room("Split room H"), START), weekly(4), lead).series_id or 0
        )
        wednesday = datetime(2027, 2, 17, 9, 0, tzinfo=NEW_YORK)
        change_following_and_read(
            edited(events[0], wednesday, hours=1), events[0], lead, confirmed=True, read=id
        )
    db.session.expire_all()
    series = db.session.get_one(EventSeries, events[0].series_id)
    assert series_stored() == 1
    assert series.rule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=WE;COUNT=4"
    assert [local(e) for e in series_events(series.id)] == [
        "17 Feb 09:00-10:00",
        "24 Feb 09:00-10:00",
        "03 Mar 09:00-10:00",
        "10 Mar 09:00-10:00",
    ]


def test_the_last_occurrence_changes_alone(app: Flask, after_two: None) -> None:
    lead: User = own_investigator("PBSO")
    events = series_events(
        create(meeting(lead, own_room("Split room I"), START), weekly(), lead).series_id or 0
    )
    last = events[-1]
    change_following_and_read(
        edited(last, datetime(2027, 4, 6, 12, 0, tzinfo=NEW_YORK)),
        last,
        lead,
        confirmed=True,
        read=id,
    )
    db.session.expire_all()
    assert series_stored() == 1
    assert db.session.get_one(Event, last.id).is_moved


def test_the_edit_page_offers_the_choice_and_changes_the_following(
    app: Flask, after_two: None, login: Callable[[str], FlaskClient]
) -> None:
    lead = own_investigator("PBSO")
    room = own_room("Split room J")
    events = series_events(create(meeting(lead, room, START), weekly(4), lead).series_id or 0)
    pbso = login(lead.username)
    page = pbso.get(f"/events/{events[2].id}/edit").get_data(as_text=True)
    assert "This and following occurrences" in page
    assert '<input checked id="scope-0" name="scope" type="radio" value="one">' in page
    single = save_event(meeting(lead, room, START + timedelta(days=2)), lead, confirmed=True)
    assert "This and following" not in pbso.get(f"/events/{single.id}/edit").get_data(as_text=True)

    sent = {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": "Weekly case review",
        "starts_at": "2027-03-02 11:00",
        "ends_at": "2027-03-02 12:00",
        "status": "planned",
        "sensitivity": "normal",
        "room_id": str(room.id),
    }
    wrong = pbso.post(f"/events/{events[2].id}/edit", data=sent | {"scope": "all"})
    assert wrong.status_code == 400 and 'id="scope-error"' in wrong.get_data(as_text=True)
    begun = pbso.post(f"/events/{events[0].id}/edit", data=sent | {"scope": "following"})
    assert begun.status_code == 400 and "This occurrence has begun" in html.unescape(
        begun.get_data(as_text=True)
    )
    db.session.expire_all()
    assert [e.title for e in series_events(events[0].series_id or 0)] == ["Weekly case meeting"] * 4

    done = pbso.post(f"/events/{events[2].id}/edit", data=sent | {"scope": "following"})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    db.session.expire_all()
    rest = series_events(db.session.get_one(Event, events[2].id).series_id or 0)
    assert [(e.id, e.title, local(e)) for e in rest] == [
        (events[2].id, "Weekly case review", "02 Mar 11:00-12:00"),
        (events[3].id, "Weekly case review", "09 Mar 11:00-12:00"),
    ]
    assert [e.title for e in series_events(events[0].series_id or 0)] == ["Weekly case meeting"] * 2
    page = pbso.get(f"/events/{events[3].id}").get_data(as_text=True)
    assert "Weekly on Tuesday, 2 times, occurrence 2 of 2" in page
