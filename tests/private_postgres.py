"""A private PostgreSQL server that a test may stop and start, leaving everyone else's alone.

``PrivatePostgres`` runs Debian's ``initdb`` into a temporary directory and serves that cluster
with ``pg_ctl`` on a free loopback port (trust authentication, no Unix socket in a shared
place). PostgreSQL refuses to run as root, so when the tests run as root the programs run as the
``postgres`` OS user (``runuser``) over a data directory it owns.

    with PrivatePostgres(tmp_path) as server:
        url = server.create_database()
        ...
        server.stop()   # the database goes away (pg_ctl stop -m fast: connections are cut)
        server.start()  # and comes back on the same port with the same data

Also usable from bench/ (it needs nothing of pytest). ``find_bin_dir`` picks the newest installed
version; ``None`` when PostgreSQL's server programs are not installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa

POSTGRES_LIB = Path("/usr/lib/postgresql")
OS_USER = "postgres"
START_TIMEOUT_S = 30


def find_bin_dir() -> Path | None:
    """The ``bin`` directory of the newest PostgreSQL installed under /usr/lib/postgresql."""
    found = [p.parent for p in POSTGRES_LIB.glob("*/bin/initdb")]
    if not found:
        return None

    def version(bin_dir: Path) -> tuple[int, ...]:
        name = bin_dir.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    return max(found, key=version)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivatePostgres:
    """One throw-away cluster: ``initdb`` on enter, ``pg_ctl stop`` and removal on exit."""

    def __init__(self, parent: Path | None = None) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise FileNotFoundError(f"no PostgreSQL server programs under {POSTGRES_LIB}")
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="jointops-pg-", dir=parent))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self.as_root:
            command = ["runuser", "-u", OS_USER, "--", *command]
        done = subprocess.run(  # noqa: S603 - fixed programs of the PostgreSQL installation
            command, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr or done.stdout}\n"
                f"{self.log_tail()}"
            )

    def init(self) -> PrivatePostgres:
        if self.as_root:
            account = pwd.getpwnam(OS_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections (``pg_ctl -w``)."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(
            "pg_ctl",
            "start",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--wait",
            "--timeout",
            str(START_TIMEOUT_S),
            "-o",
            options,
        )

    def stop(self) -> None:
        """Stop the server now: open connections are cut, as in an outage (waits until down)."""
        self._run("pg_ctl", "stop", "--pgdata", str(self.data), "--mode", "fast", "--wait")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def database_url(self, name: str) -> str:
        return sa.make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def create_database(self, template: str | None = None) -> str:
        """A new database (copied from ``template`` if given); returns its name."""
        name = f"jointops_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        with engine.connect() as conn:
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        engine.dispose()
        return name

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def close(self) -> None:
        try:
            if self.is_running():
                self._run("pg_ctl", "stop", "--pgdata", str(self.data), "--mode", "immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        try:
            self.init().start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
