"""变更审批: which approvals a change needs, derived from its concluded assessment by the
administrator's policy, and who may decide a step (separation of duties)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.change_requests.model import (
    ApprovalStep,
    ChangeRequestFacts,
    CRCategory,
    CRState,
    CRType,
    StepStatus,
)
from app.domain.common.errors import DomainError, ErrorKind, NotFound
from app.domain.risk.matrix import RiskLevel
from app.domain.training.competence import Competence, Duty, require


@dataclass(frozen=True)
class ApprovalPolicy:
    """Defaults from domain §3: the department head always; finance from 50,000; an
    executive for high or critical risk, from 500,000, or for price/contract changes."""

    finance_from: Decimal = Decimal(50_000)
    executive_from: Decimal = Decimal(500_000)
    executive_risk_levels: frozenset[RiskLevel] = frozenset({RiskLevel.HIGH,
                                                             RiskLevel.CRITICAL})
    executive_categories: frozenset[CRCategory] = frozenset({CRCategory.PRICE_CONTRACT})
    step_due: timedelta = field(default=timedelta(hours=48))  # working time

    def to_dict(self) -> dict[str, Any]:
        return {"finance_from": str(self.finance_from),
                "executive_from": str(self.executive_from),
                "executive_risk_levels": sorted(lv.label for lv in self.executive_risk_levels),
                "executive_categories": sorted(self.executive_categories),
                "step_due_hours": self.step_due.total_seconds() / 3600}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApprovalPolicy:
        return cls(finance_from=Decimal(str(data["finance_from"])),
                   executive_from=Decimal(str(data["executive_from"])),
                   executive_risk_levels=frozenset(RiskLevel.parse(x)
                                                   for x in data["executive_risk_levels"]),
                   executive_categories=frozenset(CRCategory(x)
                                                  for x in data["executive_categories"]),
                   step_due=timedelta(hours=float(data["step_due_hours"])))


@dataclass(frozen=True)
class StepPlan:
    role: Role
    department_id: UUID | None  # set for the department head's step


def approval_chain(cr_type: CRType, category: CRCategory, cost: Decimal | None,
                   risk: RiskLevel | None, department_id: UUID,
                   policy: ApprovalPolicy) -> list[StepPlan]:
    """The ordered steps. Standard changes need none; emergency changes one executive
    (the department head reviews them after implementation instead)."""
    if cr_type is CRType.STANDARD:
        return []
    if cr_type is CRType.EMERGENCY:
        return [StepPlan(Role.EXECUTIVE, None)]
    steps = [StepPlan(Role.DEPARTMENT_HEAD, department_id)]
    cost = cost or Decimal(0)
    if cost >= policy.finance_from:
        steps.append(StepPlan(Role.FINANCE, None))
    if (cost >= policy.executive_from or (risk is not None and risk in
                                          policy.executive_risk_levels)
            or category in policy.executive_categories):
        steps.append(StepPlan(Role.EXECUTIVE, None))
    return steps


@dataclass(frozen=True)
class Delegation:
    """While ``delegator`` is away, ``deputy`` (holding the same role) decides for them."""

    delegator_id: UUID
    delegator_roles: frozenset[Role]
    delegator_department_id: UUID | None
    deputy_id: UUID
    role: Role
    starts_at: datetime
    ends_at: datetime

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


class SelfApprovalForbidden(DomainError):
    code = "self_approval_forbidden"
    kind = ErrorKind.FORBIDDEN


class ApproverAlreadyDecided(DomainError):
    code = "approver_already_decided"
    kind = ErrorKind.FORBIDDEN


class ApproverRoleMismatch(DomainError):
    code = "approver_role_mismatch"
    kind = ErrorKind.FORBIDDEN


class ApproverDepartmentMismatch(DomainError):
    code = "approver_department_mismatch"
    kind = ErrorKind.FORBIDDEN


class ApprovalOutOfOrder(DomainError):
    code = "approval_out_of_order"
    kind = ErrorKind.CONFLICT


class StepAlreadyDecided(DomainError):
    code = "step_already_decided"
    kind = ErrorKind.CONFLICT


def _eligible(roles: frozenset[Role], department_id: UUID | None, step: ApprovalStep) -> bool:
    return step.role in roles and (step.department_id is None
                                   or department_id == step.department_id)


def check_decider(facts: ChangeRequestFacts, step: ApprovalStep, principal: Principal,
                  delegations: list[Delegation], now: datetime) -> UUID | None:
    """Raise unless ``principal`` may decide ``step`` now; return the absent approver they
    decide for when acting as a deputy, else None. The order of the checks is the order
    in which a person would want to hear the reason."""
    if principal.id == facts.requester_id:
        raise SelfApprovalForbidden()
    if any(s.decided_by == principal.id and s.id != step.id for s in facts.steps):
        raise ApproverAlreadyDecided()
    if step.status is not StepStatus.PENDING:
        raise StepAlreadyDecided(position=step.position)
    current = facts.current_step()
    if current is None or current.id != step.id:
        raise ApprovalOutOfOrder(position=step.position,
                                 current=current.position if current else "none")
    if _eligible(principal.roles, principal.department_id, step):
        return None
    for d in delegations:
        if (d.deputy_id == principal.id and d.role is step.role and d.active(now)
                and step.role in principal.roles
                and _eligible(d.delegator_roles, d.delegator_department_id, step)
                and d.delegator_id != facts.requester_id
                and not any(s.decided_by == d.delegator_id for s in facts.steps)):
            return d.delegator_id
    if step.role not in principal.roles:
        raise ApproverRoleMismatch(role=step.role)
    raise ApproverDepartmentMismatch()


@dataclass(frozen=True)
class Decision:
    """The one answer of the separation-of-duties check: which step the principal decides
    and, when they stand in as a deputy, for which absent approver."""

    step: ApprovalStep
    on_behalf_of: UUID | None


def decide(facts: ChangeRequestFacts, principal: Principal, delegations: list[Delegation],
           now: datetime, step_id: UUID | None = None,
           competence: Competence | None = None) -> Decision:
    """The decision ``principal`` may take on ``step_id`` (default: the current step), or
    the separation-of-duties error that refuses it; then, while a competence rule is in
    force (``competence`` given), the course the step's role needs, which the principal
    must hold themselves even as a deputy."""
    step = facts.current_step() if step_id is None else next(
        (s for s in facts.steps if s.id == step_id), None)
    if step is None:
        raise NotFound(entity="approval_step")
    decision = Decision(step, check_decider(facts, step, principal, delegations, now))
    require(competence, Duty.APPROVE_CHANGE, step.role)
    return decision


def stands_in(facts: ChangeRequestFacts, principal: Principal,
              delegations: list[Delegation], now: datetime) -> bool:
    """Whether ``principal`` may decide the current step as a deputy now: how a deputy
    reaches a change outside their own record scope (to anyone else it does not exist)."""
    mine = [d for d in delegations if d.deputy_id == principal.id]
    if facts.state is not CRState.AWAITING_APPROVAL or not mine:
        return False
    try:
        return decide(facts, principal, mine, now).on_behalf_of is not None
    except DomainError:
        return False


def overdue(step: ApprovalStep, now: datetime) -> bool:
    """Past the step's own due time; a step not yet current has none and is never late."""
    return step.status is StepStatus.PENDING and step.due_at is not None and now > step.due_at
