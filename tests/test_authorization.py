"""Two agencies: a user of one never reads or changes the other's objects by changing an id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from jointops.events.rules import EventDraft
from jointops.events.service import save_event
from jointops.extensions import db
from jointops.models import Agency, AuditEntry, Event, Resource, User

Login = Callable[[str], FlaskClient]

OBJECT_ARGS = {"event_id", "user_id"}


def _user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def _pbso_event(sensitivity: str, room: str | None) -> Event:
    owner = _user("investigator.pbso")
    agency = db.session.scalar(select(Agency).where(Agency.code == "PBSO"))
    assert agency is not None
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=50)
    resources = []
    if room:
        found = db.session.scalar(select(Resource).where(Resource.name == room))
        assert found is not None
        resources = [found.id]
    draft = EventDraft(
        kind="operation",
        subtype="search_warrant",
        title=f"PBSO secret {sensitivity}",
        owner_agency_id=agency.id,
        lead_id=owner.id,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        sensitivity=sensitivity,
        location_address="1 Secret Way",
        latitude=26.7,
        longitude=-80.1,
        notes="canary-notes",
        resource_ids=resources,
        participants=[(owner.id, "lead")],
    )
    return save_event(draft, owner, confirmed=True)


def _object_routes(app: Flask) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not set(rule.arguments) & OBJECT_ARGS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, rule.rule, method))
    assert routes, "no object routes found"
    return routes


@pytest.mark.parametrize(
    ("sensitivity", "room"),
    [("normal", None), ("covert", None), ("normal", "Conference Room")],
)
def test_another_agency_cannot_read_or_change_an_event_by_id(
    app: Flask, login: Login, sensitivity: str, room: str | None
) -> None:
    event = _pbso_event(sensitivity, room)
    snapshot = (event.version, event.status, event.title, event.starts_at)
    target_user = _user("investigator.pbso")
    outsider = login("investigator.fbi")
    denied_before = db.session.scalars(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome == "denied")
    ).one()
    statuses = {}
    for endpoint, rule, method in _object_routes(app):
        url = rule.replace("<int:event_id>", str(event.id)).replace(
            "<int:user_id>", str(target_user.id)
        )
        body = {"title": "hijacked", "reason": "hijacked", "kind": "operation"}
        response = outsider.open(url, method=method, data=body)
        statuses[(endpoint, method)] = response.status_code
        text = response.get_data(as_text=True)
        assert "PBSO secret" not in text and "canary-notes" not in text, (endpoint, method)
        if endpoint in ("events.show", "api.get_event", "api.v1_get_event") and room:
            assert response.status_code == 200, "a shared room shows a busy block"
        else:
            assert response.status_code in (403, 404), (endpoint, method, response.status_code)
    db.session.expire_all()
    fresh = db.session.get(Event, event.id)
    assert fresh is not None
    assert (fresh.version, fresh.status, fresh.title, fresh.starts_at) == snapshot
    denied_after = db.session.scalars(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome == "denied")
    ).one()
    refused = sum(1 for code in statuses.values() if code in (403, 404))
    assert denied_after - denied_before >= refused, "every refusal is audited"
