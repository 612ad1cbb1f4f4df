"""The inbox and its header badge, and which notifications also come by e-mail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from auth.policy import told_of_deconfliction
from jointops.forms import CsrfOnlyForm, InputRefused, row_id
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.notifications import inbox
from jointops.notifications import service as notify
from jointops.notifications.forms import NotificationSettingsForm
from jointops.visibility import viewer_of

bp = Blueprint("notifications", __name__)


def inbox_context() -> dict[str, Any]:
    """The header's badge, counted only when a page shows it (one indexed query)."""
    if not current_user.is_authenticated:
        return {}
    return {"inbox_unread": lambda: inbox.unread_count(current_user)}


def _page_number(text: str) -> int:
    text = text.strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        abort(400, "page: expected a whole number from 1.")
    return int(text)


@bp.get("/inbox", endpoint="inbox")
@allow(SIGNED_IN)
def inbox_page() -> str:
    """One line per alert and per other notification, in order of urgency, 50 to a page."""
    chosen = inbox.inbox(current_user, _page_number(request.args.get("page", "")))
    return render_template(
        "inbox.html",
        inbox=chosen,
        urgency=inbox.URGENCY,
        deconfliction=told_of_deconfliction(viewer_of(current_user)),
    )


@bp.post("/inbox/read")
@allow(SIGNED_IN)
def mark_read() -> Response:
    """``line`` marks that line read; without it, every line up to ``upto`` (the newest
    notification the page showed)."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    page = _page_number(request.form.get("page", ""))
    line, upto = request.form.get("line", ""), request.form.get("upto", "")
    if line:
        try:
            found = inbox.mark_line_read(current_user, line)
        except ValueError as refused:
            abort(400, f"line: {refused}")
        if not found:
            abort(404)
        return redirect(url_for("notifications.inbox", page=page if page > 1 else None))
    try:
        newest = row_id(upto, "upto") if upto else None
    except InputRefused as refused:
        abort(400, str(refused))
    inbox.mark_all_read(current_user, newest)
    flash("Marked every line read.", "success")
    return redirect(url_for("notifications.inbox", page=page if page > 1 else None))


def _render(form: NotificationSettingsForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "settings_notifications.html",
        form=form,
        categories=notify.categories_for(current_user),
        allowed=notify.agency_allows(current_user),
        email_on=notify.email_enabled(),
    ), status


@bp.route("/settings/notifications", methods=["GET", "POST"])
@allow(SIGNED_IN)
def settings() -> tuple[str, int] | Response:
    user = current_user._get_current_object()
    allowed = notify.agency_allows(user)
    form = NotificationSettingsForm()
    if request.method == "GET":
        for category, chosen in notify.email_choices(user).items():
            form[f"email_{category}"].data = chosen and category in allowed
        return _render(form)
    if not form.validate_on_submit():
        return _render(form, 400)
    wanted = {c: bool(form[f"email_{c}"].data) for c in notify.categories_for(user)}
    refused = [c for c, on in wanted.items() if on and c not in allowed]
    for category in refused:
        agency = user.agency.code if user.agency else "your agency"
        form[f"email_{category}"].errors = [
            f"{agency} does not allow {notify.CATEGORIES[category].lower()} by e-mail."
        ]
    if refused:
        return _render(form, 400)
    notify.save_email_choices(user, {c: on for c, on in wanted.items() if c in allowed})
    flash("Your notification settings are saved.", "success")
    return redirect(url_for("notifications.settings"))
