"""Fixtures: an app on its own database per test, clients signed in per role.

Every test that takes ``app`` runs on SQLite and on PostgreSQL. The schema
comes from the migrations (never ``create_all``) and the demo data from
``seed-demo``, both built once per session into a template that each test
copies: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL.
PostgreSQL runs when ``JOINTOPS_TEST_POSTGRES_URL`` is set; without it the
PostgreSQL half is skipped, except under CI, where that is a failure.
``JOINTOPS_TEST_BACKENDS=sqlite`` runs the SQLite half alone.

Time is an input: ``JOINTOPS_TEST_CLOCK`` (``2026-03-08T02:30 America/New_York``)
moves the whole run, template seeding included, to that instant, from where the
clock keeps ticking. ``make test-clocks`` runs the suite under several such clocks.
"""

from __future__ import annotations

import contextvars
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

from jointops import create_app
from jointops.extensions import db

if TYPE_CHECKING:
    from jointops.models import User

ON_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("JOINTOPS_TEST_POSTGRES_URL", "")
BACKENDS = os.environ.get("JOINTOPS_TEST_BACKENDS", "sqlite,postgresql").split(",")
TEST_CLOCK = os.environ.get("JOINTOPS_TEST_CLOCK", "")
_CLOCK = pytest.StashKey[time_machine.travel]()


def parse_clock(text: str) -> datetime:
    """``2026-12-31T23:30 America/New_York`` -> that aware instant."""
    stamp, _, zone = text.strip().partition(" ")
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        if not zone:
            raise pytest.UsageError(f"JOINTOPS_TEST_CLOCK={text!r}: give an offset or a zone")
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment


def pytest_configure(config: pytest.Config) -> None:
    if TEST_CLOCK:
        traveller = time_machine.travel(parse_clock(TEST_CLOCK), tick=True)
        traveller.start()
        config.stash[_CLOCK] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_CLOCK, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header() -> str:
    if not TEST_CLOCK:
        return "clock: the machine's"
    return f"clock: from {parse_clock(TEST_CLOCK).isoformat()} (JOINTOPS_TEST_CLOCK)"


def need(condition: bool, reason: str) -> None:
    """Skip when something a test needs is missing; under CI that is a failure."""
    if condition:
        return
    if ON_CI:
        pytest.fail(f"CI needs this: {reason}")
    pytest.skip(reason)


def base_config(url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "TIMEZONE": "America/New_York",
        # tests sign in several roles at once, some as the same user
        "SESSIONS_PER_USER": 5,
        # create_app never starts the scheduler; this keeps any helper from doing so either
        "SCHEDULER": "off",
    }


def migrate_and_seed(url: str, *, seed: bool = True) -> None:
    from flask_migrate import upgrade

    from jointops.demo import seed_demo
    from jointops.officetime import today_local

    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        if seed:
            seed_demo(today_local())
        db.session.remove()
        db.engine.dispose()


def _admin_engine() -> sa.Engine:
    return sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def _database_url(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


class PostgresDatabases:
    """Creates throw-away databases on the test server and drops them again."""

    def __init__(self) -> None:
        self.engine = _admin_engine()
        self.prefix = f"jointops_test_{uuid.uuid4().hex[:8]}"

    def create(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        with self.engine.connect() as conn:
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        return name

    def drop(self, name: str) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    if "postgresql" not in BACKENDS:
        pytest.skip("JOINTOPS_TEST_BACKENDS leaves PostgreSQL out")
    need(bool(POSTGRES_URL), "JOINTOPS_TEST_POSTGRES_URL is not set")
    databases = PostgresDatabases()
    yield databases
    databases.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "jointops.sqlite3"
    migrate_and_seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresDatabases) -> Iterator[str]:
    name = postgres.create()
    migrate_and_seed(_database_url(name))
    yield name
    postgres.drop(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated and seeded database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "jointops.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    name = postgres.create(template=request.getfixturevalue("postgres_template"))
    yield _database_url(name)
    postgres.drop(name)


@pytest.fixture
def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


class IsolatedClient(FlaskClient):
    """Runs each request in a context of its own, as a server does.

    Without this a request would reuse the test's app context, and with it
    ``g`` (Flask-Login's cached user) and the test's database session, hiding
    anything that must be re-read per request, such as an ended session. The
    test's pending changes are committed first so the request sees them, and
    its objects are expired afterwards so the test sees what the request did.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        if has_app_context():
            db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(base_config(database_url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def login(app: Flask) -> Callable[[str], FlaskClient]:
    """``login("investigator.pbso")``: a new client signed in as that demo user."""
    from sqlalchemy import select

    from jointops.models import User

    def sign_in(username: str) -> FlaskClient:
        from jointops.identity import sessions

        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None, f"no demo user {username}"
        with app.test_request_context():
            token = sessions.start(user)
            db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
            session["sid"] = token
        return client

    return sign_in


#: a CSRF token's value: signed with the second it was made, so two pages a second apart differ
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=)"[^"]*"')


def without_csrf(page: str) -> str:
    """A page with its CSRF tokens blanked, to compare two answers as the user reads them."""
    return CSRF_VALUE.sub(r'\1""', page)


def user(username: str) -> User:
    from sqlalchemy import select

    from jointops.models import User

    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None, username
    return found


def own_investigator(agency_code: str) -> User:
    """An investigator of ``agency_code`` of the test's own, on none of the demo's events: the
    demo is seeded around the clock's today, which may be the very days a test books (tests
    pick their own people, rooms and times). Sign in with ``login(user.username)``."""
    from sqlalchemy import select

    from jointops.models import Agency, User, UserRole

    username = f"own.investigator.{agency_code.lower()}"
    found = db.session.scalar(select(User).where(User.username == username))
    if found is not None:
        return found
    agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
    assert agency is not None, agency_code
    made = User(
        username=username,
        dn=f"uid={username},ou=people,dc=test",
        display_name=f"Own Investigator {agency_code}",
        agency_id=agency.id,
    )
    made.role_rows.append(UserRole(role="investigator"))
    db.session.add(made)
    db.session.commit()
    return made
