"""What every form shares: parsing helpers and the form that carries only its CSRF token."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm


def optional_int(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


class CsrfOnlyForm(FlaskForm):
    """Only the CSRF token: for buttons that need no input."""
