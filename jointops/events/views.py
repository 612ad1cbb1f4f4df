"""Event pages: create, read, edit and cancel, each checked against the need-to-know policy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from auth.policy import Visibility, creatable_kinds
from calendars.recurrence import RuleRefused
from jointops import audit
from jointops.alerts.listing import alerts_for_item
from jointops.deconfliction.precheck import PrecheckRefused, precheck_occurrences
from jointops.events.forms import LOCAL_FORMAT, CancelForm, EventForm
from jointops.events.moves import TIME_FIELDS, MoveRefused, move_event
from jointops.events.occurrences import dated_occurrences
from jointops.events.repeat_form import RepeatForm, ScopeForm
from jointops.events.rules import CONFIRM_OUTSIDE_AREA, EventErrors
from jointops.events.series import (
    SCOPE,
    cancel_series,
    change_following_and_read,
    save_series_and_read,
    series_summary,
)
from jointops.events.series_rule import rest_of_series
from jointops.events.service import (
    BookingConflict,
    BookingWarning,
    NeedsConfirmation,
    active_alerts_after_save,
    cancel_event,
    find_event,
    save_event_and_read,
)
from jointops.identity.kept_forms import keeps_typed_input, typed_again
from jointops.identity.permissions import SIGNED_IN, allow
from jointops.models import Event
from jointops.officetime import check_day, next_half_hour
from jointops.places.known import place_shown_to
from jointops.visibility import editable, viewer_of, visibility

bp = Blueprint("events", __name__, url_prefix="/events")

Page = str | Response | tuple[str, int]


def load_event(event_id: int, *, need: Visibility = Visibility.BUSY) -> tuple[Event, Visibility]:
    """The event if the current user may see it at ``need`` or better; else 404 (audited)."""
    event = find_event(event_id)
    seen = visibility(current_user, event) if event is not None else Visibility.NONE
    if event is None or seen < need:
        audit.record_now(
            "event.view",
            outcome="denied",
            object_type="event",
            object_id=event_id,
            path=request.path,
        )
        abort(404)
    return event, seen


def _id_and_title(event: Event) -> tuple[int, str]:
    return event.id, event.title


def _submit(
    form: EventForm,
    event: Event | None,
    repeat: RepeatForm | None = None,
    scope: ScopeForm | None = None,
) -> tuple[tuple[int, str] | None, list[BookingWarning]]:
    """Validate and save; returns the saved event's id and title (read in the save's
    transaction), or the warnings to confirm. With a repeat chosen, saves the whole series;
    with "this and following" chosen for an occurrence, changes them all (by the repeat sent
    with it, if any)."""
    valid = form.validate_on_submit()
    submitted = form.is_submitted()
    rule = repeat.rule(form.starts_at.data) if repeat is not None and submitted else None
    scoped = scope is None or not submitted or scope.validate()
    new_rule = scope.rule(form.starts_at.data) if scope is not None and submitted else None
    wrong = (repeat is not None and repeat.has_errors) or (scope is not None and scope.has_errors)
    if not valid or not scoped or wrong:
        return None, []
    draft = form.to_draft()
    if event is not None:
        draft.owner_agency_id = event.owner_agency_id
    confirmed = form.confirm_warnings.data
    try:
        if rule is not None:
            saved = save_series_and_read(
                draft, rule, current_user, confirmed=confirmed, read=_id_and_title
            )
        elif event is not None and scope is not None and scope.following:
            saved = change_following_and_read(
                draft, event, current_user, rule=new_rule, confirmed=confirmed, read=_id_and_title
            )
        else:
            saved = save_event_and_read(
                draft, current_user, event, confirmed=confirmed, read=_id_and_title
            )
        return saved, []
    except NeedsConfirmation as pending:
        return None, pending.warnings
    except RuleRefused as refused:
        shown = repeat if repeat is not None else scope.repeat if scope is not None else None
        if shown is not None:
            shown.show(refused.errors)
    except EventErrors as refused:
        if scope is not None and SCOPE in refused.errors:
            scope.show(refused.errors.pop(SCOPE))
        form.refused_by(refused)
    except BookingConflict as conflict:
        form.show_errors({conflict.field: [str(conflict)]})
        g.booking_conflict = True
    return None, []


def _precheck(
    form: EventForm,
    event: Event | None,
    repeat: RepeatForm | None = None,
    scope: ScopeForm | None = None,
) -> Page:
    """ "Deconflict this plan": what saving would match, as pointers; nothing is saved. With a
    repeat chosen, every occurrence is checked (one pre-check), each hit naming its day. An
    occurrence's scope (and its repeat) is shown again as it was sent."""
    valid = form.validate_on_submit()
    rule = repeat.rule(form.starts_at.data) if repeat is not None else None
    if not valid or (repeat is not None and repeat.has_errors):
        return _render_form(form, event, [], repeat, scope)
    draft = form.to_draft()
    if event is not None:
        draft.owner_agency_id = event.owner_agency_id
    shown: dict[str, Any] = {
        "form": form,
        "event": event,
        "warnings": [],
        "repeat": repeat,
        "scope": scope,
    }
    try:
        plans = dated_occurrences(draft, rule) if rule is not None else [(None, draft)]
        pointers = precheck_occurrences(plans, current_user, event.id if event else None)
    except RuleRefused as refused:
        if repeat is not None:
            repeat.show(refused.errors)
        return _render_form(form, event, [], repeat, scope)
    except PrecheckRefused as refused:
        return render_template("event_form.html", **shown, refused=str(refused)), refused.status
    return render_template("event_form.html", **shown, prechecked=True, pointers=pointers)


