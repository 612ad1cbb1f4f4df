"""A user's second factors: enrolment, names, removal, recovery codes, and the check at sign-in.

Every entry point (the settings page, the sign-in pages, their JSON twins, an administrator's
reset) calls these functions, which own their unit of work. What is being enrolled waits in
the cookie's session: the new TOTP seed sealed, the WebAuthn challenge (used once). Nothing
secret goes into audit details: only the kind and the name of a factor.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import session
from markupsafe import Markup
from sqlalchemy import delete, select, update

from jointops import audit
from jointops.extensions import db
from jointops.identity import lockout, pending
from jointops.identity.mfa import passkeys, recovery, sealing, totp
from jointops.identity.mfa.policy import factor_count, policy_of
from jointops.models import (
    FactorKind,
    PendingSignIn,
    RecoveryCode,
    SecondFactor,
    User,
    utcnow,
)
from jointops.officetime import fmt_time
from jointops.transactions import unit_of_work

NAME_MAX = 64
TOTP_KEY = "mfa_totp_seed"
PASSKEY_KEY = "mfa_passkey_challenge"
ISSUER = "JointOps"
WRONG_CODE = "That code is not right, or it was already used."
DEFAULT_NAMES = {FactorKind.TOTP: "Authenticator app", FactorKind.WEBAUTHN: "Passkey"}
KIND_LABELS = {FactorKind.TOTP: "Authenticator app", FactorKind.WEBAUTHN: "Passkey or security key"}


class FactorRefused(Exception):
    """A refusal safe to show: ``field`` names the input at fault ("" for none)."""

    def __init__(self, message: str, *, field: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


class SignInEnded(FactorRefused):
    """The pending sign-in ended while this request waited (another attempt completed it or
    locked the account, or it expired): nothing was done; sign in again."""

    def __init__(self) -> None:
        super().__init__("This sign-in has ended. Sign in again.", status=401)


# --- what the settings page shows ------------------------------------------------------------


def factors_of(user: User) -> list[SecondFactor]:
    return list(
        db.session.scalars(
            select(SecondFactor)
            .where(SecondFactor.user_id == user.id)
            .order_by(SecondFactor.created_at, SecondFactor.id)
        )
    )


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def may_remove_last(user: User) -> bool:
    return policy_of(user) != "required"


def has_passkey(user: User) -> bool:
    return any(f.kind == FactorKind.WEBAUTHN for f in factors_of(user))


# --- names -------------------------------------------------------------------------------------


def _clean_name(user: User, text: Any, kind: FactorKind, *, keep: int | None = None) -> str:
    """A factor's name: given or a default, at most 64 characters, no control characters, not
    the name of another of the user's factors."""
    if text is not None and not isinstance(text, str):
        raise FactorRefused("The name must be text.", field="name")
    name = " ".join((text or "").split())
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise FactorRefused("The name cannot contain control characters.", field="name")
    if len(name) > NAME_MAX:
        raise FactorRefused(f"The name can be at most {NAME_MAX} characters.", field="name")
    taken = {f.name.casefold() for f in factors_of(user) if f.id != keep}
    if not name:
        name = DEFAULT_NAMES[kind]
        number = 2
        while name.casefold() in taken:
            name = f"{DEFAULT_NAMES[kind]} {number}"
            number += 1
    if name.casefold() in taken:
        raise FactorRefused(f"You already have a factor named “{name}”.", field="name")
    return name


# --- enrolling an authenticator app ----------------------------------------------------------


@dataclass(frozen=True)
class TotpEnrolment:
    seed: str
    uri: str
    qr: Markup


def totp_enrolment(user: User) -> TotpEnrolment:
    """The seed being enrolled in this browser (a new one if none), kept sealed in the session
    until a code from the app confirms it."""
    seed = None
    sealed = session.get(TOTP_KEY)
    if isinstance(sealed, str):
        try:
            seed = sealing.unseal(sealed)
        except sealing.Unreadable:
            seed = None
    if seed is None:
        seed = totp.new_seed()
        session[TOTP_KEY] = sealing.seal(seed)
    uri = totp.provisioning_uri(seed, user.username, ISSUER)
    return TotpEnrolment(totp.format_seed(seed), uri, totp.qr_svg(uri))


