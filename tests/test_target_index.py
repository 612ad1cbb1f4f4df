"""Target keys rebuilt from stored targets when the rules change (deconfliction.target_keys)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from deconflict.targets import target_keys
from jointops.deconfliction.records import target_record
from jointops.deconfliction.target_keys import rebuild_keys
from jointops.extensions import db
from jointops.models import Target, TargetKey


def stored_keys() -> dict[int, set[str]]:
    db.session.remove()  # a read of its own, after the writes of other connections
    found: dict[int, set[str]] = {}
    for target_id, key in db.session.execute(select(TargetKey.target_id, TargetKey.key)):
        found.setdefault(target_id, set()).add(key)
    return found


def expected_keys() -> dict[int, set[str]]:
    return {
        t.id: set(target_keys(target_record(t)))
        for t in db.session.scalars(select(Target))
        if target_keys(target_record(t))
    }


def test_rebuild_replaces_stale_keys_with_the_rules_keys(app: Flask) -> None:
    with app.app_context():
        expected = expected_keys()
        assert len(expected) >= 5  # the demo's targets
        first = min(expected)
        with db.engine.begin() as conn:
            conn.execute(sa.delete(TargetKey.__table__).where(TargetKey.target_id != first))
            conn.execute(
                sa.insert(TargetKey.__table__), [{"target_id": first, "key": "name:OLD:RULE"}]
            )
        assert stored_keys() != expected
        with db.engine.begin() as conn:
            total = rebuild_keys(conn, batch=2)
        assert stored_keys() == expected
        assert total == sum(len(k) for k in expected.values())


def test_the_migration_that_changed_the_rules_rebuilds_the_keys(app: Flask) -> None:
    with app.app_context():
        expected = expected_keys()
        downgrade(revision="0007")
        with db.engine.begin() as conn:
            conn.execute(sa.delete(TargetKey.__table__))
        upgrade()
        assert stored_keys() == expected
