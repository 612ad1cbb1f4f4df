"""Notifications: the one function that decides who is told what, where.

``notify`` always writes the in-app line (the inbox) and, when e-mail is on
(``JOINTOPS_SMTP_HOST``), the user's agency allows the category
(``JOINTOPS_EMAIL_POLICY``; an agency not named allows all) and the user has
not switched it off (``/settings/notifications``), an outbox row that the mail
job (``jointops.jobs.tasks.mail``) sends. A request never talks to the mail server.

E-mail leaves the office's systems, so it carries nothing of the matter: a
fixed neutral text per category and a link back. The in-app text, which
only a signed-in user reads, may say more.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import insert, select

from auth.policy import told_of_deconfliction
from jointops import audit
from jointops.config import EMAIL_CATEGORIES, base_url
from jointops.extensions import db
from jointops.models import Notification, NotificationPreference, OutboxEmail, User, utcnow
from jointops.transactions import unit_of_work
from jointops.visibility import viewer_of

#: the categories, as the settings page names them (keys: ``config.EMAIL_CATEGORIES``)
CATEGORIES: dict[str, str] = {
    "alert": "Deconfliction alerts",
    "escalation": "Escalations of unacknowledged alerts",
    "reminder": "Reminders of your events",
    "retention": "Warnings that your agency's targets are about to expire",
}
assert tuple(CATEGORIES) == EMAIL_CATEGORIES  # noqa: S101 - one list of categories

#: (subject, first line) of each category's e-mail: neutral, whatever the matter
EMAIL_TEXT: dict[str, tuple[str, str]] = {
    "alert": (
        "Deconfliction alert",
        "There is a deconfliction alert for you to look at.",
    ),
    "escalation": (
        "Alert waiting for acknowledgement",
        "A deconfliction alert is still waiting for acknowledgement.",
    ),
    "reminder": (
        "Event reminder",
        "An event you take part in starts soon.",
    ),
    "retention": (
        "Record about to expire",
        "A record of your agency expires soon and needs a decision.",
    ),
}


def email_enabled() -> bool:
    return bool(current_app.config["SMTP_HOST"])


#: categories only those told of deconfliction receive (``auth.policy.told_of_deconfliction``)
DECONFLICTION_CATEGORIES = frozenset({"alert", "escalation"})


def categories_for(user: User) -> dict[str, str]:
    """The categories the settings page offers the user: advocates and victim services are
    never told of deconfliction, so are not offered its e-mails either."""
    if told_of_deconfliction(viewer_of(user)):
        return CATEGORIES
    return {c: label for c, label in CATEGORIES.items() if c not in DECONFLICTION_CATEGORIES}


def agency_allows(user: User) -> frozenset[str]:
    """The categories the user's agency lets its people receive by e-mail."""
    policy: dict[str, list[str]] = current_app.config["EMAIL_POLICY"]
    code = user.agency.code if user.agency is not None else None
    if code is not None and code in policy:
        return frozenset(policy[code]) & frozenset(CATEGORIES)
    return frozenset(CATEGORIES)


