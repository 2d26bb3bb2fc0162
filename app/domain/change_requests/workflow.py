"""The change-request state machine as data (domain §3). Each action names the states it
leaves from, where it goes, who may take it and what must hold first. Use cases ask
``check`` before acting and the API shows ``allowed_actions`` from the same table: no
transition is decided anywhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.change_requests.approval_policy import Delegation, check_decider
from app.domain.change_requests.model import (
    ChangeRequestFacts,
    CRState,
    CRType,
    StepStatus,
)
from app.domain.common.errors import (
    DomainError,
    NotFound,
    NotYourAction,
    PreconditionUnmet,
    TransitionNotAllowed,
)
from app.domain.common.workflow import permitted


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


def _is_emergency(f: ChangeRequestFacts) -> str | None:
    return None if f.type is CRType.EMERGENCY else "only_emergency_changes"


@dataclass(frozen=True)
class Action:
    name: str
    sources: frozenset[CRState]
    target: Callable[[ChangeRequestFacts], CRState]
    parties: frozenset[Party]
    guards: tuple[Guard, ...] = ()


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
           lambda f: f.state, frozenset({Party.DEPARTMENT_HEAD}), (_is_emergency,)),
    Action("close", frozenset({CRState.IMPLEMENTED}), _to(CRState.CLOSED),
           frozenset({Party.REQUESTER, Party.PROJECT_MANAGER}), (_reviewed,)),
    Action("cancel", CANCELLABLE, _to(CRState.CANCELLED),
           frozenset({Party.REQUESTER, Party.ADMIN})),
)}


def _is_party(party: Party, facts: ChangeRequestFacts, principal: Principal,
              delegations: list[Delegation], now: datetime) -> bool:
    if party is Party.REQUESTER:
        return principal.id == facts.requester_id
    if party is Party.PROJECT_MANAGER:
        return Role.PROJECT_MANAGER in principal.roles
    if party is Party.ADMIN:
        return Role.ADMIN in principal.roles
    if party is Party.DEPARTMENT_HEAD:
        return (Role.DEPARTMENT_HEAD in principal.roles
                and principal.department_id == facts.department_id
                and principal.id != facts.requester_id)
    step = facts.current_step()
    if step is None:
        return False
    try:
        check_decider(facts, step, principal, delegations, now)
    except DomainError:
        return False
    return True


def check(facts: ChangeRequestFacts, name: str, principal: Principal,
          delegations: list[Delegation], now: datetime,
          step_id: UUID | None = None) -> CRState:
    """The state ``name`` leads to, or the reason it may not be taken now. Approval
    actions decide ``step_id`` (default: the current step); for them the separation-of-
    duties error itself is raised, so the caller hears which rule refused them."""
    action = ACTIONS.get(name)
    if action is None or facts.state not in action.sources:
        raise TransitionNotAllowed(action=name, state=facts.state,
                                   allowed=", ".join(allowed_in_state(facts.state)) or "none")
    if action.parties == {Party.APPROVER}:
        step = facts.current_step() if step_id is None else next(
            (s for s in facts.steps if s.id == step_id), None)
        if step is None:
            raise NotFound(entity="approval_step")
        check_decider(facts, step, principal, delegations, now)
    elif not any(_is_party(p, facts, principal, delegations, now) for p in action.parties):
        raise NotYourAction(action=name, parties=", ".join(sorted(action.parties)))
    for guard in action.guards:
        reason = guard(facts)
        if reason is not None:
            raise PreconditionUnmet(action=name, reason=reason)
    return action.target(facts)


def allowed_in_state(state: CRState) -> list[str]:
    return sorted(a.name for a in ACTIONS.values() if state in a.sources)


def allowed_actions(facts: ChangeRequestFacts, principal: Principal,
                    delegations: list[Delegation], now: datetime) -> list[str]:
    """What this principal may do now, guards included: what the API shows."""
    return permitted(allowed_in_state(facts.state),
                     lambda name: check(facts, name, principal, delegations, now))
