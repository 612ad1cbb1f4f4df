"""Agencies kept in JointOps, for directories without agency entries.

A directory with agency entries (``JOINTOPS_LDAP_AGENCY_BASE_DN``) brings its agencies at
each sign-in and sync (``directory.upsert_agency``). Without them, an administrator adds
each agency here (the admin page, ``jointops agency add``), and the directory carries only
each user's agency code, in an attribute or through a group mapping. Either way a user
whose code names no agency is refused at sign-in (``directory.no_access``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from auth.directory import AGENCY_CODE_PATTERN, AGENCY_KINDS
from jointops import audit
from jointops.extensions import db
from jointops.models import Agency, AgencySource, User
from jointops.transactions import unit_of_work

MAX_NAME = 200
CODE_RULE = "2 to 16 capital letters, digits, - or _, starting with a letter or digit (PBSO)"


class AgencyErrors(Exception):
    """Values refused, by field name (``code``, ``name``, ``kind``)."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = {k: list(v) for k, v in errors.items() if v}
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))


def check_agency(code: str, name: str, kind: str) -> tuple[str, str, str]:
    """The values stripped, or ``AgencyErrors`` naming each field refused."""
    code, name, kind = code.strip(), name.strip(), kind.strip()
    errors: dict[str, list[str]] = {}
    if not re.fullmatch(AGENCY_CODE_PATTERN, code):
        errors["code"] = [f"“{code[:40]}” is not an agency code: {CODE_RULE}."]
    if not name:
        errors["name"] = ["A name is required."]
    elif len(name) > MAX_NAME or not name.isprintable():
        errors["name"] = [f"At most {MAX_NAME} printable characters."]
    if kind not in AGENCY_KINDS:
        errors["kind"] = [f"“{kind[:40]}” is not a kind: one of {', '.join(AGENCY_KINDS)}."]
    if errors:
        raise AgencyErrors(errors)
    return code, name, kind


def add_agency(code: str, name: str, kind: str, actor: User | None = None) -> Agency:
    """Create a JointOps-managed agency and commit; ``AgencyErrors`` if refused (nothing stored)."""
    code, name, kind = check_agency(code, name, kind)
    duplicate = AgencyErrors({"code": [f"{code} is already an agency."]})
    try:
        with unit_of_work():
            if db.session.scalar(select(Agency.id).where(Agency.code == code)) is not None:
                raise duplicate
            agency = Agency(code=code, name=name, kind=kind, source=AgencySource.LOCAL.value)
            db.session.add(agency)
            db.session.flush()
            audit.record(
                "agency.create",
                object_type="agency",
                object_id=agency.id,
                actor=actor,
                code=code,
                kind=kind,
            )
    except IntegrityError:
        raise duplicate from None
    return agency


def all_agencies() -> list[Agency]:
    """Every agency, from the directory or JointOps, by code."""
    return list(db.session.scalars(select(Agency).order_by(Agency.code)))
