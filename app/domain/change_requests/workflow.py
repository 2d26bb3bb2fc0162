"""The change-request state machine as data (domain §3). Each action names the states it
leaves from, where it goes, who may take it and what must hold first; ``EFFECTS`` says
what it changes besides the state. Use cases call ``apply`` (the change after an action,
its event and what to store) and the API shows ``allowed_actions`` from the same table: no
transition is decided anywhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.change_requests import records
from app.domain.change_requests.approval_policy import (
    ApprovalPolicy,
    Decision,
    Delegation,
    approval_chain,
    decide,
)
from app.domain.change_requests.model import (
    ApprovalStep,
    ChangeRequest,
    ChangeRequestFacts,
    Conclusion,
    CRState,
    CRType,
    StepStatus,
)
from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import (
    FieldError,
    InvalidInput,
    PreconditionUnmet,
)
from app.domain.common.ids import new_id
from app.domain.common.workflow import (
    in_state,
    leaving,
    permitted,
    require_guards,
    require_party,
)
from app.domain.risk.matrix import RiskMatrix
from app.domain.training.competence import Competence


class Party(StrEnum):
    """Who may take an action, relative to the change request."""

    REQUESTER = "requester"
    PROJECT_MANAGER = "project_manager"  # any project manager
    APPROVER = "approver"  # whoever may decide the current step (separation of duties)
    DEPARTMENT_HEAD = "department_head"  # a head of the customer's department
    ADMIN = "admin"


Guard = Callable[[ChangeRequestFacts], str | None]  # a reason when it does not hold


def _form_complete(f: ChangeRequestFacts) -> str | None:
    return None if f.form_complete else "form_incomplete"


def _not_standard(f: ChangeRequestFacts) -> str | None:
    return "standard_change_needs_no_assessment" if f.type is CRType.STANDARD else None


def _panel_complete(f: ChangeRequestFacts) -> str | None:
    needed = {Role.PROJECT_MANAGER, Role.TECH_EXPERT}
    return None if needed <= f.assessor_roles else "panel_needs_project_manager_and_tech_expert"


def _tasks_finished(f: ChangeRequestFacts) -> str | None:
    return None if f.open_tasks == 0 else "open_tasks_remain"


def _reviewed(f: ChangeRequestFacts) -> str | None:
    if not f.review_recorded:
        return "review_missing"
    if f.type is CRType.EMERGENCY and not f.emergency_review_done:
        return "emergency_review_by_department_head_missing"
    return None


@dataclass(frozen=True)
class Action:
    """``types``: the kinds of change the action exists for; to any other it is never
    offered, nor named in a hint."""

    name: str
    sources: frozenset[CRState]
    target: Callable[[ChangeRequestFacts], CRState]
    parties: frozenset[Party]
    guards: tuple[Guard, ...] = ()
    types: frozenset[CRType] = frozenset(CRType)


def _to(state: CRState) -> Callable[[ChangeRequestFacts], CRState]:
    return lambda _: state


def _after_submit(f: ChangeRequestFacts) -> CRState:
    """Standard changes are pre-approved; emergencies go straight to the executive."""
    if f.type is CRType.STANDARD:
        return CRState.APPROVED
    if f.type is CRType.EMERGENCY:
        return CRState.AWAITING_APPROVAL
    return CRState.SUBMITTED


def _after_approval(f: ChangeRequestFacts) -> CRState:
    pending = [s for s in f.steps if s.status is StepStatus.PENDING]
    return CRState.APPROVED if len(pending) <= 1 else CRState.AWAITING_APPROVAL


CANCELLABLE = frozenset({CRState.DRAFT, CRState.SUBMITTED, CRState.ASSESSING,
                         CRState.AWAITING_APPROVAL, CRState.APPROVED, CRState.RETURNED})

ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("submit", frozenset({CRState.DRAFT, CRState.RETURNED}), _after_submit,
           frozenset({Party.REQUESTER}), (_form_complete,)),
    Action("start_assessment", frozenset({CRState.SUBMITTED}), _to(CRState.ASSESSING),
           frozenset({Party.PROJECT_MANAGER}), (_not_standard,)),
    Action("conclude_assessment", frozenset({CRState.ASSESSING}),
           _to(CRState.AWAITING_APPROVAL), frozenset({Party.PROJECT_MANAGER}),
           (_panel_complete,)),
    Action("approve", frozenset({CRState.AWAITING_APPROVAL}), _after_approval,
           frozenset({Party.APPROVER})),
    Action("reject", frozenset({CRState.AWAITING_APPROVAL}), _to(CRState.REJECTED),
           frozenset({Party.APPROVER})),
    Action("return", frozenset({CRState.AWAITING_APPROVAL}), _to(CRState.RETURNED),
           frozenset({Party.APPROVER})),
    Action("return_from_assessment", frozenset({CRState.ASSESSING}), _to(CRState.RETURNED),
           frozenset({Party.PROJECT_MANAGER})),
    Action("start_implementation", frozenset({CRState.APPROVED}), _to(CRState.IMPLEMENTING),
           frozenset({Party.REQUESTER, Party.PROJECT_MANAGER})),
    Action("complete_implementation", frozenset({CRState.IMPLEMENTING}),
           _to(CRState.IMPLEMENTED), frozenset({Party.REQUESTER, Party.PROJECT_MANAGER}),
           (_tasks_finished,)),
    Action("review_emergency", frozenset({CRState.IMPLEMENTING, CRState.IMPLEMENTED}),
           lambda f: f.state, frozenset({Party.DEPARTMENT_HEAD}),
           types=frozenset({CRType.EMERGENCY})),
    Action("close", frozenset({CRState.IMPLEMENTED}), _to(CRState.CLOSED),
           frozenset({Party.REQUESTER, Party.PROJECT_MANAGER}), (_reviewed,)),
    Action("cancel", CANCELLABLE, _to(CRState.CANCELLED),
           frozenset({Party.REQUESTER, Party.ADMIN})),
)}


def _is_party(party: Party, facts: ChangeRequestFacts, principal: Principal) -> bool:
    """Parties other than the approver, whom ``decide`` answers for."""
    if party is Party.REQUESTER:
        return principal.id == facts.requester_id
    if party is Party.PROJECT_MANAGER:
        return Role.PROJECT_MANAGER in principal.roles
    if party is Party.ADMIN:
        return Role.ADMIN in principal.roles
    return principal.heads(facts.department_id) and principal.id != facts.requester_id


def _checked(facts: ChangeRequestFacts, name: str, principal: Principal,
             delegations: list[Delegation], now: datetime,
             step_id: UUID | None,
             competence: Competence | None = None) -> tuple[CRState, Decision | None]:
    action = leaving(ACTIONS, name, facts.state, lambda: offered(facts))
    decision = None
    if action.parties == {Party.APPROVER}:
        decision = decide(facts, principal, delegations, now, step_id, competence)
    else:
        require_party(action, lambda party: _is_party(party, facts, principal))
    if facts.type not in action.types:
        raise PreconditionUnmet(action=name, reason="only_" + "_or_".join(
            sorted(action.types)) + "_changes")
    require_guards(action, facts)
    return action.target(facts), decision


def check(facts: ChangeRequestFacts, name: str, principal: Principal,
          delegations: list[Delegation], now: datetime,
          step_id: UUID | None = None) -> CRState:
    """The state ``name`` leads to, or the reason it may not be taken now. Approval
    actions decide ``step_id`` (default: the current step); for them the separation-of-
    duties error itself is raised, so the caller hears which rule refused them."""
    return _checked(facts, name, principal, delegations, now, step_id)[0]


def decides_step(name: str) -> bool:
    """Whether the action decides an approval step (approve, reject, return)."""
    return name in ACTIONS and ACTIONS[name].parties == {Party.APPROVER}


def allowed_in_state(state: CRState) -> list[str]:
    return in_state(ACTIONS, state)


def offered(facts: ChangeRequestFacts) -> list[str]:
    """The actions this change's state offers for its kind of change, whoever asks: what
    a refusal names as possible now."""
    return [name for name in allowed_in_state(facts.state) if facts.type in ACTIONS[name].types]


def allowed_actions(facts: ChangeRequestFacts, principal: Principal,
                    delegations: list[Delegation], now: datetime) -> list[str]:
    """Exactly what this principal may do now, guards included: what the API shows. Besides
    the table's actions, ``review`` (recorded at …/review, not a transition) while the
    caller may record it: closing needs it."""
    return sorted([
        *permitted(offered(facts), lambda name: check(facts, name, principal, delegations,
                                                        now)),
        *permitted(["review"], lambda _: records.check_review(facts, principal))])


# taking an action ------------------------------------------------------------------------

# What each action announces (change_request.<event>); the last approval says "approved".
EVENTS = {
    "submit": "submitted", "start_assessment": "assessment_started",
    "conclude_assessment": "assessment_concluded", "approve": "step_approved",
    "reject": "rejected", "return": "returned", "return_from_assessment": "returned",
    "start_implementation": "implementation_started",
    "complete_implementation": "implemented", "review_emergency": "emergency_reviewed",
    "close": "closed", "cancel": "cancelled",
}


@dataclass(frozen=True)
class Planning:
    """What planning and timing an approval chain reads, loaded by the caller: the approval
    policy, the risk matrix that rates a conclusion, and the business calendar a step's
    working time runs on."""

    policy: ApprovalPolicy
    matrix: RiskMatrix
    calendar: BusinessCalendar

    def due(self, start: datetime) -> datetime:
        """When a step that becomes current at ``start`` falls due."""
        return self.calendar.add_working_time(start, self.policy.step_due)


@dataclass(frozen=True)
class ActionInput:
    """What an action needs besides who takes it and when."""

    comment: str = ""
    step_id: UUID | None = None  # approve, reject, return: default the current step
    conclusion: Conclusion | None = None  # conclude_assessment
    planning: Planning | None = None  # the actions ``needs_planning`` names
    # What the actor holds for the approval rules in force (None: no rule, no check).
    competence: Competence | None = None


@dataclass(frozen=True)
class Lesson:
    """The knowledge article a closed change with lessons learned leaves behind."""

    title: str
    body: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """A change request after an action: its new state, the event that announces it, and
    what to store besides the change itself."""

    cr: ChangeRequest
    event: str  # change_request.<event>
    data: dict[str, Any]
    decision: Decision | None = None  # the step just decided, to store
    timed: ApprovalStep | None = None  # the step an approval made current, its clock started
    chain: list[ApprovalStep] | None = None  # a newly planned approval chain, to store
    lesson: Lesson | None = None  # an article to file; ``filed`` links it

    def filed(self, article_id: UUID) -> Outcome:
        return replace(self, cr=replace(self.cr, knowledge_article_id=article_id),
                       data={**self.data, "knowledge_article_id": str(article_id)},
                       lesson=None)


def plans_chain(cr_type: CRType, name: str) -> bool:
    """Whether the action plans a new approval chain: a conclusion from its estimates, an
    emergency's submit its one executive step."""
    return name == "conclude_assessment" or (name == "submit" and cr_type is CRType.EMERGENCY)


