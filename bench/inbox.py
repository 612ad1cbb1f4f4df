"""Benchmark: the inbox's lines (grouped by alert, in order of urgency, paged in SQL) and the
header's badge (unread lines), for one user with a long inbox.

Makes its own data: a migrated database (SQLite; PostgreSQL too when
``JOINTOPS_BENCH_POSTGRES_URL`` or ``JOINTOPS_TEST_POSTGRES_URL`` is set), one user, a few
other users with as many notifications each, ``--alerts`` alerts (one in five still open
or acknowledged) and ``--notifications`` notifications for each user, two in three about
an alert, a third of them unread, bulk-inserted with SQLAlchemy Core.

Times, ``--runs`` times each, the first page and the last page of the grouped inbox and the
badge's count of unread lines. The baseline, timed in the same run on the same rows, is
what the inbox did before: the newest 50 notifications, one line each, and the count of
unread notifications.

Prints one JSON line per backend (progress goes to stderr):

    .venv/bin/python bench/inbox.py --notifications 20000 --alerts 3000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade
from sqlalchemy import func, insert, select

from bench.benchlib import add_backend_argument, backends, database, figures
from jointops import create_app
from jointops.extensions import db
from jointops.models import Agency, Alert, Notification, User, utcnow
from jointops.notifications import inbox

USERS = 4
STATUSES = ["open", "acknowledged"] + ["resolved"] * 5 + ["closed"] * 3


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(notifications: int, alerts: int, seed: int) -> int:
    """The rows; returns the measured user's id."""
    rng = random.Random(seed)
    now = utcnow()
    db.session.add_all(
        [
            Agency(code="A", name="Agency A", kind="local"),
            Agency(code="B", name="B", kind="federal"),
        ]
    )
    db.session.flush()
    a, b = (x.id for x in db.session.scalars(select(Agency).order_by(Agency.id)))
    users = [
        User(username=f"user{i}", dn=f"uid=user{i}", display_name=f"U {i}") for i in range(USERS)
    ]
    db.session.add_all(users)
    db.session.flush()
    db.session.execute(
        insert(Alert),
        [
            {
                "kind": "event",
                "score": 0.9,
                "strength": "exact",
                "explanation": "",
                "reasons": [],
                "status": rng.choice(STATUSES),
                "item_a_type": "event",
                "item_a_id": 2 * n + 1,
                "item_b_type": "event",
                "item_b_id": 2 * n + 2,
                "agency_a_id": a,
                "agency_b_id": b,
                "starts_at": now + timedelta(hours=rng.randint(-5000, 2000)),
                "raised_at": now - timedelta(hours=rng.randint(1, 20000)),
                "updated_at": now,
                "resolution_note": "",
                "closed_reason": "",
            }
            for n in range(alerts)
        ],
    )
    ids = list(db.session.scalars(select(Alert.id)))
    for person in users:
        rows = []
        for n in range(notifications):
            at = now - timedelta(minutes=notifications - n)
            rows.append(
                {
                    "user_id": person.id,
                    "alert_id": rng.choice(ids) if rng.random() < 2 / 3 else None,
                    "category": "alert",
                    "link": "/alerts",
                    "text": f"notice {n}",
                    "created_at": at,
                    "read_at": None if rng.random() < 1 / 3 else at,
                }
            )
        db.session.execute(insert(Notification), rows)
    db.session.commit()
    return users[0].id


def timed(call: Callable[[], Any], runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        db.session.expunge_all()
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return figures(samples)


def flat_page(user_id: int) -> list[Notification]:
    """The baseline: the inbox as it was, newest 50 notifications, one line each."""
    query = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(inbox.PAGE_SIZE)
    )
    return list(db.session.scalars(query))


def flat_unread(user_id: int) -> int:
    query = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return int(db.session.scalar(query) or 0)


def measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with database(backend) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench" * 8})
        with app.app_context():
            upgrade()
            progress(f"{backend}: building {args.notifications} notifications x {USERS} users")
            user_id = build(args.notifications, args.alerts, args.seed)
            person = db.session.get_one(User, user_id)
            last = inbox.inbox(person).pages
            result = {
                "benchmark": "inbox",
                "backend": backend,
                "notifications": args.notifications,
                "alerts": args.alerts,
                "lines": inbox.inbox(person).total,
                "runs": args.runs,
                "first_page_ms": timed(lambda: inbox.inbox(person), args.runs),
                "last_page_ms": timed(lambda: inbox.inbox(person, last), args.runs),
                "badge_ms": timed(lambda: inbox.unread_count(person), args.runs),
                "baseline_flat_page_ms": timed(lambda: flat_page(user_id), args.runs),
                "baseline_flat_badge_ms": timed(lambda: flat_unread(user_id), args.runs),
            }
            db.session.remove()
            db.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=20000)
    parser.add_argument("--alerts", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=12)
    add_backend_argument(parser)
    args = parser.parse_args()
    for backend in backends(args.backend):
        print(json.dumps(measure(backend, args)), flush=True)


if __name__ == "__main__":
    main()
