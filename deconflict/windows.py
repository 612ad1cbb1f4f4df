"""Time windows: half-open ``[start, end)`` intervals of aware datetimes.

Half-open, so that a meeting that ends at 10:00 and one that starts at 10:00
do not overlap, as every calendar app agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a window needs aware datetimes")
        if self.end <= self.start:
            raise ValueError("a window ends after it starts")

    def widened(self, buffer: timedelta) -> Window:
        """The window with ``buffer`` added before and after."""
        return Window(self.start - buffer, self.end + buffer)


def overlap(a: Window, b: Window) -> timedelta:
    """How long ``a`` and ``b`` overlap; zero when they only touch or are apart."""
    return max(timedelta(0), min(a.end, b.end) - max(a.start, b.start))


def overlaps(a: Window, b: Window) -> bool:
    """True when the windows share at least one instant (touching ends do not count)."""
    return a.start < b.end and b.start < a.end
