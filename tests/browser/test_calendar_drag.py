"""Moving events on the week grid in Chromium: by drag, refused on a clash, and by keyboard.

Each test makes its own events through the app, on days 40 and more after the (frozen) test
clock, and opens the calendar at those dates: nothing depends on the server's own clock or on
the demo's events.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser import sign_in
from tests.browser.test_accessibility import violations
from tests.live_server import TIMEZONE, LiveServer

pytestmark = pytest.mark.browser

USER = "investigator.pbso"
OFFICE = ZoneInfo(TIMEZONE)
MOVE = re.compile(r"/events/\d+/move$")


def wednesday(weeks: int) -> date:
    """A Wednesday ``weeks`` weeks after the one 40 days or more ahead: its week shows the
    days on both sides of it."""
    day = datetime.now(OFFICE).date() + timedelta(days=40)
    return day + timedelta(days=(2 - day.weekday()) % 7 + 7 * weeks)


def row(hhmm: str) -> str:
    hours, minutes = map(int, hhmm.split(":"))
    return f"row-{hours * 4 + minutes // 15 + 1}"


def room_id(page: Any, server: LiveServer, name: str) -> str:
    page.goto(f"{server.url}/events/new")
    value = page.locator("#room_id option", has_text=name).get_attribute("value")
    assert value, name
    return str(value)


def create(
    page: Any, server: LiveServer, title: str, day: date, start: str, end: str, **more: str
) -> int:
    """An interview saved through the event form's POST, as the signed-in user of ``page``."""
    token = page.locator('input[name="csrf_token"]').first.input_value()
    fields = {
        "csrf_token": token,
        "kind": "interview",
        "subtype": "witness_interview",
        "title": title,
        "starts_at": f"{day.isoformat()} {start}",
        "ends_at": f"{day.isoformat()} {end}",
        "status": "planned",
        "sensitivity": "normal",
        **more,
    }
    answer = page.request.post(f"{server.url}/events/new", form=fields, max_redirects=0)
    assert answer.status == 302, answer.text()[:2000]
    found = re.search(r"/events/(\d+)$", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found[1])


def week(page: Any, server: LiveServer, day: date) -> None:
    page.goto(f"{server.url}/calendar?view=week&date={day.isoformat()}")


def block(page: Any, event_id: int) -> Any:
    return page.locator(f'.tg-day a.ev[href="/events/{event_id}"]')


def column(page: Any, day: date) -> Any:
    return page.locator(f'.tg-day[data-date="{day.isoformat()}"]')


def drag(page: Any, event_id: int, to_day: date, to: str) -> None:
    """Take the block by its middle and drop it so that it starts at ``to`` on ``to_day``."""
    start = block(page, event_id)
    start.scroll_into_view_if_needed()
    box = start.bounding_box()
    target = column(page, to_day).bounding_box()
    slot = target["height"] / 96
    hours, minutes = map(int, to.split(":"))
    grab_y = box["y"] + min(box["height"] / 2, 2 * slot)
    top_of_block = box["y"]
    x = target["x"] + target["width"] / 2
    y = target["y"] + (hours * 4 + minutes / 15) * slot + (grab_y - top_of_block) + 1
    page.mouse.move(box["x"] + box["width"] / 2, grab_y)
    page.mouse.down()
    page.mouse.move(x, y, steps=12)


def test_dragging_an_event_to_another_time_and_day_saves_it(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    day = wednesday(0)
    event_id = create(page, server, "Drag me Zd1001", day, "09:00", "10:00")
    week(page, server, day)
    moved = block(page, event_id)
    expect(moved).to_have_attribute("data-movable", "")
    expect(moved).to_have_class(re.compile(rf"\b{row('09:00')}\b"))

    next_day = day + timedelta(days=1)
    drag(page, event_id, next_day, "11:00")
    # while dragging, the block and a badge by the pointer show where it would go
    expect(moved.locator(".ev-time")).to_have_text("11:00–12:00")
    expect(page.locator(".drag-badge")).to_contain_text("11:00–12:00")
    expect(column(page, next_day).locator(f'a.ev[href="/events/{event_id}"]')).to_have_count(1)
    page.screenshot(path=screenshots / "drag-while-dragging.png")
    with page.expect_response(MOVE) as answer:
        page.mouse.up()
    assert answer.value.status == 200
    expect(page.locator("#move-status")).to_contain_text("Moved “Drag me Zd1001” to ")
    expect(page.locator("#move-status")).to_contain_text("11:00–12:00")
    expect(page.locator(".drag-badge")).to_be_hidden()
    assert page.url.endswith(f"date={day.isoformat()}")  # the drop opened nothing
    page.screenshot(path=screenshots / "drag-saved.png")

    page.reload()
    saved = column(page, next_day).locator(f'a.ev[href="/events/{event_id}"]')
    expect(saved).to_have_count(1)
    expect(saved).to_have_class(re.compile(rf"\b{row('11:00')}\b.*\bspan-4\b"))
    expect(saved.locator(".ev-time")).to_have_text("11:00–12:00")
    expect(column(page, day).locator(f'a.ev[href="/events/{event_id}"]')).to_have_count(0)

    # its lower edge changes its end only
    handle = saved.locator(".ev-resize")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    slot = column(page, next_day).bounding_box()["height"] / 96
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 4 * slot, steps=8)
    expect(saved.locator(".ev-time")).to_have_text("11:00–13:00")
    with page.expect_response(MOVE) as answer:
        page.mouse.up()
    assert answer.value.status == 200
    page.reload()
    expect(block(page, event_id)).to_have_class(re.compile(rf"\b{row('11:00')}\b.*\bspan-8\b"))

    # a click without movement still opens the event
    block(page, event_id).click()
    page.wait_for_url(re.compile(rf"/events/{event_id}$"))


