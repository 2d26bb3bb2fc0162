"""Plan rules without a database: derived figures against hand-computed values and as
properties (variance adds up, achieved follows the direction of the target), the plan
workflow table (every action from every state, by every party), and the baseline (frozen
content refused on an active plan, progress free, amendments applied once)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import Role
from app.domain.change_requests.model import CRState
from app.domain.common.errors import (
    InvalidInput,
    NotYourAction,
    PreconditionUnmet,
    TransitionNotAllowed,
)
from app.domain.plans import baseline, editing, report, workflow
from app.domain.plans.baseline import AmendmentChanges, BaselineFrozen
from app.domain.plans.expectations import Gap, gap_summary, gaps
from app.domain.plans.figures import (
    ObjectiveStatus,
    budget_totals,
    meets_target,
    milestone_on_time,
    objective_status,
    variance,
)
from app.domain.plans.model import (
    Agreement,
    Amendment,
    AmendmentState,
    BudgetLine,
    Constraints,
    Expectation,
    ExpectationCategory,
    ExpectationChannel,
    Horizon,
    Milestone,
    MilestoneStatus,
    Objective,
    Outcome,
    Plan,
    PlanState,
)

NOW = datetime(2027, 1, 10, 2, tzinfo=UTC)
TODAY = date(2027, 1, 10)
EAST, WEST = uuid.uuid4(), uuid.uuid4()
OWNER, MANAGER = uuid.uuid4(), uuid.uuid4()


def person(*roles: Role, department: uuid.UUID = EAST, id: uuid.UUID | None = None
           ) -> Principal:
    return Principal(id or uuid.uuid4(), PrincipalKind.USER, "p", department, frozenset(roles))


def plan(state: PlanState = PlanState.DRAFT, **fields: object) -> Plan:
    base = Plan(
        id=uuid.uuid4(), customer_id=uuid.uuid4(), department_id=EAST, title="二期方案",
        scope_statement="上线监管报表", owner_id=OWNER, team=[], constraints=Constraints(),
        planned_start=date(2027, 1, 4), planned_end=date(2027, 6, 30), state=state,
        version=1, created_by=OWNER, created_at=NOW, updated_at=NOW,
        milestones=[Milestone(uuid.uuid4(), "上线", date(2027, 5, 31))],
        budget_lines=[BudgetLine(uuid.uuid4(), "实施", Decimal("100000"))],
        revision=0 if state is PlanState.ACTIVE else None, customer_owner_id=MANAGER)
    return replace(base, **fields)


# figures -----------------------------------------------------------------------------

def test_variance_hand_computed() -> None:
    v = variance(Decimal("300000"), Decimal("330000"))
    assert (v.variance, v.variance_pct) == (Decimal("30000"), Decimal("10.00"))
    v = variance(Decimal("200000.00"), Decimal("185000.50"))
    assert (v.variance, v.variance_pct) == (Decimal("-14999.50"), Decimal("-7.50"))
    v = variance(Decimal("3"), Decimal("4"))  # 33.333… rounds half up to 33.33
    assert v.variance_pct == Decimal("33.33")
    assert variance(Decimal("0"), Decimal("50")).variance_pct is None


def test_budget_totals_per_currency() -> None:
    lines = [BudgetLine(uuid.uuid4(), "a", Decimal("100"), "CNY", Decimal("150")),
             BudgetLine(uuid.uuid4(), "b", Decimal("300"), "CNY", Decimal("250")),
             BudgetLine(uuid.uuid4(), "c", Decimal("40"), "USD", Decimal("44"))]
    totals = budget_totals(lines)
    assert totals["CNY"].variance == Decimal("0") and totals["CNY"].variance_pct == Decimal(
        "0.00")
    assert totals["USD"].variance == Decimal("4") and totals["USD"].variance_pct == Decimal(
        "10.00")


amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False,
                      allow_infinity=False)


@given(st.lists(st.tuples(amounts, amounts), min_size=1, max_size=8))
def test_total_variance_is_the_sum_of_the_lines(pairs: list[tuple[Decimal, Decimal]]) -> None:
    lines = [BudgetLine(uuid.uuid4(), "x", p, "CNY", a) for p, a in pairs]
    total = budget_totals(lines)["CNY"]
    assert total.variance == sum((a - p for p, a in pairs), Decimal("0"))
    assert total.planned + total.variance == total.actual
    if total.planned:
        assert abs(total.variance_pct - total.variance * 100 / total.planned) <= Decimal(
            "0.005")


def objective(target: str, baseline_value: str | None, actual: str | None,
              due: date | None = None) -> Objective:
    return Objective(uuid.uuid4(), "o", Horizon.SHORT_TERM, "m", Decimal(target),
                     baseline=None if baseline_value is None else Decimal(baseline_value),
                     actual=None if actual is None else Decimal(actual), due_date=due)


@pytest.mark.parametrize(("target", "base", "actual", "met"), [
    ("4.8", "4.5", "4.9", True), ("4.8", "4.5", "4.8", True), ("4.8", "4.5", "4.7", False),
    ("4", "8", "5", False), ("4", "8", "4", True), ("4", "8", "3.5", True),  # lower is better
    ("100", None, "100", True), ("100", None, None, None),
])
def test_meets_target_hand_computed(target: str, base: str | None, actual: str | None,
                                    met: bool | None) -> None:
    assert meets_target(objective(target, base, actual)) is met


def test_objective_status_by_due_date() -> None:
    past, future = date(2027, 1, 1), date(2027, 2, 1)
    status = ObjectiveStatus
    assert objective_status(objective("10", "0", None, past), TODAY) is status.NOT_ACHIEVED
    assert objective_status(objective("10", "0", "5", future), TODAY) is status.OPEN
    assert objective_status(objective("10", "0", "12", past), TODAY) is status.ACHIEVED


@given(st.decimals(min_value=-1000, max_value=1000, places=2),
       st.decimals(min_value=-1000, max_value=1000, places=2),
       st.decimals(min_value=-1000, max_value=1000, places=2))
def test_achieved_follows_the_direction_of_the_target(target: Decimal, base: Decimal,
                                                      actual: Decimal) -> None:
    o = replace(objective("0", "0", "0"), target=target, baseline=base, actual=actual)
    expected = actual <= target if target < base else actual >= target
    assert meets_target(o) is expected


@pytest.mark.parametrize(("status", "actual", "planned", "on_time"), [
    (MilestoneStatus.DONE, date(2027, 1, 5), date(2027, 1, 5), True),
    (MilestoneStatus.DONE, date(2027, 1, 6), date(2027, 1, 5), False),
    (MilestoneStatus.IN_PROGRESS, None, date(2027, 1, 9), False),  # overdue
    (MilestoneStatus.PENDING, None, date(2027, 1, 10), None),  # due today: not late yet
    (MilestoneStatus.PENDING, None, date(2027, 3, 1), None),
])
def test_milestone_on_time(status: MilestoneStatus, actual: date | None, planned: date,
                           on_time: bool | None) -> None:
    m = Milestone(uuid.uuid4(), "m", planned, status=status, actual_date=actual)
    assert milestone_on_time(m, TODAY) is on_time


# workflow ----------------------------------------------------------------------------

TABLE = {PlanState.DRAFT: {"activate": PlanState.ACTIVE, "cancel": PlanState.CANCELLED},
         PlanState.ACTIVE: {"complete": PlanState.COMPLETED, "cancel": PlanState.CANCELLED},
         PlanState.COMPLETED: {}, PlanState.CANCELLED: {}}
PARTIES = {
    "owner": (person(Role.PROJECT_MANAGER, id=OWNER), True),
    "customer manager": (person(Role.ACCOUNT_MANAGER, id=MANAGER), True),
    "head of the department": (person(Role.DEPARTMENT_HEAD), True),
    "administrator": (person(Role.ADMIN, department=WEST), True),
    "head of another department": (person(Role.DEPARTMENT_HEAD, department=WEST), False),
    "another account manager": (person(Role.ACCOUNT_MANAGER), False),
    "executive": (person(Role.EXECUTIVE), False),
}


@pytest.mark.parametrize("state", list(PlanState))
@pytest.mark.parametrize("name", ["activate", "complete", "cancel"])
@pytest.mark.parametrize("who", list(PARTIES))
def test_every_action_by_every_party(state: PlanState, name: str, who: str) -> None:
    principal, may = PARTIES[who]
    done = [replace(m, status=MilestoneStatus.DONE) for m in plan().milestones]
    p = plan(state, milestones=done)
    target = TABLE[state].get(name)
    if target is None:
        with pytest.raises(TransitionNotAllowed):
            workflow.apply(p, name, principal, NOW, reason="r")
    elif not may:
        with pytest.raises(NotYourAction):
            workflow.apply(p, name, principal, NOW, reason="r")
        assert workflow.allowed_actions(p, principal) == []
    else:
        after = workflow.apply(p, name, principal, NOW, reason="r")
        assert after.state is target
        assert name in workflow.allowed_actions(p, principal)
        if name == "activate":
            assert after.revision == 0 and after.activated_at == NOW


@pytest.mark.parametrize(("fields", "reason"), [
    ({"scope_statement": " "}, "scope_statement_missing"),
    ({"planned_end": None}, "planned_dates_missing"),
    ({"milestones": []}, "milestones_missing"),
])
def test_activation_guards(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(PreconditionUnmet) as refused:
        workflow.apply(plan(**fields), "activate", person(Role.ADMIN), NOW)
    assert refused.value.params["reason"] == reason


def test_complete_needs_every_milestone_done() -> None:
    with pytest.raises(PreconditionUnmet) as refused:
        workflow.apply(plan(PlanState.ACTIVE), "complete", person(Role.ADMIN), NOW)
    assert refused.value.params["reason"] == "open_milestones_remain"


# baseline ----------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "frozen"), [(PlanState.DRAFT, False),
                                               (PlanState.ACTIVE, True)])
def test_baseline_content_is_refused_on_an_active_plan_and_free_on_a_draft(
        state: PlanState, frozen: bool) -> None:
    p = plan(state)
    m, b = p.milestones[0], p.budget_lines[0]
    edits = [
        lambda: editing.edit_plan(p, {"scope_statement": "新范围"}),
        lambda: editing.edit_milestone(p, m.id, {"planned_date": date(2027, 6, 1)}, TODAY),
        lambda: editing.edit_budget_line(p, b.id, {"planned": Decimal("1")}),
        lambda: editing.add_milestone(p, Milestone(uuid.uuid4(), "n", date(2027, 3, 1))),
        lambda: editing.add_budget_line(p, BudgetLine(uuid.uuid4(), "n", Decimal("1"))),
    ]
    for edit in edits:
        if frozen:
            with pytest.raises(BaselineFrozen):
                edit()
        else:
            edit()
    # Progress is free in both.
    done = editing.edit_milestone(p, m.id, {"status": MilestoneStatus.DONE}, TODAY)
    assert done.milestones[0].actual_date == TODAY
    spent = editing.edit_budget_line(p, b.id, {"actual": Decimal("5")})
    assert spent.budget_lines[0].actual == Decimal("5")
    # The same value again is no change of the baseline.
    editing.edit_plan(p, {"scope_statement": p.scope_statement})


def amendment(p: Plan, changes: AmendmentChanges) -> Amendment:
    return Amendment(uuid.uuid4(), p.id, uuid.uuid4(), changes.to_dict(),
                     AmendmentState.PROPOSED, OWNER, NOW)


def test_an_amendment_moves_the_baseline_and_says_what_moved() -> None:
    p = plan(PlanState.ACTIVE)
    m, b = p.milestones[0], p.budget_lines[0]
    changes = AmendmentChanges(milestone_dates={m.id: date(2027, 6, 30)},
                               budget_planned={b.id: Decimal("120000")})
    restored = AmendmentChanges.from_dict(changes.to_dict())
    assert restored == changes
    amended, summary = baseline.amend(p, restored)
    assert amended.milestones[0].planned_date == date(2027, 6, 30)
    assert amended.budget_lines[0].planned == Decimal("120000")
    assert summary == {
        "milestones": [{"id": str(m.id), "title": "上线", "from": "2027-05-31",
                        "to": "2027-06-30"}],
        "budget": [{"id": str(b.id), "category": "实施", "from": "100000", "to": "120000"}]}


def test_who_when_and_how_often_an_amendment_applies() -> None:
    p = plan(PlanState.ACTIVE)
    a = amendment(p, AmendmentChanges(scope_statement="新范围"))
    owner = person(Role.PROJECT_MANAGER, id=OWNER)
    baseline.check_apply(p, a, p.customer_id, CRState.APPROVED, owner)
    baseline.check_apply(p, a, p.customer_id, CRState.CLOSED, owner)
    for state in (CRState.DRAFT, CRState.AWAITING_APPROVAL, CRState.REJECTED,
                  CRState.CANCELLED):
        with pytest.raises(baseline.ChangeNotApproved):
            baseline.check_apply(p, a, p.customer_id, state, owner)
    with pytest.raises(baseline.ChangeNotApproved):
        baseline.check_apply(p, a, uuid.uuid4(), CRState.APPROVED, owner)
    with pytest.raises(NotYourAction):
        baseline.check_apply(p, a, p.customer_id, CRState.APPROVED, person(Role.ADMIN))
    done = baseline.applied(a, owner, NOW, 1)
    with pytest.raises(baseline.AmendmentAlreadyApplied):
        baseline.check_apply(p, done, p.customer_id, CRState.APPROVED, owner)


def test_amendment_changes_must_fit_the_plan() -> None:
    p = plan(PlanState.ACTIVE)
    with pytest.raises(InvalidInput) as refused:
        baseline.check_changes(p, AmendmentChanges(milestone_dates={uuid.uuid4(): TODAY}))
    assert refused.value.field_errors[0].reason == "milestone_unknown"
    with pytest.raises(InvalidInput) as refused:
        baseline.check_changes(p, AmendmentChanges())
    assert refused.value.field_errors[0].reason == "amendment_empty"


# expectations ------------------------------------------------------------------------

def expectation(**fields: object) -> Expectation:
    base = Expectation(uuid.uuid4(), "按期上线", ExpectationCategory.TIME, None,
                       date(2026, 12, 1), ExpectationChannel.MEETING)
    return replace(base, **fields)


def test_gaps_hand_worked() -> None:
    p = plan(PlanState.ACTIVE)
    past = Milestone(uuid.uuid4(), "已逾期", date(2027, 1, 9))
    p = replace(p, milestones=[*p.milestones, past])
    cases = [
        (expectation(), [Gap.NOT_COMMITTED]),
        (expectation(agreement=Agreement.NOT_COMMITTED, realistic=False,
                     unrealistic_reason="r"), [Gap.NOT_COMMITTED]),
        (expectation(agreement=Agreement.AGREED), []),
        (expectation(agreement=Agreement.AGREED, milestone_id=past.id), [Gap.OVERDUE]),
        (expectation(agreement=Agreement.AGREED, milestone_id=p.milestones[0].id), []),
        (expectation(agreement=Agreement.COMMITTED_INSTEAD, commitment="c",
                     outcome=Outcome.NOT_MET, evidence="e"), [Gap.NOT_MET]),
        (expectation(agreement=Agreement.AGREED, milestone_id=past.id, outcome=Outcome.MET,
                     evidence="e"), []),  # reviewed as met: no longer overdue
    ]
    for e, expected in cases:
        assert gaps(e, p, TODAY) == expected, e
    summary = gap_summary(p, [e for e, _ in cases], TODAY)
    assert summary == {"not_committed": 2, "overdue": 1, "not_met": 1, "expectations": 7,
                       "with_gaps": 4, "met": 1}


@given(st.sampled_from([None, *Agreement]), st.sampled_from([None, *Outcome]))
def test_a_gap_is_either_not_committed_or_about_the_commitment(
        agreement: Agreement | None, outcome: Outcome | None) -> None:
    found = gaps(expectation(agreement=agreement, outcome=outcome), plan(PlanState.ACTIVE),
                 TODAY)
    if agreement in (None, Agreement.NOT_COMMITTED):
        assert found == [Gap.NOT_COMMITTED]
    else:
        assert Gap.NOT_COMMITTED not in found
        assert (Gap.NOT_MET in found) == (outcome in (Outcome.PARTLY, Outcome.NOT_MET))


# performance -------------------------------------------------------------------------

def test_performance_totals_hand_computed() -> None:
    done = MilestoneStatus.DONE
    first = plan(PlanState.ACTIVE, milestones=[
        Milestone(uuid.uuid4(), "a", date(2027, 1, 1), status=done,
                  actual_date=date(2027, 1, 1)),
        Milestone(uuid.uuid4(), "b", date(2027, 1, 2), status=done,
                  actual_date=date(2027, 1, 5)),
        Milestone(uuid.uuid4(), "c", date(2027, 3, 1))],
        budget_lines=[BudgetLine(uuid.uuid4(), "x", Decimal("100"), "CNY", Decimal("130"))],
        objectives=[objective("10", "0", "12"), objective("10", "0", None)])
    second = plan(PlanState.COMPLETED, milestones=[
        Milestone(uuid.uuid4(), "d", date(2027, 1, 3))],  # not done, past due: late
        budget_lines=[BudgetLine(uuid.uuid4(), "y", Decimal("200"), "CNY", Decimal("170"))])
    rows = [report.of_plan(p, TODAY) for p in (first, second)]
    totals = report.totals(rows)
    assert (totals.objectives, totals.objectives_achieved, totals.objectives_achieved_pct) \
        == (2, 1, Decimal("50.00"))
    assert (totals.milestones_judged, totals.milestones_on_time,
            totals.milestones_on_time_pct) == (3, 1, Decimal("33.33"))
    assert totals.budget["CNY"] == variance(Decimal("300"), Decimal("300"))
    assert report.totals([]).objectives_achieved_pct is None