def _saved(saved: tuple[int, str]) -> Response:
    event_id, title = saved
    flash(f"Saved “{title}”.", "success")
    notice = deconfliction_notice(active_alerts_after_save(event_id, current_user))
    if notice:
        flash(f"{notice} Call the point of contact shown below before going ahead.", "error")
    return redirect(url_for("events.show", event_id=event_id))


def deconfliction_notice(active: int | None) -> str | None:
    """What a save tells of the saved operation's active alerts, if it has any."""
    if not active:
        return None
    return (
        f"Deconfliction: this operation conflicts with {active} operation"
        f"{'' if active == 1 else 's'} of another agency or case."
    )


def _render_form(
    form: EventForm,
    event: Event | None,
    warnings: list[BookingWarning],
    repeat: RepeatForm | None = None,
    scope: ScopeForm | None = None,
) -> Page:
    status = 200
    refused = (
        form.errors
        or (repeat is not None and repeat.has_errors)
        or (scope is not None and scope.has_errors)
    )
    if request.method == "POST":
        status = 409 if g.get("booking_conflict") else 400 if refused else 200
    page = render_template(
        "event_form.html", form=form, event=event, warnings=warnings, repeat=repeat, scope=scope
    )
    return page, status


@bp.route("/new", methods=["GET", "POST"])
@allow(SIGNED_IN)
@keeps_typed_input
def create() -> Page:
    kinds = creatable_kinds(viewer_of(current_user))
    if not kinds:
        audit.record_now("event.create", outcome="denied", path=request.path)
        abort(403)
    kept = typed_again()
    form = EventForm(current_user, **kept)
    if request.method == "GET":
        if not kept:
            _prefill(form, kinds)
    repeat = RepeatForm(**kept)
    if request.method == "POST" and "precheck" in request.form:
        return _precheck(form, None, repeat)
    saved, warnings = _submit(form, None, repeat)
    if saved is not None:
        return _saved(saved)
    return _render_form(form, None, warnings, repeat)


def _prefill(form: EventForm, kinds: list[str]) -> None:
    """Kind and an hour from the calendar slot that was clicked, else from the next half hour.

    The hour may end after midnight: a slot clicked at 23:30 proposes 23:30 to 00:30.
    """
    kind = request.args.get("kind")
    form.kind.data = kind if kind in kinds else kinds[0]
    begins = _clicked_slot() or next_half_hour()
    form.starts_at.data = begins
    form.ends_at.data = begins + timedelta(hours=1)


def _clicked_slot() -> datetime | None:
    try:
        begins = datetime.strptime(request.args.get("start", ""), LOCAL_FORMAT)
        check_day(begins.date())
    except ValueError:
        return None
    return begins


@bp.route("/<int:event_id>")
@allow(SIGNED_IN)
def show(event_id: int) -> Page:
    event, seen = load_event(event_id)
    audit.record_now("event.view", object_type="event", object_id=event.id, level=seen.name.lower())
    full = seen is Visibility.FULL
    return render_template(
        "event.html",
        event=event,
        full=full,
        can_edit=editable(current_user, event) and not event.is_cancelled,
        alerts=alerts_for_item("event", event.id, current_user, via="event-page") if full else [],
        place=place_shown_to(current_user, event) if full else None,
        series=series_summary(event) if full else None,
    )


