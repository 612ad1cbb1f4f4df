"""Moving all-day events in the week's band in Chromium: a chip dragged to another day, a move
refused on a taken room (the chips go back), the keyboard's day steps, and the end handle on
the chip of the last day dragged with a mouse and with a finger.

Each test makes its own events through the app's form, weeks after the test clock (whatever
``JOINTOPS_TEST_CLOCK`` says) and clear of the other drag tests' weeks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser import PHONE, sign_in
from tests.browser.test_accessibility import violations
from tests.browser.test_calendar_drag import MOVE, room_id, wednesday, week
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

USER = "investigator.pbso"


def create_all_day(
    page: Any, server: LiveServer, title: str, first: date, last: date, **more: str
) -> int:
    """An all-day interview from ``first`` to ``last``, saved through the form's POST."""
    page.goto(f"{server.url}/events/new")
    token = page.locator('input[name="csrf_token"]').first.input_value()
    fields = {
        "csrf_token": token,
        "kind": "interview",
        "subtype": "witness_interview",
        "title": title,
        "all_day": "y",
        "starts_at": first.isoformat(),
        "ends_at": last.isoformat(),
        "status": "planned",
        "sensitivity": "normal",
        "confirm_warnings": "y",
        **more,
    }
    answer = page.request.post(f"{server.url}/events/new", form=fields, max_redirects=0)
    assert answer.status == 302, answer.text()[:2000]
    found = re.search(r"/events/(\d+)$", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found[1])


def chips(page: Any, event_id: int, day: date | None = None) -> Any:
    cell = f'.tg-allday-day[data-date="{day.isoformat()}"] ' if day else ".tg-allday "
    return page.locator(f'{cell}a.chip[href="/events/{event_id}"]')


def drag_chip(page: Any, event_id: int, from_day: date, to_day: date) -> None:
    """Take the event's chip on ``from_day`` and carry it over the band to ``to_day``."""
    chip = chips(page, event_id, from_day)
    box = chip.bounding_box()
    target = page.locator(f'.tg-allday-day[data-date="{to_day.isoformat()}"]').bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + target["width"] / 2, box["y"] + box["height"] / 2, steps=12)


def drag_end(page: Any, event_id: int, last_day: date, to_day: date) -> None:
    """Take the end handle of the event's chip on ``last_day`` and carry it to ``to_day``."""
    handle = chips(page, event_id, last_day).locator(".chip-resize")
    box = handle.bounding_box()
    target = page.locator(f'.tg-allday-day[data-date="{to_day.isoformat()}"]').bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(target["x"] + target["width"] / 2, y, steps=12)


