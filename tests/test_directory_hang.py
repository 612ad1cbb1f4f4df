"""A hung directory slows nobody but those signing in, and counts against no one.

The directory is a real slapd frozen with SIGSTOP (its port still accepts connections, nothing
answers), thawed in a ``finally`` block. A process lets only so many sign-ins wait on the
directory at once (``jointops.identity.directory.SignInSlots``); one more answers 503 with
``Retry-After`` at once, before the lockout counts anything, and signed-in users' pages, which
never ask the directory, keep answering. The last test runs the production gunicorn
configuration (threads, the bound derived from them) against the frozen slapd.
"""

from __future__ import annotations

import html
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from auth.demo import DEMO_PASSWORD, LDIF_PATH
from auth.directory import UNAVAILABLE_MESSAGE
from jointops import create_app
from jointops.config import ConfigError, load_config
from jointops.extensions import db
from jointops.identity import lockout
from jointops.identity.directory import BUSY_MESSAGE, SLOTS_KEY, SignInSlots, slots_for_threads
from jointops.models import AuditEntry, LoginThrottle
from tests.conftest import IsolatedClient, base_config
from tests.ldap_server import SlapdServer
from tests.live_server import HttpClient, LiveServer, csrf_token
from tests.test_directory_login import ldap_environment, need_slapd

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
#: long enough that a sign-in waiting on the frozen directory is still waiting while the test
#: makes its other requests (each of which needs no directory)
HUNG_TIMEOUT = "8"
PASSWORD_ERROR = re.compile(r'<p class="error" id="password-error">(.*?)</p>', re.S)


def password_error(page: str) -> str:
    found = PASSWORD_ERROR.search(page)
    assert found is not None, "no error under the password field"
    return html.unescape(found.group(1)).strip()


def counted_failures() -> dict[str, int]:
    """Every lockout counter that holds a failure or a lock, by key (read afresh: the test's
    transaction ends first, so that SQLite shows what other threads committed since)."""
    db.session.commit()
    return {
        row.username: row.failures
        for row in db.session.scalars(select(LoginThrottle))
        if row.failures or row.locked_until is not None
    }


# -- the lockout: attempts that were only waiting leave nothing behind ------------------------


@pytest.mark.parametrize("locker_ends", ["first", "last"])
def test_parallel_attempts_taken_back_in_any_order_leave_no_failure_and_no_lock(
    app: Flask, locker_ends: str
) -> None:
    """Five sign-ins of one name wait on a hung directory: the fifth count sets the lock. Each
    is taken back when the directory fails to answer; whichever ends last, nothing remains."""
    limit = app.config["LOCKOUT_FAILURES"]
    attempts = [lockout.begin("investigator.pbso", "192.0.2.7") for _ in range(limit)]
    assert lockout.locked_until("investigator.pbso") is not None
    with pytest.raises(lockout.Locked):  # meanwhile the name is locked, and counted no more
        lockout.begin("investigator.pbso", "192.0.2.7")
    locker, others = attempts[-1], attempts[:-1]
    order = [locker, *others] if locker_ends == "first" else [*others, locker]
    for attempt in order:
        lockout.take_back(attempt)
    assert counted_failures() == {}
    assert lockout.locked_until("investigator.pbso") is None


def test_real_failures_keep_their_lock_when_a_waiting_attempt_is_taken_back(app: Flask) -> None:
    """Four wrong passwords and one attempt that only waited: the waiting one is no failure."""
    limit = app.config["LOCKOUT_FAILURES"]
    waiting = lockout.begin("investigator.pbso", None)
    for _ in range(limit - 1):
        lockout.begin("investigator.pbso", None)
    assert lockout.locked_until("investigator.pbso") is not None
    lockout.take_back(waiting)
    assert lockout.locked_until("investigator.pbso") is None
    assert counted_failures() == {lockout.key("investigator.pbso"): limit - 1}
    lockout.begin("investigator.pbso", None)  # a fifth real failure locks again
    assert lockout.locked_until("investigator.pbso") is not None


def test_taking_back_what_a_completed_sign_in_cleared_meanwhile_leaves_nothing(
    app: Flask,
) -> None:
    attempt = lockout.begin("investigator.pbso", "192.0.2.7")
    lockout.clear("investigator.pbso")
    db.session.commit()
    lockout.take_back(attempt)
    assert counted_failures() == {}
    assert lockout.key("investigator.pbso") not in {
        row.username for row in db.session.scalars(select(LoginThrottle))
    }


