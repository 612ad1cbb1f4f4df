"""Authenticator apps (RFC 6238: 30-second steps, six digits, SHA-1, as every app expects)."""

from __future__ import annotations

import hmac
import time

import pyotp
import segno
from markupsafe import Markup

STEP_SECONDS = 30
DIGITS = 6
#: steps accepted either side of now, for clocks that drift
DRIFT_STEPS = 1


def new_seed() -> str:
    """160 random bits in base32, as RFC 4226 recommends."""
    return pyotp.random_base32(length=32)


def provisioning_uri(seed: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(seed).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> Markup:
    """The enrolment QR code as inline SVG (no image request, nothing for the CSP to allow)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#111", light="#fff")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code to scan" ', 1))  # noqa: S704 - segno's own markup


def looks_like_code(text: str) -> bool:
    return len(text) == DIGITS and text.isascii() and text.isdigit()


def matching_step(
    seed: str, code: str, *, after: int | None, now: float | None = None
) -> int | None:
    """The time step whose code is ``code``, near now and later than ``after`` (the last step
    used: a code is good once), or None."""
    if not looks_like_code(code):
        return None
    otp = pyotp.TOTP(seed)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None


def format_seed(seed: str) -> str:
    """The seed in groups of four, for typing into an app by hand."""
    return " ".join(seed[i : i + 4] for i in range(0, len(seed), 4))
