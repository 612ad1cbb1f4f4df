"""The front door against a real OpenLDAP slapd: lockout by account, input refused before the
directory, an atomic count under 60 parallel attempts, the size limit, the address throttle.

The app's directory is wrapped in ``Counting``, which counts the sign-ins that reach it.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import make_server

from auth.demo import DEMO_PASSWORD
from auth.directory import Directory, DirectoryAgency, DirectoryUser, any_account
from jointops.extensions import db
from jointops.identity.directory import EXTENSION_KEY, get_directory
from jointops.models import LoginThrottle
from tests.ldap_server import SlapdServer
from tests.test_directory_login import (  # noqa: F401 - fixtures
    BAD_LOGIN,
    app,
    make_app,
    person,
    slapd,
)

pytestmark = pytest.mark.slow

LOCKED = "Too many failed sign-ins"


class Counting:
    """The app's directory, counting the sign-ins that reach it (from any thread)."""

    def __init__(self, inner: Directory) -> None:
        self.inner, self.calls, self.binds = inner, 0, 0
        self._lock = threading.Lock()

    def authenticate(
        self, username: str, password: str, *, before_bind: Callable[[str], None] = any_account
    ) -> DirectoryUser:
        with self._lock:
            self.calls += 1

        def counted(dn: str) -> None:
            before_bind(dn)
            with self._lock:
                self.binds += 1

        return self.inner.authenticate(username, password, before_bind=counted)

    def users(self) -> Iterator[DirectoryUser]:
        return self.inner.users()

    def agencies(self) -> list[DirectoryAgency]:
        return self.inner.agencies()


@pytest.fixture
def counting(app: Flask) -> Counting:  # noqa: F811
    wrapped = Counting(get_directory())
    app.extensions[EXTENSION_KEY] = wrapped
    return wrapped


def api_login(
    client: FlaskClient, username: str, password: str = DEMO_PASSWORD, **kwargs: Any
) -> Any:
    return client.post("/api/login", json={"username": username, "password": password}, **kwargs)


def fail_five(client: FlaskClient, *names: str) -> None:
    for i in range(5):
        reply = api_login(client, names[i % len(names)], "not-the-password")
        assert reply.status_code == 401, reply.get_json()


# -- one account, whatever the spelling ---------------------------------------------------


def test_openldap_takes_a_full_width_spelling(app: Flask) -> None:  # noqa: F811
    """The premise: slapd normalises names, so this spelling opens the account."""
    reply = api_login(app.test_client(), "ｉnvestigator.hsi")
    assert reply.status_code == 200
    assert reply.get_json()["user"]["username"] == "investigator.hsi"


@pytest.mark.parametrize("spelling", ["ｉnvestigator.hsi", "INVESTIGATOR.HSI", " investigator.hsi"])
def test_a_locked_account_stays_locked_in_another_spelling(
    app: Flask,  # noqa: F811
    counting: Counting,
    spelling: str,
) -> None:
    client = app.test_client()
    fail_five(client, "investigator.hsi")
    reply = api_login(client, spelling)
    assert reply.status_code == 429
    assert LOCKED in reply.get_json()["error"]
    assert counting.calls == 5


def test_a_second_login_name_of_the_account_is_locked_with_it(
    app: Flask,  # noqa: F811
    slapd: SlapdServer,  # noqa: F811
    counting: Counting,
) -> None:
    """Two ``uid`` values, one entry: no folding of names equates them, the account's DN does."""
    with slapd.admin() as ldap:
        ldap.modify(person("investigator.hsi"), {"uid": [("MODIFY_ADD", ["hsi.investigator"])]})
    client = app.test_client()
    fail_five(client, "investigator.hsi", "INVESTIGATOR.hsi")
    reply = api_login(client, "hsi.investigator")
    assert reply.status_code == 429
    assert counting.binds == 5  # the sixth was stopped once the name resolved, before its bind


def test_an_unknown_names_spellings_count_together(app: Flask, counting: Counting) -> None:  # noqa: F811
    client = app.test_client()
    fail_five(client, "nobody.here", "ＮＯＢＯＤＹ.here", "Nobody.Here ")
    assert api_login(client, "NOBODY.HERE").status_code == 429
    assert counting.calls == 5
    assert counting.binds == 0


def test_a_right_password_after_four_failures_signs_in_and_clears_the_count(
    app: Flask,  # noqa: F811
) -> None:
    client = app.test_client()
    for _ in range(4):
        assert api_login(client, "ｉnvestigator.hsi", "nope").status_code == 401
    assert api_login(client, "investigator.hsi").status_code == 200
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(LoginThrottle)
            .where(LoginThrottle.username.not_like("addr:%"), LoginThrottle.failures > 0)
        )
        == 0
    )


# -- input that no directory should see ---------------------------------------------------


