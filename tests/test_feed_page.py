"""The feeds page on a phone: the QR code of the new feed, and URLs that work from where it is.

A QR code is read back module by module from the page's SVG and compared with segno's
encoding of the ``webcal://`` address the page shows; addresses follow ``JOINTOPS_BASE_URL``
when it is set and otherwise the request's own host (``X-Forwarded-Host`` only behind
``JOINTOPS_PROXY_HOPS`` trusted proxies), and the address shown is one that serves the feed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import segno
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.app import create_app
from jointops.extensions import db
from jointops.identity import sessions
from jointops.models import User
from tests.conftest import IsolatedClient, base_config
from tests.live_server import HttpClient, LiveServer, csrf_token

Login = Callable[[str], FlaskClient]

SHOWN = re.compile(r'id="feed-url" type="text" value="([^"]+)"')
WEBCAL = re.compile(r'<a class="btn" href="(webcal://[^"]+)">Open in calendar app</a>')
QR_PATH = re.compile(r'<path class="qrline" stroke="[^"]+" d="([^"]+)"')
STEP = re.compile(r"([Mmhv])(-?\d+)(?: (-?\d+(?:\.\d+)?))?")


def sign_in(app: Flask, username: str, base_url: str = "http://localhost") -> FlaskClient:
    """A client signed in as ``username`` whose requests go to ``base_url``'s host."""
    person = db.session.scalar(select(User).where(User.username == username))
    assert person is not None
    with app.test_request_context():
        sid = sessions.start(person)
        db.session.commit()
    browser = app.test_client()
    with browser.session_transaction(base_url=base_url) as session:
        session.update({"_user_id": str(person.id), "_fresh": True, "sid": sid})
    return browser


def created(browser: FlaskClient, **request: Any) -> tuple[str, str, str]:
    """Create a feed on the page: the address shown, its ``webcal://`` link and the page."""
    page = browser.post("/feeds", data={"label": "Phone", "scope": "personal"}, **request)
    assert page.status_code == 201, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    shown, webcal = SHOWN.search(text), WEBCAL.search(text)
    assert shown is not None and webcal is not None, text
    return html.unescape(shown.group(1)), html.unescape(webcal.group(1)), text


def modules(svg_path: str) -> set[tuple[int, int]]:
    """The dark modules (row, column) drawn by segno's SVG path: horizontal runs of strokes."""
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, first, second in STEP.findall(svg_path):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        elif command == "h":
            end = x + float(first)
            dark.update((int(y), column) for column in range(int(x), int(end)))
            x = end
        else:
            raise AssertionError(f"unexpected path command {command!r}")
    return dark


def matrix_of(url: str, border: int) -> set[tuple[int, int]]:
    """The dark modules of ``url`` as segno encodes it (error correction M), with a border."""
    code = segno.make(url, error="m")
    return {
        (row + border, column + border)
        for row, line in enumerate(code.matrix)
        for column, value in enumerate(line)
        if value
    }


def test_the_qr_code_holds_exactly_the_webcal_address_shown(app: Flask, login: Login) -> None:
    browser = login("advocate.vs")
    shown, webcal, page = created(browser)
    assert webcal == "webcal://" + shown.split("://", 1)[1]
    path = QR_PATH.search(page)
    assert path is not None, page
    assert 'role="img"' in page and "scan this with the camera" in page
    read = modules(path.group(1))
    assert read == matrix_of(webcal, border=2)
    # the comparison tells addresses apart: one character more is another code
    assert read != matrix_of(webcal + "x", border=2)
    assert read != matrix_of(shown, border=2)
    for app_name in ("iPhone", "Android", "Outlook"):
        assert app_name in page
    # The address shown serves the feed.
    assert browser.get(urlsplit(shown).path).status_code == 200


def test_without_a_base_url_addresses_are_the_requests_own(app: Flask, login: Login) -> None:
    assert app.config["BASE_URL"] == ""
    browser = sign_in(app, "advocate.vs", "http://calendar.taskforce.test:8443")
    shown, webcal, _ = created(browser, base_url="http://calendar.taskforce.test:8443")
    assert shown.startswith("http://calendar.taskforce.test:8443/feeds/")
    assert webcal.startswith("webcal://calendar.taskforce.test:8443/feeds/")
    # With no trusted proxy, forwarded headers are anyone's to send: ignored.
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    browser = login("advocate.vs")
    shown, webcal, _ = created(browser, headers=forged)
    assert shown.startswith("http://localhost/feeds/")
    assert webcal.startswith("webcal://localhost/feeds/")


def test_a_base_url_when_set_is_every_address(app: Flask, login: Login) -> None:
    app.config["BASE_URL"] = "https://jointops.taskforce.test/ops"
    browser = sign_in(app, "advocate.vs", "http://10.0.0.7:8000")
    shown, webcal, page = created(browser, base_url="http://10.0.0.7:8000")
    assert shown.startswith("https://jointops.taskforce.test/ops/feeds/")
    assert webcal.startswith("webcal://jointops.taskforce.test/ops/feeds/")
    path = QR_PATH.search(page)
    assert path is not None and modules(path.group(1)) == matrix_of(webcal, border=2)


@pytest.fixture
def proxied(database_url: str) -> Iterator[Flask]:
    """The app as deployed behind one reverse proxy (``JOINTOPS_PROXY_HOPS=1``)."""
    app = create_app(base_config(database_url) | {"PROXY_HOPS": 1})
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_behind_a_trusted_proxy_addresses_are_the_forwarded_host(proxied: Flask) -> None:
    browser = sign_in(proxied, "advocate.vs")
    forwarded = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Host": "calendar.taskforce.test",
        "X-Forwarded-Proto": "https",
    }
    shown, webcal, _ = created(browser, headers=forwarded)
    assert shown.startswith("https://calendar.taskforce.test/feeds/")
    assert webcal.startswith("webcal://calendar.taskforce.test/feeds/")


def test_the_feeds_page_is_for_signed_in_users_only(client: FlaskClient) -> None:
    page = client.post("/feeds", data={"label": "Phone", "scope": "personal"})
    assert page.status_code in (302, 401) and "webcal" not in page.get_data(as_text=True)


@pytest.mark.slow
@pytest.mark.clockless  # the gunicorn under test runs on the machine's clock
def test_on_gunicorn_at_another_port_the_address_shown_serves_the_feed(
    database_url: str, tmp_path: Path
) -> None:
    """No JOINTOPS_BASE_URL: the page names the port gunicorn really listens on, and it works."""
    with LiveServer(database_url, tmp_path / "gunicorn.log", workers=1) as server:
        browser = HttpClient(server.url)
        browser.login("advocate.vs")
        page = browser.get("/feeds")
        reply = browser.post_form(
            "/feeds", {"label": "Phone", "scope": "personal", "csrf_token": csrf_token(page.text)}
        )
        assert reply.status == 201, reply.text[:2000]
        shown = SHOWN.search(reply.text)
        assert shown is not None
        url = html.unescape(shown.group(1))
        assert url.startswith(f"http://127.0.0.1:{server.port}/feeds/")
        feed = HttpClient("").get(url)  # as a calendar app: the whole address, no session
        assert feed.status == 200 and feed.body.startswith(b"BEGIN:VCALENDAR")
