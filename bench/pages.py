"""Benchmark: the signed-in calendar page under load, beside a hello-world Flask app.

Makes its own data: a migrated temporary database (SQLite; PostgreSQL with
``--backend postgresql`` and ``JOINTOPS_BENCH_POSTGRES_URL`` or
``JOINTOPS_TEST_POSTGRES_URL``) seeded with the demo calendar around today, and a
server-side session for one demo user (``--user``). It serves ``wsgi:app`` with gunicorn
and this repository's ``gunicorn.conf.py`` (the production settings) and, as the baseline
in the same run, a Flask app that answers "Hello, World!" on the same gunicorn and
settings. After a warm-up of each (workers compile templates and statements on their
first requests), wrk loads ``/calendar?view=week`` and the hello page in turn,
``--rounds`` times, so that both meet the same neighbours on a shared machine; the run of
median throughput of each is reported. Beside throughput it reports the CPU time the
gunicorn processes spent per request (from ``/proc``), which other load on the machine
hardly changes, and the page's queries and time in-process (no HTTP, no gunicorn), the
figures the issue started from.

Needs wrk, a Debian package: ``apt-get install -y wrk``. Prints one JSON line:

    .venv/bin/python bench/pages.py --duration 10
    .venv/bin/python bench/pages.py --backend postgresql --duration 10
"""

from __future__ import annotations

import argparse
import contextvars
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import login_user
from flask_migrate import upgrade
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event, select
from werkzeug.test import TestResponse

from bench.benchlib import database, figures
from jointops import create_app
from jointops.config import load_config
from jointops.demo import seed_demo
from jointops.extensions import db
from jointops.identity import sessions
from jointops.models import User
from jointops.officetime import today_local

SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105 - a throw-away database
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
READY_SECONDS = 60.0
RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
REQUESTS = re.compile(r"^\s+(\d+) requests in ", re.M)
LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def hello_app() -> Flask:
    """The baseline: the smallest Flask app, served by gunicorn as ``bench.pages:hello_app()``."""
    app = Flask("hello")
    # gunicorn.conf.py's worker hooks read the app's settings (the scheduler's, the
    # directory's): the defaults, which add nothing to a request
    app.config.update(load_config({}), SCHEDULER="off")

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_served(url: str, headers: dict[str, str], server: Server) -> str:
    """The first answer of ``url`` once the server accepts connections (its body)."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        if server.process.poll() is not None:
            raise SystemExit(
                f"gunicorn exited with {server.process.returncode} before serving {url}:\n"
                + server.log_tail()
            )
        try:
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our 127.0.0.1
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                return str(answer.read().decode())
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"gunicorn did not serve {url} within {READY_SECONDS:g} s"
                ) from None
            time.sleep(0.05)


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], workers: int) -> Iterator[Server]:
    """A gunicorn master serving ``app_spec`` on a free port with ``gunicorn.conf.py``, stopped
    with SIGTERM afterwards (SIGKILL to its process group if it hangs)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="jointops-bench-gunicorn-") as folder:
        log = Path(folder) / "gunicorn.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own gunicorn and settings
                [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), app_spec],
                cwd=ROOT,
                env={
                    **os.environ,
                    **env,
                    "JOINTOPS_BIND": f"127.0.0.1:{port}",
                    "JOINTOPS_WORKERS": str(workers),
                },
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so that its workers go with it
            )
        try:
            yield Server(f"http://127.0.0.1:{port}", process, log)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def cpu_seconds(server: Server) -> float:
    """CPU time (user and system) used so far by the gunicorn master and its workers."""
    master = server.process.pid
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # a process that ended meanwhile
            continue
        pid = int(stat.parent.name)
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (name) "
        if pid == master or int(fields[1]) == master:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def wrk(
    server: Server, path: str, cookie: str, args: argparse.Namespace, seconds: int
) -> dict[str, Any]:
    """One wrk run: throughput, latency, and the server's CPU time per request (which, unlike
    throughput, other processes on the machine hardly change)."""
    url = server.url + path
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        url,
    ]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    cpu_before = cpu_seconds(server)
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    cpu = cpu_seconds(server) - cpu_before
    output = done.stdout
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        raise SystemExit(f"wrk saw errors loading {url}:\n{output}")
    rate = RATE.search(output)
    if rate is None:
        raise SystemExit(f"no Requests/sec in wrk's output:\n{output}")
    requests = REQUESTS.search(output)
    if requests is None:
        raise SystemExit(f"no request count in wrk's output:\n{output}")
    latency = {f"p{q}": round(float(v) * UNIT_MS[u], 2) for q, v, u in LATENCY.findall(output)}
    return {
        "rps": round(float(rate[1]), 1),
        "latency_ms": latency,
        "cpu_ms_per_request": round(cpu * 1000 / int(requests[1]), 3),
    }


