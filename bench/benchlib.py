"""What every benchmark shares: throw-away databases and the figures it prints."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def figures(samples: list[float], *, with_max: bool = False) -> dict[str, float]:
    """Median and p95 of ``samples`` in milliseconds, rounded for the JSON line."""
    result = {
        "median": round(statistics.median(samples), 2),
        "p95": round(percentile(samples, 0.95), 2),
    }
    if with_max:
        result["max"] = round(max(samples), 2)
    return result


def postgres_server() -> str:
    return os.environ.get("JOINTOPS_BENCH_POSTGRES_URL") or os.environ.get(
        "JOINTOPS_TEST_POSTGRES_URL", ""
    )


def add_backend_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "both"),
        default=None,
        help="default: both when a PostgreSQL URL is set, else sqlite",
    )


def backends(choice: str | None) -> tuple[str, ...]:
    """The databases a run measures: ``--backend``, else both when a PostgreSQL URL is set."""
    backend = choice or ("both" if postgres_server() else "sqlite")
    return ("sqlite", "postgresql") if backend == "both" else (backend,)


def kept_database(backend: str, name: str, folder: Path) -> tuple[str, bool]:
    """The URL of a database kept between runs (``folder/name.sqlite3`` or PostgreSQL's
    ``name``), created empty if missing; and whether it was there already."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.sqlite3"
        return f"sqlite:///{path}", path.exists()
    server = postgres_server()
    if not server:
        raise SystemExit("--backend postgresql needs JOINTOPS_BENCH_POSTGRES_URL")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        existed = bool(
            conn.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %(name)s", {"name": name}
            ).scalar()
        )
        if not existed:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False), existed


def drop_kept_database(backend: str, name: str, folder: Path) -> None:
    if backend == "sqlite":
        (folder / f"{name}.sqlite3").unlink(missing_ok=True)
        return
    admin = sa.create_engine(postgres_server(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@contextmanager
def database(backend: str) -> Iterator[str]:
    """The URL of an empty database that is dropped afterwards (a temp file on SQLite)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="jointops-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    server = postgres_server()
    if not server:
        raise SystemExit("--backend postgresql needs JOINTOPS_BENCH_POSTGRES_URL")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"jointops_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
