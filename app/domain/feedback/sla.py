"""Feedback SLA clocks (domain §6), in working time of the business calendar: acknowledge
within 24 working hours (4 for a high or critical complaint), resolve within 5 working
days. An administrator may edit the policy; it is stored as ``to_dict`` like the other
policies.

"Working days" are expressed as days × ``calendar.hours_per_day`` of working time from the
moment the clock starts (``BusinessCalendar.add_working_time``): feedback received at
15:00 on a Monday with 5 working days is due at 15:00 the next Monday, not at the end of
some day, and weekends, statutory holidays and 调休 make-up days count as the calendar
says. Due exactly at the instant is still on time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import FieldError, FieldErrors, InvalidInput
from app.domain.feedback.model import FeedbackItem, FeedbackType, Severity


class SlaClock(StrEnum):
    ACKNOWLEDGE = "acknowledge"  # from received_at
    RESOLVE = "resolve"  # from received_at, or from reopened_at after a reopen


@dataclass(frozen=True)
class SlaPolicy:
    """``urgent_types`` × ``urgent_severities`` get the short acknowledge clock."""

    acknowledge: timedelta = timedelta(hours=24)
    acknowledge_urgent: timedelta = timedelta(hours=4)
    resolve_working_days: int = 5
    urgent_types: frozenset[FeedbackType] = frozenset({FeedbackType.COMPLAINT})
    urgent_severities: frozenset[Severity] = frozenset({Severity.HIGH, Severity.CRITICAL})

    def __post_init__(self) -> None:
        errors = FieldErrors()
        if self.acknowledge <= timedelta(0):
            errors.add("/acknowledge_hours", "must_be_positive")
        if self.acknowledge_urgent <= timedelta(0):
            errors.add("/acknowledge_urgent_hours", "must_be_positive")
        if self.resolve_working_days <= 0:
            errors.add("/resolve_working_days", "must_be_positive")
        errors.raise_if_any()

    def is_urgent(self, item: FeedbackItem) -> bool:
        return item.type in self.urgent_types and item.severity in self.urgent_severities

    def acknowledge_within(self, item: FeedbackItem) -> timedelta:
        return self.acknowledge_urgent if self.is_urgent(item) else self.acknowledge

    def to_dict(self) -> dict[str, Any]:
        return {"acknowledge_hours": self.acknowledge.total_seconds() / 3600,
                "acknowledge_urgent_hours": self.acknowledge_urgent.total_seconds() / 3600,
                "resolve_working_days": self.resolve_working_days,
                "urgent_types": sorted(self.urgent_types),
                "urgent_severities": sorted(self.urgent_severities)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlaPolicy:
        try:
            return cls(acknowledge=timedelta(hours=float(data["acknowledge_hours"])),
                       acknowledge_urgent=timedelta(
                           hours=float(data["acknowledge_urgent_hours"])),
                       resolve_working_days=int(data["resolve_working_days"]),
                       urgent_types=frozenset(FeedbackType(x) for x in data["urgent_types"]),
                       urgent_severities=frozenset(Severity(x)
                                                   for x in data["urgent_severities"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput([FieldError("/sla_policy", "value_error",
                                           {"error": str(exc)})]) from exc


@dataclass(frozen=True)
class Breach:
    """A clock that ran out: ``met_at`` is when the step was done after all (``None``
    while still outstanding); ``overdue`` is working time past ``due_at``."""

    clock: SlaClock
    due_at: datetime
    met_at: datetime | None
    overdue: timedelta


@dataclass(frozen=True)
class SlaStatus:
    acknowledge_due: datetime
    resolve_due: datetime
    breaches: tuple[Breach, ...]

    @property
    def acknowledge_breached(self) -> bool:
        return any(b.clock is SlaClock.ACKNOWLEDGE for b in self.breaches)

    @property
    def resolve_breached(self) -> bool:
        return any(b.clock is SlaClock.RESOLVE for b in self.breaches)


def due_times(item: FeedbackItem, policy: SlaPolicy,
              calendar: BusinessCalendar) -> tuple[datetime, datetime]:
    """(acknowledge due, resolve due). After a reopen the resolve clock starts afresh at
    ``reopened_at``: a problem that comes back months later gets a fair new clock, and the
    earlier round's breach, if any, was already reported when it happened."""
    acknowledge_due = calendar.add_working_time(item.received_at,
                                                policy.acknowledge_within(item))
    resolve_due = calendar.add_working_time(item.reopened_at or item.received_at,
                                            policy.resolve_working_days
                                            * calendar.hours_per_day)
    return acknowledge_due, resolve_due


def resolve_clock_restarted(before: FeedbackItem, after: FeedbackItem) -> bool:
    """A reopen starts a fresh resolve clock (see ``due_times``), whose breach is announced
    anew."""
    return after.reopened_at != before.reopened_at


def measure(item: FeedbackItem, acknowledge_due: datetime, resolve_due: datetime,
            calendar: BusinessCalendar, now: datetime) -> SlaStatus:
    """The clocks breached as of ``now`` against due times fixed earlier (stored when the
    item arrived or was reopened, so a later policy edit does not move an item's goal
    posts): a step done late stays a breach, with when it was met; one not yet done is a
    breach once ``now`` is past its due."""
    breaches = []
    for clock, due, met in ((SlaClock.ACKNOWLEDGE, acknowledge_due, item.acknowledged_at),
                            (SlaClock.RESOLVE, resolve_due, item.resolved_at)):
        until = now if met is None else met
        if until > due:
            breaches.append(Breach(clock, due, met, calendar.working_time_between(due, until)))
    return SlaStatus(acknowledge_due, resolve_due, tuple(breaches))


def sla_status(item: FeedbackItem, policy: SlaPolicy, calendar: BusinessCalendar,
               now: datetime) -> SlaStatus:
    """``measure`` against the due times ``policy`` gives today."""
    return measure(item, *due_times(item, policy, calendar), calendar, now)
