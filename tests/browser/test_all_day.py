"""A two-day training made with the form's "All day" box, seen in the week's all-day band.

The training's days are weeks ahead of this run's today (whatever ``JOINTOPS_TEST_CLOCK``
says), a Monday and Tuesday of one week, and it books no room, so nothing else can clash.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser import PHONE, sign_in
from tests.browser.test_accessibility import violations
from tests.live_server import TIMEZONE, LiveServer

pytestmark = pytest.mark.browser

USER = "investigator.pbso"


def first_monday() -> date:
    later = datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=50)
    return later + timedelta(days=-later.weekday() % 7)


def test_a_two_day_training_made_with_the_all_day_box_shows_atop_both_days(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    page.goto(f"{server.url}/events/new")
    first, title = first_monday(), f"Interviewing training {uuid.uuid4().hex[:6]}"
    second = first + timedelta(days=1)
    page.select_option("#kind", "interview")
    page.select_option("#subtype", "witness_interview")
    page.fill("#title", title)
    page.fill("#starts_at", f"{first.isoformat()} 09:00")
    page.get_by_label("All day").check()
    expect(page.locator("#starts_at")).to_have_attribute("placeholder", "YYYY-MM-DD")
    expect(page.locator("label[for=starts_at]")).to_have_text("First day")
    expect(page.locator("#starts_at")).to_have_value(f"{first.isoformat()} 09:00")  # kept
    page.fill("#starts_at", first.isoformat())
    page.fill("#ends_at", second.isoformat())
    assert violations(page) == []
    page.locator("form.event-form fieldset").nth(1).screenshot(
        path=screenshots / "all-day-form-desktop.png"
    )
    page.get_by_role("button", name="Create event").click()
    if page.locator("#warnings").count():  # the lead is booked elsewhere on those days
        page.get_by_label("I have read the warnings above").check()
        page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    event_page = page.url

    page.goto(f"{server.url}/calendar?view=week&date={first.isoformat()}")
    for day in (first, second):
        chip = page.locator(f'.tg-allday-day[data-date="{day.isoformat()}"] a.chip', has_text=title)
        expect(chip).to_have_count(1)
        expect(chip).to_be_visible()
    expect(page.locator(".tg-allday a.chip", has_text=title)).to_have_count(2)
    expect(page.locator(".tg-day a.ev", has_text=title)).to_have_count(0)  # no 24-hour block
    band = page.locator(".tg-allday").bounding_box()
    grid = page.locator("#tg-body").bounding_box()
    assert band is not None and grid is not None and band["y"] < grid["y"]
    assert violations(page) == []
    page.screenshot(path=screenshots / "all-day-week-desktop.png")

    page.goto(event_page + "/edit")
    expect(page.get_by_label("All day")).to_be_checked()
    expect(page.locator("#starts_at")).to_have_value(first.isoformat())
    expect(page.locator("#ends_at")).to_have_value(second.isoformat())
    expect(page.locator("label[for=ends_at]")).to_have_text("Last day")

    phone = new_page(PHONE)
    sign_in(phone, server, USER)
    phone.goto(f"{server.url}/calendar?view=week&date={first.isoformat()}")
    expect(phone.locator(".tg-allday a.chip", has_text=title)).to_have_count(2)
    assert violations(phone) == []
    phone.screenshot(path=screenshots / "all-day-week-phone.png")
    phone.goto(f"{server.url}/calendar?view=day&date={second.isoformat()}")
    expect(phone.locator(".tg-allday a.chip", has_text=title)).to_have_count(1)
    phone.screenshot(path=screenshots / "all-day-day-phone.png")
