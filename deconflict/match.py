"""What every deconfliction rule returns: a scored, explained match."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


@dataclass(frozen=True)
class Match:
    """A hit between two items: how sure (score, strength) and why (reasons)."""

    kind: str
    score: float
    strength: Strength
    reasons: tuple[str, ...]

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
        """The reasons as one line, as an alert shows them."""
        return "; ".join(self.reasons)


def same_case(agency_a: str, case_a: str | None, agency_b: str, case_b: str | None) -> bool:
    """True when two items belong to one agency's one case: that agency coordinates them itself.

    Items without a case are deconflicted even within one agency.
    """
    return agency_a == agency_b and case_a is not None and case_a == case_b
