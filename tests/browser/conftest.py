"""Fixtures of the browser tests: one gunicorn per module over a copy of the seeded SQLite
database (what is under test is the page, not the database), one Chromium, fresh contexts."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, SCREENSHOTS
from tests.conftest import need
from tests.live_server import LiveServer


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    database = workdir / "jointops.sqlite3"
    shutil.copyfile(sqlite_template, database)
    live = LiveServer(f"sqlite:///{database}", workdir / "gunicorn.log", workers=2)
    with live:
        yield live
    print(f"--- tail of {live.log_path} ---\n{live.log_tail()}", file=sys.stderr)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(CHROMIUM.exists(), f"{CHROMIUM} not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(viewport)``: a page in a fresh context (its own cookies)."""
    contexts = []

    def make(viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(viewport=viewport, locale="en-US")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
