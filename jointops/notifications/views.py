"""The inbox and its header badge, and which notifications also come by e-mail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from jointops.forms import CsrfOnlyForm
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.notifications import inbox
from jointops.notifications import service as notify
from jointops.notifications.forms import NotificationSettingsForm

bp = Blueprint("notifications", __name__)


def inbox_context() -> dict[str, Any]:
    """The header's badge, counted only when a page shows it (one indexed query)."""
    if not current_user.is_authenticated:
        return {}
    return {"inbox_unread": lambda: inbox.unread_count(current_user)}


@bp.get("/inbox", endpoint="inbox")
@allow(SIGNED_IN)
def inbox_page() -> str:
    return render_template("inbox.html", notifications=inbox.inbox(current_user))


@bp.post("/inbox/read")
@allow(SIGNED_IN)
def mark_read() -> Response:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    count = inbox.mark_all_read(current_user)
    flash(f"Marked {count} notification{'' if count == 1 else 's'} read.", "success")
    return redirect(url_for("notifications.inbox"))


def _render(form: NotificationSettingsForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "settings_notifications.html",
        form=form,
        categories=notify.CATEGORIES,
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
    wanted = {c: bool(form[f"email_{c}"].data) for c in notify.CATEGORIES}
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
