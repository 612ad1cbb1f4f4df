"""Who must sign in with a second factor (``JOINTOPS_MFA``, ``JOINTOPS_MFA_AGENCIES``)."""

from __future__ import annotations

from typing import Literal

from flask import current_app
from sqlalchemy import func, select

from jointops.extensions import db
from jointops.models import SecondFactor, User

Policy = Literal["required", "optional", "off"]
#: what the password step leads to: a session, the second factor, or a first enrolment
Step = Literal["none", "verify", "enrol"]


def policy_of(user: User) -> Policy:
    """The user's agency's override, else the office's; ``auto`` is required in production."""
    config = current_app.config
    code = user.agency.code if user.agency is not None else None
    agencies: dict[str, Policy] = config["MFA_AGENCIES"]
    if code is not None and code in agencies:
        return agencies[code]
    office = config["MFA"]
    if office == "auto":
        return "required" if config["PRODUCTION"] else "optional"
    policy: Policy = office
    return policy


def factor_count(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(SecondFactor).where(SecondFactor.user_id == user.id)
        )
        or 0
    )


def step_after_password(user: User) -> Step:
    """``off``: never asked; otherwise a user with a factor is asked for it, and a user without
    one enrols first when the policy requires it."""
    policy = policy_of(user)
    if policy == "off":
        return "none"
    if factor_count(user):
        return "verify"
    return "enrol" if policy == "required" else "none"
