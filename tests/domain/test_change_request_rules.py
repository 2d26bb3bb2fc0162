"""Change-request rules without a database: the approval chain the policy derives, who
may decide a step (separation of duties, delegation, order), and the state machine."""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import Role
from app.domain.change_requests.approval_policy import (
    ApprovalOutOfOrder,
    ApprovalPolicy,
    ApproverAlreadyDecided,
    ApproverDepartmentMismatch,
    ApproverRoleMismatch,
    Decision,
    Delegation,
    SelfApprovalForbidden,
    approval_chain,
    check_decider,
    decide,
    overdue,
    stands_in,
)
from app.domain.change_requests.model import (
    ApprovalStep,
    AssessmentEntry,
    ChangeRequest,
    ChangeRequestFacts,
    Conclusion,
    CRCategory,
    CRState,
    CRType,
    Priority,
    Recommendation,
    StepStatus,
)
from app.domain.change_requests.workflow import (
    ACTIONS,
    EVENTS,
    ActionInput,
    Planning,
    allowed_actions,
    apply,
    check,
    offered,
    plans_chain,
)
from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import (
    DomainError,
    InvalidInput,
    NotYourAction,
    PreconditionUnmet,
    TransitionNotAllowed,
)
from app.domain.risk.matrix import RiskLevel, RiskMatrix

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
EAST, WEST = uuid.uuid4(), uuid.uuid4()
POLICY = ApprovalPolicy()


def person(*roles: Role, department: uuid.UUID = EAST) -> Principal:
    return Principal(uuid.uuid4(), PrincipalKind.USER, "p", department, frozenset(roles))


REQUESTER = person(Role.ACCOUNT_MANAGER)
HEAD = person(Role.DEPARTMENT_HEAD)
FINANCE = person(Role.FINANCE)
EXECUTIVE = person(Role.EXECUTIVE)
PM = person(Role.PROJECT_MANAGER)
ADMIN = person(Role.ADMIN)


def steps(*roles: Role) -> list[ApprovalStep]:
    return [ApprovalStep(uuid.uuid4(), i, role, EAST if role is Role.DEPARTMENT_HEAD else None,
                         NOW + timedelta(days=2)) for i, role in enumerate(roles, 1)]


def facts(state: CRState = CRState.AWAITING_APPROVAL, cr_type: CRType = CRType.NORMAL,
          **changes: object) -> ChangeRequestFacts:
    values: dict[str, object] = {
        "id": uuid.uuid4(), "state": state, "type": cr_type, "category": CRCategory.SCOPE,
        "requester_id": REQUESTER.id, "department_id": EAST, "form_complete": True,
        "steps": steps(Role.DEPARTMENT_HEAD, Role.FINANCE, Role.EXECUTIVE)}
    values.update(changes)
    return ChangeRequestFacts(**values)  # type: ignore[arg-type]


# the approval chain ----------------------------------------------------------------

@pytest.mark.parametrize(("cost", "likelihood", "impact", "category", "expected"), [
    (80_000, 4, 4, CRCategory.SCOPE, ["department_head", "finance", "executive"]),
    (10_000, 1, 2, CRCategory.SCOPE, ["department_head"]),
    (49_999, 2, 3, CRCategory.SCHEDULE, ["department_head"]),
    (50_000, 2, 3, CRCategory.SCHEDULE, ["department_head", "finance"]),
    (600_000, 1, 1, CRCategory.SCOPE, ["department_head", "finance", "executive"]),
    (500_000, 1, 1, CRCategory.SCOPE, ["department_head", "finance", "executive"]),
    ("499999.99", 1, 1, CRCategory.SCOPE, ["department_head", "finance"]),
    ("500000.01", 1, 1, CRCategory.SCOPE, ["department_head", "finance", "executive"]),
    (1_000, 1, 1, CRCategory.PRICE_CONTRACT, ["department_head", "executive"]),
    (1_000, 5, 5, CRCategory.SERVICE_LEVEL, ["department_head", "executive"]),
])
def test_the_default_policy_derives_the_chain(cost: int | str, likelihood: int, impact: int,
                                              category: CRCategory,
                                              expected: list[str]) -> None:
    risk = RiskMatrix.default().level(likelihood, impact)
    chain = approval_chain(CRType.NORMAL, category, Decimal(cost), risk, EAST, POLICY)
    assert [s.role.value for s in chain] == expected
    assert chain[0].department_id == EAST
    assert all(s.department_id is None for s in chain[1:])


