"""The administrator's users page: locks and live sessions, with audited actions."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.admin.service import RUNS_PER_JOB, latest_runs
from jointops.extensions import db
from jointops.models import AuditEntry, JobRun, User, utcnow

Login = Callable[[str], FlaskClient]


def _user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def test_only_administrators_see_the_users_page(login: Login) -> None:
    assert login("admin.pbso").get("/admin/users").status_code == 200
    assert login("supervisor.fbi").get("/admin/users").status_code == 403
    denied = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied"))
    assert [d.actor_username for d in denied] == ["supervisor.fbi"]


def test_admin_unlocks_a_locked_account(app: Flask, login: Login) -> None:
    outsider = app.test_client()
    for _ in range(5):
        outsider.post("/login", data={"username": "investigator.fbi", "password": "no"})
    admin = login("admin.pbso")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "Locked until" in page
    target = _user("investigator.fbi")
    assert admin.post(f"/admin/users/{target.id}/unlock").status_code == 302
    assert "Locked until" not in admin.get("/admin/users").get_data(as_text=True)
    reply = outsider.post(
        "/login", data={"username": "investigator.fbi", "password": "demo-password"}
    )
    assert reply.status_code == 302
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "admin.unlock"))


def test_admin_ends_a_users_sessions_everywhere(login: Login) -> None:
    victim = login("investigator.hsi")
    assert victim.get("/calendar").status_code == 200
    admin = login("admin.pbso")
    target = _user("investigator.hsi")
    admin.post(f"/admin/users/{target.id}/end-sessions")
    assert victim.get("/calendar").status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "admin.end_sessions"))
    assert entry is not None and entry.detail["ended"] == 1


def test_unknown_user_ids_are_404(login: Login) -> None:
    assert login("admin.pbso").post("/admin/users/999999/unlock").status_code == 404


USER_ROW = re.compile(r'<tr id="user-(\d+)"')


def _listed(client: FlaskClient, query: str) -> set[str]:
    page = client.get(f"/admin/users?{query}")
    assert page.status_code == 200
    ids = {int(i) for i in USER_ROW.findall(page.get_data(as_text=True))}
    return {u.username for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def test_users_search_and_filters_narrow(app: Flask, login: Login) -> None:
    gone = _user("agent.chen.fbi")
    gone.active = False
    db.session.commit()
    outsider = app.test_client()
    for _ in range(5):
        outsider.post("/login", data={"username": "investigator.wpbpd", "password": "no"})
    admin = login("admin.pbso")
    everyone = _listed(admin, "state=all")
    assert "agent.chen.fbi" in everyone and "admin.pbso" in everyone
    assert "agent.chen.fbi" not in _listed(admin, "")  # active by default
    assert _listed(admin, "state=deactivated") == {"agent.chen.fbi"}
    assert _listed(admin, "state=locked") == {"investigator.wpbpd"}
    assert _listed(admin, "q=PRIYA") == {"investigator.fbi"}  # display name, any case
    assert _listed(admin, "q=%40hsi.demo") == {"investigator.hsi", "supervisor.hsi"}  # e-mail
    assert _listed(admin, "q=%25") == set()  # a wildcard is a character
    assert _listed(admin, "agency=FBI&state=all") == {
        "investigator.fbi",
        "agent.chen.fbi",
        "supervisor.fbi",
        "interviewer.fbi",
    }
    assert _listed(admin, "role=advocate") == {"advocate.vs"}
    assert _listed(admin, "role=interpreter") == {"interpreter.vs", "det.rivera.pbso"}
    assert _listed(admin, "agency=PBSO&role=supervisor&q=okafor") == {"supervisor.pbso"}
    page = admin.get("/admin/users?q=okafor&role=supervisor").get_data(as_text=True)
    assert 'value="okafor"' in page and '<option value="supervisor" selected>' in page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("agency=NOPE", "agency"),
        ("role=wizard", "role"),
        ("state=asleep", "state"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_bad_user_filters_are_400_naming_the_field(login: Login, query: str, field: str) -> None:
    reply = login("admin.pbso").get(f"/admin/users?{query}")
    assert reply.status_code == 400
    text = reply.get_data(as_text=True)
    assert f"<li>{field}: " in text and '<tr id="user-' not in text
    typed = query.partition("=")[2]
    assert f'value="{typed}"' in text


def test_an_admin_cannot_end_their_own_sessions(login: Login) -> None:
    admin = login("admin.pbso")
    me = _user("admin.pbso")
    other = login("investigator.hsi")
    assert other.get("/calendar").status_code == 200
    page = admin.get("/admin/users").get_data(as_text=True)
    own_row = page[page.index(f'<tr id="user-{me.id}"') :].split("</tr>")[0]
    their_row = page[page.index(f'<tr id="user-{_user("investigator.hsi").id}"') :]
    assert "End sessions" not in own_row
    assert "End sessions" in their_row.split("</tr>")[0]
    reply = admin.post(f"/admin/users/{me.id}/end-sessions")
    assert reply.status_code == 400
    assert "sign out" in reply.get_data(as_text=True)
    assert admin.get("/calendar").status_code == 200  # still signed in
    refused = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "admin.end_sessions"))
    assert refused is not None and refused.outcome == "refused"


def test_jobs_page_shows_every_jobs_latest_runs_after_100_mail_runs(
    app: Flask, login: Login
) -> None:
    start = utcnow().replace(microsecond=0) - timedelta(days=1)
    for job_id, every, count in (("retention", 60 * 24, 1), ("escalation", 5, 7)):
        for i in range(count):
            at = start + timedelta(minutes=every * i)
            db.session.add(JobRun(job_id=job_id, scheduled_for=at, holder="ops:1", started_at=at))
    for i in range(100):  # the mail job, every minute, newer than all of them
        at = start + timedelta(hours=2, minutes=i)
        db.session.add(JobRun(job_id="mail", scheduled_for=at, holder="ops:1", started_at=at))
    db.session.commit()

    runs = latest_runs()
    assert [len(runs[j]) for j in ("retention", "escalation", "mail")] == [1, RUNS_PER_JOB, 5]
    assert runs["escalation"][0].started_at == start + timedelta(minutes=30)
    assert runs["mail"][0].started_at == start + timedelta(hours=2, minutes=99)

    page = login("admin.pbso").get("/admin/jobs").get_data(as_text=True)
    for job_id, shown in (("retention", 1), ("escalation", RUNS_PER_JOB), ("mail", 5)):
        body = re.search(rf'<tbody id="runs-{job_id}">(.*?)</tbody>', page, re.S)
        assert body is not None, job_id
        assert body[1].count("<tr>") == shown, job_id
