"""/settings/notifications: each user chooses, within the agency's policy, what comes by e-mail."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.extensions import db
from jointops.models import AuditEntry, OutboxEmail, User
from jointops.notifications.service import email_choices, gets_email, notify

ALL = {
    "email_alert": "y",
    "email_escalation": "y",
    "email_reminder": "y",
    "email_retention": "y",
}


def user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def test_signed_out_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/settings/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_choices_are_saved_audited_and_decide_the_outbox(
    app: Flask, login: Callable[[str], FlaskClient]
) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_SENDER="jointops@taskforce.test")
    browser = login("supervisor.pbso")
    page = browser.get("/settings/notifications")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("checked") == 4  # all on until chosen

    response = browser.post(
        "/settings/notifications", data={"email_alert": "y", "email_escalation": "y"}
    )
    assert response.status_code == 302
    supervisor = user("supervisor.pbso")
    assert email_choices(supervisor) == {
        "alert": True,
        "escalation": True,
        "reminder": False,
        "retention": False,
    }
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "settings.notifications")
    )
    assert entry is not None and entry.detail["email"] == ["alert", "escalation"]

    notify(supervisor, "reminder", "Reminder", "/events/1")
    notify(supervisor, "alert", "Alert", "/alerts/1")
    db.session.commit()
    assert [r.category for r in db.session.scalars(select(OutboxEmail))] == ["alert"]


def test_the_agency_policy_wins_and_a_refused_choice_names_the_field(
    app: Flask, login: Callable[[str], FlaskClient]
) -> None:
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_SENDER="jointops@taskforce.test",
        EMAIL_POLICY={"VS": ["reminder"]},
    )
    browser = login("advocate.vs")
    page = browser.get("/settings/notifications").get_data(as_text=True)
    assert "VS does not allow this by e-mail." in page

    response = browser.post("/settings/notifications", data=ALL)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="email_retention-error"' in body
    assert "VS does not allow warnings that your agency" in body
    assert 'id="email_reminder-error"' not in body
    advocate = user("advocate.vs")
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings.notifications"))
        is None
    )

    assert browser.post("/settings/notifications", data={"email_reminder": "y"}).status_code == 302
    assert gets_email(advocate, "reminder") is bool(advocate.email)
    assert not gets_email(advocate, "alert")


def test_advocates_are_not_offered_deconfliction_e_mails(
    app: Flask, login: Callable[[str], FlaskClient]
) -> None:
    browser = login("advocate.vs")
    page = browser.get("/settings/notifications").get_data(as_text=True)
    assert 'name="email_alert"' not in page and 'name="email_escalation"' not in page
    assert 'name="email_reminder"' in page
    assert browser.post("/settings/notifications", data=ALL).status_code == 302
    saved = email_choices(user("advocate.vs"))
    assert saved["reminder"] is True
    assert "alert" not in saved or saved["alert"] is True  # untouched: never chosen here
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "settings.notifications")
    )
    assert entry is not None and "alert" not in entry.detail["email"]
