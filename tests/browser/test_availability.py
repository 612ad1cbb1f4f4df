"""Availability on the event form in Chromium: a room busy at the proposed time shows busy in
the day's timeline, a suggested slot or free room is taken, and the event saves; on a phone the
timeline keeps its hours (and days) readable and its legend names what it draws.

The busy booking is made through the form by another agency, on a day weeks ahead of both
the test clock (``JOINTOPS_TEST_CLOCK``) and the server's, which runs on the machine's clock.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.browser import DESKTOP, PHONE, sign_in
from tests.browser.test_accessibility import violations
from tests.live_server import TIMEZONE, LiveServer

pytestmark = pytest.mark.browser

ROOM = "Interview Room A"


def far_day(weeks: int) -> date:
    """A day ``weeks`` ahead of the test's clock and of the server's (the machine's)."""
    zone = ZoneInfo(TIMEZONE)
    hatch = time_machine.escape_hatch
    machine = hatch.datetime.datetime.now(zone) if hatch.is_travelling() else datetime.now(zone)
    return max(machine.date(), datetime.now(zone).date()) + timedelta(weeks=weeks)


def fill_interview(page: Any, title: str, day: date, start: str, end: str) -> None:
    page.select_option("#kind", "interview")
    page.select_option("#subtype", "witness_interview")
    page.fill("#title", title)
    page.fill("#starts_at", f"{day.isoformat()} {start}")
    page.fill("#ends_at", f"{day.isoformat()} {end}")
    page.select_option("#room_id", label=ROOM)


def book_the_room(new_page: Any, server: LiveServer, day: date) -> None:
    """Another agency (PBSO) holds the room 10:00-11:00."""
    page = new_page()
    sign_in(page, server, "investigator.pbso")
    page.goto(f"{server.url}/events/new")
    fill_interview(page, "PBSO landlord interview", day, "10:00", "11:00")
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))


def open_form_at_the_busy_time(new_page: Any, server: LiveServer, day: date, size: Any) -> Any:
    from playwright.sync_api import expect

    page = new_page(size)
    sign_in(page, server, "investigator.wpbpd")
    page.goto(f"{server.url}/events/new")
    fill_interview(page, "Motel manager interview", day, "10:00", "11:00")
    status = page.locator("#availability-status")
    expect(status).to_contain_text(f"{ROOM} is busy 10:00–11:00.")
    room_row = page.locator(".av-row", has_text=ROOM)
    expect(room_row).to_have_class(re.compile(r"\bav-clash\b"))
    expect(room_row.locator(".av-state")).to_have_text("⚠ busy")
    # another agency's booking: a grey block with its time, no title
    block = room_row.locator(".av-block")
    expect(block).to_have_count(1)
    expect(block).to_have_class(re.compile(r"\bav-busy\b"))
    expect(block).to_have_attribute("title", "Busy 10:00–11:00")
    expect(page.locator("#availability-day")).to_contain_text(f"{day:%a %d %b %Y}")
    return page


def test_a_busy_room_and_a_suggested_slot_taken(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    day = far_day(6)
    book_the_room(new_page, server, day)
    page = open_form_at_the_busy_time(new_page, server, day, DESKTOP)
    page.locator("#availability").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "availability-busy.png")
    assert violations(page) == []

    page.get_by_role("button", name="Use 11:00–12:00").click()
    expect(page.locator("#starts_at")).to_have_value(f"{day.isoformat()} 11:00")
    expect(page.locator("#ends_at")).to_have_value(f"{day.isoformat()} 12:00")
    expect(page.locator("#availability-status")).to_have_text("All free 11:00–12:00.")
    expect(page.locator(".av-row.av-clash")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^Use "))).to_have_count(0)

    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Motel manager interview")
    expect(page.locator(".event-when")).to_contain_text(f"{day:%d %b %Y}, 11:00–12:00")


def test_a_free_room_of_the_same_kind_taken_on_a_phone(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    day = far_day(7)
    book_the_room(new_page, server, day)
    page = open_form_at_the_busy_time(new_page, server, day, PHONE)
    page.locator("#availability").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "availability-busy-phone.png")
    assert violations(page) == []

    page.get_by_role("button", name="Use Interview Room B").click()
    expect(page.locator("#room_id option:checked")).to_have_text("Interview Room B")
    expect(page.locator("#availability-status")).to_have_text("All free 10:00–11:00.")
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.locator("main")).to_contain_text("Interview Room B")


