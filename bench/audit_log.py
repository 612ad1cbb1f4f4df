"""Benchmark: the audit log page's queries (``jointops.admin.audit_log``) at scale.

Makes its own data: a migrated database (SQLite; PostgreSQL too when
``JOINTOPS_BENCH_POSTGRES_URL`` or ``JOINTOPS_TEST_POSTGRES_URL`` is set), the demo
directory's people, and ``--entries`` audit entries over two years by them (and some by
nobody, as failed sign-ins are), bulk-inserted with SQLAlchemy Core.

It then times, ``--runs`` times each, the page of 50 entries newest first: the first
page, a deep one (``--depth`` entries down, by its keyset cursor), and a filtered one
(one agency, one action, 30 office days). The baseline, timed in the same run, is the
same deep page (its count, its entries and their agencies) by OFFSET, as a naive pager
does: it reads every entry above the page.

Prints one JSON line per backend (progress goes to stderr):

    .venv/bin/python bench/audit_log.py --entries 200000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, select

from bench.benchlib import add_backend_argument, backends, database, figures
from jointops import create_app
from jointops.admin import audit_log
from jointops.admin.audit_log import AuditFilter
from jointops.extensions import db
from jointops.identity.directory import sync_directory
from jointops.models import AuditEntry, User

ACTIONS = ["login", "event.view", "event.update", "target.view", "alert.view", "feed.fetch"]
CHUNK = 5000
#: the synthetic log ends here; timings do not depend on the day they run
LAST = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(entries: int, seed: int) -> None:
    rng = random.Random(seed)
    sync_directory()
    people = [(u.id, u.username) for u in db.session.scalars(select(User))]
    span = timedelta(days=730).total_seconds()
    rows: list[dict[str, Any]] = []
    for n in range(entries):
        who = rng.choice(people) if rng.random() > 0.05 else (None, "stranger")
        rows.append(
            {
                "at": LAST - timedelta(seconds=rng.uniform(0, span)),
                "actor_id": who[0],
                "actor_username": who[1],
                "action": rng.choice(ACTIONS),
                "object_type": "event",
                "object_id": str(n % 5000),
                "remote_addr": "10.0.0.1",
                "outcome": "success",
                "detail": {},
            }
        )
        if len(rows) == CHUNK:
            db.session.execute(insert(AuditEntry), rows)
            rows = []
    if rows:
        db.session.execute(insert(AuditEntry), rows)
    db.session.commit()


def timed(call: Callable[[], object], runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return figures(samples)


def by_offset(depth: int) -> list[int]:
    """The baseline: the same page (count, entries with their agency) ``depth`` entries down,
    by OFFSET."""
    audit_log.count(AuditFilter())
    query = audit_log.entries_query(AuditFilter()).order_by(
        AuditEntry.at.desc(), AuditEntry.id.desc()
    )
    return [e.id for e, _ in db.session.execute(query.offset(depth).limit(audit_log.PAGE_SIZE))]


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    load = os.getloadavg()[0]
    with database(backend) as url:
        app: Flask = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench-secret-key",
                "TESTING": True,
                "SCHEDULER": "off",
            }
        )
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            build(args.entries, args.seed)
            progress(
                f"[{backend}] {args.entries:,} entries in {time.perf_counter() - started:.0f} s"
            )
            cursor = by_offset(args.depth - 1)[0]
            keyset = [r.entry.id for r in audit_log.page(AuditFilter(), before=cursor).rows]
            assert keyset == by_offset(args.depth), "the keyset page differs from the offset one"
            narrow = AuditFilter(
                agency="FBI", action="event.view", start=date(2026, 5, 1), end=date(2026, 5, 30)
            )
            ms = {
                "first_page": timed(lambda: audit_log.page(AuditFilter()), args.runs),
                "deep_page_keyset": timed(
                    lambda: audit_log.page(AuditFilter(), before=cursor), args.runs
                ),
                "filtered_page": timed(lambda: audit_log.page(narrow), args.runs),
            }
            baseline = {"deep_page_offset": timed(lambda: by_offset(args.depth), args.runs)}
            db.session.remove()
            db.engine.dispose()
    return {
        "bench": "audit_log",
        "backend": backend,
        "entries": args.entries,
        "depth": args.depth,
        "runs": args.runs,
        "per_page": audit_log.PAGE_SIZE,
        "ms": ms,
        "baseline_ms": baseline,
        "load_average": round(max(load, os.getloadavg()[0]), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--depth", type=int, default=150_000, help="entries above the deep page")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1420)
    add_backend_argument(parser)
    args = parser.parse_args()
    for name in backends(args.backend):
        print(json.dumps(run(name, args)), flush=True)


if __name__ == "__main__":
    main()
