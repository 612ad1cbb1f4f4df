"""Benchmark: serving one iCal feed of N events, full and revalidated (304).

Makes its own data: a migrated temporary database (SQLite; PostgreSQL with
``--backend postgresql`` and ``JOINTOPS_BENCH_POSTGRES_URL`` or
``JOINTOPS_TEST_POSTGRES_URL``), the demo directory's people, and ``--events``
events in the feed's window, all on one investigator's personal feed. It then
fetches the feed through the app (token lookup, rate limit, validator, audit
count, and when needed policy, redaction, ETag and rendering):

* ``full_feed_ms``: whole fetches of an unchanged feed (a calendar app that
  does not revalidate);
* ``full_feed_changed_ms``: whole fetches, each after one of the feed's events
  changed (so the feed is read and written again; the change is not timed);
* ``full_feed_changed_cold_ms``: the same with no event's text kept from earlier
  fetches (a worker's first fetch of that feed);
* ``revalidate_304_ms``: revalidations with ``If-None-Match``;

and, as baselines in the same run, ``icalendar`` alone serialising the same
calendar (``Calendar.to_ical()`` of the served feed, parsed once), and the
validator the feeds had before (reading every event of the feed to
fingerprint it: ``entries_for`` and ``fingerprint``).

Prints one JSON line:

    .venv/bin/python bench/feeds.py --events 5000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade
from icalendar import Calendar
from sqlalchemy import select

from bench.benchlib import database, figures
from calendars import fingerprint
from calendars.render import forget_written
from jointops import create_app
from jointops.catalog import SUBTYPES
from jointops.extensions import db
from jointops.feeds import service as feed_service
from jointops.feeds import tokens as feed_tokens
from jointops.feeds.tokens import Scope
from jointops.identity.directory import sync_directory
from jointops.models import (
    Agency,
    Booking,
    Event,
    Participant,
    Resource,
    User,
    utcnow,
)
from jointops.transactions import unit_of_work

ROOMS = ["Interview Room A", "Interview Room B", "Soft Interview Room", "Conference Room"]


def timed(
    action: Callable[[], Any], runs: int, before: Callable[[], Any] | None = None
) -> list[float]:
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def ratio(samples: list[float], baseline: list[float]) -> float:
    return round(statistics.median(samples) / statistics.median(baseline), 2)


def seed(count: int, rng: random.Random) -> User:
    """The directory's people, four rooms, and ``count`` PBSO events in the feed's window."""
    sync_directory()
    pbso = db.session.scalar(select(Agency).where(Agency.code == "PBSO"))
    lead = db.session.scalar(select(User).where(User.username == "investigator.pbso"))
    partner = db.session.scalar(select(User).where(User.username == "det.rivera.pbso"))
    assert pbso is not None and lead is not None and partner is not None
    rooms = [Resource(name=name, kind="interview_room") for name in ROOMS]
    db.session.add_all(rooms)
    db.session.flush()
    now = utcnow().replace(second=0, microsecond=0)
    kinds = ["operation", "interview"]
    # Spread over 25 days back to 360 ahead: inside the default window.
    span_minutes = (360 + 25) * 24 * 60
    for i in range(count):
        kind = kinds[i % 2]
        subtype = rng.choice(SUBTYPES[kind]).code
        start = now - timedelta(days=25) + timedelta(minutes=rng.randrange(span_minutes))
        end = start + timedelta(minutes=rng.choice((30, 60, 90, 120, 240)))
        status = rng.choices(
            ["planned", "confirmed", "completed", "cancelled"], weights=[30, 60, 5, 5]
        )[0]
        event = Event(
            kind=kind,
            subtype=subtype,
            title=f"Synthetic {kind} {i}",
            owner_agency_id=pbso.id,
            lead_id=lead.id,
            starts_at=start,
            ends_at=end,
            status=status,
            sensitivity=rng.choices(["normal", "restricted", "covert"], weights=[85, 10, 5])[0],
            notes="synthetic",
            version=rng.randint(1, 4),
            created_at=now,
            updated_at=now - timedelta(days=rng.randint(0, 20)),
        )
        event.participants = [Participant(user_id=lead.id, part="lead")]
        if i % 3 == 0:
            event.participants.append(Participant(user_id=partner.id, part="investigator"))
        if kind == "interview":
            # Rooms are booked without overlap checks here: the feed does not care.
            event.bookings = [
                Booking(
                    resource_id=rooms[i % len(rooms)].id,
                    starts_at=start,
                    ends_at=end,
                    active=False,
                )
            ]
        db.session.add(event)
        if i % 1000 == 999:
            db.session.flush()
    db.session.commit()
    return lead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="events in the feed's window")
    parser.add_argument("--runs", type=int, default=15, help="timed full fetches")
    parser.add_argument("--revalidations", type=int, default=50, help="timed 304 answers")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=5545)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with database(args.backend) as url:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench-secret-key",
                "TESTING": True,
                "FEED_RATE_PER_MINUTE": 10**9,
            }
        )
        with app.app_context():
            upgrade()
            lead = seed(args.events, rng)
            _, secret = feed_tokens.create(lead, "bench", "personal")
            client = app.test_client()
            path = f"/feeds/{secret}.ics"

            first = client.get(path)
            assert first.status_code == 200, first.status_code
            body, etag = first.data, first.headers["ETag"]
            calendar = Calendar.from_ical(body)
            in_feed = len(calendar.events)
            assert calendar.to_ical() == body, "the baseline must write the very same bytes"

            def full() -> None:
                response = client.get(path)
                assert response.status_code == 200 and len(response.data) == len(body)

            def revalidate() -> None:
                response = client.get(path, headers={"If-None-Match": etag})
                assert response.status_code == 304

            scope = Scope.parse("personal")

            def full_scan_validator() -> None:
                entries = feed_service.entries_for(lead, scope, utcnow())
                fingerprint(entries, feed_service.settings_for(lead, scope))

            feed_ids = [e.id for e in feed_service.feed_events(lead, scope, utcnow())]

            def change_one() -> None:
                with unit_of_work():
                    event = db.session.get_one(Event, rng.choice(feed_ids))
                    event.version += 1
                    event.updated_at = utcnow()

            served = [etag]

            def changed() -> None:
                response = client.get(path)
                assert response.status_code == 200 and response.headers["ETag"] != served[-1]
                served.append(response.headers["ETag"])

            full_ms = timed(full, args.runs)
            revalidate_ms = timed(revalidate, args.revalidations)
            changed_ms = timed(changed, args.runs, before=change_one)

            def change_one_cold() -> None:
                change_one()
                forget_written()

            cold_ms = timed(changed, args.runs, before=change_one_cold)
            baseline_ms = timed(calendar.to_ical, args.runs)
            full_scan_ms = timed(full_scan_validator, args.runs)
            db.session.remove()
            db.engine.dispose()

    print(
        json.dumps(
            {
                "bench": "feeds",
                "backend": args.backend,
                "events": args.events,
                "events_in_feed": in_feed,
                "feed_bytes": len(body),
                "runs": args.runs,
                "revalidations": args.revalidations,
                "revalidate_304_ms": figures(revalidate_ms),
                "baseline_full_scan_validator_ms": figures(full_scan_ms),
                "full_feed_ms": figures(full_ms),
                "full_feed_changed_ms": figures(changed_ms),
                "baseline_icalendar_to_ical_ms": figures(baseline_ms),
                "full_over_baseline": ratio(full_ms, baseline_ms),
                "full_changed_over_baseline": ratio(changed_ms, baseline_ms),
                "full_feed_changed_cold_ms": figures(cold_ms),
                "full_changed_cold_over_baseline": ratio(cold_ms, baseline_ms),
            }
        )
    )


if __name__ == "__main__":
    main()
