"""A weekly meeting made in the event form, seen on the calendar each week, one week cancelled.

The meeting's dates are weeks ahead of this run's today (whatever ``JOINTOPS_TEST_CLOCK``
says), at an evening hour no demo event holds, and nothing here depends on "now".
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


def first_day() -> date:
    return datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=50)


def test_a_weekly_meeting_made_in_the_form_then_one_week_cancelled(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    page.goto(f"{server.url}/events/new")
    ends = page.locator("[data-repeat-end]")
    expect(ends).to_be_hidden()  # nothing to end while it does not repeat

    day, title = first_day(), f"Weekly case meeting {uuid.uuid4().hex[:6]}"
    page.select_option("#kind", "interview")
    page.select_option("#subtype", "witness_interview")
    page.fill("#title", title)
    page.fill("#starts_at", f"{day.isoformat()} 19:00")
    page.fill("#ends_at", f"{day.isoformat()} 20:00")
    page.get_by_label("How often").select_option("weekly")
    expect(ends).to_be_visible()
    expect(page.locator("#field-repeat_until")).to_be_hidden()
    page.get_by_label("Times", exact=True).fill("3")
    page.screenshot(path=screenshots / "recurring-form-desktop.png", full_page=True)
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    summary = page.locator("#series-summary")
    expect(summary).to_contain_text(f"Weekly on {day:%A}, 3 times, occurrence 1 of 3")
    page.screenshot(path=screenshots / "recurring-event-desktop.png", full_page=True)
    first_page = page.url
    assert violations(page) == []
    page.get_by_role("link", name="Cancel the whole series…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancel the whole series")
    expect(page.locator("main")).to_contain_text("The 3 occurrences still to come are cancelled")
    page.get_by_role("button", name="Cancel the series").click()  # no reason given
    expect(page.locator("#reason-error")).to_be_visible()
    assert violations(page) == []
    page.screenshot(path=screenshots / "recurring-cancel-series-desktop.png", full_page=True)
    page.goto(first_page)  # and keep the series

    weeks = [day + timedelta(weeks=n) for n in range(3)]
    for when in weeks:
        page.goto(f"{server.url}/calendar?view=week&date={when.isoformat()}")
        block = page.locator(f'.tg-day[data-date="{when.isoformat()}"] a.ev', has_text=title)
        expect(block).to_have_count(1)
        expect(page.locator(".tg-day a.ev", has_text=title)).to_have_count(1)  # that day only

    # cancel the second week's occurrence from its own page
    page.goto(f"{server.url}/calendar?view=week&date={weeks[1].isoformat()}")
    page.locator(f'.tg-day[data-date="{weeks[1].isoformat()}"] a.ev', has_text=title).click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.locator("#series-summary")).to_contain_text("occurrence 2 of 3")
    page.get_by_role("link", name="Cancel this occurrence…").click()
    page.get_by_label("Reason for cancelling").fill("No meeting that week")
    page.get_by_role("button", name="Cancel the event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))

    for n, when in enumerate(weeks):
        page.goto(f"{server.url}/calendar?view=week&date={when.isoformat()}")
        block = page.locator(f'.tg-day[data-date="{when.isoformat()}"] a.ev', has_text=title)
        if n == 1:
            expect(block).to_have_count(1)
            expect(block).to_have_class(re.compile(r"\bev-cancelled\b"))
            expect(block).to_contain_text("Cancelled")
            page.screenshot(
                path=screenshots / "recurring-week-cancelled-desktop.png", full_page=True
            )
        else:
            expect(block).to_have_count(1)
            expect(block).not_to_have_class(re.compile(r"\bev-cancelled\b"))

    phone = new_page(PHONE)
    sign_in(phone, server, USER)
    phone.goto(f"{server.url}/events/new")
    phone.get_by_label("How often").select_option("fortnightly")
    phone.get_by_label("On a date").check()
    expect(phone.locator("#field-repeat_count")).to_be_hidden()
    phone.get_by_label("Until (inclusive)").fill(f"{day + timedelta(days=900):%Y-%m-%d}")
    phone.select_option("#kind", "interview")
    phone.fill("#title", "Too long a series")
    phone.fill("#starts_at", f"{day.isoformat()} 19:00")
    phone.fill("#ends_at", f"{day.isoformat()} 20:00")
    phone.get_by_role("button", name="Create event").click()
    expect(phone.locator("#repeat_until-error")).to_contain_text("At most two years")
    assert violations(phone) == []
    phone.locator("#repeat-fieldset").screenshot(path=screenshots / "recurring-form-phone.png")
    phone.goto(first_page)
    phone.screenshot(path=screenshots / "recurring-event-phone.png", full_page=True)


def test_change_this_and_following_occurrences_of_a_weekly_meeting(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    day, title = first_day() + timedelta(days=1), f"Weekly review {uuid.uuid4().hex[:6]}"
    page.goto(f"{server.url}/events/new")
    page.select_option("#kind", "interview")
    page.select_option("#subtype", "witness_interview")
    page.fill("#title", title)
    page.fill("#starts_at", f"{day.isoformat()} 18:00")
    page.fill("#ends_at", f"{day.isoformat()} 19:00")
    page.get_by_label("How often").select_option("weekly")
    page.get_by_label("Times", exact=True).fill("3")
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    weeks = [day + timedelta(weeks=n) for n in range(3)]

    page.goto(f"{server.url}/calendar?view=week&date={weeks[1].isoformat()}")
    page.locator(f'.tg-day[data-date="{weeks[1].isoformat()}"] a.ev', has_text=title).click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    page.get_by_role("link", name="Edit", exact=True).click()
    choice = page.get_by_role("group", name=re.compile("This event repeats"))
    expect(choice.get_by_label("Only this occurrence")).to_be_checked()
    choice.get_by_label("This and following occurrences").check()
    page.fill("#title", f"{title} (later)")
    page.fill("#starts_at", f"{weeks[1].isoformat()} 20:00")
    page.fill("#ends_at", f"{weeks[1].isoformat()} 21:30")
    assert violations(page) == []
    page.screenshot(path=screenshots / "recurring-following-form-desktop.png", full_page=True)
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.locator("#series-summary")).to_contain_text(
        f"Weekly on {weeks[1]:%A}, 2 times, occurrence 1 of 2"
    )

    for n, when in enumerate(weeks):
        page.goto(f"{server.url}/calendar?view=week&date={when.isoformat()}")
        block = page.locator(f'.tg-day[data-date="{when.isoformat()}"] a.ev', has_text=title)
        expect(block).to_have_count(1)
        if n == 0:  # the first week keeps its time and title
            expect(block).not_to_contain_text("(later)")
            expect(block).to_contain_text("18:00")
        else:
            expect(block).to_contain_text("(later)")
            expect(block).to_contain_text("20:00")


def test_change_how_often_this_and_following_occurrences_repeat(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, USER)
    day, title = first_day() + timedelta(days=2), f"Weekly sync {uuid.uuid4().hex[:6]}"
    page.goto(f"{server.url}/events/new")
    page.select_option("#kind", "interview")
    page.select_option("#subtype", "witness_interview")
    page.fill("#title", title)
    page.fill("#starts_at", f"{day.isoformat()} 17:00")
    page.fill("#ends_at", f"{day.isoformat()} 18:00")
    page.get_by_label("How often").select_option("weekly")
    page.get_by_label("Times", exact=True).fill("4")
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    weeks = [day + timedelta(weeks=n) for n in range(6)]

    page.goto(f"{server.url}/calendar?view=week&date={weeks[1].isoformat()}")
    page.locator(f'.tg-day[data-date="{weeks[1].isoformat()}"] a.ev', has_text=title).click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    page.get_by_role("link", name="Edit", exact=True).click()
    repeat = page.locator("#repeat-fieldset")
    expect(repeat).to_be_hidden()  # "Only this occurrence": how often it repeats is not asked
    choice = page.get_by_role("group", name=re.compile("This event repeats"))
    choice.get_by_label("This and following occurrences").check()
    expect(repeat).to_be_visible()
    how_often = repeat.get_by_label("How often")
    expect(how_often).to_have_value("weekly")
    expect(repeat.get_by_label("Times", exact=True)).to_have_value("3")  # from this one on
    note = page.locator("#repeat-change-hint")
    expect(note).to_be_hidden()
    how_often.select_option(label="Every 2 weeks")
    expect(note).to_be_visible()
    assert violations(page) == []
    page.screenshot(path=screenshots / "recurring-rule-change-form-desktop.png", full_page=True)
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.locator("#series-summary")).to_contain_text(
        f"Every 2 weeks on {weeks[1]:%A}, 3 times, occurrence 1 of 3"
    )

    for n, when in enumerate(weeks):
        page.goto(f"{server.url}/calendar?view=week&date={when.isoformat()}")
        held = page.locator(
            f'.tg-day[data-date="{when.isoformat()}"] a.ev:not(.ev-cancelled)', has_text=title
        )
        expect(held).to_have_count(1 if n in (0, 1, 3, 5) else 0)
        if n == 2:  # the old third week: cancelled, made again by no rule
            cancelled = page.locator(
                f'.tg-day[data-date="{when.isoformat()}"] a.ev.ev-cancelled', has_text=title
            )
            expect(cancelled).to_have_count(1)
            page.screenshot(path=screenshots / "recurring-rule-change-week.png", full_page=True)
