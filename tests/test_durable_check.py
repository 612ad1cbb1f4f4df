"""A save is checked, always: the item and the fact that it needs checking commit together.

A check made to fail (an injected fault) leaves the item saved, marked and shown as
"Not yet deconflicted"; the sweep job checks it later and raises the alert; a
worker killed in the middle of a check loses nothing; a check that keeps failing
is reported once to the deconfliction officers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.deconfliction import candidates
from jointops.extensions import db
from jointops.jobs.tasks.deconfliction_sweep import sweep
from jointops.models import Notification, PendingCheck, utcnow
from tests.alert_helpers import (
    LAT_300M,
    alerts_between,
    alerts_of,
    case_of,
    far_day,
    local,
    operation,
    save_operation,
    target_data,
    text,
    user,
)

Login = Callable[[str], FlaskClient]


def pending_rows() -> dict[tuple[str, int], PendingCheck]:
    db.session.rollback()
    return {(r.item_type, r.item_id): r for r in db.session.scalars(select(PendingCheck))}


def broken(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("injected fault: the candidate index is unreachable")


def fbi_operation(login: Login, day: Any) -> int:
    return save_operation(
        login("investigator.fbi"),
        operation(
            day,
            title="FBI durable-check meet",
            subtype="undercover_meet",
            starts_at=local(day, "10:00"),
            ends_at=local(day, "12:00"),
            latitude=f"{26.6 + LAT_300M:.4f}",
        ),
    )


def test_a_failed_check_leaves_the_operation_saved_marked_and_shown(
    app: Flask, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = far_day(31)
    fbi = fbi_operation(login, day)
    assert (("event", fbi)) not in pending_rows()  # its own check completed

    monkeypatch.setattr(candidates, "operation_candidates", broken)
    pbso_client = login("investigator.pbso")
    pbso = save_operation(pbso_client, operation(day, title="PBSO durable-check warrant"))

    row = pending_rows()[("event", pbso)]
    assert row.attempts == 1 and "injected fault" in row.last_error
    assert alerts_between("event", pbso, fbi) == []  # nothing could be said yet
    page = text(pbso_client.get(f"/events/{pbso}"))
    assert "Not yet deconflicted" in page
    week = text(pbso_client.get(f"/calendar?view=week&date={day.isoformat()}"))
    assert "PBSO durable-check warrant" in week and "Not yet deconflicted" in week
    review = text(login("supervisor.pbso").get("/alerts"))
    assert "Not yet deconflicted" in review and "PBSO durable-check warrant" in review
    # another agency's supervisor learns nothing of it from the review page
    assert "PBSO durable-check warrant" not in text(login("supervisor.fbi").get("/alerts"))

    monkeypatch.undo()
    early = sweep(utcnow())  # back-off: not due yet
    assert early["checked"] == 0 and ("event", pbso) in pending_rows()
    figures = sweep(utcnow() + timedelta(minutes=2))
    assert figures["checked"] == 1
    assert ("event", pbso) not in pending_rows()
    [alert] = alerts_between("event", pbso, fbi)
    assert alert.is_active
    assert "Not yet deconflicted" not in text(pbso_client.get(f"/events/{pbso}"))


def test_a_failed_target_check_is_retried_by_the_sweep(
    app: Flask, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    fbi = login("investigator.fbi")
    response = fbi.post(
        "/targets/new",
        data=target_data(case_of("FBI").id, "FBI-DUR-1", phones="(561) 555-0177"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    monkeypatch.setattr(candidates, "target_candidates", broken)
    pbso = login("investigator.pbso")
    response = pbso.post(
        "/targets/new",
        data=target_data(case_of("PBSO").id, "PBSO-DUR-1", phones="561-555-0177"),
    )
    assert response.status_code == 302  # saved: the failed check is not the caller's failure
    pbso_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert ("target", pbso_id) in pending_rows()
    assert "Not yet deconflicted" in text(pbso.get(f"/targets/{pbso_id}"))

    monkeypatch.undo()
    sweep(utcnow() + timedelta(minutes=2))
    assert ("target", pbso_id) not in pending_rows()
    assert [a for a in alerts_of("target", pbso_id) if a.is_active]


def test_a_worker_killed_mid_check_loses_nothing(
    app: Flask, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies inside the check (a BaseException nothing catches): the save stands."""
    day = far_day(33)
    fbi = fbi_operation(login, day)

    class Killed(BaseException):
        pass

    def killed(*_args: Any, **_kwargs: Any) -> Any:
        raise Killed

    monkeypatch.setattr(candidates, "operation_candidates", killed)
    with pytest.raises(Killed):
        save_operation(login("investigator.pbso"), operation(day, title="Killed mid-check"))
    monkeypatch.undo()
    db.session.rollback()
    rows = pending_rows()
    [(kind, pbso)] = [k for k in rows if k[0] == "event"]
    assert rows[(kind, pbso)].attempts == 0  # nobody lived to record a failure
    sweep(utcnow() + timedelta(minutes=2))
    assert alerts_between("event", pbso, fbi)
    assert pending_rows() == {}


def test_a_check_that_keeps_failing_is_reported_once_to_the_officers(
    app: Flask, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(candidates, "operation_candidates", broken)
    day = far_day(35)
    pbso = save_operation(login("investigator.pbso"), operation(day, title="Always failing"))
    officer = user("deconfliction_officer.pbso")
    now = utcnow()
    for _ in range(6):
        now += timedelta(hours=2)
        sweep(now)
    row = pending_rows()[("event", pbso)]
    assert row.attempts == 7 and row.reported_at is not None
    db.session.rollback()
    told = db.session.scalars(
        select(Notification).where(
            Notification.user_id == officer.id, Notification.text.contains(f"#{pbso}")
        )
    ).all()
    assert len(told) == 1 and "could not be deconflicted" in told[0].text
    # the officer sees it on the review page, with the error
    review = text(login("deconfliction_officer.pbso").get("/alerts"))
    assert f"Operation #{pbso}" in review or "Always failing" in review
    assert "injected fault" in review