def test_standard_needs_no_approval_and_emergency_one_executive() -> None:
    assert approval_chain(CRType.STANDARD, CRCategory.SCOPE, Decimal(10**7),
                          RiskLevel.CRITICAL, EAST, POLICY) == []
    emergency = approval_chain(CRType.EMERGENCY, CRCategory.SCOPE, Decimal(10),
                               RiskLevel.LOW, EAST, POLICY)
    assert [s.role for s in emergency] == [Role.EXECUTIVE]


@given(st.integers(0, 2_000_000), st.integers(0, 2_000_000),
       st.sampled_from(list(RiskLevel)), st.sampled_from(list(CRCategory)))
@example(49_999, 50_000, RiskLevel.LOW, CRCategory.SCOPE)
@example(499_999, 500_000, RiskLevel.LOW, CRCategory.SCOPE)
def test_more_cost_never_removes_an_approval(a: int, b: int, risk: RiskLevel,
                                             category: CRCategory) -> None:
    low, high = sorted((a, b))
    fewer = {s.role for s in approval_chain(CRType.NORMAL, category, Decimal(low), risk,
                                            EAST, POLICY)}
    more = {s.role for s in approval_chain(CRType.NORMAL, category, Decimal(high), risk,
                                           EAST, POLICY)}
    assert fewer <= more and Role.DEPARTMENT_HEAD in fewer


@given(st.decimals(0, 2_000_000, places=2), st.sampled_from(list(RiskLevel)),
       st.sampled_from(list(CRCategory)))
@example(Decimal(500_000), RiskLevel.LOW, CRCategory.SCOPE)
@example(Decimal("499999.99"), RiskLevel.LOW, CRCategory.SCOPE)
@example(Decimal("500000.01"), RiskLevel.MEDIUM, CRCategory.SCHEDULE)
@example(Decimal(50_000), RiskLevel.LOW, CRCategory.SCOPE)
@example(Decimal("49999.99"), RiskLevel.LOW, CRCategory.SCOPE)
def test_finance_and_the_executive_join_at_their_thresholds_inclusive(
        cost: Decimal, risk: RiskLevel, category: CRCategory) -> None:
    """From 50,000 finance approves and from 500,000 an executive (the amount itself
    included); high risk and price/contract changes need the executive at any cost."""
    roles = {s.role for s in approval_chain(CRType.NORMAL, category, cost, risk, EAST, POLICY)}
    assert (Role.FINANCE in roles) is (cost >= 50_000)
    executive = cost >= 500_000 or risk in {RiskLevel.HIGH, RiskLevel.CRITICAL} \
        or category is CRCategory.PRICE_CONTRACT
    assert (Role.EXECUTIVE in roles) is executive


def test_policy_round_trips() -> None:
    policy = ApprovalPolicy(finance_from=Decimal(1000), step_due=timedelta(hours=24))
    assert ApprovalPolicy.from_dict(policy.to_dict()) == policy


# separation of duties ----------------------------------------------------------------

def test_the_requester_never_approves_their_own_change() -> None:
    requester_head = Principal(REQUESTER.id, PrincipalKind.USER, "p", EAST,
                               frozenset({Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER}))
    f = facts()
    with pytest.raises(SelfApprovalForbidden):
        check_decider(f, f.steps[0], requester_head, [], NOW)


def test_steps_are_decided_in_order() -> None:
    f = facts()
    with pytest.raises(ApprovalOutOfOrder):
        check_decider(f, f.steps[1], FINANCE, [], NOW)
    assert check_decider(f, f.steps[0], HEAD, [], NOW) is None


