"""E-mail: notify() writes the outbox, the mail job sends it to a real SMTP server on loopback.

The server is aiosmtpd in a thread; its handler can refuse with 451 (try
later) or 550 (never) to show retries, backoff and giving up. Every message
is checked for the canaries: client codes, target names and places never
leave in an e-mail.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from jointops.extensions import db
from jointops.jobs.tasks.escalation import escalate
from jointops.jobs.tasks.mail import send_outbox
from jointops.models import Alert, AuditEntry, OutboxEmail, User
from jointops.notifications.service import gets_email, notify, set_email_choices

CANARIES = (
    "VS-0221",
    "Zhao",
    "Mei",
    "4700 Okeechobee",
    "Riverside Wellness",
    "555 0190",
    "PB-T-001",
)
SECRET_TEXT = (
    "Target PB-T-001 Mei Zhao at 4700 Okeechobee Blvd (Riverside Wellness Spa), "
    "phone +1 561 555 0190, client VS-0221"
)


@dataclass
class Handler:
    """Takes every message, except that it answers ``refuse`` (code, text) while it lasts."""

    refusals: list[str] = field(default_factory=list)
    received: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refusals:
            return self.refusals.pop(0)
        message = message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.received.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(app: Flask) -> Iterator[Handler]:
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_STARTTLS=False,
        SMTP_SENDER="jointops@taskforce.test",
        SMTP_TIMEOUT=5.0,
        MAIL_RETRY_SECONDS=60,
        MAIL_MAX_ATTEMPTS=3,
        BASE_URL="https://jointops.taskforce.test",
    )
    try:
        yield handler
    finally:
        controller.stop()


def user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def outbox() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def now0() -> datetime:
    return (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)


def send(moment: datetime) -> Any:
    with time_machine.travel(moment, tick=False):
        return send_outbox(moment)


def body_of(message: Message) -> str:
    part = message.get_payload(decode=True)
    assert isinstance(part, bytes)
    return part.decode()


def test_a_refused_send_is_retried_with_backoff_and_carries_no_details(
    app: Flask, smtp: Handler
) -> None:
    t0 = now0()
    advocate = user("supervisor.pbso")
    assert advocate.email
    notify(advocate, "alert", SECRET_TEXT, "/alerts/7", now=t0)
    db.session.commit()
    [row] = outbox()
    assert row.recipient == advocate.email and row.attempts == 0
    for canary in CANARIES:
        assert canary not in row.body and canary not in row.subject

    smtp.refusals.append("451 4.3.0 Try again later")
    figures = send(t0)
    assert figures == {"due": 1, "sent": 0, "failed": 1, "gave_up": 0}
    [row] = outbox()
    assert row.attempts == 1 and row.sent_at is None and row.gave_up_at is None
    assert "451" in row.last_error
    assert row.next_attempt_at == t0 + timedelta(seconds=60)
    assert smtp.received == []

    assert send(t0 + timedelta(seconds=30))["due"] == 0  # backing off
    assert send(t0 + timedelta(seconds=60)) == {"due": 1, "sent": 1, "failed": 0, "gave_up": 0}
    [row] = outbox()
    assert row.sent_at == t0 + timedelta(seconds=60) and row.attempts == 2
    assert row.last_error == ""

    [message] = smtp.received
    assert message["X-Envelope-To"] == advocate.email
    assert message["From"] == "jointops@taskforce.test"
    assert message["Subject"] == "JointOps: Deconfliction alert"
    body = body_of(message)
    assert "https://jointops.taskforce.test/alerts/7" in body
    raw = message.as_string()
    for canary in CANARIES:
        assert canary not in raw

    assert send(t0 + timedelta(minutes=5))["due"] == 0  # sent once only


def test_gives_up_after_the_last_attempt_and_on_a_permanent_refusal_recorded(
    app: Flask, smtp: Handler
) -> None:
    t0 = now0()
    notify(user("supervisor.fbi"), "reminder", "Reminder: something", "/events/1", now=t0)
    notify(user("supervisor.hsi"), "reminder", "Reminder: something", "/events/2", now=t0)
    db.session.commit()
    smtp.refusals += ["451 4.3.0 busy", "550 5.1.1 no such mailbox"]
    send(t0)
    first, second = outbox()
    assert first.gave_up_at is None and first.attempts == 1
    assert second.gave_up_at == t0 and "550" in second.last_error  # never retried

    smtp.refusals += ["451 4.3.0 busy", "451 4.3.0 still busy"]
    send(t0 + timedelta(seconds=60))  # attempt 2; backoff doubles
    assert outbox()[0].next_attempt_at == t0 + timedelta(seconds=60 + 120)
    send(t0 + timedelta(seconds=180))  # attempt 3 of 3
    first = outbox()[0]
    assert first.gave_up_at == t0 + timedelta(seconds=180) and first.sent_at is None
    assert first.attempts == 3 and "still busy" in first.last_error
    gave_up = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "mail.gave_up").order_by(AuditEntry.id)
    ).all()
    assert [e.object_id for e in gave_up] == [str(second.id), str(first.id)]
    assert smtp.received == []
    assert send(t0 + timedelta(days=1))["due"] == 0


def test_an_unreachable_server_is_a_recorded_failure(app: Flask, smtp: Handler) -> None:
    t0 = now0()
    app.config["SMTP_PORT"] = free_port()  # nothing listens there
    notify(user("supervisor.pbso"), "escalation", "Escalated", "/alerts/1", now=t0)
    db.session.commit()
    assert send(t0)["failed"] == 1
    [row] = outbox()
    assert row.attempts == 1 and row.last_error and row.sent_at is None


def test_escalation_emails_overseers_who_want_it_and_whose_agency_allows(
    app: Flask, smtp: Handler
) -> None:
    t0 = now0()
    app.config["EMAIL_POLICY"] = {"FBI": ["reminder"]}  # FBI: no escalations by e-mail
    set_email_choices(user("deconfliction_officer.pbso"), {"escalation": False})
    db.session.commit()
    alert = db.session.scalar(select(Alert).where(Alert.kind == "target"))
    assert alert is not None and alert.status == "open"
    alert.raised_at = t0
    db.session.commit()
    with time_machine.travel(t0 + timedelta(minutes=15), tick=False):
        escalate(t0 + timedelta(minutes=15))
    link = f"/alerts/{alert.id}\n"  # the demo's other alerts are escalated too
    rows = [r for r in outbox() if r.category == "escalation" and link in r.body]
    assert [db.session.get_one(User, r.user_id).username for r in rows] == ["supervisor.pbso"]
    send(t0 + timedelta(minutes=16))
    assert smtp.received
    assert [m for m in smtp.received if link in body_of(m).replace("\r\n", "\n")]
    for message in smtp.received:
        raw = message.as_string()
        for canary in (*CANARIES, "FBI-1182", "vip.relax"):
            assert canary not in raw


def test_no_outbox_rows_when_email_is_off(app: Flask) -> None:
    supervisor = user("supervisor.pbso")
    assert app.config["SMTP_HOST"] == ""
    assert not gets_email(supervisor, "alert")
    notify(supervisor, "alert", "Alert", "/alerts/1")
    db.session.commit()
    assert outbox() == []
    assert send_outbox(now0())["email"] == "off"
