"""Feedback SLA clocks (domain §6) in working time of the default calendar (Mon–Fri
09:00–18:00 Asia/Shanghai, 9 h a day, statutory holidays and 调休 from chinese-calendar).
Dates checked against the package's data: National Day 2026 is off 1–7 October, with
make-up working days on Sunday 20 September and Saturday 10 October; 25–27 September
(Mid-autumn) is off."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import InvalidInput
from app.domain.feedback.model import (
    FeedbackChannel,
    FeedbackItem,
    FeedbackState,
    FeedbackType,
    Severity,
)
from app.domain.feedback.sla import SlaClock, SlaPolicy, due_times, measure, sla_status

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = BusinessCalendar()
POLICY = SlaPolicy()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def item(received: datetime, type_: FeedbackType = FeedbackType.COMPLAINT,
         severity: Severity = Severity.HIGH, **changes: object) -> FeedbackItem:
    base = FeedbackItem(id=uuid.uuid4(), customer_id=uuid.uuid4(), department_id=uuid.uuid4(),
                        owner_id=uuid.uuid4(), channel=FeedbackChannel.EMAIL, type=type_,
                        severity=severity, summary="s", state=FeedbackState.RECEIVED,
                        received_at=received)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_calendar_data_behind_these_tests() -> None:
    assert not any(CALENDAR.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CALENDAR.is_working_day(date(2026, 9, 20))  # Sunday, 调休
    assert CALENDAR.is_working_day(date(2026, 10, 10))  # Saturday, 调休
    assert not CALENDAR.is_working_day(date(2026, 10, 11))


def test_across_a_weekend() -> None:
    """Friday 16:00: 2 h left that day. Urgent 4 h → Monday 11:00. 24 h → 2 + 9 + 9 + 4 →
    Wednesday 13:00. 5 days = 45 h → 2 + 4×9 + 7 → the next Friday 16:00."""
    received = local(2026, 11, 20, 16)
    assert due_times(item(received), POLICY, CALENDAR) == (local(2026, 11, 23, 11),
                                                          local(2026, 11, 27, 16))
    routine = item(received, severity=Severity.MEDIUM)
    assert due_times(routine, POLICY, CALENDAR)[0] == local(2026, 11, 25, 13)


def test_across_national_day_and_its_make_up_saturday() -> None:
    """Wednesday 30 September 17:00, 1 h left. Urgent 4 h → Thursday 8 October 12:00 (1–7
    off). 24 h → 1 + 9 (8th) + 9 (9th) + 5 on the make-up Saturday 10th → 14:00 that day.
    45 h → 1 + 9 + 9 + 9 (Sat 10th) + 9 (Mon 12th; Sun 11th off) + 8 → 13 October 17:00."""
    received = local(2026, 9, 30, 17)
    urgent_ack, resolve = due_times(item(received), POLICY, CALENDAR)
    assert urgent_ack == local(2026, 10, 8, 12)
    assert resolve == local(2026, 10, 13, 17)
    question = item(received, FeedbackType.QUESTION, Severity.CRITICAL)
    assert due_times(question, POLICY, CALENDAR)[0] == local(2026, 10, 10, 14)


def test_the_make_up_sunday_counts() -> None:
    """Saturday 19 September is off, Sunday 20th is worked: due 13:00 on the Sunday."""
    assert due_times(item(local(2026, 9, 19, 10)), POLICY, CALENDAR)[0] == local(2026, 9, 20, 13)


def test_no_breach_during_the_holiday_however_many_days_pass() -> None:
    record = item(local(2026, 9, 30, 17))
    status = sla_status(record, POLICY, CALENDAR, now=local(2026, 10, 7, 23))
    assert status.breaches == ()
    late = sla_status(record, POLICY, CALENDAR, now=local(2026, 10, 8, 12, 30))
    assert late.acknowledge_breached and not late.resolve_breached
    [breach] = late.breaches
    assert (breach.clock, breach.due_at, breach.met_at, breach.overdue) == (
        SlaClock.ACKNOWLEDGE, local(2026, 10, 8, 12), None, timedelta(minutes=30))


def test_met_exactly_on_time_is_no_breach_and_late_stays_a_breach() -> None:
    received = local(2026, 11, 20, 16)
    on_time = item(received, acknowledged_at=local(2026, 11, 23, 11))
    assert sla_status(on_time, POLICY, CALENDAR, now=local(2026, 11, 24, 9)).breaches == ()
    late = item(received, acknowledged_at=local(2026, 11, 23, 13))
    [breach] = sla_status(late, POLICY, CALENDAR, now=local(2026, 11, 24, 9)).breaches
    assert breach.met_at == local(2026, 11, 23, 13) and breach.overdue == timedelta(hours=2)


def test_resolve_breach_and_the_fresh_clock_after_a_reopen() -> None:
    received = local(2026, 11, 20, 16)
    unresolved = item(received, acknowledged_at=local(2026, 11, 23, 10))
    status = sla_status(unresolved, POLICY, CALENDAR, now=local(2026, 11, 30, 10))
    assert not status.acknowledge_breached and status.resolve_breached
    assert status.breaches[0].overdue == timedelta(hours=3)  # Fri 16–18, Mon 09–10
    resolved = replace(unresolved, resolved_at=local(2026, 11, 27, 15))
    assert sla_status(resolved, POLICY, CALENDAR, now=local(2026, 12, 30, 10)).breaches == ()
    reopened = replace(unresolved, reopened_at=local(2026, 11, 30, 10))
    assert due_times(reopened, POLICY, CALENDAR)[1] == local(2026, 12, 7, 10)
    assert not sla_status(reopened, POLICY, CALENDAR, now=local(2026, 12, 7, 10)).breaches
    assert sla_status(reopened, POLICY, CALENDAR, now=local(2026, 12, 7, 11)).resolve_breached


def test_an_edited_policy_changes_the_clocks_and_round_trips() -> None:
    policy = SlaPolicy(acknowledge=timedelta(hours=8), acknowledge_urgent=timedelta(hours=2),
                       resolve_working_days=3, urgent_types=frozenset(FeedbackType),
                       urgent_severities=frozenset({Severity.CRITICAL}))
    assert SlaPolicy.from_dict(policy.to_dict()) == policy
    assert SlaPolicy.from_dict(SlaPolicy().to_dict()) == SlaPolicy()
    assert SlaPolicy().to_dict() == {
        "acknowledge_hours": 24.0, "acknowledge_urgent_hours": 4.0, "resolve_working_days": 5,
        "urgent_types": ["complaint"], "urgent_severities": ["critical", "high"]}
    praise = item(local(2026, 11, 20, 16), FeedbackType.PRAISE, Severity.CRITICAL)
    assert due_times(praise, policy, CALENDAR) == (local(2026, 11, 20, 18),
                                                   local(2026, 11, 25, 16))


def test_measure_keeps_the_due_times_fixed_when_the_item_arrived() -> None:
    """An administrator shortening the clock later does not breach items already running."""
    record = item(local(2026, 11, 20, 16), severity=Severity.LOW)
    acknowledge, resolve = due_times(record, POLICY, CALENDAR)
    stricter = SlaPolicy(acknowledge=timedelta(hours=1))
    now = local(2026, 11, 23, 10)
    assert sla_status(record, stricter, CALENDAR, now).acknowledge_breached
    status = measure(record, acknowledge, resolve, CALENDAR, now)
    assert (status.acknowledge_due, status.resolve_due, status.breaches) == (
        acknowledge, resolve, ())


@pytest.mark.parametrize("data", [
    {}, {**SlaPolicy().to_dict(), "urgent_types": ["rant"]},
    {**SlaPolicy().to_dict(), "acknowledge_hours": "soon"},
])
def test_a_broken_stored_policy_is_invalid_input(data: dict) -> None:
    with pytest.raises(InvalidInput):
        SlaPolicy.from_dict(data)


def test_non_positive_clocks_are_refused_with_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        SlaPolicy(acknowledge=timedelta(0), resolve_working_days=0)
    assert [(e.pointer, e.reason) for e in caught.value.field_errors] == [
        ("/acknowledge_hours", "must_be_positive"), ("/resolve_working_days", "must_be_positive")]


@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31),
                    timezones=st.just(UTC)),
       st.sampled_from(list(FeedbackType)), st.sampled_from(list(Severity)))
def test_due_times_are_later_by_exactly_the_working_time(received: datetime,
                                                        type_: FeedbackType,
                                                        severity: Severity) -> None:
    record = item(received, type_, severity)
    acknowledge, resolve = due_times(record, POLICY, CALENDAR)
    assert received < acknowledge < resolve
    assert CALENDAR.working_time_between(received, acknowledge) == POLICY.acknowledge_within(
        record)
    assert CALENDAR.working_time_between(received, resolve) == 5 * CALENDAR.hours_per_day
