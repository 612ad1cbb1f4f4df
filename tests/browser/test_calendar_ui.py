"""The web UI in Debian's Chromium (Playwright) against the app on a real gunicorn.

SQLite only: what is under test here is the page, not the database. Each run
leaves full-page screenshots in ``test-artifacts/screenshots/`` to look at.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser import PHONE, sign_in
from tests.live_server import TIMEZONE, LiveServer

pytestmark = pytest.mark.browser

USER = "investigator.pbso"


def tomorrow() -> date:
    return datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=1)


def fill_operation(page: Any, title: str, day: date, start: str, end: str) -> None:
    page.select_option("#kind", "operation")
    page.select_option("#subtype", "search_warrant")
    page.fill("#title", title)
    page.fill("#starts_at", f"{day.isoformat()} {start}")
    page.fill("#ends_at", f"{day.isoformat()} {end}")
    page.fill("#location_address", "1 Clematis St, West Palm Beach, FL")
    page.fill("#latitude", "26.71")
    page.fill("#longitude", "-80.06")


def classes_of(locator: Any) -> set[str]:
    return set((locator.get_attribute("class") or "").split())


def test_new_operation_appears_in_its_day_and_hours(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    page.get_by_role("link", name="+ New event").click()
    page.wait_for_url(re.compile(r"/events/new$"))
    page.screenshot(path=screenshots / "event-form-empty.png", full_page=True)

    day, title = tomorrow(), "Browser test warrant, Clematis St"
    fill_operation(page, title, day, "09:00", "11:00")
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".event-when")).to_contain_text(f"{day:%d %b %Y}, 09:00–11:00")
    page.screenshot(path=screenshots / "event.png", full_page=True)

    page.goto(f"{server.url}/calendar?view=week&date={day.isoformat()}")
    column = page.locator(f'.tg-day[data-date="{day.isoformat()}"]')
    expect(column).to_have_count(1)
    block = column.locator("a.ev", has_text=title)
    expect(block).to_have_count(1)
    found = classes_of(block)
    assert {"ev-operation", "row-37", "span-8"} <= found, found  # 09:00 is row 37; 2 h = 8 rows
    # Nowhere else in the week.
    expect(page.locator(".tg-day a.ev", has_text=title)).to_have_count(1)
    page.screenshot(path=screenshots / "week.png", full_page=True)

    page.goto(f"{server.url}/calendar?view=month&date={day.isoformat()}")
    expect(page.locator(".chip", has_text=title)).to_have_count(1)
    page.screenshot(path=screenshots / "month.png", full_page=True)

    phone = new_page(PHONE)
    sign_in(phone, server, USER)
    phone.goto(f"{server.url}/calendar?view=week&date={day.isoformat()}")
    expect(
        phone.locator(f'.tg-day[data-date="{day.isoformat()}"] a.ev', has_text=title)
    ).to_have_count(1)
    phone.screenshot(path=screenshots / "week-phone.png", full_page=True)


def test_form_error_is_shown_next_to_the_field_and_keeps_what_was_typed(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    page.goto(f"{server.url}/events/new")
    day, title = tomorrow(), "Browser test: ends before it starts"
    fill_operation(page, title, day, "11:00", "09:00")
    with page.expect_response(re.compile(r"/events/new$")) as answer:
        page.get_by_role("button", name="Create event").click()
    assert answer.value.status == 400

    ends = page.locator("#field-ends_at")
    expect(ends).to_have_class(re.compile(r"\bhas-error\b"))
    expect(ends.locator(".error")).to_have_text("Must be after the start.")
    expect(page.locator("#ends_at")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-starts_at .error")).to_have_count(0)
    expect(page.locator("#error-summary")).to_contain_text("Ends")
    # What was typed is still there.
    expect(page.locator("#title")).to_have_value(title)
    expect(page.locator("#kind")).to_have_value("operation")
    expect(page.locator("#subtype")).to_have_value("search_warrant")
    expect(page.locator("#starts_at")).to_have_value(f"{day.isoformat()} 11:00")
    expect(page.locator("#ends_at")).to_have_value(f"{day.isoformat()} 09:00")
    expect(page.locator("#latitude")).to_have_value("26.71")
    page.screenshot(path=screenshots / "event-form-errors.png", full_page=True)

    # And nothing was saved.
    page.goto(f"{server.url}/calendar?view=week&date={day.isoformat()}")
    expect(page.locator("a.ev", has_text=title)).to_have_count(0)


def test_an_operations_place_left_behind_is_not_sent_with_an_interview(
    new_page: Any, server: LiveServer
) -> None:
    """The place typed for an operation, then the kind changed: the hidden fields are not
    sent, so the interview saves (the rules refuse a place on any other kind, by field)."""
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    page.goto(f"{server.url}/events/new")
    day = tomorrow() + timedelta(days=3)
    fill_operation(page, "Kind changed after the place", day, "13:00", "14:00")
    page.select_option("#kind", "interview")
    page.select_option("#subtype", "witness_interview")
    expect(page.locator("#location_address")).to_be_hidden()
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Kind changed after the place")
    assert "Clematis" not in page.content()


def test_on_a_phone_the_calendar_comes_first_and_an_evening_operation_is_in_view(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    """Filters and legend fold into one control; the day opens scrolled so that an
    operation at 21:00 is on the first screen, not below the fold unseen."""
    from playwright.sync_api import expect

    desk = new_page()
    sign_in(desk, server, USER)
    desk.goto(f"{server.url}/events/new")
    day, title = tomorrow() + timedelta(days=9), "Evening knock, phone test"
    fill_operation(desk, title, day, "21:00", "22:30")
    desk.get_by_role("button", name="Create event").click()
    desk.wait_for_url(re.compile(r"/events/\d+$"))

    phone = new_page(PHONE)
    sign_in(phone, server, USER)
    phone.goto(f"{server.url}/calendar?view=day&date={day.isoformat()}")
    expect(phone.get_by_text("Filters and legend")).to_be_visible()
    expect(phone.get_by_label("Agency")).to_be_hidden()
    block = phone.locator("a.ev", has_text=title)
    expect(block).to_be_in_viewport()
    box = block.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + 20 <= PHONE["height"], box
    phone.screenshot(path=screenshots / "calendar-phone-evening.png")
    phone.get_by_text("Filters and legend").click()
    expect(phone.get_by_label("Agency")).to_be_visible()

    # a filter on leaves the control open, so that what is hidden is said
    phone.goto(f"{server.url}/calendar?view=day&date={day.isoformat()}&kind=operation")
    expect(phone.get_by_text("Filters and legend (1 on)")).to_be_visible()
    expect(phone.get_by_label("Kind")).to_be_visible()


def test_the_current_time_line_is_on_todays_column_at_the_office_clock(
    new_page: Any, server: LiveServer
) -> None:
    page = new_page()
    sign_in(page, server, USER)
    page.goto(f"{server.url}/calendar?view=week")
    line = page.locator("#tg-today .now-line")
    assert line.count() == 1
    minutes = int(page.locator("#tg-body").get_attribute("data-now") or "-1")
    office = datetime.now(ZoneInfo(TIMEZONE))
    apart = abs(minutes - (office.hour * 60 + office.minute))
    assert min(apart, 1440 - apart) <= 2, "the office's clock, not the browser's"
    top = float((line.get_attribute("style") or "").split("top:")[1].split("%")[0])
    assert abs(top - minutes / 1440 * 100) < 0.2
    assert page.locator(".now-line").count() == 1, "only today's column has the line"


def test_a_meeting_asks_only_what_applies_and_shows_in_its_own_colour(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    """Meeting chosen: a title, but no operation's place, no client code, no pre-check; once
    saved, its block carries the MTG tag on the meeting's colour."""
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    page.goto(f"{server.url}/events/new")
    page.select_option("#kind", "meeting")
    expect(page.locator("#subtype optgroup[label=Meeting]")).to_be_enabled()
    page.select_option("#subtype", "case_meeting")
    expect(page.locator("#title")).to_be_visible()
    for hidden in ("#location_address", "#latitude", "#client_code", "button[name=precheck]"):
        expect(page.locator(hidden)).to_be_hidden()
    day, title = tomorrow() + timedelta(days=12), "Browser test case review"
    page.fill("#title", title)
    page.fill("#starts_at", f"{day.isoformat()} 07:00")
    page.fill("#ends_at", f"{day.isoformat()} 08:00")
    page.screenshot(path=screenshots / "event-form-meeting.png", full_page=True)
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.locator(".event-kind")).to_contain_text("Meeting · Case meeting")

    page.goto(f"{server.url}/calendar?view=day&date={day.isoformat()}")
    block = page.locator("a.ev", has_text=title)
    expect(block).to_have_count(1)
    assert "ev-meeting" in classes_of(block)
    tag = block.locator(".ev-tag")
    expect(tag).to_have_text("MTG")
    assert tag.evaluate("t => getComputedStyle(t).backgroundColor") == "rgb(124, 83, 0)"
    legend = page.locator(".legend .sw-meeting")
    expect(legend).to_have_text("MTG")
