"""What every deconfliction rule returns: a scored, explained match."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Strength(StrEnum):
    """How sure a match is, in the words a deconfliction officer uses.

    ``exact``: the same identifier (or the same place at the same time);
    ``probable``: a person would call it the same subject without more facts;
    ``possible``: worth a look, not worth an alarm.
    """

    EXACT = "exact"
    PROBABLE = "probable"
    POSSIBLE = "possible"


STRENGTH_ORDER: dict[Strength, int] = {
    Strength.POSSIBLE: 0,
    Strength.PROBABLE: 1,
    Strength.EXACT: 2,
}


class Rule(StrEnum):
    PLACE_TIME = "place_time"
    IDENTIFIER = "identifier"
    NAME = "name"
    DATE_OF_BIRTH = "date_of_birth"


Measure = tuple[tuple[str, float | str], ...]


@dataclass(frozen=True)
class Reason:
    """One reason for a match: rule, field, strength, measure, and each side's reference.

    ``text`` is the officer's line (both records); sides never read it.
    """

    rule: Rule
    field: str
    strength: Strength
    text: str
    measure: Measure = ()
    a_ref: str = ""
    b_ref: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", Rule(self.rule))
        object.__setattr__(self, "strength", Strength(self.strength))

    def ref(self, side: str) -> str:
        if side not in ("a", "b"):
            raise ValueError(f"side must be 'a' or 'b', not {side!r}")
        return self.a_ref if side == "a" else self.b_ref

    def swapped(self) -> Reason:
        """The same reason with the sides exchanged (for an alert stored the other way round)."""
        return Reason(
            self.rule, self.field, self.strength, self.text, self.measure, self.b_ref, self.a_ref
        )

    def as_data(self) -> dict[str, Any]:
        """What an alert stores: everything but the officer's text, which it keeps apart."""
        return {
            "rule": str(self.rule),
            "field": self.field,
            "strength": str(self.strength),
            "measure": [list(m) for m in self.measure],
            "a_ref": self.a_ref,
            "b_ref": self.b_ref,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Reason:
        return cls(
            Rule(data["rule"]),
            str(data["field"]),
            Strength(data["strength"]),
            "",
            tuple((str(k), v) for k, v in data.get("measure", [])),
            str(data.get("a_ref", "")),
            str(data.get("b_ref", "")),
        )


@dataclass(frozen=True)
class Match:
    """A hit between two items: how sure (score, strength) and why (structured reasons)."""

    kind: str
    score: float
    strength: Strength
    reasons: tuple[Reason, ...]

    def __post_init__(self) -> None:
        if self.kind not in ("event", "target"):
            raise ValueError(f"match kind must be 'event' or 'target', not {self.kind!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"match score must be within 0..1, not {self.score}")
        if not self.reasons:
            raise ValueError("a match needs at least one reason")
        object.__setattr__(self, "strength", Strength(self.strength))

    @property
    def explanation(self) -> str:
        """The reasons as one line, as the deconfliction officer reads them (both records)."""
        return "; ".join(r.text for r in self.reasons)


def same_case(agency_a: str, case_a: str | None, agency_b: str, case_b: str | None) -> bool:
    """True when two items belong to one agency's one case: that agency coordinates them itself.

    Items without a case are deconflicted even within one agency.
    """
    return agency_a == agency_b and case_a is not None and case_a == case_b
