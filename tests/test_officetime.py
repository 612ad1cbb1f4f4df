from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from flask import Flask

from jointops.events.grid import grid_css, month_start, week_start
from jointops.officetime import (
    AmbiguousLocalTime,
    NonexistentLocalTime,
    fmt_range,
    local_day_bounds,
    local_to_utc,
)

ROOT_STATIC = __import__("pathlib").Path(__file__).resolve().parent.parent / "static"


@pytest.fixture
def office() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config["TIMEZONE"] = "America/New_York"
    with app.app_context():
        yield app


def test_local_times_convert_to_utc_in_winter_and_summer(office: Flask) -> None:
    assert local_to_utc(datetime(2026, 12, 1, 9, 0)) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert local_to_utc(datetime(2026, 7, 1, 9, 0)) == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)


def test_a_time_skipped_by_spring_forward_is_refused(office: Flask) -> None:
    with pytest.raises(NonexistentLocalTime, match="does not exist"):
        local_to_utc(datetime(2027, 3, 14, 2, 30))


def test_the_repeated_autumn_hour_is_refused_until_one_reading_is_chosen(office: Flask) -> None:
    with pytest.raises(AmbiguousLocalTime) as refused:
        local_to_utc(datetime(2026, 11, 1, 1, 30))
    assert refused.value.choices == ("01:30 EDT", "01:30 EST")
    assert local_to_utc(datetime(2026, 11, 1, 1, 30), fold=0) == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )
    assert local_to_utc(datetime(2026, 11, 1, 1, 30), fold=1) == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )
    # an hour that happens once takes no choice, whatever is passed
    assert local_to_utc(datetime(2026, 11, 1, 3, 0), fold=1) == datetime(
        2026, 11, 1, 8, 0, tzinfo=UTC
    )


def test_ranges_show_the_zone_abbreviation(office: Flask) -> None:
    winter = fmt_range(datetime(2026, 12, 1, 14, tzinfo=UTC), datetime(2026, 12, 1, 15, tzinfo=UTC))
    assert winter == "Tue 01 Dec 2026, 09:00–10:00 EST"
    summer = fmt_range(datetime(2026, 7, 1, 13, tzinfo=UTC), datetime(2026, 7, 1, 14, tzinfo=UTC))
    assert summer.endswith("EDT")


def test_a_day_across_the_dst_change_is_23_hours(office: Flask) -> None:
    start, end = local_day_bounds(date(2027, 3, 14), 1)
    assert (end - start).total_seconds() == 23 * 3600


def test_weeks_start_on_sunday() -> None:
    assert week_start(date(2026, 12, 2)) == date(2026, 11, 29)
    assert week_start(date(2026, 11, 29)) == date(2026, 11, 29)
    assert month_start(date(2026, 12, 15)) == date(2026, 11, 29)


def test_static_grid_css_is_generated_from_the_grid_rules() -> None:
    assert (ROOT_STATIC / "grid.css").read_text() == grid_css()
