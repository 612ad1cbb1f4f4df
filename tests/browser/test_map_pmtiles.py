"""The PMTiles basemap in Chromium: a real archive, read in same-origin range requests, drawn.

The test writes a small raster PMTiles v3 archive with the ``pmtiles`` package's writer: PNG
tiles (written by hand with ``zlib``: Pillow is not a dependency) around West Palm Beach at
three zoom levels, the county's first view and two close ones. Each tile is one colour that
encodes its own zoom, column and row, so the test reads back which tile the browser drew under
the pin. The archive is configured as ``JOINTOPS_MAP_PMTILES``; the operation form's map must
draw those tiles as ``blob:`` images, fetch the archive only from the app's own origin in
``Range`` requests answered 206, and trip no Content-Security-Policy violation. The address
comes from the demo gazetteer (on the server, no network).
"""

from __future__ import annotations

import math
import shutil
import struct
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write

from tests.browser import DESKTOP, sign_in
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

PMTILES_URL_PATH = "/api/map/basemap.pmtiles"
ATTRIBUTION = "Test PMTiles extract"
#: West Palm Beach: the archive's tiles are around this point
PIN = (26.71, -80.05)
#: what the address search is given, and the suggestion chosen (the demo gazetteer's)
SEARCH, SUGGESTION = "Clematis", "Clematis St, West Palm Beach"
#: the county's first view (fitted to the service area), and the zooms around a placed pin
ZOOMS = (9, 14, 15)
#: tiles written around the pin's tile at each zoom: from -SPAN to +SPAN in x and y
SPAN = 3
#: the red of a tile tells its zoom; green and blue its column and row around the pin's tile
RED_OF_ZOOM = {9: 236, 14: 196, 15: 156}
BORDER = (90, 98, 110)
TILE = 256