def load_editable(event_id: int, action: str) -> Event:
    """The event if the current user may change it; 404 or 403 (audited as ``action``) if not."""
    event, _ = load_event(event_id, need=Visibility.FULL)
    if not editable(current_user, event) or event.is_cancelled:
        audit.record_now(action, outcome="denied", object_type="event", object_id=event_id)
        abort(403)
    return event


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@allow(SIGNED_IN)
@keeps_typed_input
def edit(event_id: int) -> Page:
    event = load_editable(event_id, "event.update")
    kept = typed_again()
    form = (
        EventForm.for_event(current_user, event)
        if request.method == "GET" and not kept
        else EventForm(current_user, event=event, **kept)
    )
    rest = rest_of_series(event)
    scope = ScopeForm(rest, **kept) if rest is not None else None
    if request.method == "POST" and "precheck" in request.form:
        return _precheck(form, event, scope=scope)
    saved, warnings = _submit(form, event, scope=scope)
    if saved is not None:
        return _saved(saved)
    return _render_form(form, event, warnings, scope=scope)


@bp.route("/<int:event_id>/cancel", methods=["GET", "POST"])
@allow(SIGNED_IN)
def cancel(event_id: int) -> Page:
    event = load_editable(event_id, "event.cancel")
    form = CancelForm()
    if form.validate_on_submit():
        title = event.title  # the commit expires the row: nothing after it reads the database
        cancel_event(event, current_user, form.reason.data.strip())
        flash(f"Cancelled “{title}”; its rooms and vehicles are free again.", "success")
        return redirect(url_for("events.show", event_id=event_id))
    status = 400 if form.errors else 200
    return render_template("event_cancel.html", form=form, event=event), status


@bp.route("/<int:event_id>/cancel-series", methods=["GET", "POST"])
@allow(SIGNED_IN)
def cancel_rest_of_series(event_id: int) -> Page:
    """Cancel every occurrence of the event's series still to come (those past stay)."""
    event = load_editable(event_id, "event.cancel")
    series = series_summary(event)
    if series is None:
        abort(404)
    form = CancelForm()
    if form.validate_on_submit():
        title = event.title
        count = cancel_series(event, current_user, form.reason.data.strip())
        flash(f"Cancelled {count} occurrence{'' if count == 1 else 's'} of “{title}”.", "success")
        return redirect(url_for("events.show", event_id=event_id))
    status = 400 if form.errors else 200
    return render_template(
        "event_cancel_series.html", form=form, event=event, series=series
    ), status


#: what a flag sent as a form field says when it is set (a checkbox's ``y``, a script's ``true``)
YES = frozenset({"y", "yes", "on", "true", "1"})


@bp.post("/<int:event_id>/move")
@allow(SIGNED_IN)
def move(event_id: int) -> tuple[dict[str, Any], int]:
    """New times for an event, from the calendar's drag or its keyboard alternative; answered
    in JSON. Who may, and what is refused, are the edit form's: 404 or 403 as its page; 409 for
    a room or vehicle taken, naming it and when; 400 naming each field, with ``confirm``
    listing the flags (``confirm_warnings``, ``confirm_outside_area``) that would lift it."""
    event = load_editable(event_id, "event.update")
    form = request.form
    try:
        moved = move_event(
            event,
            current_user,
            {name: form.get(name, "") for name in TIME_FIELDS},
            confirmed=form.get("confirm_warnings", "").strip().lower() in YES,
            outside_area_confirmed=form.get(CONFIRM_OUTSIDE_AREA, "").strip().lower() in YES,
        )
    except MoveRefused as refused:
        return {"errors": refused.errors}, 400
    except NeedsConfirmation as pending:
        return {
            "errors": {"confirm_warnings": [w.message for w in pending.warnings]},
            "confirm": ["confirm_warnings"],
        }, 400
    except EventErrors as refused:
        body: dict[str, Any] = {"errors": refused.errors}
        if refused.confirmable:
            body["confirm"] = sorted(refused.confirmable)
        return body, 400
    except BookingConflict as conflict:
        return {"error": str(conflict), "field": conflict.field}, 409
    shown = moved.as_json()
    answer: dict[str, Any] = {
        "event": shown,
        "message": f"Moved “{moved.title}” to {shown['when']}.",
    }
    notice = deconfliction_notice(active_alerts_after_save(moved.id, current_user))
    if notice:
        answer["deconfliction"] = f"{notice} Open the event for the point of contact to call."
    return answer, 200