def touch_drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A finger put down at ``start``, moved to ``end`` and lifted (Chromium's own touch input,
    so the page's touch-action decides between a drag and a scroll)."""
    cdp = page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = start, end
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]}
    )
    for i in range(1, 13):
        x, y = x0 + (x1 - x0) * i / 12, y0 + (y1 - y0) * i / 12
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    """A page on a touch screen at a phone's size."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="en-US")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_dragging_an_all_day_chip_to_another_day_saves_it(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    monday = wednesday(10) - timedelta(days=2)
    tuesday = monday + timedelta(days=1)
    event_id = create_all_day(page, server, "Band drag Zb1001", monday, tuesday)
    week(page, server, monday)
    expect(chips(page, event_id)).to_have_count(2)
    expect(chips(page, event_id, monday)).to_have_attribute("data-start", monday.isoformat())

    # carried by its second day's chip, two days on: Wednesday and Thursday
    drag_chip(page, event_id, tuesday, tuesday + timedelta(days=2))
    expect(chips(page, event_id, monday + timedelta(days=2))).to_have_count(1)
    expect(chips(page, event_id, monday + timedelta(days=3))).to_have_count(1)
    expect(chips(page, event_id, monday)).to_have_count(0)
    expect(page.locator(".drag-badge")).to_contain_text("all day")
    page.screenshot(path=screenshots / "all-day-drag-while-dragging.png")
    with page.expect_response(MOVE) as answer:
        page.mouse.up()
    assert answer.value.status == 200
    status = page.locator("#move-status")
    expect(status).to_contain_text("Moved “Band drag Zb1001” to All day, ")
    assert page.url.endswith(f"date={monday.isoformat()}")  # the drop opened nothing

    page.reload()
    wednesday_day = monday + timedelta(days=2)
    expect(chips(page, event_id)).to_have_count(2)
    expect(chips(page, event_id, wednesday_day)).to_have_attribute(
        "data-end", (wednesday_day + timedelta(days=1)).isoformat()
    )

    # the keyboard: Alt+Right a day on, Alt+Shift+Left a day shorter, Enter saves
    chip = chips(page, event_id, wednesday_day)
    chip.focus()
    page.keyboard.press("Alt+ArrowRight")
    thursday, friday = (wednesday_day + timedelta(days=n) for n in (1, 2))
    expect(status).to_contain_text(
        f"{thursday:%a %d %b} – {friday:%a %d %b}, all day. Enter saves, Escape puts it back."
    )
    page.keyboard.press("Alt+Shift+ArrowLeft")
    expect(chips(page, event_id)).to_have_count(1)
    expect(chips(page, event_id, thursday)).to_be_focused()
    assert page.url.endswith(f"date={monday.isoformat()}")  # Alt+Left did not go back a page
    assert violations(page) == []
    with page.expect_response(MOVE) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    expect(status).to_contain_text("Moved “Band drag Zb1001” to All day, ")
    page.reload()
    expect(chips(page, event_id)).to_have_count(1)
    expect(chips(page, event_id, thursday)).to_have_attribute("data-end", thursday.isoformat())


def test_an_all_day_chip_dropped_on_a_taken_room_goes_back(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    monday = wednesday(11) - timedelta(days=2)
    friday = monday + timedelta(days=4)
    other = new_page()
    sign_in(other, server, "investigator.fbi")
    room = room_id(other, server, "Interview Room A")
    token = other.locator('input[name="csrf_token"]').first.input_value()
    taken = other.request.post(
        f"{server.url}/events/new",
        form={
            "csrf_token": token,
            "kind": "interview",
            "subtype": "witness_interview",
            "title": "FBI interview Zb2001",
            "starts_at": f"{friday.isoformat()} 14:00",
            "ends_at": f"{friday.isoformat()} 15:00",
            "status": "planned",
            "sensitivity": "normal",
            "room_id": room,
            "confirm_warnings": "y",
        },
        max_redirects=0,
    )
    assert taken.status == 302, taken.text()[:2000]

    page = new_page()
    sign_in(page, server, USER)
    event_id = create_all_day(page, server, "Band clash Zb2002", monday, monday, room_id=room)
    week(page, server, monday)
    drag_chip(page, event_id, monday, friday)
    expect(chips(page, event_id, friday)).to_have_count(1)
    with page.expect_response(MOVE) as answer:
        page.mouse.up()
    assert answer.value.status == 409

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        f"Not moved: Interview Room A is already booked for {friday:%a %d %b %Y}"
    )
    expect(alert).not_to_contain_text("Zb2001")  # another agency's title stays theirs
    expect(chips(page, event_id, monday)).to_have_count(1)
    expect(chips(page, event_id, friday)).to_have_count(0)
    page.screenshot(path=screenshots / "all-day-drag-refused.png")
    assert violations(page) == []
    page.reload()
    expect(chips(page, event_id, monday)).to_have_count(1)
    expect(chips(page, event_id)).to_have_count(1)


def test_dragging_the_end_of_an_all_day_chip_changes_its_last_day(
    new_page: Any, phone_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    monday = wednesday(12) - timedelta(days=2)
    tuesday, wednesday_day = monday + timedelta(days=1), monday + timedelta(days=2)
    event_id = create_all_day(page, server, "Band resize Zb3001", monday, tuesday)
    week(page, server, monday)
    # the handle is on the chip of the last day only
    expect(chips(page, event_id, tuesday).locator(".chip-resize")).to_have_count(1)
    expect(chips(page, event_id, monday).locator(".chip-resize")).to_have_count(0)

    drag_end(page, event_id, tuesday, wednesday_day)
    expect(chips(page, event_id)).to_have_count(3)
    expect(page.locator(".drag-badge")).to_have_text(
        f"{monday:%a %d %b} – {wednesday_day:%a %d %b}, all day"
    )
    expect(chips(page, event_id, wednesday_day).locator(".chip-resize")).to_have_count(1)
    expect(chips(page, event_id, tuesday).locator(".chip-resize")).to_have_count(0)
    page.screenshot(path=screenshots / "all-day-resize-while-dragging.png")
    with page.expect_response(MOVE) as answer:
        page.mouse.up()
    assert answer.value.status == 200
    expect(page.locator("#move-status")).to_contain_text("Moved “Band resize Zb3001” to All day, ")
    assert page.url.endswith(f"date={monday.isoformat()}")  # the drop opened nothing

    page.reload()
    expect(chips(page, event_id)).to_have_count(3)
    expect(chips(page, event_id, monday)).to_have_attribute("data-start", monday.isoformat())
    expect(chips(page, event_id, monday)).to_have_attribute("data-end", wednesday_day.isoformat())
    assert violations(page) == []

    # on a phone, a finger on the handle shortens it a day again (and does not scroll the week)
    sign_in(phone_page, server, USER)
    week(phone_page, server, monday)
    handle = chips(phone_page, event_id, wednesday_day).locator(".chip-resize")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    cell = phone_page.locator(f'.tg-allday-day[data-date="{tuesday.isoformat()}"]').bounding_box()
    y = box["y"] + box["height"] / 2
    with phone_page.expect_response(MOVE) as answer:
        touch_drag(phone_page, (box["x"] + box["width"] / 2, y), (cell["x"] + cell["width"] / 2, y))
    assert answer.value.status == 200
    phone_page.screenshot(path=screenshots / "all-day-resize-phone.png")
    phone_page.reload()
    expect(chips(phone_page, event_id)).to_have_count(2)
    expect(chips(phone_page, event_id, monday)).to_have_attribute("data-end", tuesday.isoformat())


def test_an_all_day_end_dragged_onto_a_taken_room_goes_back(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    monday = wednesday(13) - timedelta(days=2)
    tuesday, wednesday_day = monday + timedelta(days=1), monday + timedelta(days=2)
    other = new_page()
    sign_in(other, server, "investigator.fbi")
    room = room_id(other, server, "Interview Room B")
    token = other.locator('input[name="csrf_token"]').first.input_value()
    taken = other.request.post(
        f"{server.url}/events/new",
        form={
            "csrf_token": token,
            "kind": "interview",
            "subtype": "witness_interview",
            "title": "FBI interview Zb4001",
            "starts_at": f"{wednesday_day.isoformat()} 09:00",
            "ends_at": f"{wednesday_day.isoformat()} 10:00",
            "status": "planned",
            "sensitivity": "normal",
            "room_id": room,
            "confirm_warnings": "y",
        },
        max_redirects=0,
    )
    assert taken.status == 302, taken.text()[:2000]

    page = new_page()
    sign_in(page, server, USER)
    event_id = create_all_day(page, server, "Band end clash Zb4002", monday, tuesday, room_id=room)
    week(page, server, monday)
    drag_end(page, event_id, tuesday, wednesday_day)
    expect(chips(page, event_id)).to_have_count(3)
    with page.expect_response(MOVE) as answer:
        page.mouse.up()
    assert answer.value.status == 409

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        f"Not moved: Interview Room B is already booked for {wednesday_day:%a %d %b %Y}"
    )
    expect(alert).not_to_contain_text("Zb4001")
    expect(chips(page, event_id)).to_have_count(2)
    expect(chips(page, event_id, wednesday_day)).to_have_count(0)
    expect(chips(page, event_id, tuesday).locator(".chip-resize")).to_have_count(1)
    page.screenshot(path=screenshots / "all-day-resize-refused.png")
    assert violations(page) == []
    page.reload()
    expect(chips(page, event_id)).to_have_count(2)
    expect(chips(page, event_id, monday)).to_have_attribute("data-end", tuesday.isoformat())