def needs_planning(cr: ChangeRequest, name: str) -> bool:
    """Whether ``apply`` needs ``ActionInput.planning``: to plan a chain, or to start the
    clock of the step an approval makes current (the last step's approval makes none, and
    an approval is the hottest write: it reads no policy it does not use)."""
    if plans_chain(cr.type, name):
        return True
    return name == "approve" and \
        sum(1 for s in cr.steps if s.status is StepStatus.PENDING) > 1


@dataclass(frozen=True)
class _Act:
    name: str
    principal: Principal
    now: datetime
    inputs: ActionInput
    decision: Decision | None
    data: dict[str, Any]

    def planning(self) -> Planning:
        assert self.inputs.planning is not None, f"{self.name} needs planning"
        return self.inputs.planning

    def outcome(self, cr: ChangeRequest, **changes: Any) -> Outcome:
        return Outcome(cr, EVENTS[self.name], self.data, **changes)


def _chain(cr: ChangeRequest, planning: Planning, now: datetime) -> list[ApprovalStep]:
    """The chain the policy asks for; only the first step is current, so only its clock
    starts now."""
    plan = approval_chain(cr.type, cr.category, cr.estimated_cost, cr.risk_level,
                          cr.department_id, planning.policy)
    return [ApprovalStep(new_id(), i, p.role, p.department_id,
                         planning.due(now) if i == 1 else None,
                         started_at=now if i == 1 else None)
            for i, p in enumerate(plan, 1)]


