"""Units of work: a counters-only one (``durable=False``) commits without waiting for the disk,
and the transactions after it on the same connection wait again."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from jointops.extensions import db
from jointops.transactions import unit_of_work


def durability() -> str:
    """What the current transaction's commit will wait for, in the dialect's own words."""
    if db.session.get_bind().dialect.name == "postgresql":
        return str(db.session.scalar(text("SHOW synchronous_commit")))
    return {0: "off", 1: "normal", 2: "full", 3: "extra"}[
        int(db.session.scalar(text("PRAGMA synchronous")))
    ]


def test_only_a_counters_unit_of_work_commits_without_waiting_for_the_disk(app: Flask) -> None:
    postgres = db.session.get_bind().dialect.name == "postgresql"
    with unit_of_work():
        before = durability()
    with unit_of_work(durable=False):
        counting = durability()
        with unit_of_work():  # joins the outer one: as durable as that
            assert durability() == counting
    with unit_of_work():
        after = durability()
    assert counting == "off" if postgres else counting == "normal"
    assert after == before
    # SQLite's default, and what every other transaction keeps (the server's own on PostgreSQL)
    assert postgres or before == "full"
