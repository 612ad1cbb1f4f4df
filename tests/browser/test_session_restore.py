"""A new event typed while the session is ended elsewhere: submitted, signed in again, the form
comes back filled with the notice, and saves.

The dates come from the form the server fills in (its clock, not the test's), so that the test
holds under ``JOINTOPS_TEST_CLOCK``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, sign_in
from tests.live_server import DEMO_PASSWORD, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

USER = "investigator.hsi"
NOTICE = "Your session had ended; what you typed was kept. Check it and save again."
TITLE = "Kept across sign-in: Lake Ave surveillance"
NOTES = "Grey van, north lot; relief at the half hour"


def end_the_other_sessions(page: Any, server: LiveServer) -> None:
    """From a second browser of the same user: "Sign out other sessions"."""
    sign_in(page, server, USER)
    page.goto(f"{server.url}/settings/sessions")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Sign out other sessions").click()
    page.get_by_text("Signed out 1 other session").wait_for()


def test_the_typed_event_survives_an_ended_session_and_saves(
    server: LiveServer, new_page: Callable[..., Any], screenshots: Path
) -> None:
    from playwright.sync_api import expect

    desk = new_page(DESKTOP)
    sign_in(desk, server, USER)
    desk.goto(f"{server.url}/events/new")
    proposed = datetime.strptime(desk.input_value("#starts_at"), "%Y-%m-%d %H:%M")
    day = (proposed + timedelta(days=12)).date()
    starts, ends = f"{day.isoformat()} 05:00", f"{day.isoformat()} 06:00"
    desk.select_option("#kind", "operation")
    desk.select_option("#subtype", "surveillance")
    desk.fill("#title", TITLE)
    desk.fill("#starts_at", starts)
    desk.fill("#ends_at", ends)
    desk.fill("#location_address", "300 Lake Ave, Lake Worth Beach, FL")
    desk.fill("#latitude", "26.6159")
    desk.fill("#longitude", "-80.0553")
    desk.fill("#notes", NOTES)

    end_the_other_sessions(new_page(PHONE), server)

    desk.get_by_role("button", name="Create event").click()
    desk.wait_for_url(re.compile(r"/login\?next="))
    expect(desk.get_by_text("You signed this session out from another one.")).to_be_visible()
    expect(desk.get_by_text("What you typed was kept")).to_be_visible()
    desk.get_by_label("Username").fill(USER)
    desk.get_by_label("Password").fill(DEMO_PASSWORD)
    desk.get_by_role("button", name="Sign in").click()

    desk.wait_for_url(re.compile(r"/events/new\?*$"))
    expect(desk.get_by_text(NOTICE)).to_be_visible()
    expect(desk.locator("#title")).to_have_value(TITLE)
    expect(desk.locator("#notes")).to_have_value(NOTES)
    expect(desk.locator("#starts_at")).to_have_value(starts)
    expect(desk.locator("#subtype")).to_have_value("surveillance")
    desk.screenshot(path=screenshots / "session-restored-form.png", full_page=True)

    desk.get_by_role("button", name="Create event").click()
    desk.wait_for_url(re.compile(r"/events/\d+$"))
    expect(desk.get_by_role("heading", level=1)).to_have_text(TITLE)

    desk.goto(f"{server.url}/events/new")
    expect(desk.get_by_text(NOTICE)).to_have_count(0)
    expect(desk.locator("#title")).to_have_value("")