def _submit(cr: ChangeRequest, act: _Act) -> Outcome:
    """A new round starts without approvals (the last round's stay stored)."""
    cr.round += 1
    cr.steps = _chain(cr, act.planning(), act.now) \
        if plans_chain(cr.type, act.name) else []
    return act.outcome(cr, chain=cr.steps or None)


def _conclude(cr: ChangeRequest, act: _Act) -> Outcome:
    c = act.inputs.conclusion
    if c is None:
        raise InvalidInput([FieldError("/conclusion", "missing")])
    planning = act.planning()
    cr.estimated_cost, cr.currency = c.cost, c.currency
    cr.estimated_schedule_days = c.schedule_days
    cr.likelihood, cr.impact = c.likelihood, c.impact
    cr.risk_level = planning.matrix.level(c.likelihood, c.impact)
    cr.recommendation, cr.assessment_summary = c.recommendation, c.summary
    cr.concluded_by, cr.concluded_at = act.principal.id, act.now
    cr.steps = _chain(cr, planning, act.now)
    return replace(act.outcome(cr, chain=cr.steps),
                   data={**act.data, "chain": [s.role for s in cr.steps]})


def _decide(status: StepStatus) -> Callable[[ChangeRequest, _Act], Outcome]:
    def effect(cr: ChangeRequest, act: _Act) -> Outcome:
        assert act.decision is not None
        deputy_for = act.decision.on_behalf_of
        step = replace(act.decision.step, status=status, decided_by=act.principal.id,
                       decided_at=act.now, on_behalf_of=deputy_for,
                       comment=act.inputs.comment)
        cr.steps = [step if s.id == step.id else s for s in cr.steps]
        last = status is StepStatus.APPROVED and cr.state is CRState.APPROVED
        timed = _start_next(cr, act) if cr.state is CRState.AWAITING_APPROVAL else None
        return Outcome(cr, "approved" if last else EVENTS[act.name], {
            **act.data, "step": step.position, "role": step.role,
            "on_behalf_of": str(deputy_for) if deputy_for else None},
            decision=Decision(step, deputy_for), timed=timed)
    return effect


