"""When a reminder is due (issue 15 §5), on the business calendar: a reminder goes out in
working time only, once per record and due time (the caller keeps the key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.domain.common.calendar import BusinessCalendar


@dataclass(frozen=True)
class ReminderPolicy:
    """How much working time before a due time its reminder goes out."""

    approval_lead: timedelta = timedelta(hours=4)
    feedback_lead: timedelta = timedelta(hours=2)


def at_work(calendar: BusinessCalendar, now: datetime) -> bool:
    """Within working hours of a working day: nobody is reminded on a holiday or at night
    (the reminder waits for the next working moment, if the due time has not passed)."""
    local = now.astimezone(ZoneInfo(calendar.timezone))
    return calendar.is_working_day(local.date()) and \
        calendar.day_start <= local.time() < calendar.day_end


def due_soon(calendar: BusinessCalendar, now: datetime, due_at: datetime,
             lead: timedelta) -> bool:
    """Not yet due, at most ``lead`` of working time left, and now a working moment."""
    return now < due_at and at_work(calendar, now) and \
        calendar.working_time_between(now, due_at) <= lead


def last_working_day(calendar: BusinessCalendar, day: date) -> date:
    """``day`` itself when it is a working day, else the working day before it."""
    for _ in range(366):
        if calendar.is_working_day(day):
            return day
        day -= timedelta(days=1)
    return day


def follow_up_due_soon(calendar: BusinessCalendar, now: datetime, due: date) -> bool:
    """From the last working day on or before the due day until that day: a handover
    follow-up, plan milestone or next contact due on a holiday is reminded of on the
    working day before it."""
    today = calendar.local_date(now)
    return at_work(calendar, now) and last_working_day(calendar, due) <= today <= due
