from datetime import UTC, datetime, timedelta

import pytest

from deconflict.windows import Window, overlap, overlaps


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 1, hour, minute, tzinfo=UTC)


def test_back_to_back_windows_do_not_overlap() -> None:
    assert not overlaps(Window(at(9), at(10)), Window(at(10), at(11)))
    assert overlap(Window(at(9), at(10)), Window(at(10), at(11))) == timedelta(0)


def test_overlap_is_the_shared_part() -> None:
    assert overlap(Window(at(9), at(11)), Window(at(10, 15), at(12))) == timedelta(minutes=45)
    assert overlaps(Window(at(9), at(11)), Window(at(9, 30), at(9, 45)))


def test_widened_adds_the_buffer_on_both_sides() -> None:
    wide = Window(at(9), at(10)).widened(timedelta(minutes=60))
    assert (wide.start, wide.end) == (at(8), at(11))
    assert overlaps(wide, Window(at(10, 30), at(12)))


@pytest.mark.parametrize(
    ("start", "end"), [(at(10), at(10)), (at(11), at(10)), (datetime(2026, 12, 1, 9), at(10))]
)
def test_invalid_windows_are_refused(start: datetime, end: datetime) -> None:
    with pytest.raises(ValueError, match="window"):
        Window(start, end)