def _start_next(cr: ChangeRequest, act: _Act) -> ApprovalStep | None:
    """The step an approval made current gets its working time from this moment."""
    current = cr.facts().current_step()
    if current is None:
        return None
    timed = replace(current, due_at=act.planning().due(act.now), started_at=act.now)
    cr.steps = [timed if s.id == timed.id else s for s in cr.steps]
    return timed


def _review_emergency(cr: ChangeRequest, act: _Act) -> Outcome:
    cr.emergency_reviewed_by, cr.emergency_reviewed_at = act.principal.id, act.now
    return act.outcome(cr)


def _complete(cr: ChangeRequest, act: _Act) -> Outcome:
    cr.implemented_at = act.now
    return act.outcome(cr)


def _close(cr: ChangeRequest, act: _Act) -> Outcome:
    if not cr.lessons_learned:
        return act.outcome(cr)
    return act.outcome(cr, lesson=Lesson(f"变更经验：{cr.title}"[:200], _lesson_body(cr),
                                         (cr.category.value,)))


def _lesson_body(cr: ChangeRequest) -> str:
    """What was asked, estimated and done, and what it taught."""
    lines = [f"## {cr.title}", "", cr.description, "",
             f"- 原因 / reason: {cr.reason}", f"- 预期效果 / expected: {cr.expected_effect}",
             f"- 估算 / estimated: {cr.estimated_cost} {cr.currency}, "
             f"{cr.estimated_schedule_days} d",
             f"- 实际 / actual: {cr.actual_cost} {cr.currency}, {cr.actual_schedule_days} d",
             f"- 目标达成 / goals met: {cr.goals_met}",
             f"- 客户满意度 / satisfaction: {cr.customer_satisfaction}/5", "",
             "### 经验教训 / lessons learned", "", cr.lessons_learned or ""]
    return "\n".join(lines)[:20_000]


def _state_only(cr: ChangeRequest, act: _Act) -> Outcome:
    return act.outcome(cr)


# What an action changes besides the state; the rest change the state only.
EFFECTS: dict[str, Callable[[ChangeRequest, _Act], Outcome]] = {
    "submit": _submit, "conclude_assessment": _conclude,
    "approve": _decide(StepStatus.APPROVED), "reject": _decide(StepStatus.REJECTED),
    "return": _decide(StepStatus.RETURNED), "review_emergency": _review_emergency,
    "complete_implementation": _complete, "close": _close,
}


def apply(cr: ChangeRequest, name: str, principal: Principal, now: datetime,
          delegations: list[Delegation], inputs: ActionInput = ActionInput()) -> Outcome:
    """The change request after ``principal`` takes action ``name`` at ``now``, or the
    reason they may not (as ``check``). ``cr`` is left as it was; the outcome holds a
    copy. The separation-of-duties check runs once, and its decision is what is stored."""
    target, decision = _checked(cr.facts(), name, principal, delegations, now,
                                inputs.step_id, inputs.competence)
    data = {"action": name, "from": cr.state, "to": target, "comment": inputs.comment}
    act = _Act(name, principal, now, inputs, decision, data)
    return EFFECTS.get(name, _state_only)(replace(cr, state=target, steps=list(cr.steps)),
                                          act)