def _add_totp(user: User, name: Any, code: Any) -> str:
    sealed = session.get(TOTP_KEY)
    if not isinstance(sealed, str):
        raise FactorRefused("Scan the QR code again: this page was reloaded.", field="code")
    clean = _clean_name(user, name, FactorKind.TOTP)
    text = "".join(code.split()) if isinstance(code, str) else ""
    if not totp.looks_like_code(text):
        raise FactorRefused("Enter the 6-digit code that the app shows.", field="code")
    step = totp.matching_step(sealing.unseal(sealed), text, after=None)
    if step is None:
        raise FactorRefused(
            "That code does not match. Check the time on your phone and enter the current code.",
            field="code",
        )
    db.session.add(
        SecondFactor(
            user_id=user.id,
            kind=FactorKind.TOTP,
            name=clean,
            totp_sealed=sealed,
            totp_last_step=step,
            last_used_at=utcnow(),
        )
    )
    audit.record(
        "mfa.add", object_type="user", object_id=user.id, actor=user, kind="totp", name=clean
    )
    return clean


def add_totp(user: User, name: Any, code: Any) -> list[str] | None:
    """Keep the authenticator app being enrolled once a code from it matches; returns the new
    recovery codes when the user had none (shown once), else None."""
    with unit_of_work():
        _add_totp(user, name, code)
        codes = _codes_if_none(user)
    session.pop(TOTP_KEY, None)
    return codes


# --- enrolling a passkey or security key -----------------------------------------------------


def passkey_registration_options(user: User, name: Any) -> dict[str, Any]:
    _clean_name(user, name, FactorKind.WEBAUTHN)
    existing = [f.credential_id for f in factors_of(user) if f.credential_id]
    options, challenge = passkeys.registration_options(
        user.id, user.username, user.display_name, existing
    )
    session[PASSKEY_KEY] = challenge
    return options


def _add_passkey(user: User, name: Any, credential: Any) -> str:
    clean = _clean_name(user, name, FactorKind.WEBAUTHN)
    challenge = session.pop(PASSKEY_KEY, None)
    if not isinstance(credential, dict):
        raise FactorRefused("Send the browser's credential as a JSON object.", field="credential")
    if not isinstance(challenge, str):
        raise FactorRefused("Start again: the request for a passkey expired.", field="credential")
    try:
        new = passkeys.verify_registration(credential, challenge)
    except passkeys.CeremonyFailed:
        raise FactorRefused(
            "The passkey could not be verified. Try again.", field="credential"
        ) from None
    if db.session.scalar(
        select(SecondFactor.id).where(SecondFactor.credential_id == new.credential_id)
    ):
        raise FactorRefused("This passkey is already registered.", field="credential", status=409)
    db.session.add(
        SecondFactor(
            user_id=user.id,
            kind=FactorKind.WEBAUTHN,
            name=clean,
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            last_used_at=utcnow(),
        )
    )
    audit.record(
        "mfa.add", object_type="user", object_id=user.id, actor=user, kind="webauthn", name=clean
    )
    return clean


def add_passkey(user: User, name: Any, credential: Any) -> list[str] | None:
    """Keep a verified new passkey; returns new recovery codes when the user had none."""
    with unit_of_work():
        _add_passkey(user, name, credential)
        codes = _codes_if_none(user)
    return codes


# --- names, removal, recovery codes ----------------------------------------------------------


def _own(user: User, factor_id: int) -> SecondFactor:
    factor = db.session.get(SecondFactor, factor_id)
    if factor is None or factor.user_id != user.id:
        raise FactorRefused("There is no such factor of yours.", status=404)
    return factor


