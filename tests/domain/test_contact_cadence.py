"""The contact cadence (回访) without a database: the next contact is due the tier's number
of working days after the latest contact, counted on the business calendar — across the
2026 Mid-Autumn and National Day holidays and the 调休 Saturday that follows them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import InvalidInput
from app.domain.customers.model import Tier
from app.domain.interactions.model import CadencePolicy, is_overdue, next_contact_due

# Tuesday 22 September 2026, 10:00 in Shanghai.
LAST = datetime(2026, 9, 22, 2, tzinfo=UTC)


def test_due_date_across_the_national_day_holiday() -> None:
    """Working days after Tue 22 Sep: 23, 24 (25 Sep is Mid-Autumn), 28, 29, 30, then the
    holiday 1–7 Oct, 8, 9, Sat 10 Oct (调休, a working day), 12–16, 19: the 14th is
    Mon 19 Oct. Counting weekdays only would give Mon 12 Oct."""
    calendar = BusinessCalendar()
    assert next_contact_due(LAST, Tier.A, CadencePolicy(), calendar) == date(2026, 10, 19)
    weekdays_only = BusinessCalendar(use_statutory_holidays=False)
    assert next_contact_due(LAST, Tier.A, CadencePolicy(), weekdays_only) == date(2026, 10,
                                                                                   12)


def test_each_tier_has_its_own_cadence() -> None:
    policy = CadencePolicy({Tier.A: 1, Tier.B: 2, Tier.C: 3, Tier.D: 5})
    calendar = BusinessCalendar(use_statutory_holidays=False)
    monday = datetime(2026, 11, 30, 2, tzinfo=UTC)
    assert [next_contact_due(monday, t, policy, calendar) for t in Tier] == [
        date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 7)]


def test_overdue_from_the_day_after() -> None:
    due = date(2026, 10, 19)
    assert not is_overdue(due, due) and is_overdue(due, due + timedelta(days=1))


@pytest.mark.parametrize("days", [{Tier.A: 0, Tier.B: 1, Tier.C: 1, Tier.D: 1},
                                  {Tier.A: 14}])
def test_a_cadence_names_every_tier_with_sane_days(days: dict[Tier, int]) -> None:
    with pytest.raises(InvalidInput):
        CadencePolicy(days)


@given(st.integers(min_value=0, max_value=500), st.sampled_from(list(Tier)))
def test_the_due_day_is_a_working_day_after_the_contact(offset: int, tier: Tier) -> None:
    calendar = BusinessCalendar()
    last = LAST + timedelta(days=offset)
    due = next_contact_due(last, tier, CadencePolicy(), calendar)
    assert due > calendar.local_date(last) and calendar.is_working_day(due)
    assert CadencePolicy.from_dict(CadencePolicy().to_dict()) == CadencePolicy()
