"""A supervisor reviews and resolves a deconfliction alert in Chromium, against gunicorn.

The demo data holds one conflict: WPBPD's motel warrant 300 m from HSI's
recruiter meet in an overlapping window. WPBPD's supervisor finds it from the
inbox badge and the review page, sees only the pointer to HSI's side,
acknowledges; HSI acknowledges in a browser of its own; the supervisor then
resolves it, first without an outcome (the error is named next to the field),
then with one. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser import PHONE, sign_in
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

#: HSI's side, which WPBPD must never see
HSI_SECRETS = ("Recruiter meet", "Palm Beach Lakes Blvd & I-95", "Pole Camera Kit")


def assert_no_hsi_details(page: Any) -> None:
    body = page.locator("body").inner_text()
    for secret in HSI_SECRETS:
        assert secret not in body, secret


def test_a_supervisor_reviews_and_resolves_an_alert(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    sign_in(page, server, "supervisor.wpbpd")
    badge = page.locator("#inbox-count")
    expect(badge).to_be_visible()
    assert int(badge.inner_text()) >= 1

    page.get_by_role("link", name="Inbox").click()
    page.wait_for_url(re.compile(r"/inbox$"))
    expect(page.locator(".inbox li.unread", has_text="with HSI")).to_have_count(1)
    page.screenshot(path=screenshots / "alerts-inbox.png", full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    page.wait_for_url(re.compile(r"/alerts$"))
    row = page.locator("tr.alert-row", has_text="Homeland Security Investigations")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Motel room warrant")
    # a side reads why in its own terms: no distance, limit or overlap of the other side
    expect(row).to_contain_text("Near your location, at an overlapping time")
    expect(row).not_to_contain_text("300 m")
    expect(row.locator(".badge", has_text="Exact")).to_have_count(1)
    expect(page.locator("#alert-counts")).to_contain_text("1 open")
    assert_no_hsi_details(page)
    page.screenshot(path=screenshots / "alerts-review.png", full_page=True)

    # A filter that leaves it out, then back.
    page.select_option("select[name=kind]", "target")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tr.alert-row", has_text="Homeland Security")).to_have_count(0)
    page.select_option("select[name=kind]", "")
    page.get_by_role("button", name="Apply").click()

    page.locator("tr.alert-row", has_text="Homeland Security").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/alerts/\d+$"))
    alert_url = page.url
    expect(page.locator("#side-a, #side-b").filter(has_text="Your operation")).to_contain_text(
        "Motel room warrant"
    )
    other = page.locator("#side-a, #side-b").filter(has_text="Other agency")
    expect(other).to_contain_text("Homeland Security Investigations")
    expect(other).to_contain_text("Alejandro Vargas")
    expect(other).to_contain_text("+1 561 555 0131")
    expect(page.locator("#resolution")).to_contain_text("Waiting for")
    assert_no_hsi_details(page)
    page.screenshot(path=screenshots / "alert-open.png", full_page=True)

    page.get_by_role("button", name="Acknowledge for WPBPD").click()
    expect(page.locator(".flash-success")).to_have_text("Acknowledged for WPBPD.")
    expect(page.locator("#resolution")).to_contain_text("Waiting for HSI")

    hsi = new_page()
    sign_in(hsi, server, "investigator.hsi")
    hsi.goto(alert_url)
    expect(hsi.locator("body")).not_to_contain_text("Motel room warrant")
    hsi.get_by_role("button", name="Acknowledge for HSI").click()
    expect(hsi.locator(".flash-success")).to_have_text("Acknowledged for HSI.")

    page.reload()
    expect(page.locator("#alert-status")).to_have_text("Acknowledged")
    with page.expect_response(re.compile(r"/resolve$")) as answer:
        page.get_by_role("button", name="Resolve alert").click()
    assert answer.value.status == 400
    expect(page.locator("#field-outcome .error")).to_have_text("Choose an outcome.")
    expect(page.locator("#outcome")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-note .error")).to_contain_text("Write a note")
    expect(page.locator("#error-summary")).to_be_focused()
    page.screenshot(path=screenshots / "alert-resolve-errors.png", full_page=True)

    note = "Spoke with HSI (A. Vargas): joint operation, HSI leads the meet, WPBPD waits."
    page.select_option("#outcome", "joint_operation")
    page.fill("#note", note)
    page.get_by_role("button", name="Resolve alert").click()
    expect(page.locator(".flash-success")).to_contain_text("resolved")
    expect(page.locator("#alert-status")).to_have_text("Resolved")
    expect(page.locator("#resolution")).to_contain_text("Joint operation")
    expect(page.locator("#resolution")).to_contain_text(note)
    expect(page.locator("#resolution")).to_contain_text("Dana Kowalski")
    page.screenshot(path=screenshots / "alert-resolved.png", full_page=True)

    page.goto(f"{server.url}/alerts")
    expect(page.locator("tr.alert-row", has_text="Homeland Security")).to_have_count(0)
    page.goto(f"{server.url}/alerts?status=resolved")
    expect(page.locator("tr.alert-row", has_text="Homeland Security")).to_contain_text(
        "Joint operation"
    )

    hsi.goto(alert_url)
    expect(hsi.locator("#resolution")).to_contain_text(note)

    # HSI was told of each step (raised, acknowledged by WPBPD, resolved): one inbox line for
    # the alert, in its latest state
    hsi.goto(f"{server.url}/inbox")
    line = hsi.locator(".inbox li", has_text="with WPBPD")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("resolved")
    expect(line).to_contain_text("3 notices")
    hsi.screenshot(path=screenshots / "inbox-grouped.png", full_page=True)


def test_the_review_page_reads_on_a_phone(
    new_page: Any, server: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page(PHONE)
    sign_in(page, server, "deconfliction_officer.pbso")
    page.goto(f"{server.url}/alerts?status=all")
    rows = page.locator("tr.alert-row")
    expect(rows.first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways ({width} px)"
    page.screenshot(path=screenshots / "alerts-review-phone.png", full_page=True)
    rows.first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/alerts/\d+$"))
    expect(page.locator(".officer-notice")).to_be_visible()
    page.screenshot(path=screenshots / "alert-officer-phone.png", full_page=True)