def test_one_person_decides_at_most_one_step() -> None:
    both = person(Role.DEPARTMENT_HEAD, Role.FINANCE)
    f = facts()
    f.steps[0].status, f.steps[0].decided_by = StepStatus.APPROVED, both.id
    with pytest.raises(ApproverAlreadyDecided):
        check_decider(f, f.steps[1], both, [], NOW)


def test_role_and_department_must_match() -> None:
    f = facts()
    with pytest.raises(ApproverRoleMismatch):
        check_decider(f, f.steps[0], FINANCE, [], NOW)
    with pytest.raises(ApproverDepartmentMismatch):
        check_decider(f, f.steps[0], person(Role.DEPARTMENT_HEAD, department=WEST), [], NOW)


def test_a_deputy_with_the_same_role_decides_while_the_approver_is_away() -> None:
    deputy = person(Role.DEPARTMENT_HEAD, department=WEST)
    away = Delegation(HEAD.id, HEAD.roles, EAST, deputy.id, Role.DEPARTMENT_HEAD,
                      NOW - timedelta(days=1), NOW + timedelta(days=1))
    f = facts()
    assert check_decider(f, f.steps[0], deputy, [away], NOW) == HEAD.id
    back = Delegation(**{**away.__dict__, "ends_at": NOW - timedelta(hours=1)})
    with pytest.raises(ApproverDepartmentMismatch):
        check_decider(f, f.steps[0], deputy, [back], NOW)
    no_role = person(Role.FINANCE)
    wrong = Delegation(**{**away.__dict__, "deputy_id": no_role.id})
    with pytest.raises(ApproverRoleMismatch):
        check_decider(f, f.steps[0], no_role, [wrong], NOW)


def test_a_deputy_never_approves_on_behalf_of_the_requester() -> None:
    """Separation of duties holds through delegation: a requester who heads the
    department cannot have their deputy approve their own change for them."""
    requester_head = Principal(REQUESTER.id, PrincipalKind.USER, "p", EAST,
                               frozenset({Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER}))
    deputy = person(Role.DEPARTMENT_HEAD, department=WEST)
    away = Delegation(requester_head.id, requester_head.roles, EAST, deputy.id,
                      Role.DEPARTMENT_HEAD, NOW - timedelta(days=1), NOW + timedelta(days=1))
    f = facts()
    with pytest.raises(ApproverDepartmentMismatch):
        check_decider(f, f.steps[0], deputy, [away], NOW)
    assert allowed_actions(f, deputy, [away], NOW) == []
    assert not stands_in(f, deputy, [away], NOW)


def test_a_deputy_never_decides_for_someone_who_already_decided_a_step() -> None:
    """One person decides at most one step, also through a deputy: whoever approved the
    finance step cannot have a deputy decide their department's step for them."""
    both = person(Role.FINANCE, Role.DEPARTMENT_HEAD)
    deputy = person(Role.DEPARTMENT_HEAD, department=WEST)
    away = Delegation(both.id, both.roles, EAST, deputy.id, Role.DEPARTMENT_HEAD,
                      NOW - timedelta(days=1), NOW + timedelta(days=1))
    f = facts(steps=steps(Role.FINANCE, Role.DEPARTMENT_HEAD))
    f.steps[0].status, f.steps[0].decided_by = StepStatus.APPROVED, both.id
    with pytest.raises(ApproverDepartmentMismatch):
        check_decider(f, f.steps[1], deputy, [away], NOW)
    assert not stands_in(f, deputy, [away], NOW)
    fresh = facts(steps=steps(Role.FINANCE, Role.DEPARTMENT_HEAD))
    fresh.steps[0].status, fresh.steps[0].decided_by = StepStatus.APPROVED, FINANCE.id
    assert decide(fresh, deputy, [away], NOW) == Decision(fresh.steps[1], both.id)


def test_a_step_is_overdue_only_while_pending_after_its_due_time() -> None:
    step = steps(Role.FINANCE)[0]
    assert not overdue(step, NOW) and overdue(step, step.due_at + timedelta(seconds=1))
    step.status = StepStatus.APPROVED
    assert not overdue(step, step.due_at + timedelta(days=9))


