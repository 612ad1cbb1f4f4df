"""Benchmark: ``import-targets`` of a CSV file against a store of targets.

Builds (or, with ``--keep``, reuses) the synthetic store of ``bench/deconflict.py``
with ``--stored`` identifiers and no operations, on SQLite. Writes a CSV file of
``--rows`` new targets of one agency (its generator's people; about one row in
six another agency's record of a stored subject, and some rows records of the
same subject as an earlier row of the file, so that alerts are raised against
the store and within the file). Then imports it on a fresh copy of the store,
batched (``import_targets``, as the command runs it), and as the baseline row
by row (``batched=False``: each target stored, then checked alone) on another
copy, of the first ``--baseline-rows`` rows of the same file. Both imports of
those rows must raise the same alerts. Prints one JSON line:

    .venv/bin/python bench/import.py --rows 10000 --stored 100000 --keep /work/benchdata/import
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select

from bench.deconflict import People, Person, bench_database, prepared, progress
from jointops import create_app
from jointops.extensions import db
from jointops.models import Alert, Target
from jointops.targets import importer
from jointops.targets.importer import COLUMNS, import_targets, resolve_importer
from jointops.targets.service import IDENTIFIER_FIELDS

AGENCY = "PBSO"
USER = "investigator.pbso"
CASE = "PBSO-BENCH-001"
JUSTIFICATION = "Synthetic import: reasonable suspicion stated in the case file (benchmark)."
COLUMN_OF = {kind: name for name, kind in IDENTIFIER_FIELDS.items()}


def csv_text(people: People, rows: int) -> str:
    """``rows`` new targets as the CSV an agency would export."""
    r = people.rng
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    written: list[Person] = []
    while len(written) < rows:
        roll = r.random()
        if people.sample and roll < 0.05:  # another agency's subject
            person = people.variant(r.choice(people.sample))
        elif written and roll < 0.06:  # a subject already on an earlier row
            person = people.variant(r.choice(written))
        else:
            person = people.person()
        people.identifiers(person)  # drops the values the rules refuse
        if not person.identifiers and not (person.first or person.last):
            continue
        cells: dict[str, list[str]] = {name: [] for name in IDENTIFIER_FIELDS}
        for kind, raw in person.identifiers:
            cells[COLUMN_OF[kind]].append(raw)
        written.append(person)
        values = {
            "case_number": CASE,
            "target_ref": f"IMP-{len(written):06d}",
            "first_name": person.first,
            "last_name": person.last,
            "aliases": ";".join(person.aliases),
            "dob": person.dob.isoformat() if person.dob else "",
            "justification": JUSTIFICATION,
        } | {name: ";".join(found) for name, found in cells.items()}
        writer.writerow([values[c] for c in COLUMNS])
    return out.getvalue()


def head(text: str, rows: int) -> str:
    """The header and the first ``rows`` rows (no cell of the bench's files spans lines)."""
    return "".join(text.splitlines(keepends=True)[: rows + 1])


class Stopwatch:
    """Seconds spent in the functions the importer calls by these names (``watch``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.restore: list[tuple[str, Any]] = []

    def watch(self, name: str) -> None:
        inner = getattr(importer, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                self.seconds[name] = self.seconds.get(name, 0.0) + spent

        setattr(importer, name, timed)
        self.restore.append((name, inner))


def timed_import(store: Path, text: str, *, batched: bool) -> dict[str, Any]:
    """Import ``text`` into a fresh copy of ``store``; seconds (in all, and in storing,
    finding hits and syncing alerts when batched), the targets stored and the alerts raised."""
    with tempfile.TemporaryDirectory(prefix="jointops-bench-import-", dir=store.parent) as folder:
        copy = Path(folder) / "store.sqlite3"
        shutil.copyfile(store, copy)
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}",
                "SECRET_KEY": "bench-secret-key",
                "TESTING": True,
            }
        )
        with app.app_context():
            agency, user = resolve_importer(AGENCY, USER)
            before = db.session.scalar(select(func.max(Alert.id))) or 0
            watch = Stopwatch()
            for name in ("store_many", "many_target_hits", "sync_loaded_target"):
                watch.watch(name)
            started = time.perf_counter()
            try:
                report = import_targets(text, agency, user, batched=batched)
            finally:
                for name, inner in watch.restore:
                    setattr(importer, name, inner)
            seconds = time.perf_counter() - started
            assert not report.errors, report.errors[:5]
            refs = {i: ref for i, ref in db.session.execute(select(Target.id, Target.ref))}
            alerts = sorted(
                (refs.get(a.item_a_id or 0, ""), refs.get(a.item_b_id or 0, ""))
                + (a.status, a.explanation, a.score)
                for a in db.session.scalars(select(Alert).where(Alert.id > before))
            )
            db.session.remove()
            db.engine.dispose()
    return {
        "seconds": seconds,
        "stored": len(report.stored),
        "alerts": alerts,
        "split": {name: round(spent, 2) for name, spent in watch.seconds.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the CSV file")
    parser.add_argument("--stored", type=int, default=1_000_000, help="identifiers stored")
    parser.add_argument(
        "--baseline-rows", type=int, default=None, help="rows imported row by row (default: all)"
    )
    parser.add_argument("--seed", type=int, default=5546)
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the built store (a SQLite file in DIR) and reuse it on the next run with "
        "the same size and seed",
    )
    args = parser.parse_args()
    store_args = argparse.Namespace(targets=args.stored, events=0, seed=args.seed, keep=args.keep)
    with bench_database("sqlite", store_args) as (url, state):
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key", "TESTING": True}
        )
        with app.app_context():
            built = prepared("sqlite", store_args, state)
            db.session.remove()
            db.engine.dispose()
        store = Path(url.removeprefix("sqlite:///"))
        people = built.people
        people.rng = random.Random(args.seed + 2)
        text = csv_text(people, args.rows)
        baseline_rows = min(args.baseline_rows or args.rows, args.rows)
        load = os.getloadavg()[0]
        progress(f"importing {args.rows:,} rows batched")
        batched = timed_import(store, text, batched=True)
        progress(f"  {batched['seconds']:.1f} s; the first {baseline_rows:,} rows batched")
        same = batched if baseline_rows == args.rows else None
        if same is None:
            same = timed_import(store, head(text, baseline_rows), batched=True)
        progress(f"  {same['seconds']:.1f} s; the first {baseline_rows:,} rows row by row")
        baseline = timed_import(store, head(text, baseline_rows), batched=False)
        progress(f"  {baseline['seconds']:.1f} s")
        load = max(load, os.getloadavg()[0])
        assert baseline["alerts"] == same["alerts"], "the two imports raised different alerts"
    n_targets, n_identifiers, n_keys = built.counts
    print(
        json.dumps(
            {
                "bench": "import",
                "backend": "sqlite",
                "rows": args.rows,
                "stored_identifiers": n_identifiers,
                "stored_targets": n_targets,
                "stored_keys": n_keys,
                "targets_per_s": round(batched["stored"] / batched["seconds"], 1),
                "seconds": round(batched["seconds"], 2),
                "alerts": len(batched["alerts"]),
                # seconds of the batched import in storing, finding hits, syncing alerts
                "seconds_in": batched["split"],
                "baseline_rows": baseline_rows,
                "baseline_row_by_row_targets_per_s": round(
                    baseline["stored"] / baseline["seconds"], 1
                ),
                "batched_same_rows_targets_per_s": round(same["stored"] / same["seconds"], 1),
                "speedup": round(
                    (same["stored"] / same["seconds"]) / (baseline["stored"] / baseline["seconds"]),
                    1,
                ),
                "same_alerts": baseline["alerts"] == same["alerts"],
                "baseline_alerts": len(baseline["alerts"]),
                "build_s": round(built.build_s, 1),
                "load_average": round(load, 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