@pytest.mark.parametrize("password", [DEMO_PASSWORD + "\x00", "demo\x07password", "x\ud800"])
def test_control_characters_get_the_unknown_users_answer_and_count(
    app: Flask,  # noqa: F811
    counting: Counting,
    password: str,
) -> None:
    """Before: 503 "Directory unavailable" for an existing user (ldap3's SASLprep refused it),
    401 for an unknown one, and never counted."""
    client = app.test_client()
    known = api_login(client, "investigator.hsi", password)
    unknown = api_login(client, "nobody.here", password)
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json())
    assert known.status_code == 401 and known.get_json()["error"] == BAD_LOGIN
    for _ in range(4):
        api_login(client, "investigator.hsi", password)
    assert api_login(client, "investigator.hsi").status_code == 429
    assert counting.calls == 0


def test_a_control_character_in_the_username_never_reaches_the_directory(
    app: Flask,  # noqa: F811
    counting: Counting,
) -> None:
    client = app.test_client()
    answers = [
        api_login(client, "investigator.hsi\x00"),
        api_login(client, "nobody.here\x00"),
        api_login(client, "investigator.hsi\ud800"),
        api_login(client, "nobody.here\ud800"),
    ]
    assert [r.status_code for r in answers] == [401] * 4  # a wrong name's answer
    assert counting.calls == 0


# -- size ----------------------------------------------------------------------------------


def test_a_body_over_the_limit_answers_413(app: Flask, counting: Counting) -> None:  # noqa: F811
    big = "a" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    reply = api_login(app.test_client(), big)
    assert reply.status_code == 413
    assert "too large" in reply.get_json()["error"]
    page = app.test_client().post("/login", data={"username": big, "password": "x"})
    assert page.status_code == 413
    assert "too large" in page.get_data(as_text=True)
    assert counting.calls == 0


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [("u" * 129, DEMO_PASSWORD, "username"), ("investigator.hsi", "p" * 257, "password")],
)
def test_long_input_is_refused_on_every_path_without_the_directory(
    app: Flask,  # noqa: F811
    counting: Counting,
    username: str,
    password: str,
    field: str,
) -> None:
    reply = api_login(app.test_client(), username, password)
    assert reply.status_code == 400
    assert reply.get_json()["errors"] == {
        field: ["At most 128 characters." if field == "username" else "At most 256 characters."]
    }
    page = app.test_client().post("/login", data={"username": username, "password": password})
    assert page.status_code == 400
    assert "At most" in page.get_data(as_text=True)
    assert counting.calls == 0


# -- the address throttle ------------------------------------------------------------------


def test_one_address_is_throttled_across_names(
    make_app: Callable[..., Flask],  # noqa: F811
    slapd: SlapdServer,  # noqa: F811
) -> None:
    served = make_app(slapd)
    served.config.update(LOGIN_ADDRESS_FAILURES=3)
    client = served.test_client()
    near = {"REMOTE_ADDR": "203.0.113.7"}
    for name in ("a.one", "b.two", "c.three"):
        assert api_login(client, name, "x", environ_base=near).status_code == 401
    blocked = api_login(client, "investigator.hsi", environ_base=near)
    assert blocked.status_code == 429
    assert "from your network address" in blocked.get_json()["error"]
    elsewhere = api_login(
        served.test_client(), "investigator.hsi", environ_base={"REMOTE_ADDR": "198.51.100.9"}
    )
    assert elsewhere.status_code == 200


def test_the_throttle_counts_the_address_the_proxy_reports(
    make_app: Callable[..., Flask],  # noqa: F811
    slapd: SlapdServer,  # noqa: F811
) -> None:
    """Behind one proxy (JOINTOPS_PROXY_HOPS=1) the client is X-Forwarded-For's last hop."""
    served = make_app(slapd)
    served.config.update(LOGIN_ADDRESS_FAILURES=2)
    served.wsgi_app = ProxyFix(served.wsgi_app, x_for=1)  # type: ignore[method-assign]
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(2):
        api_login(
            served.test_client(),
            "x.y",
            "x",
            environ_base=proxy,
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
    other = api_login(
        served.test_client(),
        "investigator.hsi",
        environ_base=proxy,
        headers={"X-Forwarded-For": "198.51.100.9"},
    )
    assert other.status_code == 200
    same = api_login(
        served.test_client(),
        "investigator.hsi",
        environ_base=proxy,
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert same.status_code == 429


# -- the race ------------------------------------------------------------------------------

PARALLEL = 60


def test_sixty_parallel_wrong_passwords_let_at_most_five_reach_the_directory(
    app: Flask,  # noqa: F811
    counting: Counting,
) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    barrier = threading.Barrier(PARALLEL, timeout=60)
    body = json.dumps({"username": "investigator.hsi", "password": "wrong"}).encode()

    def attempt(_: int) -> int:
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"http://127.0.0.1:{server.port}/api/login",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
                return int(reply.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)

    try:
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            statuses = sorted(pool.map(attempt, range(PARALLEL)))
    finally:
        server.shutdown()
        thread.join(timeout=10)
    print(f"{counting.calls} of {PARALLEL} parallel attempts reached the directory")  # -rP
    assert counting.calls <= 5
    assert statuses == [401] * counting.calls + [429] * (PARALLEL - counting.calls)
    assert api_login(app.test_client(), "investigator.hsi").status_code == 429
