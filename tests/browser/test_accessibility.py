"""Every page passes axe-core with no serious or critical violation, on a desk and a phone.

The pages are the app's own routes (``url_map``): every GET route that answers HTML is
visited, its path arguments filled from the demo data, as the first of a few demo users who
may open it. A new page is swept without anyone listing it; a route this test cannot fill
fails it rather than being skipped. axe-core is vendored from the npm registry
(``tests/browser/vendor``) and injected into the page, so the app serves no test code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jointops import create_app
from tests.browser import DESKTOP, PHONE, sign_in
from tests.conftest import base_config
from tests.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
#: who opens a page: the first of these it answers 200 to
USERS = ["investigator.pbso", "deconfliction_officer.pbso", "admin.pbso", "advocate.vs"]
#: what a visitor sees of a page beyond its plain path
EXTRA_VIEWS = [
    "/calendar?view=day",
    "/calendar?view=month",
    "/calendar?view=agenda",
    "/calendar?q=interview",  # a search's matches
    "/calendar?q=qzxv+wuplo",  # a search without any
    "/login",
]
#: routes that answer no page of their own: files, or a step of a sign-in in progress
NOT_PAGES = {
    "admin.audit_export",  # CSV
    "feeds.feed",  # iCalendar
    "maps.pmtiles",  # map tiles
    "openapi",  # JSON
    "schedule.home",  # a redirect to the calendar
    "mfa.second_factor",  # only between password and second factor (tests/browser/test_mfa.py)
    "mfa.enrol",  # only when policy requires a first factor and none is enrolled
    "auth.login",  # swept signed out, in EXTRA_VIEWS
    "events.cancel_rest_of_series",  # only of a series: swept in tests/browser/test_recurring.py
}
#: which table holds a real id for each path argument
ARGUMENT_TABLES = {
    "event_id": "events",
    "target_id": "targets",
    "alert_id": "alerts",
    "case_id": "cases",
    "place_id": "known_places",
}
IMPACTS = {"serious", "critical"}


def page_paths(server: LiveServer) -> list[str]:
    app = create_app(base_config(server.database_url))
    database = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        ids = {
            name: str(conn.execute(f"SELECT min(id) FROM {table}").fetchone()[0])  # noqa: S608
            for name, table in ARGUMENT_TABLES.items()
        }
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
            continue
        if rule.rule.startswith(("/api/", "/static/")):
            continue
        path = rule.rule
        for name in rule.arguments:
            assert name in ids, f"{rule.rule}: no demo id for <{name}>; add it to ARGUMENT_TABLES"
            path = path.replace(f"<int:{name}>", ids[name])
        paths.append(path)
    return sorted(paths)


def violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # through the DevTools protocol: the app's CSP (rightly) refuses inline scripts
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]['target']})"
        for v in found
        if v["impact"] in IMPACTS
    ]


@pytest.fixture(scope="module")
def signed_in(browser: Any, server: LiveServer) -> Iterator[Callable[[str, dict[str, int]], Any]]:
    """One signed-in page per user and screen size, made on first use."""
    pages: dict[tuple[str, int], Any] = {}

    def get(username: str, viewport: dict[str, int]) -> Any:
        key = (username, viewport["width"])
        if key not in pages:
            context = browser.new_context(viewport=viewport, locale="en-US")
            context.set_default_timeout(15_000)
            pages[key] = context.new_page()
            sign_in(pages[key], server, username)
        return pages[key]

    yield get
    for page in pages.values():
        page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_passes_axe(
    server: LiveServer,
    new_page: Callable[..., Any],
    signed_in: Callable[[str, dict[str, int]], Any],
    viewport: dict[str, int],
) -> None:
    findings: list[str] = []
    swept: list[str] = []
    anonymous = new_page(viewport)
    anonymous.goto(f"{server.url}/login")
    findings += [f"/login (signed out): {v}" for v in violations(anonymous)]
    swept.append("/login")

    for path in [*page_paths(server), *(p for p in EXTRA_VIEWS if p != "/login")]:
        for username in USERS:
            page = signed_in(username, viewport)
            response = page.goto(f"{server.url}{path}")
            if response is not None and response.status == 200:
                findings += [f"{path} ({username}): {v}" for v in violations(page)]
                swept.append(path)
                break
        else:
            findings.append(f"{path}: none of {USERS} may open it")
    assert len(swept) >= 25, f"only {len(swept)} pages swept: {swept}"
    assert not findings, f"{len(findings)} axe findings at {viewport}:\n" + "\n".join(findings)


def test_the_sweep_sees_a_violation(new_page: Callable[..., Any], server: LiveServer) -> None:
    """The check itself: a page given an unlabelled field and faint text is reported."""
    page = new_page(DESKTOP)
    page.goto(f"{server.url}/login")
    page.evaluate(
        """() => {
            const main = document.querySelector('main') || document.body;
            const input = document.createElement('input');
            main.appendChild(input);
            const faint = document.createElement('p');
            faint.textContent = 'faint';
            faint.style.color = '#eee';
            faint.style.background = '#fff';
            main.appendChild(faint);
        }"""
    )
    found = "\n".join(violations(page))
    assert "label" in found
    assert "color-contrast" in found
