"""Working time across weekends, mainland statutory holidays, 调休 make-up days and company
days off: the clock every SLA and due time of the product runs on."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = BusinessCalendar()


def at(y: int, m: int, d: int, h: int = 9, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=SHANGHAI)


def test_48_working_hours_span_the_national_day_holiday_and_a_make_up_saturday() -> None:
    # Wed 30 Sep 16:00: 2 h that day; 1–7 Oct off; Thu 8, Fri 9, Sat 10 Oct (调休) and
    # Mon 12, Tue 13 Oct give 45 h; the last hour ends Wed 14 Oct 10:00.
    due = CALENDAR.add_working_time(at(2026, 9, 30, 16), timedelta(hours=48))
    assert due == at(2026, 10, 14, 10).astimezone(UTC)
    assert CALENDAR.is_working_day(date(2026, 10, 10))  # a Saturday worked instead
    assert not CALENDAR.is_working_day(date(2026, 10, 1))


def test_a_weekend_is_skipped() -> None:
    friday_5pm = at(2026, 11, 20, 17)
    assert CALENDAR.add_working_time(friday_5pm, timedelta(hours=2)) == \
        at(2026, 11, 23, 10).astimezone(UTC)


def test_time_before_opening_and_after_closing_counts_from_the_next_opening() -> None:
    assert CALENDAR.add_working_time(at(2026, 11, 24, 6), timedelta(hours=1)) == \
        at(2026, 11, 24, 10).astimezone(UTC)
    assert CALENDAR.add_working_time(at(2026, 11, 24, 20), timedelta(hours=1)) == \
        at(2026, 11, 25, 10).astimezone(UTC)


def test_company_days_off_are_not_working_days() -> None:
    calendar = BusinessCalendar(company_days_off=frozenset({date(2026, 11, 25)}))
    assert calendar.add_working_time(at(2026, 11, 24, 17), timedelta(hours=2)) == \
        at(2026, 11, 26, 10).astimezone(UTC)


def test_years_without_a_published_schedule_fall_back_to_weekdays() -> None:
    assert CALENDAR.is_working_day(date(2035, 1, 2))  # a Tuesday
    assert not CALENDAR.is_working_day(date(2035, 1, 6))  # a Saturday


def test_statutory_holidays_can_be_switched_off() -> None:
    plain = BusinessCalendar(use_statutory_holidays=False)
    assert plain.is_working_day(date(2026, 10, 1))  # a Thursday
    assert not plain.is_working_day(date(2026, 10, 10))


@pytest.mark.parametrize("kwargs", [
    {"day_start": time(18), "day_end": time(9)}, {"weekdays": frozenset()},
    {"weekdays": frozenset({7})}, {"timezone": "Mars/Olympus"}])
def test_invalid_calendars_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_round_trip() -> None:
    calendar = BusinessCalendar(company_days_off=frozenset({date(2026, 12, 31)}),
                                day_start=time(8, 30))
    assert BusinessCalendar.from_dict(calendar.to_dict()) == calendar


starts = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 1),
                      timezones=st.just(UTC))
durations = st.integers(min_value=0, max_value=200 * 60).map(lambda m: timedelta(minutes=m))


@given(starts, durations)
def test_adding_working_time_then_measuring_it_gives_it_back(start: datetime,
                                                              amount: timedelta) -> None:
    due = CALENDAR.add_working_time(start, amount)
    assert due >= start
    assert CALENDAR.working_time_between(start, due) == amount


@given(starts, durations, durations)
def test_more_working_time_never_ends_earlier(start: datetime, a: timedelta,
                                              b: timedelta) -> None:
    low, high = sorted((a, b))
    assert CALENDAR.add_working_time(start, low) <= CALENDAR.add_working_time(start, high)
