"""Alert pages: the review list, and one alert with its workflow (JSON: ``alerts.api``).

Every route is open to any signed-in user; what each sees is decided by
``auth.policy`` (through the ``jointops.alerts`` services: the list pages in SQL on the
policy's terms, then asks it row by row). Views of an alert are audited, and marked when a
deconfliction officer saw both sides.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from jointops import audit
from jointops.alerts import listing, pointer, workflow
from jointops.alerts.forms import AcknowledgeForm, ResolveForm
from jointops.alerts.items import SORTS, STATUS_FILTERS, AlertActionRefused
from jointops.alerts.listing import AlertFilters
from jointops.alerts.pointer import AlertView
from jointops.catalog import ALERT_KIND_LABELS, STRENGTH_LABELS
from jointops.identity.directory import agencies
from jointops.identity.permissions import SIGNED_IN, allow

bp = Blueprint("alerts", __name__)

Page = str | Response | tuple[str, int]


@bp.app_template_filter("duration")
def duration(value: timedelta) -> str:
    """“2 d 3 h”, “3 h 20 min”, “12 min”: how long an alert has waited."""
    minutes = max(0, int(value.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _choice(name: str, allowed: tuple[str, ...] | dict[str, str], default: str | None) -> Any:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if raw not in allowed:
        abort(400, f"{name}: expected one of {', '.join(allowed)}.")
    return raw


def filters_of_query() -> AlertFilters:
    agency = (request.args.get("agency") or "").strip().upper() or None
    if agency is not None and len(agency) > 16:
        abort(400, "agency: expected an agency code.")
    return AlertFilters(
        status=_choice("status", STATUS_FILTERS, "active"),
        kind=_choice("kind", ALERT_KIND_LABELS, None),
        strength=_choice("strength", STRENGTH_LABELS, None),
        agency=agency,
        sort=_choice("sort", SORTS, "urgency"),
        page=_page(),
    )


def _page() -> int:
    text = request.args.get("page", "1").strip()
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        abort(400, "page: expected a whole number from 1.")
    return int(text)


def load_alert(alert_id: int) -> AlertView:
    """The alert as the current user may see it; 404 (audited) when none."""
    view = pointer.get_alert_view(alert_id, current_user)
    if view is None:
        audit.record_now(
            "alert.view",
            outcome="denied",
            object_type="alert",
            object_id=alert_id,
            path=request.path,
        )
        abort(404)
    return view


@bp.get("/alerts")
@allow(SIGNED_IN)
def review() -> str:
    filters = filters_of_query()
    found = listing.list_alerts(current_user, filters)
    # rendered before the audit's commit, which would expire every row of the page
    page = render_template("alerts.html", listing=found, filters=filters, agencies=agencies())
    listing.record_list_view(found.views, current_user, via="page")
    return page


@bp.get("/alerts/<int:alert_id>")
@allow(SIGNED_IN)
def show(alert_id: int) -> Page:
    view = load_alert(alert_id)
    listing.record_view(view, current_user, via="page")
    return _render(view, ResolveForm())


def _render(view: AlertView, resolve_form: ResolveForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "alert.html", view=view, ack_form=AcknowledgeForm(), resolve_form=resolve_form
    ), status


@bp.post("/alerts/<int:alert_id>/acknowledge")
@allow(SIGNED_IN)
def acknowledge(alert_id: int) -> Response:
    if not AcknowledgeForm().validate_on_submit():
        abort(400)
    try:
        codes = workflow.acknowledge(alert_id, current_user)
    except AlertActionRefused as refused:
        if refused.status in (403, 404):
            audit.record_now(
                "alert.acknowledge", outcome="denied", object_type="alert", object_id=alert_id
            )
            abort(refused.status)
        flash(str(refused), "error")
    else:
        flash(f"Acknowledged for {' and '.join(codes)}.", "success")
    return redirect(url_for("alerts.show", alert_id=alert_id))


@bp.post("/alerts/<int:alert_id>/resolve")
@allow("supervisor", "deconfliction_officer")
def resolve(alert_id: int) -> Page:
    view = load_alert(alert_id)
    form = ResolveForm()
    status = 400
    if form.validate_on_submit():
        try:
            workflow.resolve(alert_id, current_user, form.outcome.data, form.note.data.strip())
        except AlertActionRefused as refused:
            if refused.status in (403, 404):
                audit.record_now(
                    "alert.resolve", outcome="denied", object_type="alert", object_id=alert_id
                )
                abort(refused.status)
            form.outcome.errors = [*form.outcome.errors, str(refused)]
            status = refused.status
        else:
            flash(f"Alert #{alert_id} resolved.", "success")
            return redirect(url_for("alerts.show", alert_id=alert_id))
    listing.record_view(view, current_user, via="resolve")
    view = load_alert(alert_id)
    return _render(view, form, status)
