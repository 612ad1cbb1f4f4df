"""Known places, for administrators: list, add, edit, take out of use and back."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from auth.policy import ADMIN
from jointops.identity.permissions import allow
from jointops.models import KnownPlace
from jointops.places import known
from jointops.places.forms import KnownPlaceForm

bp = Blueprint("places", __name__, url_prefix="/admin/places")

Page = str | Response | tuple[str, int]


@bp.get("")
@allow(ADMIN)
def index() -> str:
    show_inactive = request.args.get("inactive") == "1"
    return render_template(
        "admin_places.html",
        places=known.known_places(include_inactive=show_inactive),
        show_inactive=show_inactive,
    )


def _place(place_id: int) -> KnownPlace:
    place = known.find_known_place(place_id)
    if place is None:
        abort(404)
    return place


def _form_page(form: KnownPlaceForm, place: KnownPlace | None) -> Page:
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template("place_form.html", form=form, place=place), status


@bp.route("/new", methods=["GET", "POST"])
@allow(ADMIN)
def create() -> Page:
    form = KnownPlaceForm()
    if form.validate_on_submit():
        draft = form.to_draft()
        draft.active = True
        try:
            saved = known.save_known_place(draft, current_user)
        except known.KnownPlaceErrors as refused:
            form.show_errors(refused.errors)
        else:
            flash(f"Added “{saved.name}”.", "success")
            return redirect(url_for("places.index"))
    return _form_page(form, None)


@bp.route("/<int:place_id>/edit", methods=["GET", "POST"])
@allow(ADMIN)
def edit(place_id: int) -> Page:
    place = _place(place_id)
    form = KnownPlaceForm(obj=place) if request.method == "GET" else KnownPlaceForm()
    if form.validate_on_submit():
        try:
            saved = known.save_known_place(form.to_draft(), current_user, place)
        except known.KnownPlaceErrors as refused:
            form.show_errors(refused.errors)
        else:
            flash(f"Saved “{saved.name}”.", "success")
            return redirect(url_for("places.index"))
    return _form_page(form, place)


@bp.post("/<int:place_id>/deactivate")
@allow(ADMIN)
def deactivate(place_id: int) -> Response:
    place = _place(place_id)
    known.set_active(place, False, current_user)
    flash(f"“{place.name}” is out of use; appointments that name it keep it.", "success")
    return redirect(url_for("places.index"))


@bp.post("/<int:place_id>/activate")
@allow(ADMIN)
def activate(place_id: int) -> Response:
    place = _place(place_id)
    known.set_active(place, True, current_user)
    flash(f"“{place.name}” is in use again.", "success")
    return redirect(url_for("places.index"))
