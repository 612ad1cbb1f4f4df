"""``jointops import-targets``: every bad row named by line and reason, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from jointops.extensions import db
from jointops.models import Target
from tests.alert_helpers import alerts_of, audits, count

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