def test_a_drop_on_a_taken_room_is_refused_and_the_block_goes_back(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    day = wednesday(1)
    other = new_page()
    sign_in(other, server, "investigator.fbi")
    room = room_id(other, server, "Interview Room A")
    create(other, server, "FBI interview Zd2001", day, "14:00", "15:00", room_id=room)

    page = new_page()
    sign_in(page, server, USER)
    week(page, server, day)
    event_id = create(page, server, "Mine Zd2002", day, "09:00", "10:00", room_id=room)
    week(page, server, day)
    mine = block(page, event_id)
    drag(page, event_id, day, "14:00")
    expect(mine.locator(".ev-time")).to_have_text("14:00–15:00")
    with page.expect_response(MOVE) as answer:
        page.mouse.up()
    assert answer.value.status == 409

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Not moved: Interview Room A is already booked for ")
    expect(alert).to_contain_text("14:00–15:00")
    expect(alert).not_to_contain_text("Zd2001")  # another agency's title stays theirs
    expect(alert).to_be_visible()
    expect(mine).to_have_class(re.compile(rf"\b{row('09:00')}\b"))
    expect(mine.locator(".ev-time")).to_have_text("09:00–10:00")
    expect(column(page, day).locator(f'a.ev[href="/events/{event_id}"]')).to_have_count(1)
    page.screenshot(path=screenshots / "drag-refused.png")
    assert violations(page) == []

    page.get_by_role("button", name="Dismiss").click()
    expect(alert).to_have_text("")
    page.reload()
    expect(block(page, event_id)).to_have_class(re.compile(rf"\b{row('09:00')}\b"))


def test_the_keyboard_moves_an_event_by_15_minutes_and_a_day(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    day = wednesday(2)
    event_id = create(page, server, "Keys Zd3001", day, "09:00", "10:00")
    week(page, server, day)
    moved = block(page, event_id)
    expect(moved).to_have_attribute("aria-describedby", "move-help")
    expect(page.locator("#move-help")).to_contain_text("Alt+Up or Alt+Down moves it by 15 minutes")
    status = page.locator("#move-status")

    moved.focus()
    page.keyboard.press("Alt+ArrowDown")
    expect(status).to_contain_text("09:15–10:15. Enter saves, Escape puts it back.")
    expect(moved).to_have_class(re.compile(rf"\b{row('09:15')}\b"))
    # a day later and back again: the block keeps the focus as it changes column
    page.keyboard.press("Alt+ArrowRight")
    expect(
        column(page, day + timedelta(days=1)).locator(f'a.ev[href="/events/{event_id}"]')
    ).to_have_count(1)
    expect(moved).to_be_focused()
    page.keyboard.press("Alt+ArrowLeft")
    expect(column(page, day).locator(f'a.ev[href="/events/{event_id}"]')).to_have_count(1)
    expect(moved).to_be_focused()
    assert page.url.endswith(f"date={day.isoformat()}")  # Alt+Left did not go back a page
    page.screenshot(path=screenshots / "drag-keyboard-pending.png")
    assert violations(page) == []
    with page.expect_response(MOVE) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    expect(status).to_contain_text("Moved “Keys Zd3001” to ")
    expect(moved).to_be_focused()
    assert page.url.endswith(f"date={day.isoformat()}")  # Enter saved, it opened nothing

    # Alt+Shift+Down changes the end; Escape puts it back unsaved
    page.keyboard.press("Alt+Shift+ArrowDown")
    expect(moved.locator(".ev-time")).to_have_text("09:15–10:30")
    page.keyboard.press("Escape")
    expect(moved.locator(".ev-time")).to_have_text("09:15–10:15")
    expect(status).to_contain_text("Not moved: it is back at ")

    page.reload()
    saved = block(page, event_id)
    expect(saved).to_have_class(re.compile(rf"\b{row('09:15')}\b.*\bspan-4\b"))
    expect(saved).to_have_attribute("data-start", f"{day.isoformat()} 09:15")
