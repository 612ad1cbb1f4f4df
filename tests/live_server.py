"""The app served by a real gunicorn, for tests that talk HTTP to it.

``LiveServer`` starts ``python -m gunicorn -c gunicorn.conf.py wsgi:app`` as a
subprocess on a free loopback port, configured only through ``JOINTOPS_*``
environment variables, exactly as production is. CSRF protection stays on.
It waits (bounded) until ``/login`` answers, and on the way out stops the
server (SIGTERM, then SIGKILL of its process group) even when the test failed.
gunicorn's output goes to a log file; its tail is shown when the server does
not come up, when the ``with`` block raises, and (as captured teardown output,
which pytest prints next to a failure) after every test that used the fixture.

``HttpClient`` is a standard-library client (``urllib`` and a cookie jar) that
signs in through the real login form and sends ``X-CSRFToken`` on JSON POSTs.

    from tests.live_server import live_server  # noqa: F401  (the fixture)
"""

from __future__ import annotations

import html.parser
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0  # seconds for gunicorn to answer /login
STOP_TIMEOUT = 10.0  # seconds for a graceful shutdown before SIGKILL
LOG_TAIL_LINES = 60
SECRET_KEY = "live-server-test-secret-key-0123456789abcdef"
TIMEZONE = "America/New_York"
DEMO_PASSWORD = "demo-password"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """One gunicorn master with ``workers`` sync workers serving ``database_url``."""

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        workers: int = 2,
        timezone: str = TIMEZONE,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.log_path = Path(log_path)
        self.workers = workers
        self.timezone = timezone
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        """The parent's environment without its ``JOINTOPS_*``/gunicorn settings, plus ours."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("JOINTOPS_") and k != "GUNICORN_CMD_ARGS"
        }
        env.update(
            {
                "JOINTOPS_DATABASE_URL": self.database_url,
                "JOINTOPS_SECRET_KEY": SECRET_KEY,
                "JOINTOPS_TIMEZONE": self.timezone,
                # no background jobs unless a test asks (LIVE_SERVER_ENV)
                "JOINTOPS_SCHEDULER": "off",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> LiveServer:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--graceful-timeout",
            "5",
            "wsgi:app",
        ]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so its workers can be killed too
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with status {self._process.returncode} before answering; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            if self._login_answers():
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"gunicorn did not answer {self.url}/login within {START_TIMEOUT:.0f} s; "
            f"log {self.log_path}:\n{self.log_tail()}"
        )

    def _login_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/login", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except urllib.error.HTTPError as error:
            error.close()
            return False
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - it went just now
                pass
            process.wait(timeout=STOP_TIMEOUT)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is not None:
            print(f"--- tail of {self.log_path} ---\n{self.log_tail()}", file=sys.stderr)


@pytest.fixture
def live_server(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """The app on gunicorn with 4 workers over this test's database (SQLite and PostgreSQL).

    A test module may set ``LIVE_SERVER_ENV = {"JOINTOPS_...": "..."}`` to add settings.
    """
    extra_env = dict(getattr(request.module, "LIVE_SERVER_ENV", {}))
    server = LiveServer(database_url, tmp_path / "gunicorn.log", workers=4, extra_env=extra_env)
    with server:
        yield server
    # Captured teardown output: pytest prints it with the report of a failed test.
    print(f"--- tail of {server.log_path} ---\n{server.log_tail()}", file=sys.stderr)


class _CsrfFinder(html.parser.HTMLParser):
    """Finds ``<input name="csrf_token" value="...">`` in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf_token" and self.token is None:
            self.token = found.get("value")


def csrf_token(page: str) -> str:
    finder = _CsrfFinder()
    finder.feed(page)
    finder.close()
    if not finder.token:
        raise AssertionError("no csrf_token input in the page")
    return finder.token


@dataclass
class Reply:
    status: int
    url: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class HttpClient:
    """A browser-like HTTP client of its own: its own cookie jar, so its own session."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.csrf: str | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        req = urllib.request.Request(  # noqa: S310 - always our http://127.0.0.1 server
            self.base_url + path, data=data, headers=headers or {}, method=method
        )
        try:
            with self._opener.open(req, timeout=self.timeout) as response:
                return Reply(response.status, response.url, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.url, error.read())

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict[str, str]) -> Reply:
        return self.request(
            "POST",
            path,
            data=urllib.parse.urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def post_json(self, path: str, payload: dict[str, Any]) -> Reply:
        assert self.csrf, "sign in first: JSON POSTs need the X-CSRFToken header"
        return self.request(
            "POST",
            path,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf},
        )

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        """Sign in through the real form, then keep a CSRF token of the new session."""
        page = self.get("/login")
        assert page.status == 200, page.status
        reply = self.post_form(
            "/login",
            {"username": username, "password": password, "csrf_token": csrf_token(page.text)},
        )
        assert reply.status == 200 and urllib.parse.urlsplit(reply.url).path == "/calendar", (
            f"login of {username} failed: {reply.status} {reply.url}\n{reply.text[:2000]}"
        )
        # Signing in starts a new session (and with it a new CSRF secret).
        form = self.get("/events/new")
        assert form.status == 200, form.status
        self.csrf = csrf_token(form.text)
