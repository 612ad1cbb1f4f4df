"""The event form's people pickers in Chromium: typing finds people by any word of their name or
their agency (case and accents aside), the keyboard and a tap pick them, chips show and remove
them, and what is saved is exactly who was chosen; on a desk and on a phone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser import DESKTOP, PHONE, sign_in
from tests.browser.test_accessibility import violations
from tests.live_server import TIMEZONE, LiveServer

pytestmark = pytest.mark.browser

USER = "investigator.pbso"
SHOTS = Path("/tmp/shots/pickers")  # noqa: S108 - screenshots to look at, nothing secret


def some_day(days_ahead: int) -> date:
    day = datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def fill_interview(page: Any, title: str, day: date, end: str = "10:00") -> None:
    page.select_option("#kind", "interview")
    page.select_option("#subtype", "witness_interview")
    page.fill("#title", title)
    page.fill("#starts_at", f"{day.isoformat()} 09:00")
    page.fill("#ends_at", f"{day.isoformat()} {end}")


def shoot(page: Any, name: str, screenshots: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / name, full_page=True)
    page.screenshot(path=screenshots / name, full_page=True)


def people_listed(page: Any) -> set[str]:
    """The event page's people, as "<name> (<agency>) · <part>"."""
    items = page.locator("ul.people li").all_inner_texts()
    return {" ".join(text.split()) for text in items}


def chips(page: Any, field: str) -> list[str]:
    """Who the chips of a field name (their text is "Remove <name>" and a cross)."""
    texts = page.locator(f"#field-{field} .picker-chip").all_text_contents()
    return [" ".join(t.split()).removeprefix("Remove ").removesuffix("×") for t in texts]