# the state machine ---------------------------------------------------------------------

@given(st.sampled_from(list(CRState)), st.sampled_from(sorted(ACTIONS)))
def test_an_action_is_refused_from_every_state_it_does_not_leave(state: CRState,
                                                                 name: str) -> None:
    f = facts(state=state)
    if state in ACTIONS[name].sources:
        return
    with pytest.raises(TransitionNotAllowed):
        check(f, name, REQUESTER, [], NOW)


@pytest.mark.parametrize(("cr_type", "target"), [
    (CRType.NORMAL, CRState.SUBMITTED), (CRType.STANDARD, CRState.APPROVED),
    (CRType.EMERGENCY, CRState.AWAITING_APPROVAL)])
def test_submitting_goes_where_the_type_says(cr_type: CRType, target: CRState) -> None:
    f = facts(state=CRState.DRAFT, cr_type=cr_type)
    assert check(f, "submit", REQUESTER, [], NOW) is target
    with pytest.raises(NotYourAction):
        check(f, "submit", PM, [], NOW)
    with pytest.raises(PreconditionUnmet):
        check(facts(state=CRState.DRAFT, form_complete=False), "submit", REQUESTER, [], NOW)


def test_the_panel_needs_a_project_manager_and_a_tech_expert() -> None:
    f = facts(state=CRState.ASSESSING, assessor_roles=frozenset({Role.PROJECT_MANAGER}))
    with pytest.raises(PreconditionUnmet):
        check(f, "conclude_assessment", PM, [], NOW)
    f.assessor_roles = frozenset({Role.PROJECT_MANAGER, Role.TECH_EXPERT})
    assert check(f, "conclude_assessment", PM, [], NOW) is CRState.AWAITING_APPROVAL


def test_the_last_approval_approves_the_change() -> None:
    f = facts(steps=steps(Role.DEPARTMENT_HEAD, Role.FINANCE))
    assert check(f, "approve", HEAD, [], NOW) is CRState.AWAITING_APPROVAL
    f.steps[0].status, f.steps[0].decided_by = StepStatus.APPROVED, HEAD.id
    assert check(f, "approve", FINANCE, [], NOW) is CRState.APPROVED
    with pytest.raises(SelfApprovalForbidden):
        check(f, "approve", REQUESTER, [], NOW)


def test_implementation_ends_only_when_tasks_are_done_and_closing_needs_the_review() -> None:
    f = facts(state=CRState.IMPLEMENTING, open_tasks=2)
    with pytest.raises(PreconditionUnmet):
        check(f, "complete_implementation", PM, [], NOW)
    f.open_tasks = 0
    assert check(f, "complete_implementation", PM, [], NOW) is CRState.IMPLEMENTED
    done = facts(state=CRState.IMPLEMENTED, cr_type=CRType.EMERGENCY, review_recorded=True)
    with pytest.raises(PreconditionUnmet):
        check(done, "close", REQUESTER, [], NOW)
    assert "review_emergency" in allowed_actions(done, HEAD, [], NOW)
    done.emergency_review_done = True
    assert check(done, "close", REQUESTER, [], NOW) is CRState.CLOSED


def test_a_requester_who_heads_the_department_never_reviews_their_own_emergency() -> None:
    requester_head = Principal(REQUESTER.id, PrincipalKind.USER, "p", EAST,
                               frozenset({Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER}))
    done = facts(state=CRState.IMPLEMENTED, cr_type=CRType.EMERGENCY, review_recorded=True)
    with pytest.raises(NotYourAction):
        check(done, "review_emergency", requester_head, [], NOW)
    assert "review_emergency" not in allowed_actions(done, requester_head, [], NOW)
    assert check(done, "review_emergency", HEAD, [], NOW) is CRState.IMPLEMENTED


