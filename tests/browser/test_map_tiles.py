"""The basemap in Chromium: tiles load from the configured tile server and from nowhere else.

A tiny tile server (``http.server`` in a thread, PNG tiles, its own free port) is configured
as ``JOINTOPS_MAP_TILES_URL``; a second one on another port stands for any other origin. The
Content-Security-Policy lets the page load tiles from the first and blocks the second. The
app's geocoder points at a closed port here, so the address search is down and the form must
still work by hand.
"""

from __future__ import annotations

import re
import shutil
import struct
import sys
import threading
import zlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser import DESKTOP, PHONE, sign_in
from tests.live_server import TIMEZONE, LiveServer, free_port

pytestmark = pytest.mark.browser

TILE_PATH = re.compile(r"^/tiles/(\d+)/(\d+)/(\d+)\.png$")
ATTRIBUTION = "Test tiles <b>not bold</b> & co"


def png(width: int = 256, height: int = 256, rgb: tuple[int, int, int] = (214, 226, 236)) -> bytes:
    """A plain PNG image of one colour (standard library only)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


class TileServer:
    """Serves ``/tiles/{z}/{x}/{y}.png`` on a free loopback port and records every request."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        tile = png()
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                requests.append(self.path)
                if not TILE_PATH.match(self.path):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> TileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def tiles() -> Iterator[TileServer]:
    with TileServer() as server:
        yield server


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[TileServer]:
    with TileServer() as server:
        yield server


@pytest.fixture(scope="module")
def mapped(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, tiles: TileServer
) -> Iterator[LiveServer]:
    """The app with the tile server as its basemap and a geocoder that never answers."""
    workdir = tmp_path_factory.mktemp("map_tiles")
    database = workdir / "jointops.sqlite3"
    shutil.copyfile(sqlite_template, database)
    env = {
        "JOINTOPS_MAP_TILES_URL": tiles.origin + "/tiles/{z}/{x}/{y}.png",
        "JOINTOPS_MAP_ATTRIBUTION": ATTRIBUTION,
        "JOINTOPS_GEOCODER": "nominatim",
        "JOINTOPS_GEOCODER_URL": f"http://127.0.0.1:{free_port()}",
        "JOINTOPS_GEOCODER_TIMEOUT_S": "1",
    }
    live = LiveServer(f"sqlite:///{database}", workdir / "gunicorn.log", workers=2, extra_env=env)
    with live:
        yield live
    print(f"--- tail of {live.log_path} ---\n{live.log_tail()}", file=sys.stderr)


def far_day(offset: int) -> date:
    day = datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=100 + offset)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def origin_of(url: str) -> str:
    found = re.match(r"^(https?://[^/]+)", url)
    return found[1] if found else url.split(":", 1)[0] + ":"


def test_tiles_load_from_the_configured_origin_and_nothing_else(
    new_page: Any,
    mapped: LiveServer,
    tiles: TileServer,
    elsewhere: TileServer,
    screenshots: Path,
) -> None:
    from playwright.sync_api import expect

    page = new_page(DESKTOP)
    requested: list[str] = []
    failed: list[str] = []
    console: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    sign_in(page, mapped, "investigator.pbso")
    page.goto(f"{mapped.url}/events/new")
    page.select_option("#kind", "operation")

    expect(page.locator("#event-map img.leaflet-tile-loaded").first).to_be_visible()
    assert any(TILE_PATH.match(p) for p in tiles.requests), tiles.requests
    expect(page.locator("#event-map-note")).to_be_hidden()
    attribution = page.locator("#event-map .leaflet-control-attribution")
    expect(attribution).to_contain_text(ATTRIBUTION)  # as text: no markup from settings
    expect(attribution.locator("b")).to_have_count(0)
    page.screenshot(path=screenshots / "map-tiles-form.png", full_page=True)

    # The policy names the tile server's origin in img-src and nothing else beyond 'self'.
    policy = page.evaluate(
        "async () => (await fetch(location.href)).headers.get('content-security-policy')"
    )
    assert f"img-src 'self' data: {tiles.origin};" in policy
    assert elsewhere.origin not in policy

    # Any other origin is blocked by the CSP, as an image and as a fetch.
    violations = page.evaluate(
        """async (other) => {
          const seen = [];
          document.addEventListener("securitypolicyviolation",
            (e) => seen.push([e.effectiveDirective, e.blockedURI]));
          const img = new Image();
          const loaded = new Promise((done) => { img.onload = () => done("loaded");
                                                 img.onerror = () => done("blocked"); });
          img.src = other + "/tiles/1/0/0.png";
          document.body.appendChild(img);
          const fetched = await fetch(other + "/tiles/1/1/0.png").then(() => "loaded",
                                                                      () => "blocked");
          const image = await loaded;
          await new Promise((done) => setTimeout(done, 100));
          return { image, fetched, seen };
        }""",
        elsewhere.origin,
    )
    assert violations["image"] == "blocked" and violations["fetched"] == "blocked", violations
    assert sorted(d for d, _ in violations["seen"]) == ["connect-src", "img-src"], violations
    assert all(uri.startswith(elsewhere.origin) for _, uri in violations["seen"]), violations
    assert elsewhere.requests == []
    assert any("Content Security Policy" in text for text in console), console

    origins = {origin_of(url) for url in requested}
    assert origins <= {mapped.url, tiles.origin, elsewhere.origin, "data:"}, origins
    assert {origin_of(url) for url in requested if elsewhere.origin in url} <= {elsewhere.origin}
    assert not [u for u in failed if u.startswith((mapped.url, tiles.origin))], failed


