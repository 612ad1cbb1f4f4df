"""Two browsers signed in side by side as one user, the second signing the first out, on a
gunicorn of two workers (the sign-out and the refused request may meet different workers)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, sign_in
from tests.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_phone_signs_the_desk_out(
    server: LiveServer, new_page: Callable[..., Any], screenshots: Path
) -> None:
    desk = new_page(DESKTOP)
    sign_in(desk, server, "investigator.hsi")
    phone = new_page(PHONE)
    sign_in(phone, server, "investigator.hsi")

    desk.get_by_role("link", name="Sessions").click()
    desk.wait_for_url(re.compile(r"/settings/sessions$"))
    rows = desk.locator("table tbody tr")
    assert rows.count() == 2, "the phone's sign-in ended the desk's session"
    assert desk.locator("tr[aria-current=true]").get_by_text("This session").count() == 1

    phone.goto(f"{server.url}/settings/sessions")
    assert phone.locator("table tbody tr").count() == 2
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the header's links push the page wider than the phone"
    phone.screenshot(path=str(screenshots / "sessions-phone.png"), full_page=True)
    messages: list[str] = []

    def accept(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    phone.once("dialog", accept)
    phone.get_by_role("button", name="Sign out other sessions").click()
    phone.get_by_text("Signed out 1 other session").wait_for()
    assert messages == ["Sign out your 1 other session?"]
    assert phone.locator("table tbody tr").count() == 1

    desk.goto(f"{server.url}/calendar")
    desk.wait_for_url(re.compile(r"/login"))
    desk.get_by_text("You signed this session out from another one.").wait_for()
    phone.goto(f"{server.url}/calendar")
    assert re.search(r"/calendar", phone.url)