def test_allowed_actions_differ_by_person() -> None:
    f = facts(state=CRState.AWAITING_APPROVAL)
    assert allowed_actions(f, HEAD, [], NOW) == ["approve", "reject", "return"]
    assert allowed_actions(f, FINANCE, [], NOW) == []
    assert allowed_actions(f, REQUESTER, [], NOW) == ["cancel"]
    assert allowed_actions(facts(state=CRState.CLOSED), REQUESTER, [], NOW) == []


@pytest.mark.parametrize(("cr_type", "reviewed", "expected"), [
    # the review is recorded at …/review, and closing needs it: it is offered as ``review``
    (CRType.NORMAL, False, {"requester": ["review"], "pm": ["review"], "head": []}),
    (CRType.NORMAL, True, {"requester": ["close", "review"], "pm": ["close", "review"],
                           "head": []}),
    (CRType.EMERGENCY, True, {"requester": ["review"], "pm": ["review"],
                              "head": ["review_emergency"]}),
])
def test_an_implemented_change_offers_the_review_to_whoever_may_record_it(
        cr_type: CRType, reviewed: bool, expected: dict[str, list[str]]) -> None:
    f = facts(state=CRState.IMPLEMENTED, cr_type=cr_type, review_recorded=reviewed)
    assert {who: allowed_actions(f, p, [], NOW) for who, p in (
        ("requester", REQUESTER), ("pm", PM), ("head", HEAD))} == expected
    assert allowed_actions(f, FINANCE, [], NOW) == allowed_actions(f, ADMIN, [], NOW) == []


@given(st.sampled_from(list(CRState)), st.sampled_from(list(CRType)),
       st.sampled_from(sorted(ACTIONS)))
def test_a_refusal_only_names_actions_that_exist_for_this_kind_of_change(
        state: CRState, cr_type: CRType, name: str) -> None:
    try:
        check(facts(state=state, cr_type=cr_type), name, REQUESTER, [], NOW)
    except TransitionNotAllowed as refused:
        hinted = refused.params["allowed"].split(", ")
        assert all(h == "none" or cr_type in ACTIONS[h].types for h in hinted)
        assert hinted == (offered(facts(state=state, cr_type=cr_type)) or ["none"])
    except DomainError:
        pass


def test_a_close_refused_on_a_normal_change_suggests_no_emergency_review() -> None:
    with pytest.raises(TransitionNotAllowed) as refused:
        check(facts(state=CRState.IMPLEMENTING), "close", REQUESTER, [], NOW)
    assert refused.value.params["allowed"] == "complete_implementation"
    with pytest.raises(PreconditionUnmet) as unmet:
        check(facts(state=CRState.IMPLEMENTED), "review_emergency", HEAD, [], NOW)
    assert unmet.value.params["reason"] == "only_emergency_changes"


# apply: the action's effects -----------------------------------------------------------


DEPUTY = person(Role.DEPARTMENT_HEAD, department=WEST)
AWAY = Delegation(HEAD.id, HEAD.roles, EAST, DEPUTY.id, Role.DEPARTMENT_HEAD,
                  NOW - timedelta(days=1), NOW + timedelta(days=1))
PLANNING = Planning(POLICY, RiskMatrix.default(), BusinessCalendar())
CONCLUSION = Conclusion(Decimal(80_000), "CNY", 10, 4, 4, Recommendation.PROCEED, "ok")
DECISIONS = {"approve": StepStatus.APPROVED, "reject": StepStatus.REJECTED,
             "return": StepStatus.RETURNED}


def change(state: CRState, cr_type: CRType, decided: int,
           lessons: str | None) -> ChangeRequest:
    chain = steps(Role.DEPARTMENT_HEAD, Role.FINANCE, Role.EXECUTIVE)
    for step, by in zip(chain[:decided], (HEAD, FINANCE), strict=False):
        step.status, step.decided_by = StepStatus.APPROVED, by.id
    return ChangeRequest(
        id=uuid.uuid4(), customer_id=uuid.uuid4(), department_id=EAST, owner_id=REQUESTER.id,
        requester_id=REQUESTER.id, title="t", description="d", reason="r",
        expected_effect="e", category=CRCategory.SCOPE, type=cr_type, priority=Priority.HIGH,
        requested_completion_date=NOW.date(), attachments=[], state=state, round=1,
        currency="CNY", version=3, created_at=NOW, updated_at=NOW, steps=chain,
        lessons_learned=lessons, reviewed_at=NOW)


