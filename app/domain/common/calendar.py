"""Business calendar (working time) shared by every clock the product keeps: approval due
times, feedback SLAs, follow-up deadlines. Default: Monday–Friday 09:00–18:00 Asia/Shanghai,
mainland statutory holidays and make-up working days (调休) from the chinese-calendar
package, plus company days off that an administrator adds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from app.domain.common.errors import FieldError, InvalidInput

MAX_DAYS_SCANNED = 3660  # ten years: no real deadline lies further out


def statutory_workday(day: date) -> bool | None:
    """Whether the State Council schedule makes ``day`` a working day (holidays off, 调休
    weekends on); ``None`` for years the package has no schedule for yet."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Asia/Shanghai"
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    use_statutory_holidays: bool = True
    company_days_off: frozenset[date] = field(default_factory=frozenset)
    statutory: Callable[[date], bool | None] = field(default=statutory_workday, compare=False,
                                                     repr=False)

    def __post_init__(self) -> None:
        problems = []
        if self.day_start >= self.day_end:
            problems.append(FieldError("/day_end", "day_end_after_start"))
        if not self.weekdays or not self.weekdays <= set(range(7)):
            problems.append(FieldError("/weekdays", "weekdays_invalid"))
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            problems.append(FieldError("/timezone", "timezone_unknown"))
        if problems:
            raise InvalidInput(problems)

    @property
    def hours_per_day(self) -> timedelta:
        return (datetime.combine(date.min, self.day_end)
                - datetime.combine(date.min, self.day_start))

    def is_working_day(self, day: date) -> bool:
        if day in self.company_days_off:
            return False
        if self.use_statutory_holidays:
            official = self.statutory(day)
            if official is not None:
                return official
        return day.weekday() in self.weekdays

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when ``amount`` of working time has passed after ``start``."""
        if amount < timedelta(0):
            raise ValueError("working time to add must not be negative")
        zone = ZoneInfo(self.timezone)
        local = start.astimezone(zone)
        day = local.date()
        remaining = amount
        for _ in range(MAX_DAYS_SCANNED):
            if self.is_working_day(day):
                opens = datetime.combine(day, self.day_start, zone)
                closes = datetime.combine(day, self.day_end, zone)
                begin = max(opens, local) if local.date() == day else opens
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError("no working time found within ten years")

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(ZoneInfo(self.timezone)).date()

    def add_working_days(self, start: datetime, days: int) -> date:
        """The local date ``days`` working days after ``start``'s local date (the day of
        ``start`` itself does not count): "follow up within 3 working days"."""
        if days < 0:
            raise ValueError("working days to add must not be negative")
        day = self.local_date(start)
        for _ in range(MAX_DAYS_SCANNED):
            if days == 0:
                return day
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        raise ValueError("no working day found within ten years")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside [start, end); zero when end is not after start."""
        if end <= start:
            return timedelta(0)
        zone = ZoneInfo(self.timezone)
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        total = timedelta(0)
        day = local_start.date()
        while day <= local_end.date():
            if self.is_working_day(day):
                opens = datetime.combine(day, self.day_start, zone)
                closes = datetime.combine(day, self.day_end, zone)
                begin, finish = max(opens, local_start), min(closes, local_end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {"timezone": self.timezone, "day_start": self.day_start.isoformat("minutes"),
                "day_end": self.day_end.isoformat("minutes"), "weekdays": sorted(self.weekdays),
                "use_statutory_holidays": self.use_statutory_holidays,
                "company_days_off": sorted(d.isoformat() for d in self.company_days_off)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BusinessCalendar:
        return cls(timezone=data["timezone"], day_start=time.fromisoformat(data["day_start"]),
                   day_end=time.fromisoformat(data["day_end"]),
                   weekdays=frozenset(data["weekdays"]),
                   use_statutory_holidays=data["use_statutory_holidays"],
                   company_days_off=frozenset(date.fromisoformat(d)
                                              for d in data["company_days_off"]))
