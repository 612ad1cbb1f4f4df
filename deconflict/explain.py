"""Why two items match, in each reader's words.

A match's reasons are data (``deconflict.match.Reason``: rule, field,
strength, measure, and a reference into each side's own record, never the
value). :func:`for_side` gives one side its reason in terms of its *own*
record: it is handed that side's values only, so nothing of the other record
can cross (the pointer model of RISSafe and NVPS). Places and times say "near
your location, at an overlapping time": no distance, limit, overlap or
date-of-birth relation. ``Reason.text`` is the deconfliction officer's line,
written by the rule that saw both records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from deconflict.match import Reason, Rule

#: how each field reads in a sentence addressed to its owner
FIELD_WORDS = {
    "phone": "phone number",
    "email": "e-mail address",
    "plate": "plate",
    "vin": "VIN",
    "address": "address",
    "handle": "handle",
    "business": "business",
}
NEAR = "near your location, at an overlapping time"


def for_side(reasons: Iterable[Reason], side: str, own: Mapping[str, str]) -> str:
    """Why it matched, told to one side in terms of its own values (``own``: ref -> value).

    The other side's references are never looked at, and its values are not at hand.
    """
    parts: list[str] = []
    for reason in reasons:
        ref = reason.ref(side)
        if reason.rule is Rule.PLACE_TIME:
            parts.append(NEAR)
        elif reason.rule is Rule.IDENTIFIER:
            word = FIELD_WORDS.get(reason.field, reason.field)
            value = own.get(ref, "")
            parts.append(f"your {word} {value} matches" if value else f"your {word} matches")
        elif reason.rule is Rule.NAME:
            word = "alias" if ref.startswith("alias") else "name"
            value = own.get(ref, "")
            parts.append(f"your {word} {value} matches" if value else f"your {word} matches")
        # a date-of-birth relation says something of the other record: never told to a side
    text = "; ".join(dict.fromkeys(parts)) or "your record matches"
    return text[:1].upper() + text[1:] + "."