changes = st.builds(change, st.sampled_from(list(CRState)), st.sampled_from(list(CRType)),
                    st.integers(0, 2), st.sampled_from([None, "", "keep it small"]))
actors = st.sampled_from([REQUESTER, HEAD, FINANCE, EXECUTIVE, PM, ADMIN, DEPUTY])


@given(changes, st.sampled_from(sorted(ACTIONS)), actors, st.sampled_from([[], [AWAY]]))
@example(change(CRState.AWAITING_APPROVAL, CRType.NORMAL, 0, None), "approve", DEPUTY,
         [AWAY])
@example(change(CRState.AWAITING_APPROVAL, CRType.NORMAL, 2, None), "approve", EXECUTIVE,
         [])
@example(change(CRState.IMPLEMENTED, CRType.NORMAL, 0, "keep it small"), "close",
         REQUESTER, [])
def test_apply_takes_the_action_check_allows_and_leaves_the_input_alone(
        cr: ChangeRequest, name: str, actor: Principal,
        delegations: list[Delegation]) -> None:
    inputs = ActionInput(comment="c", conclusion=CONCLUSION, planning=PLANNING)
    before = copy.deepcopy(cr)
    try:
        target = check(cr.facts(), name, actor, delegations, NOW)
    except DomainError as refused:
        with pytest.raises(type(refused)):
            apply(cr, name, actor, NOW, delegations, inputs)
        return
    done = apply(cr, name, actor, NOW, delegations, inputs)
    assert cr == before
    assert done.cr.state is target and done.cr.version == cr.version
    assert done.data["action"] == name and done.data["to"] is target
    assert done.event == ("approved" if name == "approve" and target is CRState.APPROVED
                          else EVENTS[name])
    if name in DECISIONS:
        assert done.decision is not None
        decided = [s for s in done.cr.steps if s not in cr.steps and s != done.timed]
        assert decided == [done.decision.step]
        assert decided[0].status is DECISIONS[name] and decided[0].decided_by == actor.id
        assert decided[0].on_behalf_of == done.decision.on_behalf_of \
            == (HEAD.id if actor is DEPUTY else None)
        assert done.data["on_behalf_of"] == (str(HEAD.id) if actor is DEPUTY else None)
    else:
        assert done.decision is None
    assert (done.chain is not None) is plans_chain(cr.type, name)
    if done.chain is not None:  # only the first step's clock runs
        assert done.cr.steps == done.chain
        assert all(s.status is StepStatus.PENDING for s in done.chain)
        assert [s.due_at for s in done.chain] == [
            PLANNING.due(NOW), *(None for _ in done.chain[1:])]
    if done.timed is not None:
        assert name == "approve" and done.timed == done.cr.facts().current_step()
        assert done.timed.due_at == PLANNING.due(NOW)
    assert (done.lesson is not None) is (name == "close" and bool(cr.lessons_learned))


@given(st.sampled_from(sorted(DECISIONS)), st.integers(0, 2))
def test_a_decision_is_the_one_separation_of_duties_answered(name: str,
                                                             decided: int) -> None:
    cr = change(CRState.AWAITING_APPROVAL, CRType.NORMAL, decided, None)
    decider = (HEAD, FINANCE, EXECUTIVE)[decided]
    expected = decide(cr.facts(), decider, [], NOW)
    done = apply(cr, name, decider, NOW, [], ActionInput(step_id=expected.step.id,
                                                         planning=PLANNING))
    assert done.decision is not None and done.decision.step.id == expected.step.id
    assert done.data["step"] == expected.step.position
    if done.cr.state is CRState.AWAITING_APPROVAL:  # the next step is not theirs to decide
        with pytest.raises(ApproverAlreadyDecided):
            apply(done.cr, "approve", decider, NOW, [])


