"""The header on a phone: one row (name, Menu, Inbox with its unread count); the links open
under "Menu", by touch or keyboard. On a desktop every link shows, with no Menu button."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, sign_in
from tests.browser.test_accessibility import violations
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

#: the demo's HSI supervisor is told of the seeded HSI/WPBPD conflict: an unread notice
USER = "supervisor.hsi"


def header_height(page: Any) -> float:
    height: float = page.evaluate(
        "document.querySelector('header.topbar').getBoundingClientRect().height"
    )
    return height


def test_on_a_phone_the_header_is_one_row_and_its_menu_opens(
    server: LiveServer, new_page: Callable[..., Any], screenshots: Path
) -> None:
    from playwright.sync_api import expect

    phone = new_page(PHONE)
    sign_in(phone, server, USER)
    assert header_height(phone) <= 64
    menu = phone.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(phone.locator("#inbox-count")).to_be_visible()
    main_nav = phone.get_by_role("navigation", name="Main")
    expect(main_nav).to_be_hidden()
    expect(phone.get_by_role("button", name="Sign out")).to_be_hidden()
    grid = phone.locator(".timegrid")
    assert grid.bounding_box()["y"] < PHONE["height"] / 2, "the calendar is on the first screen"

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(main_nav.get_by_role("link", name="Alerts")).to_be_visible()
    expect(phone.get_by_role("button", name="Sign out")).to_be_visible()
    phone.screenshot(path=screenshots / "header-phone-menu.png")
    main_nav.get_by_role("link", name="Alerts").click()
    phone.wait_for_url(re.compile(r"/alerts"))
    expect(phone.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")

    menu = phone.get_by_role("button", name="Menu")
    menu.focus()
    phone.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    # the alerts page rather than the calendar, whose content follows the server's day
    assert violations(phone) == []
    phone.keyboard.press("Tab")
    focused = phone.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Calendar", focused
    phone.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(main_nav).to_be_hidden()

    phone.get_by_role("link", name=re.compile(r"^Inbox")).click()
    phone.wait_for_url(re.compile(r"/inbox"))


def test_on_a_desktop_every_link_shows_without_a_menu_button(
    server: LiveServer, new_page: Callable[..., Any]
) -> None:
    from playwright.sync_api import expect

    desk = new_page(DESKTOP)
    sign_in(desk, server, USER)
    expect(desk.get_by_role("button", name="Menu")).to_be_hidden()
    expect(
        desk.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts")
    ).to_be_visible()
    expect(desk.get_by_role("button", name="Sign out")).to_be_visible()
    assert header_height(desk) <= 64
