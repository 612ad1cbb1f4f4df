"""``jointops import-targets``: every bad row named by line and reason, all or nothing."""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from jointops import create_app
from jointops.deconfliction import sync
from jointops.deconfliction.candidates import Hit, StoredTarget, many_target_hits, target_hits
from jointops.deconfliction.records import target_record
from jointops.extensions import db
from jointops.models import (
    Alert,
    AuditEntry,
    Notification,
    OutboxEmail,
    PendingCheck,
    Target,
    User,
)
from jointops.notifications.service import set_email_choices
from jointops.targets import importer
from jointops.targets.cli import progress_bar
from jointops.targets.importer import ImportReport, import_targets, resolve_importer
from jointops.transactions import unit_of_work
from tests.alert_helpers import alerts_of, audits, count
from tests.conftest import base_config, user

HEADER = (
    "case_number,target_ref,first_name,last_name,aliases,dob,phones,emails,plates,vins,"
    "addresses,handles,businesses,justification\n"
)
WHY = "Two controlled buys and a victim statement tie this subject to the ring."
VIN = "1HGCM82633A004352"


def csv_file(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def run(
    runner: Any, path: Path, *extra: str, agency: str = "PBSO", user: str = "investigator.pbso"
) -> Any:
    return runner.invoke(
        args=["import-targets", "--agency", agency, "--user", user, *extra, str(path)]
    )


def refs() -> set[str]:
    db.session.rollback()
    return set(db.session.scalars(select(Target.ref)))


GOOD = [
    f'PB-2026-0417,IMP-1,Ana,Lima,"Nana; Ana L.",1990-02-03,(561) 555-0142;561 555 0143,'
    f'ana.lima@example.org,FL:IMP 101,{VIN},"1 Main St, Lake Worth, FL 33460",'
    f"instagram:@ana.lima,Lima Nails LLC,{WHY}",
    f"PB-2026-0417,IMP-2,Bruno,Reyes,,,,,,,,telegram:@bruno_r,,{WHY}",
    f"PB-2026-0417,IMP-3,,,,,,,TX:XYZ9876,,,,,{WHY}",
]


def test_a_good_file_is_stored_whole_and_deconflicted(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    result = run(runner, csv_file(tmp_path, *GOOD))
    assert result.exit_code == 0, result.output
    assert "Stored 3 targets for PBSO" in result.output
    assert {"IMP-1", "IMP-2", "IMP-3"} <= refs()
    ana = db.session.scalar(select(Target).where(Target.ref == "IMP-1"))
    assert ana is not None and ana.aliases == ["Nana", "Ana L."]
    assert ana.dob is not None and ana.dob.isoformat() == "1990-02-03"
    kinds = sorted(i.kind for i in ana.identifiers)
    assert kinds == sorted(
        ["phone", "phone", "email", "plate", "vin", "address", "handle", "business"]
    )
    assert ana.submitter.username == "investigator.pbso" and ana.justification == WHY
    assert len(audits("target.create", via="import")) == 3

    # The FBI imports a target with the same VIN: one alert to both sides.
    fbi = csv_file(
        tmp_path, f"MM-305A-1182,FBI-IMP-1,Anna,Lyma,,,,,,{VIN},,,,{WHY}", name="fbi.csv"
    )
    result = run(runner, fbi, agency="FBI", user="investigator.fbi")
    assert result.exit_code == 0, result.output
    assert "1 new alert" in result.output
    assert len(alerts_of("target", ana.id)) == 1


def test_every_bad_row_is_reported_by_line_and_nothing_is_stored(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    before = count(Target)
    path = csv_file(
        tmp_path,
        GOOD[0],  # line 2
        f"NOPE-1,IMP-5,Cara,Diaz,,,,,,,,,,{WHY}",  # line 3: not a PBSO case
        f"PB-2026-0417,IMP-6,Dan,Eze,,1990-13-45,,,,,,,,{WHY}",  # line 4: bad date
        f"PB-2026-0417,IMP-7,Eve,Fox,,,,,ABC123,,,,,{WHY}",  # line 5: plate without state
        f"PB-2026-0417,IMP-8,Gus,Hale,,,,,,1HGCM82633AOO4352,,,,{WHY}",  # line 6: VIN
        "PB-2026-0417,IMP-9,Ivy,Jones,,,,,,,,,,",  # line 7: no justification
        f"PB-2026-0417,IMP-1,Kim,Lee,,,,,,,,,,{WHY}",  # line 8: IMP-1 again
        "",  # a blank line is skipped
        f"PB-2026-0417,IMP-10,Lou,Moe,,,,,,,,someone,,{WHY}",  # line 10: handle
        f"PB-2026-0417,PB-T-001,Mo,Ng,,,,,,,,,,{WHY}",  # line 11: ref already stored
    )
    result = run(runner, path)
    assert result.exit_code == 1
    out = result.output
    expected = {
        3: "case_number: NOPE-1 is not a case of PBSO",
        4: "dob: “1990-13-45” is not a date as YYYY-MM-DD",
        5: "plates: “ABC123”: the issuing state is missing",
        6: "vins: “1HGCM82633AOO4352”: contains O (VINs never use I, O or Q)",
        7: "justification: State the reasonable suspicion",
        8: "target_ref: IMP-1 is also on line 2",
        10: "handles: “someone”: the platform is missing",
        11: "target_ref: PB-T-001 is already a target of PBSO",
    }
    for line, reason in expected.items():
        assert f"t.csv: line {line}: {reason}" in out, (line, out)
    assert "line 2:" not in out and "line 9:" not in out
    assert "8 bad rows of 9: nothing stored" in out
    assert count(Target) == before and "IMP-1" not in refs()


def test_a_vin_whose_check_digit_does_not_match_is_stored_and_listed_as_a_warning(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    """Not a bad row: the target is stored, the summary lists the warning by line."""
    odd = VIN[:8] + "4" + VIN[9:]  # a pre-1981 or foreign VIN, or a typo
    path = csv_file(
        tmp_path,
        GOOD[1],
        f"PB-2026-0417,IMP-50,Gus,Hale,,,,,,{odd.lower()},,,,{WHY}",  # line 3
        f"PB-2026-0417,IMP-51,Hal,Ives,,,,,,{odd};{VIN},,,,{WHY}",  # line 4
    )
    result = run(runner, path)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"t.csv: line 3: vins: “{odd.lower()}”: check digit 4 does not match" in out
    assert f"t.csv: line 4: vins: “{odd}”: check digit 4 does not match" in out
    assert "line 2:" not in out and VIN not in out.replace(odd, "")
    assert "Stored 3 targets for PBSO; 0 new alerts; 2 warnings (listed above)." in out
    assert {"IMP-2", "IMP-50", "IMP-51"} <= refs()
    gus = db.session.scalar(select(Target).where(Target.ref == "IMP-50"))
    assert gus is not None and [i.normalized for i in gus.identifiers] == [odd]
    # matched exactly, as written, by another agency's record of it
    fbi = csv_file(tmp_path, f"MM-305A-1182,FBI-IMP-50,,,,,,,,{odd},,,,{WHY}", name="f.csv")
    result = run(runner, fbi, agency="FBI", user="investigator.fbi")
    assert result.exit_code == 0 and "2 new alerts; 1 warning (listed above)." in result.output


def test_a_warning_does_not_hide_a_bad_row_nor_the_other_way_round(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    odd = VIN[:8] + "4" + VIN[9:]
    path = csv_file(tmp_path, f"PB-2026-0417,IMP-52,Ivo,Jas,,,,,ABC123,{odd},,,,{WHY}")
    result = run(runner, path)
    assert result.exit_code == 1
    assert "line 2: plates: “ABC123”: the issuing state is missing" in result.output
    assert "line 2: vins: “" in result.output and "check digit 4 does not match" in result.output
    assert "IMP-52" not in refs()


def test_skip_bad_stores_the_good_rows_and_reports_the_others(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        GOOD[1],
        f"PB-2026-0417,IMP-20,Ola,Pratt,,,,,,{VIN[:-1]},,,,{WHY}",
        GOOD[2],
    )
    result = run(runner, path, "--skip-bad")
    assert result.exit_code == 0, result.output
    assert "line 3: vins: “1HGCM82633A00435”: must have 17 characters" in result.output
    assert "Stored 2 targets for PBSO, 1 bad row skipped" in result.output
    assert {"IMP-2", "IMP-3"} <= refs() and "IMP-20" not in refs()


def test_a_quoted_cell_over_two_lines_keeps_the_line_numbers_right(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        f'PB-2026-0417,IMP-30,Quin,Rowe,,,,,,,,,,"{WHY}\nSecond paragraph of the reason."',
        f"PB-2026-0417,IMP-31,Sam,Tate,,,,,,bad-vin,,,,{WHY}",
    )
    result = run(runner, path)
    assert result.exit_code == 1
    assert "line 4: vins:" in result.output


def test_the_file_itself_and_the_importer_are_checked_first(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    missing = csv_file(
        tmp_path, "PB-2026-0417,IMP-40", header="case_number,target_ref\n", name="m.csv"
    )
    result = run(runner, missing)
    assert result.exit_code == 1 and "line 1: missing column justification" in result.output
    unknown = csv_file(tmp_path, header=HEADER.replace("vins", "vin_numbers"), name="u.csv")
    assert "unknown column vin_numbers" in run(runner, unknown).output
    good = csv_file(tmp_path, GOOD[1], name="g.csv")
    assert "is not of PBSO" in run(runner, good, user="investigator.fbi").output
    assert "no agency 'XYZ'" in run(runner, good, agency="XYZ").output
    assert "may not enter targets" in run(runner, good, agency="VS", user="advocate.vs").output
    assert (
        "may not enter targets" in run(runner, good, agency="SAO15", user="prosecutor.sao15").output
    )
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(
        (HEADER + f"PB-2026-0417,IMP-41,José,Núñez,,,,,,,,,,{WHY}\n").encode("latin-1")
    )
    assert "not UTF-8 text" in run(runner, latin).output
    assert "IMP-2" not in refs()

    bom = tmp_path / "bom.csv"
    bom.write_bytes((HEADER + GOOD[1] + "\n").encode("utf-8-sig"))
    result = run(runner, bom)
    assert result.exit_code == 0, result.output
    assert "IMP-2" in refs()


# --- batched: the same alerts as one by one ---------------------------------------------------

FIRST = ["John", "Jon", "Johnny", "Maria", "Mariah", "Ana"]
LAST = ["Smith", "Smyth", "Lima", "Reyes"]
MONIKERS = ["Snoop", "Ghost", "Tiny"]
PHONES = [f"(561) 555-01{n:02d}" for n in range(12)]
PLATES = [f"FL:IMP {n:03d}" for n in range(8)]


def random_rows(rng: random.Random, count: int, cases: list[str], prefix: str) -> list[str]:
    """Rows drawn from small pools, so that many match each other: by name (with and without
    dates of birth, nicknames, street names), by phone and by plate."""
    rows = []
    for n in range(count):
        named = rng.random() < 0.85
        first = rng.choice(FIRST) if named else ""
        last = rng.choice(LAST) if named else ""
        alias = rng.choice(MONIKERS) if named and rng.random() < 0.3 else ""
        dob = f"198{rng.randrange(3)}-01-0{1 + rng.randrange(2)}" if rng.random() < 0.5 else ""
        phone = rng.choice(PHONES) if rng.random() < 0.4 or not named else ""
        plate = rng.choice(PLATES) if rng.random() < 0.2 else ""
        rows.append(
            f"{rng.choice(cases)},{prefix}-{n},{first},{last},{alias},{dob},{phone},,{plate},"
            f",,,,{WHY}"
        )
    return rows


@pytest.fixture
def twin_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second fresh database on the backend of ``app``'s."""
    if make_url(database_url).get_backend_name() == "sqlite":
        path = tmp_path / "twin.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    postgres = request.getfixturevalue("postgres")
    name = postgres.create(template=request.getfixturevalue("postgres_template"))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    postgres.drop(name)


def import_file(text: str, agency: str, username: str, **options: Any) -> ImportReport:
    found, user = resolve_importer(agency, username)
    report = import_targets(text, found, user, **options)
    assert not report.errors, report.errors
    return report


def stored_by_others(rng: random.Random) -> None:
    """The store the files are checked against: the FBI's and HSI's targets, among them
    thirty namesakes without a date of birth (a name too common to count alone)."""
    fbi = random_rows(rng, 30, ["MM-305A-1182"], "FBI-R")
    fbi += [f"MM-305A-1182,FBI-JS-{n},John,Smith,,,,,,,,,,{WHY}" for n in range(30)]
    import_file(
        HEADER + "\n".join(fbi) + "\n", "FBI", "investigator.fbi", batched=False, create_cases=True
    )
    hsi = random_rows(rng, 20, ["HSI-R-1"], "HSI-R")
    import_file(
        HEADER + "\n".join(hsi) + "\n", "HSI", "investigator.hsi", batched=False, create_cases=True
    )


def alert_facts() -> list[tuple[Any, ...]]:
    """Every alert, by its items' agency and reference, and every action audited, as counts."""
    db.session.rollback()
    items = {t.id: (t.agency.code, t.ref) for t in db.session.scalars(select(Target))}
    alerts = [
        (
            items[a.item_a_id or 0],
            items[a.item_b_id or 0],
            a.status,
            a.strength,
            a.explanation,
            a.score,
            json.dumps(a.reasons, sort_keys=True),
            a.closed_reason,
        )
        for a in db.session.scalars(select(Alert).where(Alert.kind == "target"))
    ]
    actions = Counter(db.session.scalars(select(AuditEntry.action)))
    notices = count(Notification)
    pending = count(PendingCheck)
    return [*sorted(alerts), tuple(sorted(actions.items())), ("notifications", notices, pending)]


def of_pbso(facts: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The alerts of ``alert_facts`` with a PBSO target on either side."""
    return [f for f in facts if isinstance(f[0], tuple) and "PBSO" in (f[0][0], f[1][0])]


def imported(facts: list[tuple[Any, ...]], prefix: str) -> list[tuple[Any, ...]]:
    """The alerts of ``alert_facts`` with a target whose reference starts with ``prefix``."""
    return [f for f in of_pbso(facts) if f[0][1].startswith(prefix) or f[1][1].startswith(prefix)]


def test_a_file_imported_batched_raises_the_alerts_that_row_by_row_raises(
    app: Flask, twin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the same store, the same file: the same alerts (items, strength, score,
    reasons, status), audit entries and notifications, including the pairs of rows of the
    file (two cases of the agency) and across chunks of the batch."""
    monkeypatch.setattr(importer, "CHUNK", 7)
    rng = random.Random(1414)
    stored_by_others(rng)
    rows = random_rows(rng, 60, ["PB-2026-0417", "PB-IMP-2"], "PB-R")
    rows.insert(5, f"PB-IMP-2,PB-JS-1,John,Smith,,,,,,,,,,{WHY}")
    text = HEADER + "\n".join(rows) + "\n"

    batched = import_file(text, "PBSO", "investigator.pbso", create_cases=True)
    facts = alert_facts()
    twin = create_app(base_config(twin_url))
    with twin.app_context():
        stored_by_others(random.Random(1414))
        one_by_one = import_file(
            text, "PBSO", "investigator.pbso", create_cases=True, batched=False
        )
        twin_facts = alert_facts()
        db.session.remove()
        db.engine.dispose()

    assert batched.stored == one_by_one.stored and len(batched.stored) == 61
    assert batched.alerts == one_by_one.alerts
    assert facts == twin_facts
    alerts = of_pbso(facts)
    within = [a for a in alerts if a[0][0] == a[1][0]]
    across = [a for a in alerts if a[0][0] != a[1][0]]
    assert within and across  # the file's rows matched each other and the store
    assert facts[-1] == ("notifications", facts[-1][1], 0)  # nothing left pending


def test_batched_hits_are_each_targets_own_hits(app: Flask) -> None:
    """``many_target_hits`` of stored targets is ``target_hits`` of each, pair for pair."""
    rng = random.Random(2027)
    stored_by_others(rng)
    rows = random_rows(rng, 40, ["PB-2026-0417"], "PB-H")
    import_file(HEADER + "\n".join(rows) + "\n", "PBSO", "investigator.pbso")
    targets = list(db.session.scalars(select(Target).order_by(Target.id)))
    stored = [StoredTarget(t.id, t.agency_id, t.case_id, target_record(t)) for t in targets]
    together = many_target_hits(stored)
    alone = [
        target_hits(s.record, target_id=s.id, agency_id=s.agency_id, case_id=s.case_id)
        for s in stored
    ]
    assert sum(len(h) for h in alone) > 50

    def facts(hits: list[Hit]) -> list[tuple[Any, ...]]:
        return sorted((h.key, h.agency_id, h.match) for h in hits)

    assert [facts(h) for h in together] == [facts(h) for h in alone]


def test_a_batch_that_fails_is_checked_one_by_one(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure of the batched check loses nothing: its targets are checked as after a save,
    and the alerts are those of a batch that did not fail."""
    monkeypatch.setattr(importer, "CHUNK", 5)
    stored_by_others(random.Random(7))
    rows = random_rows(random.Random(8), 20, ["PB-2026-0417"], "PB-F")
    text = HEADER + "\n".join(rows) + "\n"
    real = many_target_hits
    calls = []

    def failing(targets: list[StoredTarget]) -> list[list[Hit]]:
        calls.append(len(targets))
        if len(calls) == 2:
            raise OperationalError("SELECT", {}, Exception("the database went away"))
        return real(targets)

    monkeypatch.setattr(importer, "many_target_hits", failing)
    seen: list[tuple[int, int]] = []
    report = import_file(
        text, "PBSO", "investigator.pbso", progress=lambda done, total: seen.append((done, total))
    )
    assert calls == [5, 5, 5, 5]
    assert seen == [(5, 20), (10, 20), (15, 20), (20, 20)]
    assert report.alerts > 0 and count(PendingCheck) == 0
    with_failure = imported(alert_facts(), "PB-F-")

    db.session.execute(delete(Notification))
    db.session.execute(delete(Alert))
    db.session.commit()
    monkeypatch.setattr(importer, "many_target_hits", real)
    ids = list(
        db.session.scalars(select(Target.id).where(Target.ref.like("PB-F-%")).order_by(Target.id))
    )
    importer.deconflict_stored(
        [
            StoredTarget(t.id, t.agency_id, t.case_id, target_record(t))
            for t in (db.session.get_one(Target, i) for i in ids)
        ],
        user("investigator.pbso"),
    )
    assert imported(alert_facts(), "PB-F-") == with_failure


def test_the_progress_bar_is_for_a_terminal_only(app: Flask, runner: Any, tmp_path: Path) -> None:
    """A script reading the command's output sees no bar: the summary alone."""
    result = run(runner, csv_file(tmp_path, *GOOD))
    assert result.exit_code == 0
    assert "Deconflicting" not in result.output and "Stored 3 targets" in result.output


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.clockless
def test_on_a_terminal_the_bar_counts_the_targets_deconflicted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_bar() as advance:
        assert advance is not None
        advance(250, 1000)
        advance(1000, 1000)
    shown = terminal.getvalue()
    assert "Deconflicting" in shown and "100%" in shown


def trail() -> list[tuple[Any, ...]]:
    """Every audit entry, inbox line and e-mail of the alerts, in the order they were written,
    with alert numbers and target ids replaced by the items' agencies and references (the
    numbers a store gives differ between two stores)."""
    db.session.rollback()
    items = {t.id: f"{t.agency.code}/{t.ref}" for t in db.session.scalars(select(Target))}
    pairs = {
        a.id: f"{items[a.item_a_id or 0]}~{items[a.item_b_id or 0]}"
        for a in db.session.scalars(select(Alert))
    }

    def named(text: str) -> str:
        text = re.sub(r"#(\d+)", lambda m: f"#{pairs[int(m[1])]}", text)
        text = re.sub(r"/alerts/(\d+)", lambda m: f"/alerts/{pairs[int(m[1])]}", text)
        return re.sub(r"target:(\d+)", lambda m: f"target:{items[int(m[1])]}", text)

    entries = [
        (
            e.action,
            e.object_type,
            pairs[int(e.object_id)] if e.object_type == "alert" else items[int(e.object_id)],
            e.actor_username,
            e.remote_addr,
            e.outcome,
            named(json.dumps(e.detail, sort_keys=True)),
        )
        for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        if e.object_type in ("alert", "target")
    ]
    usernames = {u.id: u.username for u in db.session.scalars(select(User))}
    lines = [
        (usernames[n.user_id], pairs[n.alert_id or 0], n.category, named(n.link or ""))
        + (named(n.text), n.read_at)
        for n in db.session.scalars(select(Notification).order_by(Notification.id))
    ]
    mails = [
        (usernames[m.user_id or 0], m.recipient, m.category, m.subject, named(m.body))
        for m in db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
    ]
    return [*entries, ("lines",), *lines, ("e-mails",), *mails]


def mailing(app: Flask) -> None:
    """E-mail on, except by the FBI's supervisor's choice and for HSI's people by their
    agency's policy: notices go by e-mail to some of their readers only."""
    app.config.update(
        SMTP_HOST="127.0.0.1", SMTP_SENDER="jointops@taskforce.test", EMAIL_POLICY={"HSI": []}
    )
    set_email_choices(user("supervisor.fbi"), {"alert": False})
    db.session.commit()


def test_batched_alerts_are_audited_and_told_as_row_by_row_does(
    app: Flask, twin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alerts a batch writes at once (``AlertBatch``) carry the audit entries, inbox lines
    and e-mails, in the same order and words, that raising them one by one writes: including
    alerts raised and then changed or closed by a later target of the same chunk."""
    monkeypatch.setattr(importer, "CHUNK", 9)
    rng = random.Random(3131)
    mailing(app)
    stored_by_others(rng)
    rows = random_rows(rng, 50, ["PB-2026-0417", "PB-IMP-2"], "PB-T")
    rows.insert(3, f"PB-IMP-2,PB-JS-1,John,Smith,,,,,,,,,,{WHY}")  # a name common at the FBI
    text = HEADER + "\n".join(rows) + "\n"
    import_file(text, "PBSO", "investigator.pbso", create_cases=True)
    batched = trail()
    twin = create_app(base_config(twin_url))
    with twin.app_context():
        mailing(twin)
        stored_by_others(random.Random(3131))
        import_file(text, "PBSO", "investigator.pbso", create_cases=True, batched=False)
        one_by_one = trail()
        db.session.remove()
        db.engine.dispose()

    assert batched == one_by_one
    actions = Counter(entry[0] for entry in batched if len(entry) == 7)
    assert actions["alert.raise"] > 20 and actions["alert.update"] > 0
    lines = batched.index(("e-mails",)) - batched.index(("lines",)) - 1
    mails = len(batched) - batched.index(("e-mails",)) - 1
    assert 0 < mails < lines


def another_writer_raises_a_pair_first(monkeypatch: pytest.MonkeyPatch, *, unseen: bool) -> None:
    """Before the import checks its targets, another save raises the alert of one of their
    pairs; with ``unseen``, it commits just after the batch read the chunk's alerts (the race
    a batch loses at its insert, on PostgreSQL)."""
    real_deconflict, real_load = importer.deconflict_stored, sync.AlertBatch.load
    theirs: list[int] = []

    def deconflict(targets: list[StoredTarget], actor: User, progress: Any = None) -> None:
        first, hits = next(
            (t, h) for t, h in zip(targets, many_target_hits(targets), strict=True) if h
        )
        own, hit = ("target", first.id), hits[0]
        pair = (own, hit.key) if own <= hit.key else (hit.key, own)
        parties = {
            own: sync._Party(first.agency_id, None),
            hit.key: sync._Party(hit.agency_id, None),
        }
        with unit_of_work():
            reasons = sync.reasons_data(hit.match, flip=pair[0] != own)
            alert, _ = sync._new_alert(pair, parties, hit.match, "target", reasons)
        theirs.append(alert.id)
        real_deconflict(targets, actor, progress)

    def load(batch: sync.AlertBatch, keys: Any) -> None:
        real_load(batch, keys)
        if not unseen:
            return
        for known in batch.known.values():
            for pair, alert in list(known.items()):
                if alert.id in theirs:
                    del known[pair]

    monkeypatch.setattr(importer, "deconflict_stored", deconflict)
    monkeypatch.setattr(sync.AlertBatch, "load", load)


def test_a_chunk_that_loses_a_race_for_a_pair_is_checked_one_by_one(
    app: Flask, twin_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A pair another writer raised after the batch read the chunk's alerts fails the chunk's
    insert; its targets are then checked one by one, which find that alert and raise the rest:
    the alerts, audit entries and notices are those of a batch that saw the pair from the start."""
    monkeypatch.setattr(importer, "CHUNK", 8)
    rows = random_rows(random.Random(91), 24, ["PB-2026-0417"], "PB-W")
    text = HEADER + "\n".join(rows) + "\n"
    stored_by_others(random.Random(90))
    with monkeypatch.context() as racing:
        another_writer_raises_a_pair_first(racing, unseen=True)
        import_file(text, "PBSO", "investigator.pbso")
    lost = alert_facts()
    assert "one by one now" in caplog.text
    caplog.clear()
    twin = create_app(base_config(twin_url))
    with twin.app_context():
        stored_by_others(random.Random(90))
        with monkeypatch.context() as racing:
            another_writer_raises_a_pair_first(racing, unseen=False)
            import_file(text, "PBSO", "investigator.pbso")
        seen = alert_facts()
        db.session.remove()
        db.engine.dispose()
    assert "one by one now" not in caplog.text
    assert lost == seen
    assert len(imported(lost, "PB-W-")) > 10 and lost[-1] == ("notifications", lost[-1][1], 0)
