"""Gaps found walking issue 12 as its users, in Chromium: an evening operation below the hours
in view is announced at the grid's edge and brought into view by a click, the grid fits the
window, the pre-check is offered for operations only, and the Users page's action buttons stay
in their table cells."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser import DESKTOP, sign_in
from tests.browser.test_calendar_ui import fill_operation
from tests.live_server import TIMEZONE, LiveServer
from tests.test_event_forms import spring_forward_day

pytestmark = pytest.mark.browser

USER = "investigator.pbso"


def weekday_ahead(days: int) -> date:
    """A weekday well after the demo's two weeks, so that nothing else is on its week."""
    day = datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def create_operation(page: Any, server: LiveServer, title: str, day: date, hours: str) -> None:
    start, end = hours.split("-")
    page.goto(f"{server.url}/events/new")
    fill_operation(page, title, day, start, end)
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))


def test_an_evening_operation_below_the_hours_in_view_is_announced_and_brought_into_view(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    day = weekday_ahead(38)
    create_operation(page, server, "Morning briefing, walk test", day, "09:00-10:00")
    create_operation(page, server, "Evening knock, walk test", day, "21:00-22:30")

    page.goto(f"{server.url}/calendar?view=week&date={day.isoformat()}")
    grid = page.locator("#tg-body").bounding_box()
    assert grid is not None and grid["y"] + grid["height"] <= DESKTOP["height"], (
        "the grid's scroll fits the window: its last hours are not under the page's fold"
    )
    evening = page.locator("a.ev", has_text="Evening knock, walk test")
    expect(page.locator("a.ev", has_text="Morning briefing, walk test")).to_be_in_viewport()
    expect(evening).not_to_be_in_viewport()
    below = page.locator(".off-grid-later")
    expect(below).to_be_in_viewport()
    expect(below).to_have_text(re.compile(r"1 event below \(\w{3} .*21:00\)"))
    expect(page.locator(".off-grid-earlier")).to_be_hidden()
    page.screenshot(path=screenshots / "calendar-week-evening-below.png")

    below.click()
    expect(evening).to_be_in_viewport()
    expect(below).to_be_hidden()
    above = page.locator(".off-grid-earlier")
    expect(above).to_have_text(re.compile(r"1 event above \(.*09:00\)"))
    above.click()
    expect(page.locator("a.ev", has_text="Morning briefing, walk test")).to_be_in_viewport()


def test_the_precheck_is_offered_for_operations_only(new_page: Any, server: LiveServer) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    page.goto(f"{server.url}/events/new")
    precheck = page.get_by_role("button", name="Deconflict this plan")
    expect(precheck).to_be_visible()
    page.select_option("#kind", "interview")
    expect(precheck).to_be_hidden()
    expect(page.locator("#title")).to_be_visible()
    page.select_option("#kind", "operation")
    expect(precheck).to_be_visible()

    advocate = new_page()
    sign_in(advocate, server, "advocate.vs")
    advocate.goto(f"{server.url}/events/new")
    expect(advocate.locator("#client_code")).to_be_visible()
    for absent in ("#title", "#case_id", "button[name=precheck]"):
        expect(advocate.locator(absent)).to_be_hidden()


def test_the_users_page_keeps_its_action_buttons_in_their_cells(
    new_page: Any, server: LiveServer
) -> None:
    page = new_page()
    sign_in(page, server, "admin.pbso")
    other = new_page()
    sign_in(other, server, "advocate.vs")  # a live session: its row offers "End sessions"
    page.goto(f"{server.url}/admin/users")
    row = page.locator("tr", has_text="advocate.vs")
    cell = row.locator("td.row-actions")
    assert cell.evaluate("td => getComputedStyle(td).display") == "table-cell"
    row_box, cell_box = row.bounding_box(), cell.bounding_box()
    assert row_box is not None and cell_box is not None
    assert abs(cell_box["y"] - row_box["y"]) < 1 and abs(cell_box["height"] - row_box["height"]) < 1


def test_a_time_the_clocks_skip_is_refused_with_one_click_to_the_time_after(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    day = spring_forward_day()
    page.goto(f"{server.url}/events/new")
    fill_operation(page, "Dawn knock, clocks change", day, "01:30", "02:30")
    page.get_by_role("button", name="Create event").click()
    take = page.get_by_role("button", name=f"Use {day.isoformat()} 03:00 instead")
    expect(take).to_be_visible()
    page.screenshot(path=screenshots / "dst-gap-choice.png", full_page=True)
    take.click()
    expect(page.locator("#ends_at")).to_have_value(f"{day.isoformat()} 03:00")
    expect(take).to_be_hidden()
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.get_by_text("03:00", exact=False).first).to_be_visible()
