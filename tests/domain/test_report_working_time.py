"""The working-day table the reports measure working hours with in SQL: the formula the
SQL evaluates (cum + clamped seconds into the day's intervals), applied here in Python,
gives exactly ``BusinessCalendar.working_time_between`` and the calendar's local date —
across holidays, 调休 days, company days off, and in a zone with daylight saving time whose
working day crosses UTC midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.common.calendar import BusinessCalendar
from app.domain.reports.working_time import DAY, WorkingDay, day_number, span, working_days

FIRST, LAST = date(2026, 9, 1), date(2026, 12, 31)
CALENDARS = {
    "shanghai": BusinessCalendar(company_days_off=frozenset({date(2026, 11, 20)})),
    # 16:00–23:30 in New York crosses UTC midnight, and DST ends on 1 November 2026
    "new_york": BusinessCalendar(timezone="America/New_York", day_start=time(16),
                                 day_end=time(23, 30), use_statutory_holidays=False),
}
TABLES = {name: {d.day: d for d in working_days(c, FIRST, LAST)}
          for name, c in CALENDARS.items()}


def worked(table: dict[int, WorkingDay], t: datetime) -> float:
    """What the SQL computes: working seconds from the table's start up to ``t``."""
    epoch = t.timestamp()
    d = table[int(epoch // DAY)]
    s = epoch - d.day * DAY
    return d.cum + min(max(s - d.a1, 0), d.b1 - d.a1) + min(max(s - d.a2, 0), d.b2 - d.a2)


def local_day(table: dict[int, WorkingDay], t: datetime) -> int:
    epoch = t.timestamp()
    d = table[int(epoch // DAY)]
    return d.ld + (1 if epoch - d.day * DAY >= d.split else 0)


instants = st.datetimes(min_value=datetime(2026, 9, 2), max_value=datetime(2026, 12, 30),
                        timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(CALENDARS)), a=instants, b=instants)
def test_the_table_gives_the_calendars_working_time_and_local_date(
        name: str, a: datetime, b: datetime) -> None:
    calendar, table = CALENDARS[name], TABLES[name]
    start, end = min(a, b), max(a, b)
    expected = calendar.working_time_between(start, end).total_seconds()
    assert abs((worked(table, end) - worked(table, start)) - expected) < 1e-6
    assert local_day(table, a) == day_number(calendar.local_date(a))


def test_a_week_across_the_national_day_holiday_by_hand() -> None:
    """Wed 30 Sep 16:00 → Fri 9 Oct 10:00 Shanghai: 2 h on the 30th, 1–7 Oct off, 9 h on
    Thu 8th and 1 h on Fri 9th: 12 working hours."""
    zone = ZoneInfo("Asia/Shanghai")
    table = TABLES["shanghai"]
    start = datetime(2026, 9, 30, 16, tzinfo=zone)
    end = datetime(2026, 10, 9, 10, tzinfo=zone)
    assert worked(table, end) - worked(table, start) == 12 * 3600


def test_the_span_covers_every_instant_given() -> None:
    a = datetime(2026, 11, 9, 23, 30, tzinfo=UTC)
    assert span(None, a, a - timedelta(days=3)) == (date(2026, 11, 6), date(2026, 11, 9))
    assert span(None) is None
