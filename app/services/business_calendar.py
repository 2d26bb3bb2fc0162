"""The business calendar every feature counts working time by (working days and hours,
statutory holidays, company days off): approval steps fall due, feedback SLAs run and
handover deadlines are set on it. One administrator setting, read with ``load_calendar``."""

from __future__ import annotations

from app.domain.common.calendar import BusinessCalendar
from app.services.policies import BUSINESS_CALENDAR, PolicySetting, load_policy
from app.services.ports.unit_of_work import UnitOfWork


async def load_calendar(uow: UnitOfWork) -> BusinessCalendar:
    """The calendar in force (the domain's default until an administrator sets one)."""
    calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
    return calendar


class BusinessCalendarService(PolicySetting[BusinessCalendar]):
    kind = BUSINESS_CALENDAR