def tile_of(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """The XYZ (web mercator) column and row of the tile holding ``lat``, ``lon``."""
    n = 2**zoom
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return x, y


def tile_corner(zoom: int, x: int, y: int) -> tuple[float, float]:
    """The latitude and longitude of a tile's north-west corner."""
    n = 2**zoom
    lon = x / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return lat, lon


def colour_of(zoom: int, dx: int, dy: int) -> tuple[int, int, int]:
    return RED_OF_ZOOM[zoom], 100 + 20 * (dx + SPAN), 100 + 20 * (dy + SPAN)


def decode(rgb: list[int]) -> tuple[int, int, int]:
    """(zoom, dx, dy) back from a tile's colour."""
    zoom = next(z for z, red in RED_OF_ZOOM.items() if abs(red - rgb[0]) <= 2)
    return zoom, round((rgb[1] - 100) / 20) - SPAN, round((rgb[2] - 100) / 20) - SPAN


def png(rgb: tuple[int, int, int], border: tuple[int, int, int] = BORDER) -> bytes:
    """A 256×256 PNG of one colour with a 2-pixel border (standard library only)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    edge = b"\x00" + bytes(border) * TILE
    inner = b"\x00" + bytes(border) * 2 + bytes(rgb) * (TILE - 4) + bytes(border) * 2
    raw = edge * 2 + inner * (TILE - 4) + edge * 2
    header = struct.pack(">IIBBBBB", TILE, TILE, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def write_archive(path: Path) -> int:
    """The raster archive around ``PIN``; returns how many tiles it holds."""
    tiles: dict[int, bytes] = {}
    for zoom in ZOOMS:
        x0, y0 = tile_of(*PIN, zoom)
        for dx in range(-SPAN, SPAN + 1):
            for dy in range(-SPAN, SPAN + 1):
                tiles[zxy_to_tileid(zoom, x0 + dx, y0 + dy)] = png(colour_of(zoom, dx, dy))
    # the bounds: the widest zoom's block of tiles
    x0, y0 = tile_of(*PIN, ZOOMS[0])
    north, west = tile_corner(ZOOMS[0], x0 - SPAN, y0 - SPAN)
    south, east = tile_corner(ZOOMS[0], x0 + SPAN + 1, y0 + SPAN + 1)
    with write(path) as writer:
        for tile_id in sorted(tiles):
            writer.write_tile(tile_id, tiles[tile_id])
        writer.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_lon_e7": int(west * 1e7),
                "min_lat_e7": int(south * 1e7),
                "max_lon_e7": int(east * 1e7),
                "max_lat_e7": int(north * 1e7),
                "center_zoom": ZOOMS[1],
                "center_lon_e7": int(PIN[1] * 1e7),
                "center_lat_e7": int(PIN[0] * 1e7),
            },
            {"name": "JointOps test extract", "attribution": ATTRIBUTION},
        )
    return len(tiles)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pmtiles") / "west-palm-beach.pmtiles"
    assert write_archive(path) == len(ZOOMS) * (2 * SPAN + 1) ** 2
    assert path.read_bytes()[:8] == b"PMTiles\x03"
    return path


@pytest.fixture(scope="module")
def mapped(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, archive: Path
) -> Iterator[LiveServer]:
    """The app with the archive as its basemap and the demo gazetteer as its geocoder."""
    workdir = tmp_path_factory.mktemp("map_pmtiles")
    database = workdir / "jointops.sqlite3"
    shutil.copyfile(sqlite_template, database)
    env = {
        "JOINTOPS_MAP_PMTILES": str(archive),
        "JOINTOPS_MAP_ATTRIBUTION": ATTRIBUTION,
        "JOINTOPS_GEOCODER": "demo",
    }
    live = LiveServer(f"sqlite:///{database}", workdir / "gunicorn.log", workers=2, extra_env=env)
    with live:
        yield live
    print(f"--- tail of {live.log_path} ---\n{live.log_tail()}", file=sys.stderr)


#: every decoded tile image of the form's map: its source, natural size and centre colour
DRAWN_TILES = """() => Array.from(
    document.querySelectorAll("#event-map .leaflet-tile-container img"))
  .filter((img) => img.complete && img.naturalWidth > 0 && img.style.display !== "none")
  .map((img) => {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    const rgb = Array.from(context.getImageData(128, 128, 1, 1).data.slice(0, 3));
    const box = img.getBoundingClientRect();
    return { src: img.src, width: img.naturalWidth, height: img.naturalHeight, rgb,
             box: [box.left, box.top, box.right, box.bottom] };
  })"""

#: the screen point of the pin: the bottom middle of the marker's icon
PIN_POINT = """() => {
  const box = document.querySelector("#event-map .leaflet-marker-icon").getBoundingClientRect();
  return [box.left + box.width / 2, box.bottom];
}"""

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push([e.effectiveDirective, e.blockedURI]));
"""


def tiles_under(drawn: list[dict[str, Any]], point: list[float]) -> list[dict[str, Any]]:
    x, y = point
    return [t for t in drawn if t["box"][0] <= x < t["box"][2] and t["box"][1] <= y < t["box"][3]]


def test_the_operation_form_draws_the_pmtiles_basemap_from_ranges_of_the_same_origin(
    new_page: Any, mapped: LiveServer, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page(DESKTOP)
    page.add_init_script(RECORD_VIOLATIONS)
    requested: list[str] = []
    exchanges: list[Any] = []
    failed: list[str] = []
    console: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("requestfinished", lambda r: exchanges.append(r))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    sign_in(page, mapped, "investigator.pbso")
    page.goto(f"{mapped.url}/events/new")
    page.select_option("#kind", "operation")

    # The county's first view: the archive's widest zoom, drawn as blob: images.
    page.wait_for_function(f"() => ({DRAWN_TILES})().length > 0")
    first = page.evaluate(DRAWN_TILES)
    assert {decode(t["rgb"])[0] for t in first} == {ZOOMS[0]}, first
    expect(page.locator("#event-map-note")).to_be_hidden()
    expect(page.locator("#event-map .leaflet-control-attribution")).to_contain_text(ATTRIBUTION)

    # An address chosen in West Palm Beach: the map zooms in and draws the close tiles.
    page.get_by_role("combobox", name="Address").fill(SEARCH)
    page.get_by_role("listbox", name="Address suggestions").get_by_role("option").filter(
        has_text=SUGGESTION
    ).first.click()
    expect(page.locator("#event-map .leaflet-marker-icon")).to_have_count(1)
    placed = (float(page.input_value("#latitude")), float(page.input_value("#longitude")))
    page.wait_for_function(
        f"""() => {{
          const [x, y] = ({PIN_POINT})();
          const close = ({DRAWN_TILES})().filter((t) => t.rgb[0] !== {RED_OF_ZOOM[ZOOMS[0]]});
          return close.length >= 4 && close.some((t) =>
            t.box[0] <= x && x < t.box[2] && t.box[1] <= y && y < t.box[3]);
        }}"""
    )
    drawn = page.evaluate(DRAWN_TILES)
    close = [t for t in drawn if decode(t["rgb"])[0] != ZOOMS[0]]
    assert len(close) >= 4, drawn
    assert all(t["src"].startswith("blob:") for t in drawn), drawn
    assert all(t["width"] == TILE and t["height"] == TILE for t in drawn), drawn
    # The tile under the pin is the archive's tile of the pin at its zoom: addressing is right.
    under = tiles_under(close, page.evaluate(PIN_POINT))
    assert under, (page.evaluate(PIN_POINT), close)
    zoom, dx, dy = decode(under[0]["rgb"])
    assert zoom in ZOOMS[1:], (zoom, dx, dy)
    (x, y), (x0, y0) = tile_of(*placed, zoom), tile_of(*PIN, zoom)
    assert (dx, dy) == (x - x0, y - y0), ((zoom, dx, dy), placed)
    page.locator("#event-map").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "pmtiles-form.png", full_page=True)

    # Every request went to the app itself; the archive only in ranges answered 206.
    urls = [e.url for e in exchanges]
    assert all(u.startswith((mapped.url + "/", "blob:", "data:")) for u in requested), requested
    archive_reads = [e for e in exchanges if e.url == mapped.url + PMTILES_URL_PATH]
    assert len(archive_reads) >= 2, urls  # the header and root directory, then tile data
    for read in archive_reads:
        asked = read.all_headers().get("range", "")
        answer = read.response()
        assert asked.startswith("bytes="), (read.url, read.all_headers())
        assert answer is not None and answer.status == 206, (asked, answer and answer.status)
        start = asked.removeprefix("bytes=").split("-")[0]
        assert answer.all_headers()["content-range"].startswith(f"bytes {start}-"), asked
    assert not failed, failed

    # The policy lets blob: images in and nothing else beyond the app; none was violated.
    policy = page.evaluate(
        "async () => (await fetch(location.href)).headers.get('content-security-policy')"
    )
    assert "img-src 'self' data: blob:;" in policy, policy
    assert page.evaluate("() => window.__cspViolations") == []
    assert not [text for text in console if "Content Security Policy" in text], console