def test_a_room_booked_all_day_shows_busy_and_an_all_day_form_sees_days(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    day = far_day(8)
    day += timedelta(days=(2 - day.weekday()) % 7)  # a Wednesday: its next days are weekdays
    other = new_page()
    sign_in(other, server, "investigator.pbso")
    other.goto(f"{server.url}/events/new")
    fill_interview(other, "PBSO training day", day, "09:00", "10:00")
    other.get_by_label("All day").check()
    other.fill("#starts_at", day.isoformat())
    other.fill("#ends_at", day.isoformat())
    other.get_by_role("button", name="Create event").click()
    other.wait_for_url(re.compile(r"/events/\d+$"))

    page = new_page()
    sign_in(page, server, "investigator.wpbpd")
    page.goto(f"{server.url}/events/new")
    fill_interview(page, "Hotel clerk interview", day, "10:00", "11:00")
    status = page.locator("#availability-status")
    expect(status).to_contain_text(f"{ROOM} is busy all day.")
    block = page.locator(".av-row", has_text=ROOM).locator(".av-block")
    expect(block).to_have_attribute("title", "Busy all day")
    expect(page.get_by_text("PBSO training day")).to_have_count(0)

    # ticked "All day", two days from the booked one: the timeline shows a week of days
    page.get_by_label("All day").check()
    page.fill("#starts_at", day.isoformat())
    page.fill("#ends_at", (day + timedelta(days=1)).isoformat())
    expect(status).to_contain_text(
        f"Whole days, midnight to midnight: {ROOM} is busy {day:%a %d %b}."
    )
    expect(page.locator("#availability-day")).to_contain_text(", whole days, ")
    expect(page.locator(".av-day-tick")).to_have_count(7)
    page.locator("#availability").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "availability-all-day.png")
    assert violations(page) == []

    after = day + timedelta(days=1)
    page.get_by_role(
        "button", name=f"Use {after:%a %d %b} – {after + timedelta(days=1):%a %d %b}"
    ).click()
    expect(page.locator("#starts_at")).to_have_value(after.isoformat())
    expect(page.locator("#ends_at")).to_have_value((after + timedelta(days=1)).isoformat())
    expect(status).to_contain_text("All free ")
    expect(page.locator(".av-row.av-clash")).to_have_count(0)


def labels_side_by_side(page: Any) -> list[dict[str, float]]:
    """The scale's labels, each shown inside the panel and clear of the next one."""
    from playwright.sync_api import expect

    panel = page.locator("#availability").bounding_box()
    labels = page.locator(".av-tick")
    boxes = []
    for i in range(labels.count()):
        expect(labels.nth(i)).to_be_visible()
        box = labels.nth(i).bounding_box()
        assert panel["x"] <= box["x"], (i, box, panel)
        assert box["x"] + box["width"] <= panel["x"] + panel["width"], (i, box, panel)
        assert box["height"] >= 12, (i, box)  # a line of text, not squeezed out of sight
        boxes.append(box)
    for left, right in zip(boxes, boxes[1:], strict=False):
        assert left["x"] + left["width"] <= right["x"], (left, right)
    return boxes


def test_the_timeline_on_a_phone_shows_its_hours_and_names_what_it_draws(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    day = far_day(9)
    book_the_room(new_page, server, day)
    page = open_form_at_the_busy_time(new_page, server, day, PHONE)
    page.locator("#availability").scroll_into_view_if_needed()

    # an hour label every 3 hours, and a line at each of them through every row
    expect(page.locator(".av-tick")).to_have_text(["00", "03", "06", "09", "12", "15", "18", "21"])
    labels_side_by_side(page)
    for row in page.locator(".av-row").all():
        lines = row.locator(".av-rule")
        expect(lines).to_have_count(7)
        for i in range(7):
            expect(lines.nth(i)).to_be_visible()

    legend = page.locator(".av-legend")
    expect(legend.locator(".av-key-proposed")).to_have_text("Your proposed time, 10:00–11:00")
    expect(legend.locator(".av-key-clash")).to_have_text("Where it clashes")
    expect(legend.locator(".av-key-busy")).to_have_text("Busy (no details)")
    panel = page.locator("#availability").bounding_box()
    for key in legend.locator(".av-key").all():
        box = key.bounding_box()
        assert box["x"] + box["width"] <= panel["x"] + panel["width"], key.inner_text()
    page.screenshot(path=screenshots / "availability-hours-phone.png")
    assert violations(page) == []

    # whole days: a week of day labels, none running into the next
    page.get_by_label("All day").check()
    page.fill("#starts_at", day.isoformat())
    page.fill("#ends_at", day.isoformat())
    expect(page.locator(".av-day-tick")).to_have_count(7)
    expect(page.locator(".av-day-tick").first).to_have_text(f"{day:%a} {day:%d}")
    labels_side_by_side(page)
    expect(legend.locator(".av-key-proposed")).to_contain_text(
        f"Your proposed time, {day:%a %d %b} (whole days, midnight to midnight)"
    )
    page.locator("#availability").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "availability-days-phone.png")
