"""Map pages: the week's operations of one's own agency, and the PMTiles basemap file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, send_file
from flask_login import current_user
from werkzeug.wrappers import Response

from jointops.identity.permissions import SIGNED_IN, allow
from jointops.maps import service
from jointops.maps.basemap import PMTILES_PATH, basemap_of, service_area_text
from jointops.officetime import TimeRefused, parse_day, today_local

bp = Blueprint("maps", __name__)

#: a PMTiles archive does not change while the app runs; browsers may keep ranges this long
PMTILES_MAX_AGE = 3600


def map_context() -> dict[str, Any]:
    """What pages with a map need: the basemap and each operation subtype's default radius."""
    return {
        "basemap": basemap_of(current_app.config),
        "map_area": service_area_text(current_app.config),
        "operation_radii": service.default_radii,
        "map_radius": service.radius_m,
        "reference_places": service.reference_places,
    }


def _parse_date() -> date:
    raw = request.args.get("date", "").strip()
    if not raw:
        return today_local()
    try:
        return parse_day(raw)
    except TimeRefused as refused:
        abort(400, f"date: {refused}")


@bp.get("/map")
@allow("supervisor", "investigator")
def week() -> str:
    anchor = _parse_date()
    plan = service.own_operations_for_week(current_user, anchor)
    return render_template(
        "map.html",
        plan=plan,
        last=plan.first + timedelta(days=service.WEEK_DAYS - 1),
        prev_date=plan.first - timedelta(days=service.WEEK_DAYS),
        next_date=plan.first + timedelta(days=service.WEEK_DAYS),
    )


@bp.get(PMTILES_PATH)
@allow(SIGNED_IN)
def pmtiles() -> Response:
    """The configured PMTiles archive, read by the map in HTTP range requests (206)."""
    configured = service.pmtiles_path()
    if configured is None:
        abort(404, "No PMTiles basemap is configured (JOINTOPS_MAP_PMTILES).")
    response = send_file(
        Path(configured).resolve(),
        mimetype="application/vnd.pmtiles",
        conditional=True,
        etag=True,
        max_age=PMTILES_MAX_AGE,
    )
    response.cache_control.public = False
    response.cache_control.private = True
    return response
