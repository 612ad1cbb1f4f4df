"""The feed library by itself: the redaction policy, the window, and RFC 5545 output."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import recurring_ical_events
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from calendars import (
    BUSY,
    RESTRICTED,
    Detail,
    FeedEvent,
    FeedKind,
    FeedSettings,
    Labels,
    build_calendar,
    carried,
    feed_window,
    fingerprint,
    redact,
    render,
    uid,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LABELS = Labels(
    kinds={"operation": "Operation", "interview": "Interview"},
    subtypes={"interview": {"forensic_interview": "Forensic interview (victim)"}},
)
SETTINGS = FeedSettings(
    name="JointOps", refresh=timedelta(minutes=15), uid_domain="ops.example", uid_key=b"key"
)


def event(**changes: Any) -> FeedEvent:
    values: dict[str, Any] = {
        "id": 7,
        "kind": "interview",
        "subtype": "forensic_interview",
        "status": "confirmed",
        "sensitivity": "normal",
        "starts_at": NOW + timedelta(days=1),
        "ends_at": NOW + timedelta(days=1, hours=1, minutes=30),
        "rooms": ("Soft Interview Room",),
        "version": 3,
        "updated_at": NOW - timedelta(hours=2),
        "url": "https://ops.example/events/7",
        "detail": Detail.FULL,
    }
    values.update(changes)
    return FeedEvent(**values)


# --- The allow-list ----------------------------------------------------------------------


def test_a_feed_event_has_only_the_fields_a_feed_may_carry() -> None:
    names = {f.name for f in dataclasses.fields(FeedEvent)}
    assert names == {
        "id",
        "kind",
        "subtype",
        "status",
        "sensitivity",
        "starts_at",
        "ends_at",
        "rooms",
        "version",
        "updated_at",
        "url",
        "detail",
        # a recurring event's series and the start its rule gave it (calendars.series)
        "series_id",
        "recurrence_id",
        # an all-day event's first day and the day after its last
        "days",
    }
    for never in ("title", "notes", "client_code", "case", "address", "target", "participants"):
        assert not any(never in name for name in names)


@pytest.mark.parametrize(
    "changes",
    [
        {"subtype": "Maria Gonzalez"},  # free text cannot pose as a code
        {"kind": "interview: VS-0142"},
        {"status": "secret"},
        {"sensitivity": "top"},
        {"starts_at": datetime(2026, 12, 1, 9, 0)},  # naive
        {"ends_at": NOW},  # before the start
        {"version": 0},
        {"url": "javascript:alert(1)"},
    ],
)
def test_a_feed_event_refuses_what_is_not_what_it_says(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        event(**changes)


# --- The redaction policy -----------------------------------------------------------------


def test_the_summary_is_kind_and_subtype_labels_never_a_title() -> None:
    entry = redact(event(), FeedKind.PERSONAL, LABELS)
    assert entry.summary == "Interview: Forensic interview (victim)"
    assert entry.location == "Soft Interview Room"
    assert entry.url == "https://ops.example/events/7"
    assert entry.status == "CONFIRMED"
    assert entry.sequence == 2


def test_unknown_codes_get_a_plain_label() -> None:
    entry = redact(event(kind="operation", subtype="victim_recovery"), FeedKind.TEAM, LABELS)
    assert entry.summary == "Operation: Victim recovery"


@pytest.mark.parametrize("kind", list(FeedKind))
def test_a_covert_event_is_busy_restricted_and_nothing_more(kind: FeedKind) -> None:
    entry = redact(
        event(kind="operation", subtype="surveillance", sensitivity="covert"), kind, LABELS
    )
    if kind is FeedKind.ROOM:
        assert entry.summary == BUSY  # a room feed marks nothing as covert
    else:
        assert (entry.summary, entry.location, entry.url) == (RESTRICTED, None, None)


def test_a_covert_event_seen_only_as_busy_is_a_plain_busy_block() -> None:
    entry = redact(event(sensitivity="covert", detail=Detail.BUSY), FeedKind.PERSONAL, LABELS)
    assert (entry.summary, entry.location, entry.url) == (BUSY, "Soft Interview Room", None)


def test_a_room_feed_shows_busy_blocks_only_even_to_those_who_see_more() -> None:
    entry = redact(event(status="planned"), FeedKind.ROOM, LABELS)
    assert (entry.summary, entry.location, entry.url) == (BUSY, "Soft Interview Room", None)
    assert entry.status == "CONFIRMED"  # a busy block does not tell planned from confirmed


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("planned", "TENTATIVE"),
        ("confirmed", "CONFIRMED"),
        ("completed", "CONFIRMED"),
        ("cancelled", "CANCELLED"),
    ],
)
def test_statuses(status: str, expected: str) -> None:
    assert redact(event(status=status), FeedKind.PERSONAL, LABELS).status == expected
    busy = redact(event(status=status), FeedKind.ROOM, LABELS).status
    assert busy == ("CANCELLED" if status == "cancelled" else "CONFIRMED")


# --- The window ------------------------------------------------------------------------------


def window(now: datetime = NOW) -> Any:
    return feed_window(
        now, past=timedelta(days=30), future=timedelta(days=365), cancelled_grace=timedelta(days=30)
    )


@pytest.mark.parametrize(
    ("start_days", "carried_"),
    [(-31, False), (-30.5, True), (0, True), (364.9, True), (365, False)],
)
def test_the_window_is_bounded(start_days: float, carried_: bool) -> None:
    start = NOW + timedelta(days=start_days)
    one = event(starts_at=start, ends_at=start + timedelta(days=1))
    assert carried(one, window()) is carried_


def test_cancelled_events_stay_for_the_grace_period_then_leave() -> None:
    start = NOW + timedelta(days=60)
    cancelled = event(
        status="cancelled", starts_at=start, ends_at=start + timedelta(hours=1), updated_at=NOW
    )
    assert carried(cancelled, window(NOW + timedelta(days=29, hours=23)))
    assert not carried(cancelled, window(NOW + timedelta(days=30, seconds=1)))


def test_the_window_needs_an_aware_now() -> None:
    with pytest.raises(ValueError):
        window(datetime(2026, 12, 1))


# --- Output -----------------------------------------------------------------------------------


def sample() -> list[FeedEvent]:
    return [
        event(),
        event(id=8, status="planned", kind="operation", subtype="arrest", rooms=()),
        event(id=9, status="cancelled", sensitivity="covert"),
        event(id=10, detail=Detail.BUSY, rooms=("Room A", "Room B, annex")),
    ]


def test_rfc5545_output_reads_back_in_independent_parsers() -> None:
    entries = [redact(e, FeedKind.PERSONAL, LABELS) for e in sample()]
    text = render(entries, SETTINGS).decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    for line in ("X-WR-CALNAME:JointOps", "REFRESH-INTERVAL;VALUE=DURATION:PT15M"):
        assert line in text.splitlines()
    assert "X-PUBLISHED-TTL:PT15M" in text.splitlines()

    strict = IcsCalendarStream.calendar_from_ics(text)
    by_uid = {e.uid: e for e in strict.events}
    assert set(by_uid) == {uid(i, SETTINGS) for i in (7, 8, 9, 10)}
    first = by_uid[uid(7, SETTINGS)]
    assert (first.dtstart, first.end, first.sequence) == (
        NOW + timedelta(days=1),
        NOW + timedelta(days=1, hours=1, minutes=30),
        2,
    )
    tentative = by_uid[uid(8, SETTINGS)].status
    assert tentative is not None
    assert str(tentative.value) == "TENTATIVE"
    assert by_uid[uid(9, SETTINGS)].summary == RESTRICTED
    assert by_uid[uid(10, SETTINGS)].location == "Room A, Room B, annex"

    found = recurring_ical_events.of(Calendar.from_ical(text)).between(NOW, NOW + timedelta(days=3))
    assert sorted(str(e["UID"]) for e in found) == sorted(by_uid)


def test_output_is_deterministic_and_the_fingerprint_follows_it() -> None:
    entries = [redact(e, FeedKind.PERSONAL, LABELS) for e in sample()]
    assert render(entries, SETTINGS) == render(list(reversed(entries)), SETTINGS)
    assert fingerprint(entries, SETTINGS) == fingerprint(list(reversed(entries)), SETTINGS)
    moved = [dataclasses.replace(entries[0], ends_at=entries[0].ends_at + timedelta(minutes=5))]
    assert fingerprint(moved + entries[1:], SETTINGS) != fingerprint(entries, SETTINGS)
    renamed = dataclasses.replace(SETTINGS, name="JointOps: PBSO team")
    assert fingerprint(entries, renamed) != fingerprint(entries, SETTINGS)
    assert fingerprint(entries[1:], SETTINGS) != fingerprint(entries, SETTINGS)


def test_a_feed_written_from_kept_events_is_byte_for_byte_what_icalendar_writes() -> None:
    """``render`` reuses each entry's VEVENT text: it must be exactly icalendar's own output,
    for long folded lines, escapes and non-ASCII text too, before and after a change."""
    long_rooms = ("Salle d’audience n° 3; étage 2, aile “Nord”\\", "Room " + "B" * 120)
    entries = [redact(e, FeedKind.PERSONAL, LABELS) for e in sample()] + [
        redact(event(id=11, rooms=long_rooms), FeedKind.PERSONAL, LABELS)
    ]
    assert render(entries, SETTINGS) == build_calendar(entries, SETTINGS).to_ical()
    changed = [dataclasses.replace(entries[0], sequence=entries[0].sequence + 1), *entries[1:]]
    assert render(changed, SETTINGS) == build_calendar(changed, SETTINGS).to_ical()
    assert render(changed, SETTINGS) != render(entries, SETTINGS)
    other = dataclasses.replace(SETTINGS, uid_key=b"another key")
    assert render(entries, other) == build_calendar(entries, other).to_ical()
    assert render([], SETTINGS) == build_calendar([], SETTINGS).to_ical()


def test_uids_are_stable_and_do_not_show_the_event_id() -> None:
    assert uid(7, SETTINGS) == uid(7, SETTINGS) != uid(8, SETTINGS)
    assert uid(7, SETTINGS).endswith("@ops.example")
    local = uid(7, SETTINGS).split("@")[0]
    assert len(local) == 32 and local != "7"
    assert uid(7, dataclasses.replace(SETTINGS, uid_key=b"other")) != uid(7, SETTINGS)
