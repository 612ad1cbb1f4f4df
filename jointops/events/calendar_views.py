"""The shared office calendar: week (default), day, month and agenda; and its search."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from auth.policy import creatable_kinds
from jointops import audit
from jointops.catalog import KIND_LABELS
from jointops.events.agenda import agenda_days
from jointops.events.calendar_data import Choices, Room, Shown, filter_choices, window
from jointops.events.calendar_search import QueryRefused, query_words, search
from jointops.events.calendar_tiles import tiles_of
from jointops.events.grid import ROWS, build_days, month_start, week_start
from jointops.forms import row_id
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.officetime import (
    TimeRefused,
    local_day_bounds,
    parse_day,
    today_local,
    wall_minutes_now,
)

bp = Blueprint("schedule", __name__)

VIEWS = {"day": 1, "week": 7, "month": 42, "agenda": 14}


@dataclass(frozen=True)
class Filters:
    agency: str | None = None
    room: int | None = None
    person: int | None = None
    kind: str | None = None

    @property
    def hides_busy(self) -> bool:
        """Busy blocks say nothing of agency, people or kind, so those filters drop them."""
        return bool(self.agency or self.person or self.kind)

    def keep(self, seen: Shown) -> bool:
        event = seen.event
        holds_room = self.room is None or any(
            b.resource_id == self.room and b.active for b in event.bookings
        )
        if not seen.full:
            return not self.hides_busy and holds_room
        return (
            (self.agency is None or event.owner_agency_code == self.agency)
            and holds_room
            and (self.person is None or self.person in event.participant_ids)
            and (self.kind is None or event.kind == self.kind)
        )

    def args(self) -> dict[str, str | int]:
        return {k: v for k, v in vars(self).items() if v}


def _id_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    return row_id(raw, name) if raw else None


def _parse_filters(rooms: list[Room]) -> Filters:
    """The filters asked for; a room (or vehicle, or equipment) only among ``rooms``."""
    room = _id_arg("room")
    if room is not None and room not in {r.id for r in rooms}:
        abort(400, "room: not a room, vehicle or piece of equipment you may filter by.")
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KIND_LABELS:
        abort(400, f"kind: expected one of {', '.join(KIND_LABELS)}.")
    agency = (request.args.get("agency") or "").strip().upper() or None
    return Filters(agency=agency, room=room, person=_id_arg("person"), kind=kind)


def _parse_query() -> tuple[str, ...]:
    try:
        return query_words(request.args.get("q", ""))
    except QueryRefused as refused:
        abort(400, str(refused))


def _parse_date() -> date:
    raw = request.args.get("date", "").strip()
    if not raw:
        return today_local()
    try:
        return parse_day(raw)
    except TimeRefused as refused:
        abort(400, f"date: {refused}")


@bp.route("/")
@allow(SIGNED_IN)
def home() -> Response:
    return redirect(url_for("schedule.calendar"))


@bp.route("/calendar")
@allow(SIGNED_IN)
def calendar() -> str:
    view = request.args.get("view", "week")
    if view not in VIEWS:
        abort(400, f"view: expected one of {', '.join(VIEWS)}.")
    anchor = _parse_date()
    words = _parse_query()
    choices = filter_choices(current_user._get_current_object())
    filters = _parse_filters(choices.rooms)
    if words:
        return _search_page(choices, words, anchor, filters)
    count = VIEWS[view]
    if view == "agenda":
        start, end = local_day_bounds(anchor, count)
        seen = [s for s in window(choices, start, end) if filters.keep(s)]
        return render_template(
            "calendar.html",
            **_page(view, anchor, filters, choices),
            agenda=agenda_days(anchor, count, tiles_of(choices.viewer, seen), today_local()),
            first_date=anchor,
            prev_date=anchor - timedelta(days=count),
            next_date=anchor + timedelta(days=count),
            last_date=anchor + timedelta(days=count - 1),
            count_full=sum(1 for s in seen if s.full),
            count_busy=sum(1 for s in seen if not s.full),
        )
    first = {"day": anchor, "week": week_start(anchor), "month": month_start(anchor)}[view]
    start, end = local_day_bounds(first, count)
    seen = [s for s in window(choices, start, end) if filters.keep(s)]
    days = build_days(first, count, tiles_of(choices.viewer, seen), today_local())
    if view == "month":
        for day in days:
            day.in_month = day.date.month == anchor.month
        prev_date = (anchor.replace(day=1) - timedelta(days=1)).replace(day=1)
        next_date = (anchor.replace(day=28) + timedelta(days=4)).replace(day=1)
    else:
        prev_date, next_date = anchor - timedelta(days=count), anchor + timedelta(days=count)
    return render_template(
        "calendar.html",
        **_page(view, anchor, filters, choices),
        days=days,
        rows=ROWS,
        prev_date=prev_date,
        next_date=next_date,
        count_full=sum(1 for s in seen if s.full),
        count_busy=sum(1 for s in seen if not s.full),
        now_minutes=wall_minutes_now(),
    )


def _page(view: str, anchor: date, filters: Filters, choices: Choices) -> dict[str, Any]:
    """What every view of the page prints: the toolbar's, the filters' and the legend's."""
    return {
        "view": view,
        "anchor": anchor,
        "filters": filters,
        "nav_url": _nav_url(view, filters),
        "agencies": choices.agencies,
        "rooms": choices.rooms,
        "people": choices.people,
        "can_create": bool(creatable_kinds(choices.viewer)),
    }


def _nav_url(view: str, filters: Filters) -> Callable[..., str]:
    """The page's links to other days and views, with its filters: one URL built and the
    filters encoded once, the others put together from them (a page has a dozen or more, and
    building each costs as much as a block). A view is one of :data:`VIEWS`, a day ISO: both
    are URL-safe as they are."""
    base, kept = url_for("schedule.calendar"), urlencode(filters.args())
    tail = f"&{kept}" if kept else ""

    def nav_url(day: date, other: str = view) -> str:
        return f"{base}?view={other}&date={day.isoformat()}{tail}"

    return nav_url


def _search_page(choices: Choices, words: tuple[str, ...], anchor: date, filters: Filters) -> str:
    """The matches as an agenda over the search's window, then the search audited: how many
    words and matches, never the words themselves (someone may type a victim's name)."""
    found = search(choices, words, anchor, filters.keep)
    page = render_template(
        "calendar.html",
        **_page("agenda", anchor, filters, choices),
        query=request.args.get("q", "").strip(),
        found=found,
        agenda=agenda_days(
            found.first,
            found.days,
            tiles_of(choices.viewer, found.shown),
            today_local(),
            with_today=False,
        ),
        first_date=found.first,
        last_date=found.first + timedelta(days=found.days - 1),
        count_full=found.total,
        count_busy=0,
    )
    audit.record_now("calendar.search", object_type="event", words=len(words), found=found.total)
    return page