def test_with_the_geocoder_down_the_form_still_places_and_saves(
    new_page: Any, mapped: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page(PHONE)
    sign_in(page, mapped, "investigator.pbso")
    page.goto(f"{mapped.url}/events/new")
    day, title = far_day(0), "Map test: geocoder down"
    page.select_option("#kind", "operation")
    page.fill("#title", title)
    page.fill("#starts_at", f"{day.isoformat()}T14:00")
    page.fill("#ends_at", f"{day.isoformat()}T15:00")
    page.get_by_role("combobox", name="Address").fill("1 Clematis St, West Palm Beach")
    status = page.locator("#place-status")
    expect(status).to_contain_text("Address search is unavailable right now", timeout=15_000)
    expect(page.get_by_role("listbox", name="Address suggestions")).to_be_hidden()
    page.screenshot(path=screenshots / "map-geocoder-down-phone.png", full_page=True)

    page.fill("#latitude", "26.7131")
    page.fill("#longitude", "-80.0518")
    expect(page.locator("#event-map .leaflet-marker-icon")).to_have_count(1)
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def create_operation(page: Any, server: LiveServer, title: str, when: str, at: str) -> None:
    """Through the form, coordinates typed (``when``: "YYYY-MM-DDTHH", an hour; ``at``:
    "lat,lon")."""
    from playwright.sync_api import expect

    lat, lon = at.split(",")
    page.goto(f"{server.url}/events/new")
    page.select_option("#kind", "operation")
    page.fill("#title", title)
    page.fill("#starts_at", f"{when}:00")
    page.fill("#ends_at", f"{when}:45")
    page.fill("#location_address", f"{title}, West Palm Beach, FL")
    page.fill("#latitude", lat)
    page.fill("#longitude", lon)
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_the_week_map_over_tiles(new_page: Any, mapped: LiveServer, screenshots: Path) -> None:
    from playwright.sync_api import expect

    day = far_day(7)
    page = new_page({"width": 1440, "height": 900})
    sign_in(page, mapped, "supervisor.pbso")
    north = "Week map north <b>x</b>"  # a title is text on the map, never markup
    create_operation(page, mapped, north, f"{day.isoformat()}T09", "26.7400,-80.0600")
    create_operation(page, mapped, "Week map south", f"{day.isoformat()}T13", "26.7000,-80.0700")
    page.goto(f"{mapped.url}/calendar?date={day.isoformat()}")
    page.get_by_role("link", name="Map", exact=True).click()
    page.wait_for_url(re.compile(rf"/map\?date={day.isoformat()}$"))
    expect(page.locator("#week-map img.leaflet-tile-loaded").first).to_be_visible()
    expect(page.locator("#week-places li[data-lat]")).to_have_count(2)
    expect(page.locator("#week-map .leaflet-marker-icon")).to_have_count(2)
    expect(page.locator("#week-map path.place-circle")).to_have_count(2)
    tag = page.locator("#week-map .leaflet-tooltip", has_text="Week map north")
    expect(tag).to_be_visible()
    expect(tag).to_contain_text("<b>x</b>")
    expect(tag.locator("b")).to_have_count(0)
    page.locator("#week-places li", has_text="Week map south").get_by_role(
        "button", name="Show on map"
    ).click()
    expect(page.locator("#week-map .leaflet-popup")).to_contain_text("Week map south")
    page.screenshot(path=screenshots / "map-week-tiles.png", full_page=True)

    phone = new_page(PHONE)
    sign_in(phone, mapped, "supervisor.pbso")
    phone.goto(f"{mapped.url}/map?date={day.isoformat()}")
    expect(phone.locator("#week-map .leaflet-marker-icon")).to_have_count(2)
    phone.screenshot(path=screenshots / "map-week-tiles-phone.png", full_page=True)
