"""Who is told what (issue 15 §4) and when a reminder is due (§5), as pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from app.domain.access.roles import Role
from app.domain.change_requests.approval_policy import Delegation
from app.domain.common.calendar import BusinessCalendar
from app.domain.notifications.reminders import (
    at_work,
    due_soon,
    follow_up_due_soon,
    last_working_day,
)
from app.domain.notifications.rules import (
    RULES,
    Approvers,
    CustomerOwner,
    DepartmentHeads,
    Holder,
    Kind,
    Occurred,
    Person,
    approvers,
    notices_for,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = BusinessCalendar()
EAST, WEST = uuid4(), uuid4()
REQUESTER = uuid4()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


def cr_event(kind: str, **data: object) -> Occurred:
    return Occurred(f"change_request.{kind}", "change_request", str(uuid4()),
                    {"title": "二期上线", "requester_id": str(REQUESTER), **data})


STEP = {"position": 2, "role": "finance", "department_id": None,
        "due_at": "2026-10-08T02:00:00+00:00"}


def test_an_approval_tells_the_requester_and_whoever_decides_the_step_made_current() -> None:
    decided, assigned = notices_for(cr_event("step_approved", step=1, role="department_head",
                                             current_step=STEP))
    assert (decided.kind, decided.audiences) == (Kind.CHANGE_REQUEST_DECIDED,
                                                 (Person(REQUESTER),))
    assert decided.details["decision"] == "step_approved"
    assert (assigned.kind, assigned.audiences) == (
        Kind.APPROVAL_STEP_ASSIGNED, (Approvers(Role.FINANCE, None, REQUESTER),))
    assert assigned.path == f"/api/v1/change-requests/{assigned.entity_id}"


def test_the_last_approval_and_a_rejection_tell_the_requester_only() -> None:
    for kind in ("approved", "rejected", "returned"):
        [notice] = notices_for(cr_event(kind, step=3))
        assert notice.audiences == (Person(REQUESTER),)
        assert notice.details["decision"] == kind


def test_a_department_step_goes_to_that_department() -> None:
    [notice] = notices_for(cr_event("assessment_concluded", current_step={
        **STEP, "position": 1, "role": "department_head", "department_id": str(EAST)}))
    assert notice.audiences == (Approvers(Role.DEPARTMENT_HEAD, EAST, REQUESTER),)


def test_events_without_a_rule_tell_no_one() -> None:
    assert notices_for(cr_event("submitted")) == []  # a normal change: no step yet
    assert notices_for(cr_event("task_added")) == []
    assert notices_for(Occurred("department.created", "department", str(uuid4()), {})) == []


def test_handover_steps_tell_both_managers_and_the_heads() -> None:
    old, new = uuid4(), uuid4()
    data = {"from_manager_id": str(old), "to_manager_id": str(new),
            "department_id": str(EAST), "customer_name": "华东银行", "state": "signed"}
    [notice] = notices_for(Occurred("handover.signed", "handover", str(uuid4()), data))
    assert notice.audiences == (Person(old), Person(new), DepartmentHeads(EAST))
    [overdue] = notices_for(Occurred("handover.follow_up_overdue", "handover", "h", data))
    assert overdue.audiences == (Person(new), DepartmentHeads(EAST))
    [soon] = notices_for(Occurred("handover.follow_up_due_soon", "handover", "h", data))
    assert soon.audiences == (Person(new),)
    assert notices_for(Occurred("handover.item_verified", "handover", "h", data)) == []


def test_breaches_and_health_falls_tell_the_owner() -> None:
    owner = uuid4()
    [breach] = notices_for(Occurred("feedback.resolve_overdue", "feedback", "f",
                                    {"owner_id": str(owner), "due_at": "x"}))
    assert (breach.audiences, breach.details["clock"]) == ((Person(owner),), "resolve")
    customer = uuid4()
    [fall] = notices_for(Occurred("customer.health_below_threshold", "customer",
                                  str(customer), {"score": 41, "threshold": 60}))
    assert fall.audiences == (CustomerOwner(customer),)
    assert fall.path == f"/api/v1/customers/{customer}"
    assert notices_for(Occurred("customer.health_recovered", "customer", str(customer),
                                {})) == []


def test_plans_have_their_hook() -> None:
    owner = uuid4()
    [notice] = notices_for(Occurred("plan.created", "plan", "p", {"owner_id": str(owner)}))
    assert (notice.kind, notice.audiences, notice.path) == (
        Kind.PLAN_ARRIVED, (Person(owner),), "/api/v1/plans/p")
    assert set(RULES) >= {"plan.created"}


def test_a_milestone_due_tells_its_owner_and_a_next_contact_the_customers_manager() -> None:
    owner, customer = uuid4(), uuid4()
    [due] = notices_for(Occurred("plan.milestone_due_soon", "plan", "p", {
        "owner_id": str(owner), "title": "试运行", "plan_title": "ERP 实施",
        "planned_date": "2026-10-09", "milestone_id": "m"}))
    assert (due.kind, due.audiences, due.path) == (
        Kind.PLAN_MILESTONE_DUE_SOON, (Person(owner),), "/api/v1/plans/p")
    assert due.details == {"plan_title": "ERP 实施", "milestone_id": "m", "title": "试运行",
                           "planned_date": "2026-10-09"}
    assert notices_for(Occurred("plan.milestone_due_soon", "plan", "p", {})) == []
    [contact] = notices_for(Occurred("customer.contact_due_soon", "customer", str(customer),
                                     {"customer_name": "江南纺织", "due_on": "2026-10-08"}))
    assert (contact.kind, contact.audiences) == (Kind.CONTACT_DUE_SOON,
                                                 (CustomerOwner(customer),))
    assert contact.details == {"customer_name": "江南纺织", "due_on": "2026-10-08"}


def _delegation(delegator: UUID, deputy: UUID, role: Role, department: UUID | None,
                now: datetime, hours: int = 1) -> Delegation:
    return Delegation(delegator, frozenset({role}), department, deputy, role,
                      now - timedelta(hours=1), now + timedelta(hours=hours))


def test_approvers_are_the_holders_who_could_decide_and_their_deputies() -> None:
    now = local(2026, 11, 24, 10)
    head_east, head_west, deputy, late_deputy = uuid4(), uuid4(), uuid4(), uuid4()
    holders = [Holder(head_east, EAST), Holder(head_west, WEST), Holder(REQUESTER, EAST)]
    delegations = [_delegation(head_east, deputy, Role.DEPARTMENT_HEAD, EAST, now),
                   _delegation(head_west, uuid4(), Role.DEPARTMENT_HEAD, WEST, now),
                   _delegation(head_east, late_deputy, Role.DEPARTMENT_HEAD, EAST, now, -1),
                   _delegation(REQUESTER, uuid4(), Role.DEPARTMENT_HEAD, EAST, now)]
    told = approvers(Approvers(Role.DEPARTMENT_HEAD, EAST, REQUESTER), holders, delegations,
                     now)
    assert told == {head_east, deputy}


@given(st.lists(st.sampled_from([EAST, WEST]), max_size=6), st.booleans())
def test_the_requester_is_never_told_to_approve(departments: list[UUID],
                                                 requester_holds: bool) -> None:
    now = local(2026, 11, 24, 10)
    holders = [Holder(uuid4(), d) for d in departments]
    if requester_holds:
        holders.append(Holder(REQUESTER, EAST))
    told = approvers(Approvers(Role.DEPARTMENT_HEAD, EAST, REQUESTER), holders, [], now)
    assert REQUESTER not in told
    assert told == {h.user_id for h in holders if h.department_id == EAST} - {REQUESTER}


# reminders ----------------------------------------------------------------------------------

def test_reminders_wait_for_working_time() -> None:
    assert at_work(CALENDAR, local(2026, 9, 30, 10))
    assert not at_work(CALENDAR, local(2026, 9, 30, 20))
    assert not at_work(CALENDAR, local(2026, 10, 3, 10))  # National Day
    assert at_work(CALENDAR, local(2026, 10, 10, 10))  # a Saturday worked (调休)


def test_due_soon_counts_working_time_across_the_national_day_holiday() -> None:
    due = local(2026, 10, 8, 10)  # one working hour after the holiday ends
    lead = timedelta(hours=4)
    assert not due_soon(CALENDAR, local(2026, 9, 30, 13), due, lead)  # 5 + 1 h left
    assert due_soon(CALENDAR, local(2026, 9, 30, 15), due, lead)  # 3 + 1 h left
    assert not due_soon(CALENDAR, local(2026, 10, 3, 10), due, lead)  # holiday: nobody
    assert due_soon(CALENDAR, local(2026, 10, 8, 9, 30), due, lead)
    assert not due_soon(CALENDAR, local(2026, 10, 8, 10), due, lead)  # due: escalation's


def test_a_follow_up_due_on_a_holiday_is_reminded_of_the_working_day_before() -> None:
    due = date(2026, 10, 5)
    assert last_working_day(CALENDAR, due) == date(2026, 9, 30)
    assert not follow_up_due_soon(CALENDAR, local(2026, 9, 29, 10), due)
    assert follow_up_due_soon(CALENDAR, local(2026, 9, 30, 10), due)
    assert not follow_up_due_soon(CALENDAR, local(2026, 10, 5, 10), due)  # a holiday
    assert follow_up_due_soon(CALENDAR, local(2026, 11, 24, 10), date(2026, 11, 24))
