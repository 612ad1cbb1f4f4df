"""Reminders chosen per feed: every event of the feed carries one ``VALARM`` that long before
its start, saying no more than the event's own (redacted) summary; a feed without a reminder
carries none. Read by two independent parsers, ``ical`` and ``icalendar``."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar
from sqlalchemy import func, select

from calendars.render import FeedSettings, build_calendar, render
from jointops.extensions import db
from jointops.feeds.service import entries_for
from jointops.feeds.tokens import Scope
from jointops.models import AuditEntry, FeedToken, utcnow
from tests.conftest import user

Login = Callable[[str], FlaskClient]
FEED_PATH = re.compile(r"(/feeds/[A-Za-z0-9_-]+\.ics)")


def make_feed(client: FlaskClient, alarm: str) -> tuple[FeedToken, bytes]:
    page = client.post(
        "/feeds", data={"label": f"Phone {alarm}", "scope": "personal", "alarm": alarm}
    )
    assert page.status_code == 201, page.get_data(as_text=True)[-3000:]
    found = FEED_PATH.search(page.get_data(as_text=True))
    assert found is not None
    db.session.rollback()
    token = db.session.scalars(select(FeedToken).order_by(FeedToken.id.desc())).first()
    assert token is not None
    body = client.get(found[1])
    assert body.status_code == 200
    return token, body.get_data()


@pytest.mark.parametrize(("alarm", "minutes"), [("10", 10), ("60", 60), ("1440", 1440)])
def test_each_event_reminds_the_chosen_time_before(login: Login, alarm: str, minutes: int) -> None:
    token, body = make_feed(login("advocate.vs"), alarm)
    assert token.alarm_minutes == minutes
    strict = IcsCalendarStream.calendar_from_ics(body.decode()).events
    loose = list(Calendar.from_ical(body).walk("VEVENT"))
    assert strict, "the advocate's demo feed has events"
    assert len(strict) == len(loose)
    for event in strict:
        assert len(event.alarm) == 1, event.uid
        (reminder,) = event.alarm
        assert reminder.trigger == timedelta(minutes=-minutes)
        assert reminder.action == "DISPLAY"
        assert reminder.description == event.summary, "a reminder says what the event says"
    for component in loose:
        (alarm_part,) = component.walk("VALARM")
        assert alarm_part.decoded("trigger") == timedelta(minutes=-minutes)
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "feed_token.create")
        .order_by(AuditEntry.id.desc())
    )
    assert entry is not None and entry.detail.get("alarm_minutes") == minutes


def test_a_feed_without_a_reminder_has_no_alarm(login: Login) -> None:
    token, body = make_feed(login("advocate.vs"), "")
    assert token.alarm_minutes is None
    assert b"BEGIN:VEVENT" in body and b"VALARM" not in body


@pytest.mark.parametrize("alarm", ["7", "-30", "abc", "10.5", "99999999999999999999"])
def test_a_reminder_not_offered_is_refused_by_name(login: Login, alarm: str) -> None:
    client = login("advocate.vs")
    before = db.session.scalar(select(func.count()).select_from(FeedToken))
    page = client.post("/feeds", data={"label": "Phone", "scope": "personal", "alarm": alarm})
    assert page.status_code == 400
    assert re.search(r'id="alarm-error">[^<]*Not a valid choice', page.get_data(as_text=True))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FeedToken)) == before


def test_the_feed_with_reminders_is_icalendars_own_text(login: Login) -> None:
    """``render`` writes, from each event's kept text, exactly what ``icalendar`` writes."""
    advocate = user("advocate.vs")
    entries = entries_for(advocate, Scope.parse("personal"), utcnow())
    settings = FeedSettings(
        name="Test",
        refresh=timedelta(minutes=15),
        uid_domain="example.org",
        uid_key=b"k",
        alarm=timedelta(minutes=30),
    )
    assert entries
    assert render(entries, settings) == build_calendar(entries, settings).to_ical()
    with pytest.raises(ValueError, match="before the event"):
        FeedSettings(
            name="x", refresh=timedelta(1), uid_domain="d", uid_key=b"k", alarm=timedelta(0)
        )
