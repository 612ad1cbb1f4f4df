"""Benchmark: the review list of alerts (``/alerts``), first page and a deep page, at scale.

Makes its own data: a migrated database (SQLite; PostgreSQL too when
``JOINTOPS_BENCH_POSTGRES_URL`` or ``JOINTOPS_TEST_POSTGRES_URL`` is set), the
demo directory's people, operations of the four law-enforcement agencies (some
restricted, some covert, each led by one of its agency), targets of theirs, and
``--alerts`` alerts between them (seven in ten between operations, some with a
side purged; most of them resolved or closed, as in a deployment some years
old), bulk-inserted with SQLAlchemy Core.

It then asks for the list page as the users who wait for it do (signed in, the
whole request: policy, items, pointer, template): a deconfliction officer (who
sees every alert), a supervisor and an investigator (who see their agency's),
``--runs`` times each, the first page and a deep one (the last page of the
active alerts), and reports the median and p95 in milliseconds. The baseline is
the same measurement at ``--baseline-alerts`` alerts, in the same run: a list
paged in the database costs about the same at both sizes; one filtered in
Python after loading every alert grows with them.

Prints one JSON line per backend (progress goes to stderr):

    .venv/bin/python bench/alerts.py --alerts 100000 --keep /tmp/jointops-bench
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import func, insert, select

from bench.benchlib import (
    add_backend_argument,
    backends,
    database,
    drop_kept_database,
    figures,
    kept_database,
)
from jointops import create_app
from jointops.extensions import db
from jointops.identity import sessions
from jointops.identity.directory import sync_directory
from jointops.models import Agency, Alert, Case, Event, Participant, Target, User, utcnow

AGENCIES = ["PBSO", "WPBPD", "FBI", "HSI"]
VIEWERS = ["deconfliction_officer.pbso", "supervisor.pbso", "investigator.fbi"]
#: alerts in a deployment some years old: most of them settled
STATUSES = ["open"] * 10 + ["acknowledged"] * 10 + ["resolved"] * 50 + ["closed"] * 30
CHUNK = 5000


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for first in range(0, len(rows), CHUNK):
        yield rows[first : first + CHUNK]


def build(alerts: int, seed: int) -> None:
    """The demo directory's people, and operations, targets and ``alerts`` alerts between them."""
    rng = random.Random(seed)
    sync_directory()
    agencies = {a.code: a.id for a in db.session.scalars(select(Agency))}
    staff: dict[int, list[int]] = {}
    for user in db.session.scalars(select(User).where(User.agency_id.is_not(None))):
        assert user.agency_id is not None
        staff.setdefault(user.agency_id, []).append(user.id)
    cases = {}
    for code in AGENCIES:
        case = Case(agency_id=agencies[code], number=f"{code}-BENCH", title="Synthetic case")
        db.session.add(case)
        db.session.flush()
        cases[agencies[code]] = case.id
    db.session.commit()
    now = utcnow().replace(microsecond=0)
    n_events, n_targets = max(100, alerts // 2), max(50, alerts // 5)

    events: list[dict[str, Any]] = []
    leads: list[dict[str, Any]] = []
    for n in range(n_events):
        agency = agencies[rng.choice(AGENCIES)]
        lead = rng.choice(staff[agency])
        starts = now + timedelta(days=rng.uniform(-900, 200))
        events.append(
            {
                "id": n + 1,
                "kind": "operation",
                "subtype": "search_warrant",
                "title": f"Synthetic operation {n + 1}",
                "owner_agency_id": agency,
                "lead_id": lead,
                "created_by_id": lead,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=rng.choice((1, 2, 4))),
                "status": "planned",
                "sensitivity": rng.choice(["normal"] * 7 + ["restricted"] * 2 + ["covert"]),
            }
        )
        leads.append({"event_id": n + 1, "user_id": lead, "part": "lead"})
    targets = []
    for n in range(n_targets):
        agency = agencies[rng.choice(AGENCIES)]
        targets.append(
            {
                "id": n + 1,
                "agency_id": agency,
                "case_id": cases[agency],
                "ref": f"BENCH-{n + 1}",
                "submitter_id": rng.choice(staff[agency]),
                "justification": "Synthetic target (benchmark).",
                "validated_at": now,
                "expires_at": now + timedelta(days=1500),
            }
        )
    rows: list[dict[str, Any]] = []
    used: set[tuple[str, int, int]] = set()
    while len(rows) < alerts:
        kind = "event" if rng.random() < 0.7 else "target"
        pool = events if kind == "event" else targets
        one, two = sorted(rng.sample(pool, 2), key=lambda row: int(row["id"]))
        agency_key = "owner_agency_id" if kind == "event" else "agency_id"
        if one[agency_key] == two[agency_key] or (kind, one["id"], two["id"]) in used:
            continue
        used.add((kind, one["id"], two["id"]))
        status = rng.choice(STATUSES)
        raised = now - timedelta(days=rng.uniform(0, 1000))
        settled = raised + timedelta(hours=rng.uniform(1, 200))
        rows.append(
            {
                "kind": kind,
                "score": round(rng.uniform(0.5, 1.0), 3),
                "strength": rng.choice(("exact", "probable", "possible")),
                "explanation": "Synthetic match (benchmark).",
                "reasons": [],
                "status": status,
                "outcome": "proceed" if status == "resolved" else None,
                "item_a_type": kind,
                "item_a_id": None if rng.random() < 0.03 else one["id"],  # purged
                "item_b_type": kind,
                "item_b_id": two["id"],
                "agency_a_id": one[agency_key],
                "agency_b_id": two[agency_key],
                "acked_a_at": raised if status != "open" else None,
                "acked_a_by_id": one.get("lead_id") if status != "open" else None,
                "starts_at": min(one["starts_at"], two["starts_at"]) if kind == "event" else None,
                "raised_at": raised,
                "updated_at": raised,
                "resolved_at": settled if status == "resolved" else None,
                "closed_at": settled if status == "closed" else None,
            }
        )
    with db.engine.begin() as conn:
        for table, table_rows in (
            (Event.__table__, events),
            (Participant.__table__, leads),
            (Target.__table__, targets),
            (Alert.__table__, rows),
        ):
            for chunk in _chunks(table_rows):
                conn.execute(insert(table), chunk)
        if conn.dialect.name == "postgresql":
            for name in ("events", "targets"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - names
                    f"(SELECT max(id) FROM {name}))"
                )
    db.session.remove()