def panel_assessed() -> list[AssessmentEntry]:
    """The round's assessments by the panel a conclusion needs (project manager and tech
    expert)."""
    return [AssessmentEntry(
        id=uuid.uuid4(), round=1, assessor_id=uuid.uuid4(), assessor_role=role, necessity=3,
        feasibility=3, scope_impact="", schedule_days=5, cost=Decimal(1), resources="",
        likelihood=2, impact=2, recommendation=Recommendation.PROCEED, comment="",
        created_at=NOW) for role in (Role.PROJECT_MANAGER, Role.TECH_EXPERT)]


def test_a_conclusion_plans_the_chain_from_its_estimates() -> None:
    cr = change(CRState.ASSESSING, CRType.NORMAL, 0, None)
    with pytest.raises(PreconditionUnmet):  # the panel has not assessed yet
        apply(cr, "conclude_assessment", PM, NOW, [], ActionInput(planning=PLANNING))
    cr.assessments = panel_assessed()
    with pytest.raises(InvalidInput):
        apply(cr, "conclude_assessment", PM, NOW, [], ActionInput(planning=PLANNING))
    done = apply(cr, "conclude_assessment", PM, NOW, [],
                 ActionInput(conclusion=CONCLUSION, planning=PLANNING))
    assert done.cr.risk_level is RiskLevel.HIGH and done.cr.concluded_by == PM.id
    assert done.data["chain"] == [Role.DEPARTMENT_HEAD, Role.FINANCE, Role.EXECUTIVE]
    assert done.chain == done.cr.steps and done.cr.steps[0].department_id == EAST


def test_each_step_falls_due_the_working_time_after_it_becomes_current() -> None:
    """Domain §3: a step's clock starts when the previous step is decided, not when the
    chain is planned; a step still waiting its turn is never late."""
    cr = change(CRState.AWAITING_APPROVAL, CRType.NORMAL, 0, None)
    cr.steps = done_chain = apply(
        replace(cr, state=CRState.ASSESSING, assessments=panel_assessed()),
        "conclude_assessment", PM, NOW, [],
        ActionInput(conclusion=CONCLUSION, planning=PLANNING)).cr.steps
    first_due = PLANNING.due(NOW)
    assert [s.due_at for s in done_chain] == [first_due, None, None]
    assert first_due - NOW >= POLICY.step_due  # working time: nights and weekends excluded
    late = first_due + timedelta(hours=30)  # the head decides after their step was due
    assert overdue(cr.steps[0], late) and not any(overdue(s, late) for s in cr.steps[1:])
    done = apply(cr, "approve", HEAD, late, [], ActionInput(planning=PLANNING))
    assert done.timed is not None and done.timed.position == 2
    assert [s.due_at for s in done.cr.steps] == [first_due, PLANNING.due(late), None]
    assert PLANNING.due(late) > first_due + POLICY.step_due
    assert not overdue(done.cr.steps[1], late + timedelta(hours=1))
    last = apply(done.cr, "approve", FINANCE, late + timedelta(hours=1), [],
                 ActionInput(planning=PLANNING))
    assert last.cr.steps[2].due_at == PLANNING.due(late + timedelta(hours=1))
    final = apply(last.cr, "approve", EXECUTIVE, late + timedelta(hours=2), [],
                  ActionInput(planning=PLANNING))
    assert final.cr.state is CRState.APPROVED and final.timed is None


def test_an_emergency_submit_plans_its_executive_step_and_a_normal_one_none() -> None:
    emergency = change(CRState.DRAFT, CRType.EMERGENCY, 0, None)
    done = apply(emergency, "submit", REQUESTER, NOW, [], ActionInput(planning=PLANNING))
    assert [s.role for s in done.cr.steps] == [Role.EXECUTIVE] and done.cr.round == 2
    normal = apply(change(CRState.DRAFT, CRType.NORMAL, 0, None), "submit", REQUESTER, NOW,
                   [])
    assert normal.cr.steps == [] and normal.chain is None
