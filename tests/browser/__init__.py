"""Browser tests: Debian's Chromium, driven by Playwright, against the app on a real gunicorn."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.live_server import DEMO_PASSWORD, ROOT, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


def sign_in(page: Any, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/calendar"))
