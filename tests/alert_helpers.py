"""Helpers for the deconfliction tests: operations and targets through the real forms.

Dates lie 70+ days ahead, clear of the demo calendar; places are near, but not
at, the demo's, so that only the items a test makes can match each other.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import and_, func, or_, select
from werkzeug.test import TestResponse

from jointops.extensions import db
from jointops.models import Agency, Alert, AuditEntry, Case, Event, Notification, Target, User

OFFICE = ZoneInfo("America/New_York")
#: about 300 m of latitude
LAT_300M = 0.0027


def far_day(offset: int = 0) -> date:
    """A weekday 70+ days ahead (``offset`` days further)."""
    day = datetime.now(OFFICE).date() + timedelta(days=70 + offset)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def local(day: date, hhmm: str) -> str:
    return f"{day.isoformat()}T{hhmm}"


def operation(day: date, **over: Any) -> dict[str, Any]:
    """Form data of a search warrant at 09:00–11:00 on ``day`` (500 m radius)."""
    data = {
        "kind": "operation",
        "subtype": "search_warrant",
        "title": "Deconfliction test warrant",
        "starts_at": local(day, "09:00"),
        "ends_at": local(day, "11:00"),
        "status": "planned",
        "sensitivity": "normal",
        "location_address": "100 Test Way, Lake Worth, FL",
        "latitude": "26.6000",
        "longitude": "-80.2000",
        # the same investigator leads several test operations at once
        "confirm_warnings": "y",
    }
    return data | over


def save_operation(client: FlaskClient, data: dict[str, Any], event_id: int | None = None) -> int:
    url = f"/events/{event_id}/edit" if event_id else "/events/new"
    response = client.post(url, data=data)
    return new_id(response, "events")


def new_id(response: TestResponse, prefix: str) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    found = re.fullmatch(rf"/{prefix}/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found[1])


def target_data(case_id: int, ref: str, **over: Any) -> dict[str, Any]:
    data = {
        "case_id": str(case_id),
        "target_ref": ref,
        "first_name": "",
        "last_name": "",
        "aliases": "",
        "dob": "",
        "phones": "",
        "emails": "",
        "plates": "",
        "vins": "",
        "addresses": "",
        "handles": "",
        "businesses": "",
        "justification": "Reasonable suspicion from two controlled buys and a wiretap summary.",
    }
    return data | over


def case_of(agency_code: str) -> Case:
    found = db.session.scalar(
        select(Case).join(Agency).where(Agency.code == agency_code).order_by(Case.id)
    )
    assert found is not None, agency_code
    return found


def user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None, username
    return found


def alerts_between(item_type: str, one: int, two: int) -> list[Alert]:
    db.session.rollback()
    a, b = sorted([one, two])
    return list(
        db.session.scalars(
            select(Alert)
            .where(
                Alert.item_a_type == item_type,
                Alert.item_a_id == a,
                Alert.item_b_type == item_type,
                Alert.item_b_id == b,
            )
            .execution_options(populate_existing=True)
        )
    )


def alerts_of(item_type: str, item_id: int) -> list[Alert]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Alert)
            .where(
                or_(
                    and_(Alert.item_a_type == item_type, Alert.item_a_id == item_id),
                    and_(Alert.item_b_type == item_type, Alert.item_b_id == item_id),
                )
            )
            .execution_options(populate_existing=True)
        )
    )


def notifications(alert_id: int, username: str | None = None) -> list[Notification]:
    db.session.rollback()
    query = select(Notification).where(Notification.alert_id == alert_id)
    if username:
        query = query.where(Notification.user_id == user(username).id)
    return list(db.session.scalars(query.order_by(Notification.id)))


def audits(action: str, **where: Any) -> list[AuditEntry]:
    db.session.rollback()
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action))
    return [
        r
        for r in rows
        if all(
            (getattr(r, k) if hasattr(AuditEntry, k) else r.detail.get(k)) == v
            for k, v in where.items()
        )
    ]


def count(model: Any) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def text(response: TestResponse) -> str:
    """The page as a person reads it: entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def event(event_id: int) -> Event:
    db.session.rollback()
    return db.session.get_one(Event, event_id, populate_existing=True)


def target(target_id: int) -> Target:
    db.session.rollback()
    return db.session.get_one(Target, target_id, populate_existing=True)
