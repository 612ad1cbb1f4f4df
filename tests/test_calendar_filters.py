"""The calendar's room filter offers and applies only resources the viewer may know of: shared
ones and their agency's, never another agency's own vehicles or equipment (which would tell
which busy block holds them)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.extensions import db
from jointops.models import Resource
from tests.conftest import without_csrf

OPTION = re.compile(r'<option value="(\d+)"[^>]*>([^<]+)</option>')


def resource_id(name: str) -> int:
    found = db.session.scalar(select(Resource.id).where(Resource.name == name))
    assert found is not None, name
    return found


def room_choices(page: str) -> set[str]:
    select_html = page.split('<select name="room">', 1)[1].split("</select>", 1)[0]
    return {name for _, name in OPTION.findall(select_html)}


@pytest.mark.parametrize(
    ("username", "own", "others"),
    [
        (
            "investigator.pbso",
            {"Unmarked Sedan PB-14"},
            {"Surveillance Van SV-2", "Pole Camera Kit"},
        ),
        (
            "investigator.fbi",
            {"Surveillance Van SV-2"},
            {"Unmarked Sedan PB-14", "Pole Camera Kit"},
        ),
        (
            "advocate.vs",
            set(),
            {"Unmarked Sedan PB-14", "Surveillance Van SV-2", "Pole Camera Kit"},
        ),
    ],
)
def test_the_filter_offers_shared_and_own_resources_only(
    app: Flask,
    login: Callable[[str], FlaskClient],
    username: str,
    own: set[str],
    others: set[str],
) -> None:
    client = login(username)
    offered = room_choices(client.get("/calendar").get_data(as_text=True))
    assert {"Interview Room A", "Conference Room"} | own <= offered
    assert not offered & others
    for name in others:
        response = client.get(f"/calendar?room={resource_id(name)}")
        assert response.status_code == 400
        assert "room: not a room, vehicle or piece of equipment you may filter by" in (
            response.get_data(as_text=True)
        )
    for name in own | {"Interview Room A"}:
        assert client.get(f"/calendar?room={resource_id(name)}").status_code == 200


def test_an_unknown_resource_is_refused_like_another_agencys(
    login: Callable[[str], FlaskClient],
) -> None:
    """No oracle: an id that names nothing answers as one that names another agency's van."""
    client = login("investigator.pbso")
    theirs = client.get(f"/calendar?room={resource_id('Surveillance Van SV-2')}")
    nothing = client.get("/calendar?room=987654")
    assert theirs.status_code == nothing.status_code == 400
    assert without_csrf(theirs.get_data(as_text=True)) == without_csrf(
        nothing.get_data(as_text=True)
    )
