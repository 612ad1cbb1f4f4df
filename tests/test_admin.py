"""The administrator's users page: locks and live sessions, with audited actions."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.extensions import db
from jointops.models import AuditEntry, User

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