def rename(user: User, factor_id: int, name: Any) -> str:
    with unit_of_work():
        factor = _own(user, factor_id)
        factor.name = _clean_name(user, name, FactorKind(factor.kind), keep=factor.id)
        audit.record(
            "mfa.rename", object_type="user", object_id=user.id, kind=factor.kind, name=factor.name
        )
    return factor.name


def remove(user: User, factor_id: int) -> str:
    """Remove one of the user's factors; never the last one while the policy requires one.
    Removing the last one also removes the recovery codes, which then guard nothing."""
    with unit_of_work():
        factor = _own(user, factor_id)
        last = factor_count(user) == 1
        if last and not may_remove_last(user):
            raise FactorRefused(
                "This is your only second factor and your agency requires one: add another "
                "factor first, then remove this one.",
                status=409,
            )
        name = factor.name
        db.session.delete(factor)
        if last:
            db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        audit.record(
            "mfa.remove", object_type="user", object_id=user.id, kind=factor.kind, name=name
        )
    return name


def _replace_codes(user: User) -> list[str]:
    codes = recovery.new_codes()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    for code in codes:
        db.session.add(
            RecoveryCode(user_id=user.id, code_hash=sealing.code_digest(recovery.normalise(code)))
        )
    audit.record(
        "mfa.recovery_codes", object_type="user", object_id=user.id, actor=user, count=len(codes)
    )
    return codes


def _codes_if_none(user: User) -> list[str] | None:
    db.session.flush()
    return _replace_codes(user) if recovery_codes_left(user) == 0 else None


def regenerate_codes(user: User) -> list[str]:
    """Ten new recovery codes (shown once); the old ones stop working."""
    with unit_of_work():
        if not factor_count(user):
            raise FactorRefused("Add a second factor first: recovery codes stand in for one.")
        return _replace_codes(user)


def remove_all(user: User) -> int:
    """Forget every factor, recovery code and pending sign-in of ``user`` (an administrator's
    reset), in the caller's unit of work; returns how many factors there were."""
    count = factor_count(user)
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(PendingSignIn).where(PendingSignIn.user_id == user.id))
    return count


# --- the second factor at sign-in ------------------------------------------------------------


@contextmanager
def _counted_attempt(row: PendingSignIn) -> Iterator[pending.FactorAttempt]:
    """A unit of work around one attempt at the second factor, counted before it is checked;
    a locked account or a sign-in ended meanwhile is refused, with nothing changed."""
    row_id, username = row.id, row.user.username
    try:
        with unit_of_work():
            yield pending.attempt(row_id, username)
    except lockout.Locked as locked:
        raise FactorRefused(
            f"Too many failed sign-ins. Try again after {fmt_time(locked.until)}.", status=429
        ) from None
    except pending.Ended:
        raise SignInEnded from None


def _locked_out() -> FactorRefused:
    return FactorRefused(
        "Too many failed sign-ins: this account is locked for a while. Sign in again later.",
        status=429,
    )


def _use_totp(user: User, code: str) -> bool:
    """A code of one of the user's apps, for a time step after the last one used (no replay)."""
    for factor in factors_of(user):
        if factor.kind != FactorKind.TOTP or factor.totp_sealed is None:
            continue
        try:
            seed = sealing.unseal(factor.totp_sealed)
        except sealing.Unreadable:
            continue
        step = totp.matching_step(seed, code, after=factor.totp_last_step)
        if step is None:
            continue
        claimed = db.session.execute(
            update(SecondFactor)
            .where(
                SecondFactor.id == factor.id,
                (SecondFactor.totp_last_step.is_(None)) | (SecondFactor.totp_last_step < step),
            )
            .values(totp_last_step=step, last_used_at=utcnow())
        )
        if getattr(claimed, "rowcount", 0) == 1:
            return True
    return False


