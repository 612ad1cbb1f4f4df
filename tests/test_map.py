"""Maps without a browser: the basemap settings, the CSP they produce, the PMTiles range route,
the week's map (one's own agency only) and the officer's map of both sides of an alert."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from jointops.app import create_app
from jointops.config import ConfigError, load_config, validate_config
from tests.alert_helpers import (
    LAT_300M,
    alerts_between,
    audits,
    event,
    far_day,
    local,
    operation,
    save_operation,
    user,
)
from tests.conftest import base_config

Login = Callable[[str], FlaskClient]

BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def pmtiles_file(folder: Path, size: int = 4096) -> Path:
    """A file that starts as a PMTiles v3 archive does, then numbered bytes."""
    path = folder / "basemap.pmtiles"
    path.write_bytes(b"PMTiles\x03" + bytes(i % 251 for i in range(size - 8)))
    return path


def checked(env: dict[str, str], **over: Any) -> None:
    validate_config(load_config(env) | over)


# --- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://tiles.example.org/{z}/{x}/{y}.png",
        "https://gis.county.example/arcgis/rest/services/Basemap/MapServer/tile/{z}/{y}/{x}",
        "http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png",
        "https://tiles.example.org:8443/osm/{z}/{x}/{y}@2x.png?key=office",
    ],
)
def test_a_tile_template_of_one_host_is_accepted(url: str) -> None:
    checked({"JOINTOPS_MAP_TILES_URL": url})
    assert load_config({"JOINTOPS_MAP_TILES_URL": f"  {url} "})["MAP_TILES_URL"] == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://tiles.example.org/{z}/{x}.png", "missing {y}"),
        ("tiles.example.org/{z}/{x}/{y}.png", "expected https://host/{z}/{x}/{y}.png"),
        ("ftp://tiles.example.org/{z}/{x}/{y}.png", "expected https://host"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "use one host"),
        ("https://user:pw@tiles.example.org/{z}/{x}/{y}.png", "no user or password"),
        ("https://tiles.example.org/{z}/{x}/{y}.png; script-src *", "no spaces, quotes"),
        ("https://tiles.example.org/{z}/{x}/{y}.png'", "no spaces, quotes"),
        ("https://tiles.example.org:http/{z}/{x}/{y}.png", "not a URL"),
    ],
)
def test_a_bad_tile_template_is_refused_by_name(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        checked({"JOINTOPS_MAP_TILES_URL": url})
    assert str(refused.value).startswith("JOINTOPS_MAP_TILES_URL: "), str(refused.value)
    assert says in str(refused.value)


def test_production_wants_https_tiles_except_on_loopback() -> None:
    production = {
        "PRODUCTION": True,
        "SECRET_KEY": "5nWtGw2tmX8mylC7p_yBKhGf7wjexvuCFOwHI8t0eow",
        "BASE_URL": "https://jointops.example.test",
        "LDAP_URL": "ldaps://dc.example",
    }
    lan = load_config({"JOINTOPS_MAP_TILES_URL": "http://tiles.office.lan/{z}/{x}/{y}.png"})
    validate_config(lan)
    with pytest.raises(ConfigError, match=r"^JOINTOPS_MAP_TILES_URL: production pages are https"):
        validate_config(lan | production)
    loopback = load_config({"JOINTOPS_MAP_TILES_URL": "http://localhost:8081/{z}/{x}/{y}.png"})
    validate_config(loopback | production)


def test_pmtiles_must_be_a_readable_archive_and_not_with_a_tiles_url(tmp_path: Path) -> None:
    archive = pmtiles_file(tmp_path)
    checked({"JOINTOPS_MAP_PMTILES": str(archive)})
    with pytest.raises(ConfigError, match=r"^JOINTOPS_MAP_PMTILES: cannot read"):
        checked({"JOINTOPS_MAP_PMTILES": str(tmp_path / "missing.pmtiles")})
    with pytest.raises(ConfigError, match=r"^JOINTOPS_MAP_PMTILES: cannot read"):
        checked({"JOINTOPS_MAP_PMTILES": str(tmp_path)})
    (tmp_path / "tiles.mbtiles").write_bytes(b"SQLite format 3\x00")
    with pytest.raises(ConfigError, match=r"^JOINTOPS_MAP_PMTILES: .* is not a PMTiles"):
        checked({"JOINTOPS_MAP_PMTILES": str(tmp_path / "tiles.mbtiles")})
    with pytest.raises(ConfigError, match=r"^JOINTOPS_MAP_TILES_URL and JOINTOPS_MAP_PMTILES"):
        checked(
            {
                "JOINTOPS_MAP_PMTILES": str(archive),
                "JOINTOPS_MAP_TILES_URL": "https://tiles.example.org/{z}/{x}/{y}.png",
            }
        )
    assert load_config({"JOINTOPS_MAP_PMTILES": ""})["MAP_PMTILES"] is None


def test_attribution_is_bounded() -> None:
    checked({"JOINTOPS_MAP_ATTRIBUTION": "© OpenStreetMap contributors"})
    with pytest.raises(ConfigError, match=r"^JOINTOPS_MAP_ATTRIBUTION: at most 300"):
        checked({"JOINTOPS_MAP_ATTRIBUTION": "x" * 301})


# --- the Content-Security-Policy -------------------------------------------------------------


def csp_of(database_url: str, **settings: Any) -> str:
    app = create_app(base_config(database_url) | settings)
    return str(app.test_client().get("/login").headers["Content-Security-Policy"])


def test_without_a_basemap_the_policy_is_the_strict_one(database_url: str) -> None:
    assert csp_of(database_url) == BASE_POLICY


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org"),
        (
            "https://gis.county.example:8443/arcgis/rest/services/B/MapServer/tile/{z}/{y}/{x}",
            "https://gis.county.example:8443",
        ),
    ],
)
def test_a_tile_server_adds_its_origin_to_img_src_and_nothing_else(
    database_url: str, url: str, origin: str
) -> None:
    policy = csp_of(database_url, MAP_TILES_URL=url)
    assert policy == BASE_POLICY.replace("img-src 'self' data:;", f"img-src 'self' data: {origin};")
    assert "arcgis" not in policy and "{z}" not in policy


def test_pmtiles_adds_only_blob_images(database_url: str, tmp_path: Path) -> None:
    policy = csp_of(database_url, MAP_PMTILES=str(pmtiles_file(tmp_path)))
    assert policy == BASE_POLICY.replace("img-src 'self' data:;", "img-src 'self' data: blob:;")


# --- the PMTiles range route -----------------------------------------------------------------

PMTILES_URL = "/api/map/basemap.pmtiles"


def get_file(client: FlaskClient, headers: dict[str, str] | None = None) -> Any:
    """The answer to a GET of the archive, read and closed (a file answer holds the file open)."""
    response = client.get(PMTILES_URL, headers=headers or {})
    response.get_data()
    response.close()
    return response


def test_pmtiles_answers_ranges_to_the_signed_in(app: Flask, login: Login, tmp_path: Path) -> None:
    archive = pmtiles_file(tmp_path, size=20_000)
    app.config["MAP_PMTILES"] = str(archive)
    data = archive.read_bytes()
    client = login("investigator.pbso")

    part = get_file(client, {"Range": "bytes=0-16383"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 0-16383/{len(data)}"
    assert part.data == data[:16384]
    assert part.headers["Accept-Ranges"] == "bytes" and part.headers["ETag"]
    assert "private" in part.headers["Cache-Control"]

    tail = get_file(client, {"Range": "bytes=19990-25000"})
    assert tail.status_code == 206 and tail.data == data[19990:]
    assert tail.headers["Content-Range"] == f"bytes 19990-19999/{len(data)}"

    assert get_file(client, {"Range": "bytes=30000-30010"}).status_code == 416
    whole = get_file(client)
    assert whole.status_code == 200 and whole.data == data


def test_pmtiles_needs_a_session_and_a_configured_file(
    app: Flask, client: FlaskClient, login: Login, tmp_path: Path
) -> None:
    answer = get_file(client, {"Range": "bytes=0-99"})
    assert answer.status_code == 401
    assert b"PMTiles" not in answer.data
    assert get_file(login("advocate.vs")).status_code == 404  # none configured
    app.config["MAP_PMTILES"] = str(pmtiles_file(tmp_path))
    assert get_file(client).status_code == 401
    assert get_file(login("advocate.vs"), {"Range": "bytes=0-7"}).data == b"PMTiles\x03"


# --- the week's map: one's own agency's operations, never another's -------------------------


def page_text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def test_the_week_map_shows_own_operations_only(app: Flask, login: Login) -> None:
    day = far_day(20)
    pbso = login("investigator.pbso")
    own_id = save_operation(
        pbso, operation(day, title="PBSO map canary", latitude="26.6100", longitude="-80.2100")
    )
    fbi_data = operation(
        day,
        title="FBI map canary",
        location_address="33 Secret Canary Ct, Lake Worth, FL",
        latitude="26.6543",
        longitude="-80.1234",
        starts_at=local(day, "13:00"),
        ends_at=local(day, "14:00"),
        # a PBSO investigator takes part: the event is theirs to see, but not their agency's
        investigators=[str(user("det.rivera.pbso").id)],
    )
    fbi_id = save_operation(login("investigator.fbi"), fbi_data)

    for name in ("supervisor.pbso", "investigator.pbso", "det.rivera.pbso"):
        page = page_text(login(name).get(f"/map?date={day.isoformat()}"))
        assert "PBSO map canary" in page and 'data-lat="26.61"' in page, name
        assert f"/events/{own_id}" in page, name
        for leak in ("FBI map canary", "Secret Canary", "26.6543", "-80.1234", f"/events/{fbi_id}"):
            assert leak not in page, (name, leak)
    assert login("det.rivera.pbso").get(f"/events/{fbi_id}").status_code == 200

    fbi_page = page_text(login("supervisor.fbi").get(f"/map?date={day.isoformat()}"))
    assert "FBI map canary" in fbi_page and "PBSO map canary" not in fbi_page
    later = (day + timedelta(days=7)).isoformat()
    week_later = page_text(login("investigator.pbso").get(f"/map?date={later}"))
    assert "PBSO map canary" not in week_later


def test_the_week_map_leaves_out_cancelled_and_lists_unplaced_operations(
    app: Flask, login: Login
) -> None:
    day = far_day(21)
    pbso = login("investigator.pbso")
    gone = save_operation(pbso, operation(day, title="Cancelled map canary"))
    pbso.post(f"/events/{gone}/cancel", data={"reason": "Called off."})
    unplaced = save_operation(pbso, operation(day, title="Unplaced map canary"))
    with app.test_request_context():
        placeless = event(unplaced)
        placeless.latitude = placeless.longitude = None  # as rows from before coordinates were due
    page = page_text(login("supervisor.pbso").get(f"/map?date={day.isoformat()}"))
    assert "Cancelled map canary" not in page
    listed = page[page.index("Unplaced map canary") - 600 : page.index("Unplaced map canary")]
    assert 'class="unplaced"' in listed and "data-lat" not in listed
    assert "No coordinates: not on the map." in page


def test_who_may_open_the_week_map(app: Flask, client: FlaskClient, login: Login) -> None:
    assert client.get("/map").status_code == 302
    for name in ("advocate.vs", "prosecutor.sao15", "deconfliction_officer.pbso"):
        assert login(name).get("/map").status_code == 403, name
    assert login("supervisor.vs").get("/map").status_code == 200
    bad = login("supervisor.pbso").get("/map?date=2026-13-40")
    assert bad.status_code == 400 and "date: expected a date" in page_text_any(bad)
    calendar = page_text(login("supervisor.pbso").get("/calendar"))
    assert re.search(r'href="/map\?date=[\d-]+"', calendar)
    assert 'href="/map' not in page_text(login("advocate.vs").get("/calendar"))


def page_text_any(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- both sides of an alert on a map: the deconfliction officer only, audited ----------------


def test_the_officer_sees_both_sides_on_a_map_and_the_view_is_audited(
    app: Flask, login: Login
) -> None:
    day = far_day(22)
    pbso_id = save_operation(
        login("investigator.pbso"), operation(day, title="PBSO alert map canary")
    )
    fbi_lat = f"{26.6 + LAT_300M:.4f}"
    fbi_id = save_operation(
        login("investigator.fbi"),
        operation(day, title="FBI alert map canary", latitude=fbi_lat, radius_m="800"),
    )
    [alert] = alerts_between("event", pbso_id, fbi_id)

    page = page_text(login("deconfliction_officer.pbso").get(f"/alerts/{alert.id}"))
    assert 'id="alert-map"' in page and "vendor/leaflet/leaflet.js" in page
    places = re.findall(r'<li data-lat="([^"]+)" data-lon="([^"]+)" data-radius="(\d+)"', page)
    assert sorted(places) == sorted([("26.6", "-80.2", "500"), (fbi_lat, "-80.2", "800")])
    [entry] = audits(
        "alert.view", object_id=str(alert.id), actor_username="deconfliction_officer.pbso"
    )
    assert entry.detail["sides"] == "both"

    for name in ("investigator.pbso", "supervisor.fbi"):
        own = page_text(login(name).get(f"/alerts/{alert.id}"))
        assert 'id="alert-map"' not in own and "data-lat" not in own, name
        assert "leaflet" not in own, name
    assert fbi_lat not in page_text(login("investigator.pbso").get(f"/alerts/{alert.id}"))


# --- no basemap: the demo gazetteer's landmarks and towns give the blank map its bearings ----


def raw(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.get_data(as_text=True))


def reference_of(page: str, element: str) -> list[dict[str, Any]] | None:
    """The places a map element carries for bearings (its ``data-reference``), if any."""
    tag = re.search(rf'<div id="{element}"[^>]*>', page)
    assert tag is not None, element
    found = re.search(r'data-reference="([^"]*)"', tag[0])
    return json.loads(html.unescape(found[1])) if found else None


def test_without_a_basemap_the_demo_gazetteers_places_give_bearings(
    app: Flask, login: Login
) -> None:
    from jointops.places.gazetteer import ENTRIES

    browser = login("supervisor.pbso")
    form = raw(browser.get("/events/new"))
    places = reference_of(form, "event-map")
    assert places is not None
    by_name = {p["name"]: p for p in places}
    assert by_name["West Palm Beach"] == {
        "name": "West Palm Beach",
        "lat": 26.7153,
        "lon": -80.0534,
        "town": True,
    }
    assert not by_name["Palm Beach County Courthouse"]["town"]
    assert len(places) == len([e for e in ENTRIES if e.kind in ("landmark", "town")])
    # never a street address: those are the demo events' places
    for entry in ENTRIES:
        if entry.kind == "address":
            assert entry.label.split(",")[0] not in by_name, entry.label
    assert "the demo gazetteer’s landmarks and towns" in form
    week = raw(browser.get("/map"))
    assert reference_of(week, "week-map") == places

    # a basemap shows the streets itself; another geocoder has no gazetteer
    app.config["MAP_TILES_URL"] = "https://tiles.example.org/{z}/{x}/{y}.png"
    assert reference_of(raw(browser.get("/events/new")), "event-map") is None
    app.config["MAP_TILES_URL"] = ""
    app.config["GEOCODER"] = "off"
    plain = raw(browser.get("/events/new"))
    assert reference_of(plain, "event-map") is None
    assert "No basemap is set" in plain and "gazetteer" not in plain