def finish_load() -> None:
    """What a database in service has: statistics, and on PostgreSQL a visibility map (which
    index-only scans need; autovacuum would get there, the bench does not wait)."""
    autocommit = db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")


def signed_in(app: Flask, username: str) -> FlaskClient:
    """A client with a session of ``username``, as after signing in."""
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    with app.test_request_context():
        token = sessions.start(user)
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session["sid"] = token
    db.session.remove()
    return client


def timed_pages(clients: dict[str, FlaskClient], runs: int) -> dict[str, Any]:
    """Each viewer's first page and last page of active alerts: median and p95 in ms."""
    result: dict[str, Any] = {}
    for username, client in clients.items():
        first = client.get("/api/alerts")
        assert first.status_code == 200, first.get_data(as_text=True)[:500]
        listed = first.get_json()
        urls = {"first": "/alerts", "deep": f"/alerts?page={listed['pages']}"}
        samples: dict[str, list[float]] = {"first": [], "deep": []}
        for _ in range(runs):
            for which, url in urls.items():
                started = time.perf_counter()
                response = client.get(url)
                samples[which].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
        result[username] = {
            "visible_active": listed["total"],
            "deep_page": listed["pages"],
            **{which: figures(values) for which, values in samples.items()},
        }
    return result


@contextmanager
def bench_database(backend: str, alerts: int, args: argparse.Namespace) -> Iterator[str]:
    """A built database: throw-away, or with ``--keep`` kept and reused (the large one)."""
    if args.keep is None or alerts == args.baseline_alerts:
        with database(backend) as url:
            with _app(url).app_context():
                upgrade()
                build(alerts, args.seed)
                finish_load()
                _dispose()
            yield url
        return
    name = f"jointops_bench_alerts_{alerts}_{args.seed}"
    marker = args.keep / f"{name}.{backend}.built"
    url, existed = kept_database(backend, name, args.keep)
    if existed and not marker.exists():  # a build that did not finish
        drop_kept_database(backend, name, args.keep)
        url, _ = kept_database(backend, name, args.keep)
    with _app(url).app_context():
        upgrade()  # a kept database takes new migrations (indexes) too
        if not marker.exists():
            build(alerts, args.seed)
            marker.write_text("built\n")
        else:
            progress(f"[{backend}] reusing the {alerts:,} alerts kept in {args.keep}")
        finish_load()
        _dispose()
    yield url


def _app(url: str) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-key",
            "TESTING": True,
            "SCHEDULER": "off",
        }
    )


def _dispose() -> None:
    db.session.remove()
    db.engine.dispose()


def measure(backend: str, alerts: int, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    with bench_database(backend, alerts, args) as url:
        progress(f"[{backend}] {alerts:,} alerts ready in {time.perf_counter() - started:.0f} s")
        app = _app(url)
        with app.app_context():
            stored = db.session.scalar(select(func.count()).select_from(Alert))
            clients = {username: signed_in(app, username) for username in VIEWERS}
        # each request in its own application context, as a server runs it
        pages = timed_pages(clients, args.runs)
        with app.app_context():
            _dispose()
    return {"alerts": stored, "viewers": pages}


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    load = os.getloadavg()[0]
    baseline = measure(backend, args.baseline_alerts, args)
    scaled = measure(backend, args.alerts, args)
    load = max(load, os.getloadavg()[0])
    return {
        "bench": "alerts",
        "backend": backend,
        "runs": args.runs,
        "alerts": scaled["alerts"],
        "baseline_alerts": baseline["alerts"],
        "per_page": 50,
        "ms": scaled["viewers"],
        "baseline_ms": baseline["viewers"],
        # other work on the machine slows every figure: the higher 1-minute load average seen
        "load_average": round(load, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=100_000, help="alerts stored")
    parser.add_argument(
        "--baseline-alerts", type=int, default=1_000, help="alerts stored for the baseline"
    )
    parser.add_argument("--runs", type=int, default=30, help="requests of each page per viewer")
    add_backend_argument(parser)
    parser.add_argument("--seed", type=int, default=1420)
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the large database (a SQLite file in DIR, a PostgreSQL database) and reuse "
        "it on the next run with the same size and seed",
    )
    args = parser.parse_args()
    for name in backends(args.backend):
        print(json.dumps(run(name, args)), flush=True)


if __name__ == "__main__":
    main()