def middle(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median throughput (of an odd number of runs, the middle one)."""
    return sorted(runs, key=lambda run: float(run["rps"]))[len(runs) // 2]


def session_cookie(app: Flask, username: str) -> str:
    """A signed-in browser's cookie: a server-side session of ``username`` and its signed id.

    It holds what the cookie of a browser holds from its first page on: Flask-Login's
    fingerprint of the browser (wrk's: 127.0.0.1, no User-Agent) and the CSRF secret. wrk
    replays one cookie and never takes the refreshed one a response sets, so without them
    every request would change the session and sign a new cookie, as no browser's does.
    """
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise SystemExit(f"--user {username}: no such demo user")
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        token = sessions.start(user)
        db.session.commit()
        login_user(user)
        session["sid"] = token
        generate_csrf()
        interface = app.session_interface
        assert isinstance(interface, SecureCookieSessionInterface)
        serializer = interface.get_signing_serializer(app)
        assert serializer is not None
        value = serializer.dumps(dict(session))
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def in_process(
    app: Flask, path: str, cookie: str, runs: int
) -> tuple[int, list[float], list[float]]:
    """The page's queries (transaction control aside) and its time per request, without HTTP."""
    client = app.test_client()
    client.environ_base.pop("HTTP_USER_AGENT", None)  # as wrk, which sends none
    name, _, value = cookie.partition("=")
    client.set_cookie(name, value)
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(statement)

    def get() -> TestResponse:
        """One request in a context of its own, as a server runs it (its own session)."""
        return contextvars.Context().run(client.get, path)

    event.listen(db.engine, "before_cursor_execute", record)
    response = get()
    event.remove(db.engine, "before_cursor_execute", record)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}, not the calendar")
    samples, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        get()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return len(sent), samples, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--user", default="investigator.pbso", help="the demo user signed in")
    parser.add_argument("--view", choices=("day", "week", "month"), default="week")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, both apps")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk, not measured")
    parser.add_argument(
        "--rounds", type=int, default=3, help="wrk runs per app, alternating hello and calendar"
    )
    parser.add_argument("--runs", type=int, default=200, help="timed in-process requests")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/pages.py needs wrk: apt-get install -y wrk")

    with database(args.backend) as url:
        config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "SCHEDULER": "off"}
        app = create_app(config)
        with app.app_context():
            day = today_local()
            path = f"/calendar?view={args.view}&date={day.isoformat()}"
            upgrade()
            seed_demo(day)
            cookie = session_cookie(app, args.user)
            queries, page_ms, page_cpu_ms = in_process(app, path, cookie, args.runs)
            db.session.remove()
            db.engine.dispose()

        env = {
            "JOINTOPS_DATABASE_URL": url,
            "JOINTOPS_SECRET_KEY": SECRET_KEY,
            "JOINTOPS_SCHEDULER": "off",
        }
        with (
            gunicorn("bench.pages:hello_app()", {}, args.workers) as hello_server,
            gunicorn("wsgi:app", env, args.workers) as calendar_server,
        ):
            if "Hello" not in wait_until_served(hello_server.url + "/", {}, hello_server):
                raise SystemExit("the hello-world app did not say hello")
            page = wait_until_served(
                calendar_server.url + path, {"Cookie": cookie}, calendar_server
            )
            if 'class="cal-toolbar"' not in page:
                raise SystemExit(f"{path} did not answer the signed-in calendar")
            # every worker compiles its templates and statements on its first requests
            wrk(hello_server, "/", "", args, args.warmup)
            wrk(calendar_server, path, cookie, args, args.warmup)
            hello_runs, calendar_runs = [], []
            for _ in range(args.rounds):
                hello_runs.append(wrk(hello_server, "/", "", args, args.duration))
                calendar_runs.append(wrk(calendar_server, path, cookie, args, args.duration))

    hello, calendar = middle(hello_runs), middle(calendar_runs)
    print(
        json.dumps(
            {
                "bench": "pages",
                "backend": args.backend,
                "page": path,
                "user": args.user,
                "workers": args.workers,
                "wrk": {"threads": args.threads, "connections": args.connections},
                "duration_s": args.duration,
                "rounds": args.rounds,
                "calendar_rps_runs": [run["rps"] for run in calendar_runs],
                "baseline_hello_rps_runs": [run["rps"] for run in hello_runs],
                "calendar_rps": calendar["rps"],
                "baseline_hello_rps": hello["rps"],
                "ratio": round(calendar["rps"] / hello["rps"], 3),
                "calendar_cpu_ms_per_request": calendar["cpu_ms_per_request"],
                "hello_cpu_ms_per_request": hello["cpu_ms_per_request"],
                "cpu_ratio": round(hello["cpu_ms_per_request"] / calendar["cpu_ms_per_request"], 3),
                "calendar_latency_ms": calendar["latency_ms"],
                "hello_latency_ms": hello["latency_ms"],
                "calendar_queries": queries,
                "calendar_in_process_ms": figures(page_ms),
                "calendar_in_process_cpu_ms": figures(page_cpu_ms),
            }
        )
    )


if __name__ == "__main__":
    main()
