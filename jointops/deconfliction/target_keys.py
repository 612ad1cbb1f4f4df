"""The blocking keys targets are stored under, and rebuilding them when the rules change.

A target is found by deconfliction only through the keys in ``target_keys``
(``deconflict.targets.target_keys``). When those rules change, keys stored
under the old rules would hide hits, so a migration that ships new rules
calls :func:`rebuild_keys`, which recomputes every target's keys in batches
with SQLAlchemy Core (no ORM objects, no Flask app needed). When the normal
forms of identifiers change too, :func:`renormalize_identifiers` first
recomputes them from the values as typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deconflict.identifiers import Identifier, IdentifierKind, InvalidIdentifier, normalize
from deconflict.names import PersonName
from deconflict.targets import TargetRecord, target_keys

_targets = sa.table(
    "targets",
    sa.column("id"),
    sa.column("ref"),
    sa.column("case_id"),
    sa.column("first_name"),
    sa.column("last_name"),
    sa.column("aliases", sa.JSON),
    sa.column("dob", sa.Date),
)
_identifiers = sa.table(
    "target_identifiers",
    sa.column("id"),
    sa.column("target_id"),
    sa.column("kind"),
    sa.column("raw"),
    sa.column("normalized"),
)
_keys = sa.table("target_keys", sa.column("target_id"), sa.column("key"))


def person_name(
    first: str | None, last: str | None, aliases: Sequence[str] | None, dob: date | None
) -> PersonName | None:
    """A target's person as the name rules see it; ``None`` when it names nobody."""
    if not (first or last or aliases):
        return None
    return PersonName(first=first or "", last=last or "", aliases=tuple(aliases or ()), dob=dob)


def rebuild_keys(conn: Connection, batch: int = 2000) -> int:
    """Recompute the keys of every target; returns how many keys are stored now."""
    total = 0
    after = 0
    while True:
        rows = conn.execute(
            sa.select(_targets).where(_targets.c.id > after).order_by(_targets.c.id).limit(batch)
        ).all()
        if not rows:
            return total
        ids = [r.id for r in rows]
        found: dict[int, list[Identifier]] = {i: [] for i in ids}
        for target_id, kind, value in conn.execute(
            sa.select(
                _identifiers.c.target_id, _identifiers.c.kind, _identifiers.c.normalized
            ).where(_identifiers.c.target_id.in_(ids))
        ):
            found[target_id].append(Identifier(IdentifierKind(kind), value))
        keys = []
        for r in rows:
            record = TargetRecord(
                ref=r.ref,
                agency="",
                case=str(r.case_id),
                person=person_name(r.first_name, r.last_name, r.aliases, r.dob),
                identifiers=tuple(found[r.id]),
            )
            keys += [{"target_id": r.id, "key": k} for k in sorted(target_keys(record))]
        conn.execute(sa.delete(_keys).where(_keys.c.target_id.in_(ids)))
        if keys:
            conn.execute(sa.insert(_keys), keys)
        total += len(keys)
        after = ids[-1]


def renormalize_identifiers(conn: Connection, batch: int = 5000) -> int:
    """Recompute every identifier's normal form from its value as typed, under the current
    rules; returns how many changed. A value the current rules refuse keeps its stored form
    (it was valid when stored). Run :func:`rebuild_keys` after it."""
    changed = 0
    after = 0
    while True:
        rows = conn.execute(
            sa.select(
                _identifiers.c.id,
                _identifiers.c.kind,
                _identifiers.c.raw,
                _identifiers.c.normalized,
            )
            .where(_identifiers.c.id > after)
            .order_by(_identifiers.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return changed
        updates = []
        for row in rows:
            try:
                value = normalize(row.kind, row.raw)
            except InvalidIdentifier:
                continue
            if value != row.normalized:
                updates.append({"row_id": row.id, "value": value})
        if updates:
            conn.execute(
                sa.update(_identifiers)
                .where(_identifiers.c.id == sa.bindparam("row_id"))
                .values(normalized=sa.bindparam("value")),
                updates,
            )
        changed += len(updates)
        after = rows[-1].id
