"""Working time in SQL (domain §10): reports measure durations in business-calendar
working hours, over hundreds of thousands of rows, without loading them. The calendar is
turned into a small table with one row per UTC day (a day number since 1970-01-01):

- ``cum``: working seconds from the table's first day up to this UTC midnight;
- up to two working intervals inside the day, as seconds after UTC midnight
  (``a1``–``b1``, ``a2``–``b2``; two when a local working day crosses UTC midnight);
- ``ld``/``split``: the local date (as a day number) at UTC midnight, and the second of
  the UTC day at which the local date moves on (86 400 when it does not).

Working seconds up to an instant t = cum + Σ clamp(s − a, 0, b − a) with s the seconds of
t after its UTC midnight; the working time between two instants is the difference. That
is exact for any time zone, DST included, because the table is built from the same
``BusinessCalendar`` every other clock uses."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.domain.common.calendar import BusinessCalendar

DAY = 86_400
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class WorkingDay:
    day: int  # UTC day number
    cum: int
    a1: int
    b1: int
    a2: int
    b2: int
    ld: int
    split: int


def day_number(d: date) -> int:
    return (d - EPOCH).days


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def working_days(calendar: BusinessCalendar, first: date, last: date) -> list[WorkingDay]:
    """The table for UTC days ``first`` … ``last`` (inclusive); reports ask for the same
    few spans all day, so they are remembered (a calendar is an immutable value)."""
    return list(_working_days(calendar, first, last))


@lru_cache(maxsize=64)
def _working_days(calendar: BusinessCalendar, first: date,
                  last: date) -> tuple[WorkingDay, ...]:
    zone = ZoneInfo(calendar.timezone)
    intervals: list[tuple[int, int]] = []
    midnights: list[int] = []  # local midnights as epoch seconds
    local = first - timedelta(days=2)
    while local <= last + timedelta(days=2):
        midnights.append(_epoch(datetime.combine(local, datetime.min.time(), zone)))
        if calendar.is_working_day(local):
            intervals.append((_epoch(datetime.combine(local, calendar.day_start, zone)),
                              _epoch(datetime.combine(local, calendar.day_end, zone))))
        local += timedelta(days=1)
    rows, cum = [], 0
    ends = [b for _, b in intervals]  # sorted, as the intervals are: bisect, not scan
    for n in range(day_number(first), day_number(last) + 1):
        start, end = n * DAY, (n + 1) * DAY
        inside = []
        for a, b in intervals[bisect_right(ends, start):]:
            if a >= end:
                break
            inside.append((max(a, start) - start, min(b, end) - start))
        if len(inside) > 2:
            raise ValueError("more than two working intervals in one UTC day")
        (a1, b1), (a2, b2) = [*inside, (0, 0), (0, 0)][:2]
        m = bisect_right(midnights, start)
        after = midnights[m:m + 1] if m < len(midnights) and midnights[m] < end else []
        local_day = datetime.fromtimestamp(start, UTC).astimezone(zone).date()
        rows.append(WorkingDay(n, cum, a1, b1, a2, b2, day_number(local_day),
                               after[0] - start if after else DAY))
        cum += (b1 - a1) + (b2 - a2)
    return tuple(rows)


def span(*instants: datetime | None) -> tuple[date, date] | None:
    """The UTC days a table must cover for these instants (None when there are none)."""
    known = [i.astimezone(UTC).date() for i in instants if i is not None]
    return (min(known), max(known)) if known else None
