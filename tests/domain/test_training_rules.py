"""Training rules: calendar-month validity (valid through the day, lapsed the day after;
a month without that day ends on its last day) and ``passed`` from the pass mark."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

from hypothesis import example, given
from hypothesis import strategies as st

from app.domain.training.model import Completion, Standing, add_months, passed, valid_through


def test_validity_counts_calendar_months_and_clamps_to_the_month_end() -> None:
    assert valid_through(date(2026, 3, 15), 12) == date(2027, 3, 15)
    assert valid_through(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert valid_through(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert valid_through(date(2026, 11, 30), 3) == date(2027, 2, 28)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
       st.integers(min_value=1, max_value=120))
@example(date(2026, 3, 15), 12)
def test_valid_through_the_last_day_and_lapsed_the_day_after(day: date, months: int) -> None:
    last = valid_through(day, months)
    c = Completion(uuid4(), uuid4(), uuid4(), uuid4(), day, last)
    assert c.standing(last) is Standing.TRAINED
    assert c.standing(last + timedelta(days=1)) is Standing.LAPSED
    assert last.day <= day.day and (last.year * 12 + last.month) - (
        day.year * 12 + day.month) == months
    assert add_months(day, 0) == day


def test_passed_follows_attendance_and_the_pass_mark() -> None:
    mark = Decimal(80)
    assert passed(True, None, None) and not passed(False, None, None)
    assert passed(True, Decimal(80), mark) and not passed(True, Decimal("79.99"), mark)
    assert not passed(True, None, mark) and not passed(False, Decimal(100), mark)
