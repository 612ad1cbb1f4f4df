"""The migrations build exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from jointops import create_app
from jointops.extensions import db
from jointops.models import EventKind
from tests.conftest import BACKENDS, PostgresDatabases, _database_url, base_config


@contextmanager
def _app_on(url: str) -> Iterator[Flask]:
    app = create_app(base_config(url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def empty_postgres_app(postgres: PostgresDatabases) -> Iterator[Flask]:
    name = postgres.create()
    with _app_on(_database_url(name)) as app:
        yield app
    postgres.drop(name)


@pytest.fixture(params=BACKENDS)
def empty_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    if request.param == "postgresql":
        yield request.getfixturevalue("empty_postgres_app")
        return
    with _app_on(f"sqlite:///{tmp_path / 'empty.sqlite3'}") as app:
        yield app


def _drift() -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


def test_upgrade_from_empty_gives_the_models_schema(empty_app: Flask) -> None:
    upgrade()
    assert _drift() == []


def test_downgrade_then_upgrade_round_trips(empty_app: Flask) -> None:
    upgrade()
    downgrade(revision="base")
    assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
    upgrade()
    assert _drift() == []


def _kind_check() -> str:
    checks = sa.inspect(db.engine).get_check_constraints("events")
    return next(c["sqltext"] for c in checks if c["name"] == "ck_events_kind")


def test_the_kind_check_admits_every_kind_of_event(empty_app: Flask) -> None:
    """The drift test above does not compare check constraints: each kind is checked here."""
    upgrade()
    admitted = _kind_check()
    for kind in EventKind:
        assert f"'{kind.value}'" in admitted, (kind, admitted)
    agency = _agency()
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(*_insert_event(agency, "party"))


def _agency() -> int:
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO agencies (code, name, kind) VALUES ('T', 'T', 'local')"))
        found: int = conn.execute(sa.text("SELECT id FROM agencies WHERE code = 'T'")).scalar_one()
    return found


def _insert_event(agency_id: int, kind: str) -> tuple[sa.TextClause, dict[str, object]]:
    return sa.text(
        "INSERT INTO events (kind, subtype, title, owner_agency_id, starts_at, ends_at, status, "
        "sensitivity, notes, version, created_at, updated_at, all_day) VALUES (:kind, 'x', 'x', "
        ":agency, :start, :end, 'planned', 'normal', '', 1, :start, :start, :all_day)"
    ), {
        "kind": kind,
        "agency": agency_id,
        "start": datetime(2030, 1, 1, 9),
        "end": datetime(2030, 1, 1, 10),
        "all_day": False,
    }


def test_a_downgrade_past_meetings_refuses_while_meetings_are_stored(
    empty_app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    """The old constraint cannot hold a meeting, and no other kind says what it is: the
    downgrade says so (Flask-Migrate exits on it) and changes nothing."""
    upgrade()
    agency = _agency()
    with db.engine.begin() as conn:
        conn.execute(*_insert_event(agency, "meeting"))
    with pytest.raises(SystemExit):
        downgrade(revision="0026")
    assert "1 meeting(s) are stored" in capsys.readouterr().err
    db.session.remove()
    assert "'meeting'" in _kind_check()  # nothing changed
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM events"))
    downgrade(revision="0026")
    assert "'meeting'" not in _kind_check() and "'appointment'" in _kind_check()
    upgrade()
    assert _drift() == []


def test_postgres_has_the_double_booking_exclusion_constraint(empty_postgres_app: Flask) -> None:
    upgrade()
    with db.engine.connect() as conn:
        definition = conn.execute(
            sa.text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'ex_bookings_resource_window'"
            )
        ).scalar_one()
    assert "EXCLUDE USING gist" in definition
    assert "tsrange(starts_at, ends_at, '[)'::text) WITH &&" in definition
    assert "WHERE (active)" in definition
