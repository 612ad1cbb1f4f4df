"""Benchmark: a PostgreSQL outage under load, served by gunicorn as in production.

Makes its own server and data: a private PostgreSQL cluster (``tests.private_postgres``:
``initdb`` in a temporary directory, a free port), migrated and seeded with the demo, and
gunicorn (``gunicorn.conf.py``, ``--workers`` sync workers) over it. ``--clients`` threads,
each signed in through the real login form, send a mix of ``GET /api/events`` and
``POST /api/events`` (an operation with a room, each at a slot of its own). After ``--before``
seconds the database is stopped (``pg_ctl stop -m fast``) for ``--down`` seconds, then started,
and the load goes on for ``--after`` seconds.

Prints one JSON line: the answers by status (and content type) before the outage, in flight
when it began, sent during it and sent after the restart; the bookings saved but reported
failed (a POST that did not answer 201 whose event is in the database afterwards) and those
reported saved but missing; the recovery time (from the database's restart to the last failed
answer of a request sent after it); the requests that escaped the app to gunicorn's own error
page; and the latency of answers during the outage beside the baseline of the same load with
the database up, measured in the same run.

    .venv/bin/python bench/outage.py --down 8
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade
from sqlalchemy import select

from bench.benchlib import figures
from jointops import create_app
from jointops.demo import seed_demo
from jointops.extensions import db
from jointops.models import Event, Resource
from jointops.officetime import today_local
from tests.live_server import HttpClient, LiveServer
from tests.private_postgres import PrivatePostgres

ROOM = "Interview Room B"
TITLE = "bench-outage"
USER = "investigator.pbso"


@dataclass(frozen=True)
class Answer:
    sent: float  # seconds since the start of the load
    done: float
    method: str
    status: int  # 0: no HTTP answer at all (connection refused or reset)
    content_type: str
    title: str | None  # of a POST
    reason: str  # of a refusal (4xx): what the answer says, shortened


def prepare(server: PrivatePostgres) -> tuple[str, int, date]:
    """A migrated, seeded database on ``server``: its URL, the room the POSTs book and the
    first day of their slots (well after the demo's events)."""
    url = server.database_url(server.create_database())
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-outage-secret"})
    with app.app_context():
        upgrade()
        seed_demo(today_local())
        room = db.session.scalar(select(Resource.id).where(Resource.name == ROOM))
        assert room is not None
        first_day = today_local() + timedelta(days=200)
        db.session.remove()
        db.engine.dispose()
    return url, room, first_day


def operation(number: int, room: int, first_day: date) -> dict[str, Any]:
    """An operation in a slot of its own: eight one-hour slots a day, weekdays and weekends."""
    day = first_day + timedelta(days=number // 8)
    hour = 8 + number % 8
    return {
        "kind": "operation",
        "subtype": "search_warrant",
        "title": f"{TITLE}-{number}",
        "starts_at": f"{day.isoformat()}T{hour:02d}:00",
        "ends_at": f"{day.isoformat()}T{hour:02d}:50",
        "status": "planned",
        "sensitivity": "normal",
        "location_address": "100 Test Way, Lake Worth, FL",
        "latitude": 26.4 + (number % 50) * 0.01,  # inside the service area
        "longitude": -80.2,
        "room_id": room,
        "confirm_warnings": True,
    }


class Load:
    """``clients`` threads sending requests until ``stop`` is set; every answer recorded."""

    def __init__(
        self, base_url: str, clients: int, room: int, first_day: date, post_every: int
    ) -> None:
        self.base_url = base_url
        self.room = room
        self.post_every = post_every
        self.first_day = first_day
        self.numbers = itertools.count()
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sessions = []
        for _ in range(clients):
            client = HttpClient(base_url, timeout=60)
            client.login(USER)
            self.sessions.append(client)
        self.started = time.monotonic()
        self.threads = [
            threading.Thread(target=self._run, args=(c,), daemon=True) for c in self.sessions
        ]

    def now(self) -> float:
        return time.monotonic() - self.started

    def begin(self) -> None:
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()

    def end(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _run(self, client: HttpClient) -> None:
        for turn in itertools.count():
            if self.stop.is_set():
                return
            if turn % self.post_every == 0:
                number = next(self.numbers)
                body = json.dumps(operation(number, self.room, self.first_day)).encode()
                headers = {"Content-Type": "application/json", "X-CSRFToken": client.csrf or ""}
                self._send(client, "POST", "/api/events", body, headers, f"{TITLE}-{number}")
            else:
                self._send(client, "GET", "/api/events", None, {}, None)

    def _send(
        self,
        client: HttpClient,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
        title: str | None,
    ) -> None:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(client.cookies))
        request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 server
            self.base_url + path, data=body, headers=headers, method=method
        )
        sent = self.now()
        status, content_type, reason = 0, "", ""
        try:
            with opener.open(request, timeout=60) as response:
                response.read()
                status, content_type = response.status, response.headers.get_content_type()
        except urllib.error.HTTPError as error:
            with error:
                text = error.read()
                status, content_type = error.code, error.headers.get_content_type()
            if status < 500 and content_type == "application/json":
                answer = json.loads(text)
                reason = str(answer.get("error") or answer.get("errors"))[:100]
        except OSError:
            pass
        with self.lock:
            self.answers.append(
                Answer(sent, self.now(), method, status, content_type, title, reason)
            )


def by_status(answers: list[Answer]) -> dict[str, int]:
    counted = Counter(
        f"{a.status} {a.content_type}" if a.status >= 400 else str(a.status) for a in answers
    )
    return dict(sorted(counted.items()))


def latency(answers: list[Answer]) -> dict[str, float]:
    samples = [(a.done - a.sent) * 1000 for a in answers]
    return figures(samples) | {"count": len(samples)} if samples else {"count": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=6, help="threads sending requests")
    parser.add_argument("--post-every", type=int, default=3, help="one POST in this many")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of load, database up")
    parser.add_argument("--down", type=float, default=8.0, help="seconds the database is down")
    parser.add_argument("--after", type=float, default=8.0, help="seconds of load after restart")
    args = parser.parse_args()

    with (
        PrivatePostgres() as server,
        tempfile.TemporaryDirectory(prefix="jointops-bench-outage-") as folder,
    ):
        url, room, first_day = prepare(server)
        live = LiveServer(
            url,
            Path(folder) / "gunicorn.log",
            workers=args.workers,
            extra_env={"JOINTOPS_SESSIONS_PER_USER": str(args.clients + 1)},
        )
        with live:
            load = Load(live.url, args.clients, room, first_day, args.post_every)
            load.begin()
            time.sleep(args.before)  # the load runs meanwhile: these are its phases' lengths
            down_at = load.now()
            server.stop()
            time.sleep(args.down)
            server.start()
            up_at = load.now()
            time.sleep(args.after)
            load.end()
            gunicorn_errors = live.log_tail(10_000).count("Error handling request")

        answers = sorted(load.answers, key=lambda a: a.sent)
        before = [a for a in answers if a.done < down_at]
        cut = [a for a in answers if a.sent < down_at <= a.done]
        during = [a for a in answers if down_at <= a.sent < up_at]
        after = [a for a in answers if a.sent >= up_at]
        failed_after = [a for a in after if not 200 <= a.status < 300]
        recovery = max((a.done for a in failed_after), default=up_at) - up_at
        first_ok = min((a.done for a in after if 200 <= a.status < 300), default=up_at) - up_at

        posted = [a for a in answers if a.title is not None]
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-outage-secret"})
        with app.app_context():
            stored = set(db.session.scalars(select(Event.title).where(Event.title.like("bench-%"))))
            db.session.remove()
            db.engine.dispose()
        saved_reported_failed = [a for a in posted if a.status != 201 and a.title in stored]
        reported_saved_missing = [a for a in posted if a.status == 201 and a.title not in stored]

    print(
        json.dumps(
            {
                "bench": "outage",
                "workers": args.workers,
                "clients": args.clients,
                "down_s": args.down,
                "requests": len(answers),
                "posts": len(posted),
                "before": by_status(before),
                "in_flight_at_stop": by_status(cut),
                "during_outage": by_status(during),
                "after_restart": by_status(after),
                "saved_but_reported_failed": len(saved_reported_failed),
                "reported_saved_but_missing": len(reported_saved_missing),
                "refusals": dict(Counter(a.reason for a in answers if a.reason)),
                "recovery_s": round(recovery, 3),
                "first_success_after_restart_s": round(first_ok, 3),
                "gunicorn_error_pages": gunicorn_errors,
                "latency_ms": {
                    "baseline_database_up": latency(before),
                    "during_outage": latency(during),
                    "after_restart": latency(after),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
