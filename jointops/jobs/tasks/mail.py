"""E-mail sending: the outbox, sent over SMTP by this job alone.

Requests and other jobs only insert ``outbox_emails`` rows (``jointops.notifications.service``).
Each run sends the rows that are due, one connection for the batch. A row is
claimed (its attempt counted, its next attempt pushed out) and committed
before it is sent, so a crash mid-send retries later rather than never, and
two runs never send it at once. A failure is recorded (``last_error``) and
retried with exponential backoff (``JOINTOPS_MAIL_RETRY_SECONDS`` doubling, at
most 6 hours) until ``JOINTOPS_MAIL_MAX_ATTEMPTS``; a permanent refusal (5xx)
or the last attempt gives up: ``gave_up_at`` is set, and it is logged and audited.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import select

from jointops import audit
from jointops.extensions import db
from jointops.jobs.registry import job
from jointops.models import OutboxEmail
from jointops.transactions import end_read, unit_of_work

log = logging.getLogger(__name__)

BATCH = 200
#: how long a claimed row waits before another run may try it (a crash mid-send)
CLAIM = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: the base, doubled each time, capped."""
    base = current_app.config["MAIL_RETRY_SECONDS"]
    return min(timedelta(seconds=base * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


def connect() -> smtplib.SMTP:
    """A connection to the configured server: STARTTLS (verified) and login when set."""
    config = current_app.config
    smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"])
    try:
        smtp.ehlo()
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def message_of(row: OutboxEmail, now: datetime) -> EmailMessage:
    sender = current_app.config["SMTP_SENDER"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(
        idstring=f"outbox-{row.id}", domain=sender.rpartition("@")[2] or "jointops.invalid"
    )
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body)
    return message


def _permanent(exc: Exception) -> bool:
    """A 5xx answer: the server will not take this message however often it is offered."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _claim(row_id: int, now: datetime) -> OutboxEmail | None:
    with unit_of_work():
        row = db.session.get(OutboxEmail, row_id, populate_existing=True)
        if row is None or row.sent_at or row.gave_up_at or row.next_attempt_at > now:
            return None
        row.attempts += 1
        row.last_attempt_at = now
        row.next_attempt_at = now + CLAIM
    return row


def _failed(row: OutboxEmail, exc: Exception, now: datetime) -> bool:
    """Record a failure; True when this was the last attempt."""
    with unit_of_work():
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"] or _permanent(exc):
            row.gave_up_at = now
            log.error(
                "e-mail %s to user %s given up after %d attempts: %s",
                row.id,
                row.user_id,
                row.attempts,
                row.last_error,
            )
            entry = audit.record(
                "mail.gave_up",
                outcome="failure",
                object_type="outbox_email",
                object_id=row.id,
                username="mail job",
                attempts=row.attempts,
                category=row.category,
            )
            entry.at = now
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            log.warning("e-mail %s attempt %d failed: %s", row.id, row.attempts, row.last_error)
    return row.gave_up_at is not None


@job("mail", "interval", setting="MAIL_EVERY_MINUTES", minutes=1)
def send_outbox(now: datetime) -> Mapping[str, Any]:
    """Send what is due; with e-mail off (no host) the outbox is left as it is."""
    if not current_app.config["SMTP_HOST"]:
        return {"due": 0, "sent": 0, "failed": 0, "gave_up": 0, "email": "off"}
    due = db.session.scalars(
        select(OutboxEmail.id)
        .where(
            OutboxEmail.sent_at.is_(None),
            OutboxEmail.gave_up_at.is_(None),
            OutboxEmail.next_attempt_at <= now,
        )
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(BATCH)
    ).all()
    end_read()
    sent = failed = gave_up = 0
    smtp: smtplib.SMTP | None = None
    try:
        for row_id in due:
            row = _claim(row_id, now)
            if row is None:
                continue
            try:
                if smtp is None:
                    smtp = connect()
                smtp.send_message(message_of(row, now))
            except (smtplib.SMTPException, OSError) as exc:
                failed += 1
                gave_up += _failed(row, exc, now)
                if smtp is not None:  # start clean: the session may be half-way through
                    _close(smtp)
                    smtp = None
                continue
            with unit_of_work():
                row.sent_at = now
                row.last_error = ""
            sent += 1
    finally:
        if smtp is not None:
            _close(smtp)
    return {"due": len(due), "sent": sent, "failed": failed, "gave_up": gave_up}


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
