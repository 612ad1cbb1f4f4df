"""A feed URL's token never reaches a log: not werkzeug's, not gunicorn's, not the app's."""

from __future__ import annotations

import logging
import shutil
import string
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.serving import make_server

from jointops import create_app
from jointops.extensions import db
from jointops.feeds import tokens as feed_tokens
from jointops.feeds.logredact import FeedSecretFilter, scrub
from jointops.feeds.logredact import _decoded as fully_decoded
from jointops.models import User
from tests.conftest import base_config
from tests.live_server import LiveServer

# Log scrubbing depends on no date; the gunicorn here runs on the machine's clock anyway.
pytestmark = pytest.mark.clockless

SECRET = "tVrzvxLDI4rtezKw_PUGNrWpCHTaFv4bJs2hZzVwj6o"


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /feeds/{SECRET}.ics HTTP/1.1" 200 -',
        f"Exception on /feeds/{SECRET}.ics [GET]",
        f"webcal://ops.example/feeds/{SECRET}.ics and http://x/feeds/{SECRET}.ics",
        f"/feeds/{SECRET.replace('_', '%5F')}.ics",  # percent-encoded on the wire
    ],
)
def test_scrub_replaces_the_token_with_a_hash_prefix(line: str) -> None:
    cleaned = scrub(line)
    assert SECRET not in cleaned and SECRET[:10] not in cleaned
    assert f"/feeds/{feed_tokens.log_id(SECRET)}.ics" in cleaned
    assert scrub(cleaned) == cleaned  # idempotent
    assert scrub("GET /calendar HTTP/1.1") == "GET /calendar HTTP/1.1"


@pytest.mark.parametrize(
    "path",
    [
        f"/feeds/{SECRET}%2Eics",
        f"/feeds/{SECRET}.ic%73",
        f"/feeds/{SECRET}%252eics",
        f"/FEEDS/{SECRET}.ICS",
        f"/f%65eds%2F{SECRET}.ics",
        f"/feeds//{SECRET}.ics/",
        f"/feeds/{SECRET}.ics;jsessionid=1",
        f"/feeds/{SECRET}.ics?refresh=1",
        f"/feeds/{SECRET}",
        f"/feeds/{SECRET}.json",
    ],
)
def test_scrub_catches_every_spelling_of_a_feed_path(path: str) -> None:
    cleaned = scrub(f"GET {path} HTTP/1.1")
    assert SECRET not in fully_decoded(cleaned)
    assert feed_tokens.log_id(SECRET) in cleaned
    assert scrub(cleaned) == cleaned


def test_scrub_keeps_what_is_no_secret() -> None:
    for line in ("POST /feeds/12/revoke HTTP/1.1", "GET /feeds HTTP/1.1", "/feedback/x"):
        assert scrub(line) == line


def _spelt(draw: st.DrawFn, text: str, *, any_case: bool = True) -> str:
    """``text`` with each character as it is (or in the other case), or percent-encoded once or
    twice with capital or small hex digits."""
    out = []
    for char in text:
        code = f"%{ord(char):02X}"
        cased = [char.swapcase()] if any_case else []
        out.append(draw(st.sampled_from([char, *cased, code, code.lower(), "%25" + code[1:]])))
    return "".join(out)


@st.composite
def feed_lines(draw: st.DrawFn) -> tuple[str, str]:
    """A log line with a feed path spelt any way a client could, and the secret in it."""
    secret = draw(st.text(string.ascii_letters + string.digits + "-_", min_size=20, max_size=43))
    slash = draw(st.sampled_from(["/", "//", "%2F", "%2f", "%252F"]))
    suffix = draw(st.sampled_from(["", ".ics", ".ICS", ".json", "/", ";x", ".ics;v=2", ".ics/"]))
    tail = draw(st.sampled_from(["", "?refresh=1", "#top", " HTTP/1.1", '" 200 -']))
    prefix = draw(st.sampled_from(["GET ", '"GET ', "webcal://ops.example", "Exception on "]))
    path = (
        "/"
        + _spelt(draw, "feeds")
        + slash
        + _spelt(draw, secret, any_case=False)
        + _spelt(draw, suffix)
    )
    return prefix + path + tail, secret


@settings(max_examples=400, deadline=None)
@given(feed_lines())
def test_no_spelling_of_a_feed_path_leaks_its_secret(case: tuple[str, str]) -> None:
    line, secret = case
    cleaned = scrub(line)
    assert secret not in fully_decoded(cleaned)
    assert secret.lower() not in fully_decoded(cleaned).lower()
    assert feed_tokens.log_id(secret) in cleaned
    assert scrub(cleaned) == cleaned


def test_the_filter_rewrites_messages_and_arguments() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "%s %s", (f"/feeds/{SECRET}.ics", 200), None
    )
    FeedSecretFilter().filter(record)
    assert SECRET not in record.getMessage()
    mapping = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "%(r)s", ({"r": f"GET /feeds/{SECRET}.ics"},), None
    )
    FeedSecretFilter().filter(mapping)
    assert SECRET not in mapping.getMessage()


@pytest.fixture
def sqlite_app(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    path = tmp_path / "jointops.sqlite3"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = create_app(base_config(url))
    with app.app_context():
        yield app, url
        db.session.remove()
        db.engine.dispose()


def _secret(username: str = "advocate.vs") -> str:
    person = db.session.scalar(select(User).where(User.username == username))
    assert person is not None
    return feed_tokens.create(person, "logs", "personal")[1]


def test_the_development_server_log_shows_no_token(
    sqlite_app: tuple[Flask, str], caplog: pytest.LogCaptureFixture
) -> None:
    app, _ = sqlite_app
    secret = _secret()
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.INFO)
    try:
        url = f"http://127.0.0.1:{server.port}/feeds/{secret}.ics"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status == 200
    finally:
        server.shutdown()
        thread.join(timeout=10)
    requests = [r for r in caplog.records if r.name == "werkzeug" and "GET" in r.getMessage()]
    assert requests, caplog.text
    assert secret not in caplog.text
    assert f"/feeds/{feed_tokens.log_id(secret)}.ics" in caplog.text


@pytest.mark.slow
def test_gunicorn_logs_show_no_token(sqlite_app: tuple[Flask, str], tmp_path: Path) -> None:
    _, url = sqlite_app
    secret = _secret()
    db.session.remove()
    with LiveServer(url, tmp_path / "gunicorn.log", workers=1) as server:
        for path in (
            f"/feeds/{secret}.ics",
            f"/feeds/{secret}%2Eics",
            f"/feeds/{secret}.ic%73",
            f"/feeds/{secret}.ics;x?y=1",
            f"/feeds/{secret[:-1]}0.ics",
        ):
            try:
                with urllib.request.urlopen(server.url + path, timeout=10) as response:  # noqa: S310
                    assert response.status == 200
            except urllib.error.HTTPError as error:
                assert error.code == 404
                error.close()
    log = (tmp_path / "gunicorn.log").read_text()
    assert "GET /feeds/sha256:" in log, log[-2000:]
    assert secret not in log and secret[:-1] not in log
    assert f"/feeds/{feed_tokens.log_id(secret)}.ics" in log
