"""Benchmark: signed-in users' page reads while sign-ins hit a frozen directory.

Runs gunicorn with the production configuration (``gunicorn.conf.py``: gthread workers, the
sign-in bound derived from their threads) over a migrated, seeded temporary database (SQLite;
PostgreSQL with ``--backend postgresql`` and ``JOINTOPS_BENCH_POSTGRES_URL`` or
``JOINTOPS_TEST_POSTGRES_URL``), against a real slapd loaded from the demo LDIF. ``--readers``
signed-in users read their calendar over and over while ``--sign-ins`` clients sign in over and
over through ``/api/login``, for ``--seconds`` in each phase:

* ``quiet``: slapd answers and nobody signs in (the readers alone);
* ``running``: slapd answers (the baseline, in the same run);
* ``frozen``: slapd stopped with SIGSTOP (its port accepts, nothing answers; thawed after);
* ``frozen_sync`` (unless ``--no-sync``): the same, with the former configuration, one sync
  worker class with one thread, for comparison.

Prints one JSON line: page latency (median, p95, max in ms) per phase, with the count of page
reads and of sign-in answers by status.

    .venv/bin/python bench/directory_hang.py --backend postgresql
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade

from auth.demo import DEMO_PASSWORD, LDIF_PATH
from bench.benchlib import database, figures
from jointops import create_app
from jointops.demo import seed_demo
from jointops.extensions import db
from jointops.officetime import today_local
from tests.ldap_server import SlapdServer
from tests.live_server import HttpClient, LiveServer
from tests.test_directory_login import ldap_environment

READERS = ["supervisor.pbso", "investigator.wpbpd", "supervisor.fbi", "prosecutor.sao15"]
SIGNING_IN = [
    "investigator.pbso",
    "det.rivera.pbso",
    "supervisor.wpbpd",
    "investigator.fbi",
    "agent.chen.fbi",
    "investigator.hsi",
    "supervisor.hsi",
    "supervisor.sao15",
    "advocate.vs",
    "supervisor.vs",
    "admin.pbso",
    "deconfliction_officer.pbso",
]
PAGE = "/calendar"


def seeded(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SCHEDULER": "off"})
    with app.app_context():
        upgrade()
        seed_demo(today_local())
        db.session.remove()
        db.engine.dispose()


def api_sign_in(base_url: str, username: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 server
        base_url + "/api/login",
        data=json.dumps({"username": username, "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code)


def phase(server: LiveServer, readers: list[HttpClient], sign_ins: int, seconds: float) -> Any:
    """Readers read ``PAGE`` while ``sign_ins`` clients sign in, until ``seconds`` have passed."""
    stop = threading.Event()
    samples: list[float] = []
    statuses: Counter[int] = Counter()
    pages: Counter[int] = Counter()
    lock = threading.Lock()

    def read(client: HttpClient) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            status = client.get(PAGE).status
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                samples.append(elapsed)
                pages[status] += 1

    def sign_in(index: int) -> None:
        turn = index
        while not stop.is_set():
            status = api_sign_in(server.url, SIGNING_IN[turn % len(SIGNING_IN)])
            turn += sign_ins
            with lock:
                statuses[status] += 1

    with ThreadPoolExecutor(max_workers=len(readers) + sign_ins) as pool:
        futures = [pool.submit(sign_in, i) for i in range(sign_ins)]
        futures += [pool.submit(read, client) for client in readers]
        stop.wait(seconds)
        stop.set()
        for future in futures:
            future.result()
    return {
        "page_ms": figures(samples, with_max=True),
        "page_reads": dict(sorted(pages.items())),
        "sign_in_answers": dict(sorted(statuses.items())),
    }


@contextmanager
def frozen(slapd: SlapdServer) -> Iterator[None]:
    slapd.pause()
    try:
        yield
    finally:
        slapd.resume()


@contextmanager
def served(url: str, log: Path, workers: int, environment: dict[str, str]) -> Iterator[LiveServer]:
    with LiveServer(url, log, workers=workers, extra_env=environment) as server:
        yield server


def signed_in_readers(server: LiveServer, count: int) -> list[HttpClient]:
    readers = []
    for username in READERS[:count]:
        client = HttpClient(server.url, timeout=120)
        client.login(username)
        readers.append(client)
    return readers


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--readers", type=int, default=4, choices=range(1, len(READERS) + 1))
    parser.add_argument("--sign-ins", type=int, default=8, help="clients signing in at once")
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument("--ldap-timeout", default="5", help="JOINTOPS_LDAP_TIMEOUT")
    parser.add_argument("--no-sync", action="store_true", help="skip the sync-worker phase")
    parser.add_argument("--logs", type=Path, help="keep gunicorn's logs in this folder")
    args = parser.parse_args()

    result: dict[str, Any] = {
        "benchmark": "directory_hang",
        "backend": args.backend,
        "workers": args.workers,
        "readers": args.readers,
        "sign_ins": args.sign_ins,
        "seconds": args.seconds,
        "ldap_timeout": float(args.ldap_timeout),
        "page": PAGE,
    }
    with (
        database(args.backend) as url,
        SlapdServer(LDIF_PATH) as slapd,
        tempfile.TemporaryDirectory(prefix="jointops-bench-") as scratch,
    ):
        folder = args.logs or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        seeded(url)
        environment = ldap_environment(slapd) | {"JOINTOPS_LDAP_TIMEOUT": args.ldap_timeout}
        with served(url, folder / "gthread.log", args.workers, environment) as server:
            readers = signed_in_readers(server, args.readers)
            result["quiet"] = phase(server, readers, 0, args.seconds)
            result["running"] = phase(server, readers, args.sign_ins, args.seconds)
            with frozen(slapd):
                result["frozen"] = phase(server, readers, args.sign_ins, args.seconds)
        if not args.no_sync:
            former = environment | {"GUNICORN_CMD_ARGS": "--worker-class sync --threads 1"}
            with served(url, folder / "sync.log", args.workers, former) as server:
                readers = signed_in_readers(server, args.readers)
                with frozen(slapd):
                    result["frozen_sync"] = phase(server, readers, args.sign_ins, args.seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