def test_picking_people_by_typing_and_keyboard_then_saving(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page(DESKTOP)
    sign_in(page, server, USER)
    page.goto(f"{server.url}/events/new")
    expect(page.locator("select#investigators")).to_be_hidden()  # still in the form, sent
    expect(page.locator("[data-picker-hint]")).to_be_hidden()  # no Ctrl-click to explain

    investigators = page.get_by_role("combobox", name="Investigators")
    listbox = page.locator("#investigators-options")
    expect(investigators).to_have_attribute("aria-expanded", "false")
    expect(investigators).to_have_attribute("aria-controls", "investigators-options")

    # a word's prefix, in any case: the listbox opens with the matches only
    investigators.press_sequentially("RIV")
    expect(investigators).to_have_attribute("aria-expanded", "true")
    expect(listbox.get_by_role("option")).to_have_text(["Luis Rivera (PBSO)"])
    # by keyboard: ArrowDown makes it the active option, Enter picks it
    investigators.press("ArrowDown")
    active = investigators.get_attribute("aria-activedescendant")
    assert active, "ArrowDown set no active option"
    expect(page.locator(f"#{active}")).to_have_attribute("aria-selected", "true")
    investigators.press("Enter")
    expect(investigators).to_have_attribute("aria-expanded", "false")
    expect(investigators).to_have_value("")
    expect(page.get_by_role("button", name="Remove Luis Rivera (PBSO)")).to_be_visible()
    expect(page.locator("#investigators-status")).to_have_text("Added Luis Rivera (PBSO)")

    # the agency code finds its people; someone chosen is not offered again
    investigators.press_sequentially("fbi")
    expect(listbox.get_by_role("option")).to_have_text(
        ["Michael Chen (FBI)", "Priya Raman (FBI)", "Robert Ashford (FBI)"]
    )
    shoot(page, "picker-open-desktop.png", screenshots)
    found = violations(page)  # the open listbox, its options and the chips pass axe too
    assert not found, found
    # Escape closes the list, a second Escape clears the words
    investigators.press("Escape")
    expect(listbox).to_be_hidden()
    expect(investigators).to_have_value("fbi")
    investigators.press("Escape")
    expect(investigators).to_have_value("")

    # by click: two words, each the start of a word of the label
    investigators.press_sequentially("rob ash")
    listbox.get_by_role("option", name="Robert Ashford (FBI)").click()
    investigators.press_sequentially("raman")
    listbox.get_by_role("option", name="Priya Raman (FBI)").click()
    expect(page.get_by_role("button", name="Remove Priya Raman (FBI)")).to_be_visible()
    assert chips(page, "investigators") == [
        "Luis Rivera (PBSO)",
        "Priya Raman (FBI)",
        "Robert Ashford (FBI)",
    ]
    # a chip's button removes its person
    page.get_by_role("button", name="Remove Robert Ashford (FBI)").click()
    expect(page.get_by_role("button", name="Remove Robert Ashford (FBI)")).to_have_count(0)
    expect(page.locator("#investigators-status")).to_have_text("Removed Robert Ashford (FBI)")
    expect(investigators).to_be_focused()
    # Backspace in the empty input takes off the last chip
    investigators.press("Backspace")
    expect(page.get_by_role("button", name="Remove Priya Raman (FBI)")).to_have_count(0)
    expect(page.locator("#investigators-status")).to_have_text("Removed Priya Raman (FBI)")

    # accents do not matter; the interpreters are only those who hold that part
    interpreters = page.get_by_role("combobox", name="Interpreters")
    interpreters.click()
    expect(page.locator("#interpreters-options").get_by_role("option")).to_have_text(
        ["Luis Rivera (PBSO)", "Nadège Joseph (VS)"]
    )
    interpreters.press("Escape")
    interpreters.press_sequentially("nadege")
    interpreters.press("ArrowDown")
    interpreters.press("Enter")
    expect(page.get_by_role("button", name="Remove Nadège Joseph (VS)")).to_be_visible()
    # nobody matches: said so, nothing to pick
    page.get_by_role("combobox", name="Forensic interviewers").press_sequentially("whitaker")
    expect(page.locator("#forensic_interviewers-none")).to_contain_text("No one")
    expect(page.locator("#forensic_interviewers-options")).to_be_hidden()
    page.get_by_role("combobox", name="Forensic interviewers").fill("")

    # vehicles and equipment are picked the same way
    vehicles = page.get_by_role("combobox", name="Vehicles and equipment")
    vehicles.press_sequentially("sedan")
    vehicles.press("ArrowDown")
    vehicles.press("Enter")
    expect(page.get_by_role("button", name="Remove Unmarked Sedan PB-14")).to_be_visible()

    # a refused save keeps the chips (rebuilt from what the hidden selects kept)
    day, title = some_day(45), "Picker test interview Zq7301"
    fill_interview(page, title, day, end="08:00")
    with page.expect_response(re.compile(r"/events/new$")) as answer:
        page.get_by_role("button", name="Create event").click()
    assert answer.value.status == 400
    page.wait_for_load_state()
    expect(page.locator("#field-ends_at .error")).to_be_visible()
    expect(page.get_by_role("button", name="Remove Luis Rivera (PBSO)")).to_be_visible()
    assert chips(page, "investigators") == ["Luis Rivera (PBSO)"]
    assert chips(page, "interpreters") == ["Nadège Joseph (VS)"]
    assert chips(page, "resource_ids") == ["Unmarked Sedan PB-14"]
    shoot(page, "event-form-pickers-desktop.png", screenshots)

    page.fill("#ends_at", f"{day.isoformat()} 10:00")
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert people_listed(page) == {
        "Marisol Delgado (PBSO) · Lead",
        "Luis Rivera (PBSO) · Investigator",
        "Nadège Joseph (VS) · Interpreter",
    }
    expect(page.locator("main")).to_contain_text("Unmarked Sedan PB-14")


def test_picking_people_by_tap_on_a_phone(
    browser: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, locale="en-US", has_touch=True, is_mobile=True)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, server, USER)
        page.goto(f"{server.url}/events/new")
        investigators = page.get_by_role("combobox", name="Investigators")
        listbox = page.locator("#investigators-options")
        # a tap on the empty box lists everyone who may be an investigator
        investigators.tap()
        expect(listbox).to_be_visible()
        expect(listbox.get_by_role("option", name="Kevin Tran (WPBPD)")).to_be_visible()
        shoot(page, "picker-open-phone.png", screenshots)
        listbox.get_by_role("option", name="Kevin Tran (WPBPD)").tap()
        expect(page.get_by_role("button", name="Remove Kevin Tran (WPBPD)")).to_be_visible()
        for typed, name in (
            ("alej", "Alejandro Vargas (HSI)"),
            ("denise", "Denise Holloway (HSI)"),
            ("okafor", "Raymond Okafor (PBSO)"),
        ):
            investigators.fill(typed)
            listbox.get_by_role("option", name=name).tap()
            expect(page.get_by_role("button", name=f"Remove {name}")).to_be_visible()
        assert len(chips(page, "investigators")) == 4
        # the chips wrap inside the field, and nothing scrolls sideways
        field = page.locator("#field-investigators").bounding_box()
        for chip in page.locator("#field-investigators .picker-chip").all():
            box = chip.bounding_box()
            assert box["x"] >= field["x"] and box["x"] + box["width"] <= field["x"] + field["width"]
        chip_boxes = page.locator("#field-investigators .picker-chip").all()
        rows = {round(c.bounding_box()["y"]) for c in chip_boxes}
        assert len(rows) > 1, "four chips on a phone should wrap"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_role("button", name="Remove Denise Holloway (HSI)").tap()

        day, title = some_day(52), "Picker phone interview Zq7302"
        fill_interview(page, title, day)
        shoot(page, "event-form-pickers-phone.png", screenshots)
        page.get_by_role("button", name="Create event").tap()
        page.wait_for_url(re.compile(r"/events/\d+$"))
        assert people_listed(page) == {
            "Marisol Delgado (PBSO) · Lead",
            "Kevin Tran (WPBPD) · Investigator",
            "Alejandro Vargas (HSI) · Investigator",
            "Raymond Okafor (PBSO) · Investigator",
        }
    finally:
        context.close()
