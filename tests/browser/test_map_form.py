"""The operation form's map in Chromium: search an address, choose a suggestion by keyboard,
see the pin and the circle, drag the pin, change the radius, type coordinates, save; on a desk
and on a phone. No basemap is configured here (the map says so and still works); the demo
gazetteer answers the address search.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jointops.places.gazetteer import ENTRIES
from tests.browser import DESKTOP, PHONE, sign_in
from tests.live_server import TIMEZONE, LiveServer

pytestmark = pytest.mark.browser

USER = "investigator.pbso"
COURTHOUSE = "Palm Beach County Courthouse, 205 N Dixie Hwy, West Palm Beach, FL 33401"
#: the demo gazetteer's landmarks and towns, drawn for bearings when no basemap is set
REFERENCE_PLACES = len([e for e in ENTRIES if e.kind in ("landmark", "town")])


def far_day(offset: int) -> date:
    """A weekday 90+ days ahead, clear of the demo's weeks and of the other browser tests."""
    day = datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=90 + offset)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def watch_errors(page: Any) -> list[str]:
    """Console errors (CSP violations among them) and uncaught exceptions of the page."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def centre(box: dict[str, float]) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def values(page: Any) -> tuple[float, float]:
    return float(page.input_value("#latitude")), float(page.input_value("#longitude"))


@pytest.mark.parametrize(
    ("viewport", "offset", "shot"), [(DESKTOP, 0, "desktop"), (PHONE, 1, "phone")]
)
def test_place_an_operation_from_an_address_then_adjust_and_save(
    new_page: Any,
    server: LiveServer,
    screenshots: Path,
    viewport: dict[str, int],
    offset: int,
    shot: str,
) -> None:
    from playwright.sync_api import expect

    page = new_page(viewport)
    errors = watch_errors(page)
    sign_in(page, server, USER)
    page.goto(f"{server.url}/events/new")
    day, title = far_day(offset), f"Map test warrant ({shot})"
    page.select_option("#kind", "operation")
    page.select_option("#subtype", "search_warrant")
    page.fill("#title", title)
    page.fill("#starts_at", f"{day.isoformat()}T09:00")
    page.fill("#ends_at", f"{day.isoformat()}T11:00")
    expect(page.locator("#event-map-note")).to_contain_text("No basemap is set")
    # ... so the demo gazetteer's landmarks and towns give the blank map its bearings
    expect(page.locator("#event-map-note")).to_contain_text("landmarks and towns")
    expect(page.locator("#event-map path.map-reference")).to_have_count(REFERENCE_PLACES)
    expect(page.locator("#event-map .reference-town", has_text="West Palm Beach")).to_have_count(1)

    # Search, then choose by keyboard: the combobox points at the option it highlights.
    address = page.get_by_role("combobox", name="Address")
    address.fill("205 N Dixie")
    listbox = page.get_by_role("listbox", name="Address suggestions")
    expect(listbox).to_be_visible()
    option = listbox.get_by_role("option").filter(has_text="Palm Beach County Courthouse")
    expect(option).to_contain_text("Position: rooftop")
    expect(address).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=screenshots / f"map-form-suggestions-{shot}.png")
    address.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(address).to_have_attribute("aria-activedescendant", option.get_attribute("id") or "")
    address.press("Enter")
    expect(listbox).to_be_hidden()
    expect(address).to_have_value(COURTHOUSE)
    expect(page.locator("#latitude")).to_have_value("26.714600")
    expect(page.locator("#longitude")).to_have_value("-80.054000")
    expect(page.locator("#place-status")).to_contain_text("Position: rooftop")

    pin = page.locator("#event-map .leaflet-marker-icon")
    circle = page.locator("#event-map path.op-circle")
    expect(pin).to_have_count(1)
    expect(circle).to_be_visible()
    expect(page.locator("#event-map-circle")).to_contain_text("Circle: 500 m, the default radius")
    pin.scroll_into_view_if_needed()
    before = circle.bounding_box()
    assert before is not None

    # The radius field draws the circle.
    page.fill("#radius_m", "1000")
    expect(page.locator("#event-map-circle")).to_have_text("Circle: 1,000 m radius.")
    wider = circle.bounding_box()
    map_before = page.locator("#event-map").bounding_box()
    assert wider is not None and map_before is not None
    assert 1.8 < wider["width"] / before["width"] < 2.2, (before, wider)

    # Dragging the pin moves the circle and fills the coordinates.
    lat0, lon0 = values(page)
    box = pin.bounding_box()
    assert box is not None
    x, y = centre(box)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y + 30, steps=8)
    page.mouse.up()
    expect(page.locator("#place-status")).to_contain_text("Pin moved to")
    lat1, lon1 = values(page)
    assert lat1 < lat0 and lon1 > lon0, ((lat0, lon0), (lat1, lon1))
    moved = circle.bounding_box()
    assert moved is not None
    map_after = page.locator("#event-map").bounding_box()
    assert map_after is not None
    # (the status line above the map may have changed height: measure within the map)
    dx = centre(moved)[0] - map_after["x"] - (centre(wider)[0] - map_before["x"])
    dy = centre(moved)[1] - map_after["y"] - (centre(wider)[1] - map_before["y"])
    assert abs(dx - 40) < 4 and abs(dy - 30) < 4, (dx, dy)

    # Typing a coordinate moves the pin (about 110 m north: up on the screen).
    pin_in_map = (
        "() => document.querySelector('#event-map .leaflet-marker-icon').getBoundingClientRect().y"
        " - document.querySelector('#event-map').getBoundingClientRect().y"
    )
    dragged = page.evaluate(pin_in_map)
    page.fill("#latitude", f"{lat1 + 0.001:.6f}")
    page.wait_for_function(f"() => ({pin_in_map})() < {dragged} - 5")
    page.locator("#event-map").screenshot(path=screenshots / f"map-form-pin-{shot}.png")
    saved_lat, saved_lon = values(page)

    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    event_id = page.url.rsplit("/", 1)[-1]

    page.goto(f"{server.url}/events/{event_id}/edit")
    assert values(page) == pytest.approx((saved_lat, saved_lon), abs=1e-6)
    expect(page.locator("#radius_m")).to_have_value("1000")
    expect(page.locator("#location_address")).to_have_value(COURTHOUSE)
    expect(pin).to_have_count(1)
    expect(page.locator("#event-map-circle")).to_have_text("Circle: 1,000 m radius.")
    # A search from an operation's own form names it (the lookup is audited with the event).
    with page.expect_request(re.compile(rf"/api/geocode\?q=Clematis&event={event_id}$")):
        page.get_by_role("combobox", name="Address").fill("Clematis")
    page.screenshot(path=screenshots / f"map-form-edit-{shot}.png", full_page=True)
    assert errors == [], errors


def test_the_map_shows_for_operations_only_and_escape_closes_suggestions(
    new_page: Any, server: LiveServer
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    errors = watch_errors(page)
    sign_in(page, server, USER)
    page.goto(f"{server.url}/events/new")
    page.select_option("#kind", "interview")
    expect(page.locator("#event-map")).to_be_hidden()
    page.select_option("#kind", "operation")
    expect(page.locator("#event-map")).to_be_visible()
    expect(page.locator("#event-map .leaflet-control-zoom")).to_be_visible()
    size = page.locator("#event-map").bounding_box()
    assert size is not None and size["width"] > 300 and size["height"] > 200

    address = page.get_by_role("combobox", name="Address")
    address.fill("Broadway")
    listbox = page.get_by_role("listbox", name="Address suggestions")
    expect(listbox.get_by_role("option").nth(1)).to_be_visible()
    address.press("ArrowDown")
    address.press("ArrowDown")
    expect(listbox.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    address.press("Escape")
    expect(listbox).to_be_hidden()
    expect(address).to_have_value("Broadway")
    expect(page.locator("#latitude")).to_have_value("")

    address.fill("Nowhere Such Street")
    expect(page.locator("#place-status")).to_contain_text("No address found")

    # A click on the map places the first pin.
    page.locator("#event-map").click(position={"x": 120, "y": 120})
    expect(page.locator("#event-map .leaflet-marker-icon")).to_have_count(1)
    expect(page.locator("#latitude")).not_to_have_value("")
    assert errors == [], errors


def test_use_my_location(browser: Any, server: LiveServer) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport=PHONE,
        locale="en-US",
        geolocation={"latitude": 26.7153, "longitude": -80.0534, "accuracy": 25},
        permissions=["geolocation"],
    )
    try:
        page = context.new_page()
        sign_in(page, server, USER)
        page.goto(f"{server.url}/events/new")
        page.select_option("#kind", "operation")
        page.get_by_role("button", name="Use my location").click()
        expect(page.locator("#latitude")).to_have_value("26.715300")
        expect(page.locator("#longitude")).to_have_value("-80.053400")
        expect(page.locator("#place-status")).to_contain_text("accurate to about 25 m")
        expect(page.locator("#event-map .leaflet-marker-icon")).to_have_count(1)
    finally:
        context.close()


@pytest.mark.parametrize(("viewport", "shot"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_officer_sees_both_sides_of_an_alert_on_a_map(
    new_page: Any, server: LiveServer, screenshots: Path, viewport: dict[str, int], shot: str
) -> None:
    """The demo's event alert (WPBPD's motel warrant, HSI's recruiter meet 300 m away): the
    deconfliction officer's alert page draws both sides, each a pin, a circle and its tag;
    a side's own page of the same alert has no map at all."""
    from playwright.sync_api import expect

    page = new_page(viewport)
    errors = watch_errors(page)
    sign_in(page, server, "deconfliction_officer.pbso")
    page.goto(f"{server.url}/alerts?status=all&kind=event")
    row = page.locator("tr.alert-row", has_text="Motel room warrant")
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/alerts/\d+$"))
    alert_url = page.url

    area = page.locator("#alert-map")
    expect(area).to_be_visible()
    expect(area.locator(".leaflet-marker-icon")).to_have_count(2)
    expect(area.locator("path.place-circle")).to_have_count(2)
    expect(area.locator("path.place-a")).to_have_count(1)
    expect(area.locator("path.place-b")).to_have_count(1)
    tags = area.locator(".place-tag")
    expect(tags).to_have_count(2)
    assert sorted(t.split(" · ")[1] for t in tags.all_inner_texts()) == ["HSI", "WPBPD"]
    expect(area.locator("path.map-reference")).to_have_count(REFERENCE_PLACES)
    # the map is fitted to both circles: each lies within its width
    frame = area.bounding_box()
    assert frame is not None
    for circle in area.locator("path.place-circle").all():
        box = circle.bounding_box()
        assert box is not None
        assert (
            frame["x"] - 1 <= box["x"] <= box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
        )
    area.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / f"map-alert-officer-{shot}.png", full_page=True)
    assert errors == [], errors

    side = new_page(viewport)
    sign_in(side, server, "supervisor.wpbpd")
    side.goto(alert_url)
    expect(side.get_by_role("heading", level=1)).to_be_visible()
    expect(side.locator("#alert-map")).to_have_count(0)
    expect(side.locator(".leaflet-container")).to_have_count(0)
