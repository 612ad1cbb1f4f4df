"""The migrations build exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from jointops import create_app
from jointops.extensions import db
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
