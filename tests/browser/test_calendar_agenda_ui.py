"""The agenda view and the search on a phone, in Debian's Chromium against a real gunicorn.

The demo calendar is seeded around this run's today (``JOINTOPS_TEST_CLOCK`` moves it), which the
pages are asked for by date: the server itself keeps the real clock.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser import DESKTOP, PHONE, sign_in
from tests.live_server import TIMEZONE, LiveServer

pytestmark = pytest.mark.browser

USER = "investigator.pbso"


def test_on_a_phone_the_agenda_lists_the_events_and_the_search_finds_one(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    seeded = datetime.now(ZoneInfo(TIMEZONE)).date()
    phone = new_page(PHONE)
    sign_in(phone, server, USER)
    phone.goto(f"{server.url}/calendar?view=day&date={seeded.isoformat()}")
    views = phone.get_by_role("group", name="View")
    day, agenda = views.get_by_role("link", name="Day"), views.get_by_role("link", name="Agenda")
    week = views.get_by_role("link", name="Week")
    for button in (day, agenda):
        expect(button).to_be_in_viewport()
    # day and agenda first, side by side; week and month after them
    left = [b.bounding_box()["x"] for b in (day, agenda, week)]
    assert left == sorted(left) and len(set(left)) == 3, left

    agenda.click()
    phone.wait_for_url(re.compile(r"view=agenda"))
    # the server's today (the Today button's) is marked where it is in the two weeks shown
    served = phone.get_by_role("link", name="Today", exact=True).get_attribute("href") or ""
    today = date.fromisoformat(served.split("date=")[1][:10])
    marked = phone.locator(".ag-day.today")
    expect(marked).to_have_count(1 if 0 <= (today - seeded).days < 14 else 0)
    if marked.count():
        expect(marked).to_contain_text("Today")
    listing = phone.locator(".agenda")
    expect(listing.locator("a.ag-ev", has_text="Overnight victim recovery")).to_have_count(2)
    expect(listing.locator("a.ag-ev", has_text="Landlord interview")).to_have_count(1)
    # another agency's booking of a shared room: a line without a link
    busy = listing.locator(".ag-ev.ev-busy").first
    expect(busy).to_contain_text("Busy: ")
    assert busy.evaluate("e => e.closest('a') === null")
    phone.screenshot(path=screenshots / "agenda-phone.png", full_page=True)

    search = phone.get_by_role("searchbox", name="Search events")
    expect(search).to_be_in_viewport()
    search.fill("landlord")
    search.press("Enter")
    phone.wait_for_url(re.compile(r"q=landlord"))
    expect(phone.locator(".agenda-note")).to_contain_text("1 event matches “landlord”")
    found = phone.locator(".agenda a.ag-ev")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("Landlord interview")
    expect(search).to_have_value("landlord")
    phone.screenshot(path=screenshots / "search-phone.png", full_page=True)
    found.click()
    phone.wait_for_url(re.compile(r"/events/\d+$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Landlord interview")


def test_on_a_desk_the_agenda_is_offered_beside_the_other_views(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page(DESKTOP)
    sign_in(page, server, USER)
    seeded = datetime.now(ZoneInfo(TIMEZONE)).date()
    page.goto(f"{server.url}/calendar?date={seeded.isoformat()}")
    views = page.get_by_role("group", name="View")
    expect(views.get_by_role("link")).to_have_text(["Day", "Week", "Month", "Agenda", "Map"])
    views.get_by_role("link", name="Agenda").click()
    page.wait_for_url(re.compile(r"view=agenda"))
    expect(page.get_by_role("link", name="Next two weeks")).to_be_visible()
    expect(page.locator(".agenda a.ag-ev", has_text="Landlord interview")).to_have_count(1)
    page.screenshot(path=screenshots / "agenda.png", full_page=True)
