"""The second factor at sign-in, first enrolment, and the security settings page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from jointops.forms import CsrfOnlyForm
from jointops.identity import pending
from jointops.identity.mfa import service as mfa
from jointops.identity.mfa.forms import RenameForm, SecondFactorForm, TotpEnrolForm
from jointops.identity.mfa.policy import policy_of
from jointops.identity.permissions import SECOND_FACTOR, SIGNED_IN, allow, safe_next
from jointops.models import PendingSignIn, User

bp = Blueprint("mfa", __name__)

Page = str | Response | tuple[str, int]


def _row() -> PendingSignIn:
    row = pending.current()
    if row is None:  # the guard lets no request through without one
        abort(401)
    return row


def _next() -> str:
    return safe_next(request.args.get("next"))


def _show_codes(codes: list[str], next_url: str) -> str:
    return render_template("mfa_recovery_codes.html", codes=codes, next_url=next_url)


def _ends_sign_in(refused: mfa.FactorRefused) -> bool:
    """A locked account, or a sign-in that ended meanwhile: back to the password."""
    return refused.status == 429 or isinstance(refused, mfa.SignInEnded)


def _back_to_sign_in(refused: mfa.FactorRefused) -> Response:
    flash(refused.message, "error")
    return redirect(url_for("auth.login"))


# --- sign-in ---------------------------------------------------------------------------------


@bp.route("/login/second-factor", methods=["GET", "POST"])
@allow(SECOND_FACTOR)
def second_factor() -> Page:
    row = _row()
    if row.enrol:
        return redirect(url_for("mfa.enrol", next=request.args.get("next")))
    form = SecondFactorForm()
    passkey = mfa.has_passkey(row.user)  # read now: a parallel attempt may end the sign-in
    status = 200
    if form.validate_on_submit():
        try:
            mfa.sign_in_with_code(row, form.code.data)
        except mfa.FactorRefused as refused:
            if _ends_sign_in(refused):
                return _back_to_sign_in(refused)
            form.code.errors = [refused.message]
            status = refused.status
        else:
            return redirect(_next())
    elif form.errors:
        status = 400
    return render_template(
        "mfa_second_factor.html", form=form, passkey=passkey, next_url=_next()
    ), status


@bp.route("/login/enrol", methods=["GET", "POST"])
@allow(SECOND_FACTOR)
def enrol() -> Page:
    row = _row()
    if not row.enrol:
        return redirect(url_for("mfa.second_factor", next=request.args.get("next")))
    form = TotpEnrolForm()
    status = 200
    if form.validate_on_submit():
        try:
            _, codes = mfa.enrol_totp_at_sign_in(row, form.name.data, form.code.data)
        except mfa.FactorRefused as refused:
            if _ends_sign_in(refused):
                return _back_to_sign_in(refused)
            _field_error(form, refused)
            status = refused.status
        else:
            return _show_codes(codes, _next())
    elif form.errors:
        status = 400
    return _enrol_page("mfa_enrol.html", form, row.user, status, next_url=_next())


@bp.post("/login/cancel")
@allow(SECOND_FACTOR)
def cancel() -> Response:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    mfa.cancel(_row())
    flash("Sign-in cancelled.", "info")
    return redirect(url_for("auth.login"))


def _field_error(form: TotpEnrolForm, refused: mfa.FactorRefused) -> None:
    target = form.name if refused.field == "name" else form.code
    target.errors = [refused.message]


def _enrol_page(
    template: str, form: TotpEnrolForm, user: User, status: int, *, next_url: str
) -> tuple[str, int]:
    return render_template(
        template,
        form=form,
        enrolment=mfa.totp_enrolment(user),
        policy=policy_of(user),
        next_url=next_url,
    ), status


# --- settings --------------------------------------------------------------------------------


def _settings(status: int = 200, problem: str = "", errors: dict[int, str] | None = None) -> Page:
    user = current_user._get_current_object()
    return render_template(
        "settings_security.html",
        factors=mfa.factors_of(user),
        kinds=mfa.KIND_LABELS,
        codes_left=mfa.recovery_codes_left(user),
        policy=policy_of(user),
        may_remove_last=mfa.may_remove_last(user),
        problem=problem,
        errors=errors or {},
    ), status


@bp.get("/settings/security")
@allow(SIGNED_IN)
def settings() -> Page:
    return _settings()


@bp.route("/settings/security/totp", methods=["GET", "POST"])
@allow(SIGNED_IN)
def add_totp() -> Page:
    user = current_user._get_current_object()
    form = TotpEnrolForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = mfa.add_totp(user, form.name.data, form.code.data)
        except mfa.FactorRefused as refused:
            _field_error(form, refused)
            status = refused.status
        else:
            if codes:
                return _show_codes(codes, url_for("mfa.settings"))
            flash("Your authenticator app is added.", "success")
            return redirect(url_for("mfa.settings"))
    elif form.errors:
        status = 400
    return _enrol_page(
        "settings_security_totp.html", form, user, status, next_url=url_for("mfa.settings")
    )


@bp.post("/settings/security/factors/<int:factor_id>/rename")
@allow(SIGNED_IN)
def rename(factor_id: int) -> Page:
    form = RenameForm()
    if not form.validate_on_submit():
        message = " ".join(form.name.errors) or "The form expired. Reload the page."
        return _settings(400, errors={factor_id: message})
    try:
        name = mfa.rename(current_user._get_current_object(), factor_id, form.name.data)
    except mfa.FactorRefused as refused:
        return _settings(refused.status, errors={factor_id: refused.message})
    flash(f"Renamed to “{name}”.", "success")
    return redirect(url_for("mfa.settings"))


@bp.post("/settings/security/factors/<int:factor_id>/remove")
@allow(SIGNED_IN)
def remove(factor_id: int) -> Page:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        name = mfa.remove(current_user._get_current_object(), factor_id)
    except mfa.FactorRefused as refused:
        return _settings(refused.status, problem=refused.message)
    flash(f"Removed “{name}”.", "success")
    return redirect(url_for("mfa.settings"))


@bp.post("/settings/security/recovery-codes")
@allow(SIGNED_IN)
def recovery_codes() -> Page:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        codes = mfa.regenerate_codes(current_user._get_current_object())
    except mfa.FactorRefused as refused:
        return _settings(refused.status, problem=refused.message)
    return _show_codes(codes, url_for("mfa.settings"))