def email_choices(user: User) -> dict[str, bool]:
    """What the user chose per category (no choice yet: yes), whatever the agency allows."""
    chosen = {
        p.category: p.email
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    return {category: chosen.get(category, True) for category in CATEGORIES}


def set_email_choices(user: User, choices: dict[str, bool], now: datetime | None = None) -> None:
    """Store the user's choices (the caller commits); categories outside ``CATEGORIES`` raise."""
    unknown = set(choices) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown notification categories {sorted(unknown)}")
    now = now or utcnow()
    rows = {
        p.category: p
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for category, wanted in choices.items():
        row = rows.get(category)
        if row is None:
            row = NotificationPreference(user_id=user.id, category=category)
            db.session.add(row)
        row.email, row.updated_at = wanted, now


def save_email_choices(user: User, choices: dict[str, bool]) -> None:
    """The settings page's use case: store the choices, audited."""
    with unit_of_work():
        set_email_choices(user, choices)
        audit.record(
            "settings.notifications",
            object_type="user",
            object_id=user.id,
            email=sorted(c for c, on in choices.items() if on),
        )


def gets_email(user: User, category: str) -> bool:
    """The one rule: e-mail is on, the user has an address, the agency allows, the user wants."""
    return (
        email_enabled()
        and bool(user.email)
        and user.active
        and category in agency_allows(user)
        and email_choices(user)[category]
    )


def email_text(category: str, link: str) -> tuple[str, str]:
    """Subject and body of a category's e-mail: the neutral line and the link back."""
    config = current_app.config
    subject, line = EMAIL_TEXT[category]
    base = base_url(config)
    body = (
        f"{line}\n\n"
        f"Open it in JointOps (sign-in required): {base}{link}\n\n"
        f"-- \n{config['OFFICE_NAME']}\n"
        f"You get this e-mail because of your notification settings: "
        f"{base}/settings/notifications\n"
    )
    return f"JointOps: {subject}", body


class Line(NamedTuple):
    """One line to tell a user (``notify``'s arguments)."""

    user: User
    text: str
    link: str
    alert_id: int | None = None
    created_at: datetime | None = None


def notify(
    user: User,
    category: str,
    text: str,
    link: str,
    *,
    alert_id: int | None = None,
    now: datetime | None = None,
) -> Notification:
    """Tell ``user``: an inbox line always, an e-mail when ``gets_email``. Adds the rows to
    the session; the caller's commit makes them durable (with what caused them)."""
    inbox, email = _rows(
        category, Line(user, text, link, alert_id, now), gets_email(user, category)
    )
    line = Notification(**inbox)
    db.session.add(line)
    if email is not None:
        db.session.add(OutboxEmail(**email))
    return line


def notify_many(category: str, lines: Sequence[Line]) -> None:
    """``notify`` of many lines (an import's alerts): the same rows, inserted in bulk, and each
    user's e-mail settings read once."""
    wants: dict[int, bool] = {}
    inbox: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    for line in lines:
        if line.user.id not in wants:
            wants[line.user.id] = gets_email(line.user, category)
        row, email = _rows(category, line, wants[line.user.id])
        inbox.append(row)
        if email is not None:
            outbox.append(email)
    for table, rows in ((Notification, inbox), (OutboxEmail, outbox)):
        if rows:
            db.session.execute(insert(table.__table__), rows)


def _rows(category: str, line: Line, email: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The inbox row of ``line``, and its outbox row if it goes by ``email`` too."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown notification category {category!r}")
    if not line.link.startswith("/"):
        raise ValueError("link: a path within JointOps, such as /alerts/12")
    now = line.created_at or utcnow()
    inbox = {
        "user_id": line.user.id,
        "alert_id": line.alert_id,
        "category": category,
        "link": line.link,
        "text": line.text[:300],
        "created_at": now,
    }
    if not email:
        return inbox, None
    subject, body = email_text(category, line.link)
    return inbox, {
        "user_id": line.user.id,
        "recipient": line.user.email,
        "category": category,
        "subject": subject,
        "body": body,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
        "last_error": "",
    }


#: notices about the account's own security: not a preference, always in the inbox and by e-mail
SECURITY = "security"


def notify_security(user: User, text: str, link: str, *, now: datetime | None = None) -> None:
    """Tell ``user`` that something changed about how they sign in: an inbox line, and an
    e-mail whenever e-mail is on and the directory has their address, whatever their settings
    (someone else may have made the change). The caller's commit makes the rows durable."""
    now = now or utcnow()
    db.session.add(
        Notification(user_id=user.id, category=SECURITY, link=link, text=text[:300], created_at=now)
    )
    if not (email_enabled() and user.email and user.active):
        return
    config = current_app.config
    body = (
        f"{text}\n\nIf you did not expect this, tell your administrator at once.\n\n"
        f"Your sign-in settings (sign-in required): {base_url(config)}{link}\n\n"
        f"-- \n{config['OFFICE_NAME']}\n"
    )
    db.session.add(
        OutboxEmail(
            user_id=user.id,
            recipient=user.email,
            category=SECURITY,
            subject="JointOps: your sign-in settings changed",
            body=body,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
            last_error="",
        )
    )