def test_the_derived_bound_leaves_threads_for_everyone_else() -> None:
    assert [slots_for_threads(n) for n in (1, 2, 3, 4, 8)] == [1, 1, 1, 2, 4]


def test_the_configured_bound_wins_and_a_negative_one_is_refused() -> None:
    config = load_config({"JOINTOPS_DIRECTORY_MAX_CONCURRENT": "3"})
    assert config["DIRECTORY_MAX_CONCURRENT"] == 3
    with pytest.raises(ConfigError, match="JOINTOPS_DIRECTORY_MAX_CONCURRENT"):
        create_app(base_config("sqlite://") | {"DIRECTORY_MAX_CONCURRENT": -1})


# -- one process, the frozen directory ------------------------------------------------------


class WatchedSlots(SignInSlots):
    """The app's own slots, telling the test when a sign-in holds one."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.taken = threading.Event()

    @contextmanager
    def hold(self) -> Iterator[None]:
        with super().hold():
            self.taken.set()
            yield


@pytest.fixture
def slapd() -> Iterator[SlapdServer]:
    need_slapd()
    with SlapdServer(LDIF_PATH) as server:
        yield server


@pytest.fixture
def bounded_app(database_url: str, slapd: SlapdServer) -> Iterator[Flask]:
    """The app on slapd, one sign-in at a time waiting on it."""
    environment = ldap_environment(slapd) | {
        "JOINTOPS_LDAP_TIMEOUT": HUNG_TIMEOUT,
        "JOINTOPS_DIRECTORY_MAX_CONCURRENT": "1",
    }
    loaded = load_config(environment)
    settings = {k: v for k, v in loaded.items() if k.startswith("LDAP_")}
    app = create_app(
        base_config(database_url)
        | settings
        | {"DIRECTORY_MAX_CONCURRENT": loaded["DIRECTORY_MAX_CONCURRENT"]}
    )
    assert isinstance(app.extensions[SLOTS_KEY], SignInSlots)
    app.extensions[SLOTS_KEY] = WatchedSlots(1)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def form_sign_in(client: FlaskClient, username: str) -> Any:
    return client.post("/login", data={"username": username, "password": DEMO_PASSWORD})


@pytest.mark.slow
@SQLITE_ONLY
def test_a_sign_in_beyond_the_bound_answers_503_at_once_and_counts_nothing(
    bounded_app: Flask, slapd: SlapdServer
) -> None:
    slots = bounded_app.extensions[SLOTS_KEY]
    assert isinstance(slots, WatchedSlots)
    signed = bounded_app.test_client()
    assert form_sign_in(signed, "supervisor.pbso").status_code == 302
    slots.taken.clear()
    before = counted_failures()

    slapd.pause()
    hung: Future[Any]
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            hung = pool.submit(form_sign_in, bounded_app.test_client(), "investigator.pbso")
            assert slots.taken.wait(timeout=30), "the first sign-in never took its slot"

            page = form_sign_in(bounded_app.test_client(), "agent.chen.fbi")
            api = bounded_app.test_client().post(
                "/api/login", json={"username": "advocate.vs", "password": DEMO_PASSWORD}
            )
            calendar = signed.get("/calendar")
            still_waiting = not hung.done()
            during = counted_failures()
        finally:
            slapd.resume()
        first = hung.result(timeout=60)

    assert still_waiting, "the refusals waited for the hung sign-in"
    assert page.status_code == 503
    assert page.headers["Retry-After"] == HUNG_TIMEOUT
    assert password_error(page.get_data(as_text=True)) == BUSY_MESSAGE
    assert api.status_code == 503
    assert api.headers["Retry-After"] == HUNG_TIMEOUT
    assert api.get_json() == {"error": BUSY_MESSAGE, "status": 503}
    assert calendar.status_code == 200
    # the refused names were never counted
    for refused in ("agent.chen.fbi", "advocate.vs"):
        assert lockout.key(refused) not in during
    # thawed, the waiting sign-in got its answer (in time, or "unavailable"); nothing remains
    assert first.status_code in (302, 503)
    assert counted_failures() == before == {}
    outcomes = [
        entry.outcome
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login").order_by(AuditEntry.id)
        )
    ]
    assert outcomes.count("busy") == 2
    assert form_sign_in(bounded_app.test_client(), "agent.chen.fbi").status_code == 302


@pytest.mark.slow
@SQLITE_ONLY
def test_a_directory_that_is_down_answers_503_with_retry_after(
    bounded_app: Flask, slapd: SlapdServer
) -> None:
    slapd.stop()
    page = form_sign_in(bounded_app.test_client(), "investigator.pbso")
    api = bounded_app.test_client().post(
        "/api/login", json={"username": "investigator.pbso", "password": DEMO_PASSWORD}
    )
    assert (page.status_code, page.headers["Retry-After"]) == (503, HUNG_TIMEOUT)
    assert password_error(page.get_data(as_text=True)) == UNAVAILABLE_MESSAGE
    assert (api.status_code, api.headers["Retry-After"]) == (503, HUNG_TIMEOUT)
    assert api.get_json() == {"error": UNAVAILABLE_MESSAGE, "status": 503}
    assert counted_failures() == {}


# -- gunicorn with the production configuration ----------------------------------------------


def form_post(client: HttpClient, username: str) -> tuple[int, str, str | None]:
    """Sign in through the form: the status, the message under the password, Retry-After."""
    page = client.get("/login")
    fields = {"username": username, "password": DEMO_PASSWORD, "csrf_token": csrf_token(page.text)}
    request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 server
        client.base_url + "/login",
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(client.cookies))
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, "", None
    except urllib.error.HTTPError as error:
        with error:
            body = error.read().decode()
            return error.code, password_error(body), error.headers.get("Retry-After")


def api_post(base_url: str, username: str) -> tuple[int, Any, str | None]:
    request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 server
        base_url + "/api/login",
        data=json.dumps({"username": username, "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read()), None
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read()), error.headers.get("Retry-After")


@pytest.mark.slow
@pytest.mark.clockless  # the gunicorn under test runs on the machine's clock
@SQLITE_ONLY
def test_gunicorn_keeps_serving_signed_in_users_while_sign_ins_hang(
    database_url: str, slapd: SlapdServer, tmp_path: Path
) -> None:
    """One worker of the production configuration (4 threads, so 2 sign-in slots); 6 sign-ins
    against the frozen directory: 2 wait, 4 are refused at once, and a signed-in user's pages
    answer while the 2 still wait."""
    environment = ldap_environment(slapd) | {"JOINTOPS_LDAP_TIMEOUT": HUNG_TIMEOUT}
    log = tmp_path / "gunicorn.log"
    with LiveServer(database_url, log, workers=1, extra_env=environment) as server:
        reader = HttpClient(server.url)
        reader.login("supervisor.pbso")
        names = ["investigator.pbso", "agent.chen.fbi", "investigator.hsi"]
        slapd.pause()
        with ThreadPoolExecutor(max_workers=6) as pool:
            try:
                sign_ins: list[Future[tuple[int, Any, str | None]]] = []
                for name in names:
                    sign_ins.append(pool.submit(form_post, HttpClient(server.url), name))
                    sign_ins.append(pool.submit(api_post, server.url, name))
                refused = []
                for future in as_completed(sign_ins):
                    refused.append(future)
                    if len(refused) == len(sign_ins) - 2:
                        break
                pages = [reader.get(path).status for path in ("/calendar", "/alerts", "/calendar")]
                waiting = [future for future in sign_ins if not future.done()]
            finally:
                slapd.resume()
            answered = [future.result() for future in refused]
            # thawed, the two that waited get their answer: in time, or "unavailable"
            last = [future.result(timeout=60)[0] for future in waiting]
    assert len(waiting) == 2, server.log_tail()
    assert pages == [200, 200, 200]
    assert all(status in (200, 302, 503) for status in last)
    assert [(status, retry) for status, _, retry in answered] == [(503, HUNG_TIMEOUT)] * 4
    for _, said, _ in answered:
        assert said in (BUSY_MESSAGE, {"error": BUSY_MESSAGE, "status": 503})
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            left = conn.execute(
                sa.select(LoginThrottle.username).where(
                    (LoginThrottle.failures > 0) | LoginThrottle.locked_until.is_not(None)
                )
            ).all()
    finally:
        engine.dispose()
    assert left == []