def _use_recovery_code(user: User, code: str) -> bool:
    """An unused recovery code of the user, now used (at most once, even in a race)."""
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == sealing.code_digest(recovery.normalise(code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    return getattr(used, "rowcount", 0) == 1


def sign_in_with_code(row: PendingSignIn, code: Any) -> User:
    """Finish a pending sign-in with an authenticator app's code or a recovery code; every
    attempt counts toward the lockout before it is checked, and a good one clears the count."""
    if not isinstance(code, str) or not code.strip():
        raise FactorRefused("Enter a code.", field="code")
    compact = "".join(code.split())
    kind = "totp" if totp.looks_like_code(compact) else "recovery_code"
    user: User | None = None
    locked = False
    with _counted_attempt(row) as attempt:
        live = attempt.row
        if kind == "totp":
            good = _use_totp(live.user, compact)
        else:
            good = recovery.looks_like_code(compact) and _use_recovery_code(live.user, compact)
        if good:
            user = pending.finish(live, kind)
        else:
            locked = pending.fail(attempt, kind)
    if user is None:
        raise _locked_out() if locked else FactorRefused(WRONG_CODE, field="code", status=401)
    return user


def passkey_sign_in_options(row: PendingSignIn) -> dict[str, Any]:
    ids = [f.credential_id for f in factors_of(row.user) if f.credential_id]
    if not ids:
        raise FactorRefused("You have no passkey here: use a code instead.", status=404)
    options, challenge = passkeys.authentication_options(ids)
    with unit_of_work():
        row.challenge = challenge
    return options


def sign_in_with_passkey(row: PendingSignIn, credential: Any) -> User:
    """Finish a pending sign-in with one of the user's passkeys, against the challenge last
    offered (used once); every attempt counts toward the lockout before it is checked."""
    if not isinstance(credential, dict):
        raise FactorRefused("Send the browser's credential as a JSON object.", field="credential")
    credential_id = passkeys.credential_id_of(credential)
    user: User | None = None
    locked = False
    with _counted_attempt(row) as attempt:
        live = attempt.row
        challenge, live.challenge = live.challenge, None
        factor = None
        if credential_id is not None:
            factor = db.session.scalar(
                select(SecondFactor).where(
                    SecondFactor.user_id == live.user_id,
                    SecondFactor.credential_id == credential_id,
                )
            )
        new_count: int | None = None
        if challenge and factor is not None and factor.public_key:
            try:
                new_count = passkeys.verify_authentication(
                    credential, challenge, factor.public_key, factor.sign_count
                )
            except passkeys.CeremonyFailed:
                new_count = None
        if factor is not None and new_count is not None:
            factor.sign_count = new_count
            factor.last_used_at = utcnow()
            user = pending.finish(live, "webauthn")
        else:
            locked = pending.fail(attempt, "webauthn")
    if user is None:
        if locked:
            raise _locked_out()
        raise FactorRefused(
            "That passkey was not accepted. Try again.", field="credential", status=401
        )
    return user


def _must_enrol(row: PendingSignIn) -> None:
    if not row.enrol:
        raise FactorRefused("This sign-in asks for your second factor, not a new one.", status=409)


@contextmanager
def _live(row: PendingSignIn) -> Iterator[PendingSignIn]:
    """A unit of work on the pending sign-in as it is now; one that ended meanwhile is
    refused, with nothing changed."""
    row_id = row.id
    try:
        with unit_of_work():
            yield pending.live(row_id)
    except pending.Ended:
        raise SignInEnded from None


def enrol_totp_at_sign_in(row: PendingSignIn, name: Any, code: Any) -> tuple[User, list[str]]:
    """First enrolment where the policy requires a factor: keep the app, then sign in."""
    _must_enrol(row)
    with _live(row) as live:
        _add_totp(live.user, name, code)
        codes = _codes_if_none(live.user) or []
        user = pending.finish(live, "totp")
    return user, codes


def enrol_passkey_at_sign_in(
    row: PendingSignIn, name: Any, credential: Any
) -> tuple[User, list[str]]:
    _must_enrol(row)
    with _live(row) as live:
        _add_passkey(live.user, name, credential)
        codes = _codes_if_none(live.user) or []
        user = pending.finish(live, "webauthn")
    return user, codes


def cancel(row: PendingSignIn) -> None:
    with unit_of_work():
        pending.abandon(row)
