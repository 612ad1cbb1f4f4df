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


def downgrade_to(revision: str) -> None:
    """Back to ``revision`` from the seeded demo. Before 0027 no kind of event holds the demo's
    meetings, and that downgrade refuses while they are stored: they become interviews first
    (these tests are about target keys)."""
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET kind = 'interview' WHERE kind = 'meeting'"))
    downgrade(revision=revision)


def test_the_migration_that_changed_the_rules_rebuilds_the_keys(app: Flask) -> None:
    with app.app_context():
        expected = expected_keys()
        downgrade_to("0007")
        with db.engine.begin() as conn:
            conn.execute(sa.delete(TargetKey.__table__))
        upgrade()
        assert stored_keys() == expected


def test_the_migration_that_changed_the_identifier_forms_normalises_them_again(
    app: Flask,
) -> None:
    """Identifiers stored under older normal forms (a phone with Argentina's mobile 9) are
    normalised again from the values as typed, and the keys rebuilt from them."""
    with app.app_context():
        target_id = min(expected_keys())
        identifiers = sa.table(
            "target_identifiers",
            sa.column("target_id"),
            sa.column("kind"),
            sa.column("raw"),
            sa.column("normalized"),
        )
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(identifiers),
                [
                    {
                        "target_id": target_id,
                        "kind": "phone",
                        "raw": "+54 9 11 1234-5678",
                        "normalized": "+5491112345678",  # the form before 0010
                    },
                    {  # refused by the current rules: kept as it was
                        "target_id": target_id,
                        "kind": "phone",
                        "raw": "555-0134",
                        "normalized": "+15550134",
                    },
                ],
            )
        downgrade_to("0009")
        upgrade()
        db.session.remove()
        stored = {
            raw: value
            for raw, value in db.session.execute(
                sa.select(identifiers.c.raw, identifiers.c.normalized).where(
                    identifiers.c.target_id == target_id
                )
            )
        }
        assert stored["+54 9 11 1234-5678"] == "+541112345678"
        assert stored["555-0134"] == "+15550134"
        keys = stored_keys()[target_id]
        assert {"phone:+541112345678", "phone:+15550134"} <= keys
        assert "phone:+5491112345678" not in keys
        assert keys == expected_keys()[target_id]
