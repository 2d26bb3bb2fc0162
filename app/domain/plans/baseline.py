"""The baseline and its change control (domain §5, invariant): once a plan is active, its
scope statement, its milestones' planned dates and its planned budget change only through
an amendment attached to a change request of the same customer, applied by the plan's
owner after that request is approved. Each application is a new revision citing it.

Actual dates, actual costs, milestone progress and objective actuals are recorded freely:
they are what happened, not what was promised."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.change_requests.model import CRState
from app.domain.common.errors import DomainError, ErrorKind, FieldErrors, NotYourAction
from app.domain.common.ids import new_id
from app.domain.plans.model import (
    Amendment,
    AmendmentState,
    BudgetLine,
    Milestone,
    Plan,
    PlanState,
)

# A change request's state in which its approval stands.
APPROVED_STATES = frozenset({CRState.APPROVED, CRState.IMPLEMENTING, CRState.IMPLEMENTED,
                             CRState.CLOSED})
# While the change request's form is open (before anyone assesses it), an amendment may be
# attached to it: what is assessed and approved is then exactly what will be applied.
FORM_OPEN_STATES = frozenset({CRState.DRAFT, CRState.RETURNED})


class BaselineFrozen(DomainError):
    """A direct edit of what the active plan's baseline holds."""

    code = "plan_baseline_frozen"
    kind = ErrorKind.CONFLICT


class PlanClosed(DomainError):
    code = "plan_closed"
    kind = ErrorKind.CONFLICT


class PlanNotActive(DomainError):
    code = "plan_not_active"
    kind = ErrorKind.CONFLICT


class AmendmentAlreadyApplied(DomainError):
    code = "plan_amendment_already_applied"
    kind = ErrorKind.CONFLICT


class ChangeNotApproved(DomainError):
    code = "plan_amendment_not_approved"
    kind = ErrorKind.CONFLICT


class ChangeFormClosed(DomainError):
    code = "plan_amendment_form_closed"
    kind = ErrorKind.CONFLICT


class AmendmentExists(DomainError):
    code = "plan_amendment_exists"
    kind = ErrorKind.CONFLICT


def check_open(plan: Plan) -> None:
    """Completed and cancelled plans are history: nothing on them changes."""
    if plan.state not in (PlanState.DRAFT, PlanState.ACTIVE):
        raise PlanClosed(state=plan.state)


def check_direct_edit(plan: Plan, what: str) -> None:
    """Refuses a direct edit of baseline content ``what`` (``scope_statement``,
    ``milestone.planned_date``, ``milestones``, ``budget.planned``, ``budget_lines``) on
    an active plan; a draft is still being agreed and is edited freely."""
    check_open(plan)
    if plan.state is PlanState.ACTIVE:
        raise BaselineFrozen(field=what, revision=plan.revision)


def content(plan: Plan) -> dict[str, Any]:
    """What the baseline holds, as JSON values: the revision's record."""
    return {
        "scope_statement": plan.scope_statement,
        "milestones": [{"id": str(m.id), "title": m.title,
                        "planned_date": m.planned_date.isoformat()} for m in plan.milestones],
        "budget": [{"id": str(b.id), "category": b.category, "planned": str(b.planned),
                    "currency": b.currency} for b in plan.budget_lines],
    }


@dataclass(frozen=True)
class NewMilestone:
    title: str
    planned_date: date
    owner_id: UUID | None = None


@dataclass(frozen=True)
class NewBudgetLine:
    category: str
    planned: Decimal
    currency: str = "CNY"


@dataclass(frozen=True)
class AmendmentChanges:
    """The proposed change of a baseline; every part optional, at least one present."""

    scope_statement: str | None = None
    milestone_dates: dict[UUID, date] = field(default_factory=dict)
    budget_planned: dict[UUID, Decimal] = field(default_factory=dict)
    add_milestones: tuple[NewMilestone, ...] = ()
    add_budget_lines: tuple[NewBudgetLine, ...] = ()

    def is_empty(self) -> bool:
        return (self.scope_statement is None and not self.milestone_dates
                and not self.budget_planned and not self.add_milestones
                and not self.add_budget_lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope_statement": self.scope_statement,
            "milestone_dates": {str(k): v.isoformat() for k, v in self.milestone_dates.items()},
            "budget_planned": {str(k): str(v) for k, v in self.budget_planned.items()},
            "add_milestones": [{"title": m.title, "planned_date": m.planned_date.isoformat(),
                                "owner_id": str(m.owner_id) if m.owner_id else None}
                               for m in self.add_milestones],
            "add_budget_lines": [{"category": b.category, "planned": str(b.planned),
                                  "currency": b.currency} for b in self.add_budget_lines],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AmendmentChanges:
        return cls(
            scope_statement=data.get("scope_statement"),
            milestone_dates={UUID(k): date.fromisoformat(v)
                             for k, v in (data.get("milestone_dates") or {}).items()},
            budget_planned={UUID(k): Decimal(v)
                            for k, v in (data.get("budget_planned") or {}).items()},
            add_milestones=tuple(NewMilestone(m["title"], date.fromisoformat(m["planned_date"]),
                                              UUID(m["owner_id"]) if m.get("owner_id") else None)
                                 for m in data.get("add_milestones") or ()),
            add_budget_lines=tuple(NewBudgetLine(b["category"], Decimal(b["planned"]),
                                                 b.get("currency", "CNY"))
                                   for b in data.get("add_budget_lines") or ()))


def check_changes(plan: Plan, changes: AmendmentChanges) -> None:
    """422 naming each part that does not fit this plan."""
    errors = FieldErrors()
    if changes.is_empty():
        errors.add("/changes", "amendment_empty")
    if changes.scope_statement is not None and not changes.scope_statement.strip():
        errors.add("/changes/scope_statement", "missing")
    for milestone_id in changes.milestone_dates:
        if plan.milestone(milestone_id) is None:
            errors.add(f"/changes/milestone_dates/{milestone_id}", "milestone_unknown")
    for line_id, amount in changes.budget_planned.items():
        if plan.budget_line(line_id) is None:
            errors.add(f"/changes/budget_planned/{line_id}", "budget_line_unknown")
        elif amount < 0:
            errors.add(f"/changes/budget_planned/{line_id}", "negative")
    for i, line in enumerate(changes.add_budget_lines):
        if line.planned < 0:
            errors.add(f"/changes/add_budget_lines/{i}/planned", "negative")
    errors.raise_if_any()


def check_attach(plan: Plan, cr_customer_id: UUID, cr_state: CRState) -> None:
    """An amendment rides on a change request of the plan's customer whose form is still
    open; the plan must be active (a draft is edited directly)."""
    if plan.state is not PlanState.ACTIVE:
        raise PlanNotActive(state=plan.state)
    if cr_customer_id != plan.customer_id:
        errors = FieldErrors()
        errors.add("/change_request_id", "change_request_other_customer")
        errors.raise_if_any()
    if cr_state not in FORM_OPEN_STATES:
        raise ChangeFormClosed(state=cr_state)


def check_apply(plan: Plan, amendment: Amendment, cr_customer_id: UUID, cr_state: CRState,
                principal: Principal) -> None:
    """Only the plan's owner applies, once, an amendment whose change request (of the same
    customer) is approved, to a plan that is still active."""
    if amendment.state is AmendmentState.APPLIED:
        raise AmendmentAlreadyApplied(revision=amendment.revision)
    if principal.id != plan.owner_id:
        raise NotYourAction(action="apply_amendment", parties="owner")
    if plan.state is not PlanState.ACTIVE:
        raise PlanNotActive(state=plan.state)
    if cr_customer_id != plan.customer_id:
        raise ChangeNotApproved(state="other_customer")
    if cr_state not in APPROVED_STATES:
        raise ChangeNotApproved(state=cr_state)


def amend(plan: Plan, changes: AmendmentChanges) -> tuple[Plan, dict[str, Any]]:
    """The plan with the changes applied, and a summary of what moved (old → new)."""
    summary: dict[str, Any] = {}
    scope = plan.scope_statement
    if changes.scope_statement is not None and changes.scope_statement != scope:
        summary["scope_statement"] = {"from": scope, "to": changes.scope_statement}
        scope = changes.scope_statement
    milestones: list[Milestone] = []
    for m in plan.milestones:
        moved_to = changes.milestone_dates.get(m.id)
        if moved_to is not None and moved_to != m.planned_date:
            summary.setdefault("milestones", []).append(
                {"id": str(m.id), "title": m.title, "from": m.planned_date.isoformat(),
                 "to": moved_to.isoformat()})
            m = replace(m, planned_date=moved_to)
        milestones.append(m)
    for new in changes.add_milestones:
        added = Milestone(id=new_id(), title=new.title, planned_date=new.planned_date,
                          owner_id=new.owner_id)
        milestones.append(added)
        summary.setdefault("added_milestones", []).append(
            {"id": str(added.id), "title": added.title,
             "planned_date": added.planned_date.isoformat()})
    lines: list[BudgetLine] = []
    for b in plan.budget_lines:
        amount = changes.budget_planned.get(b.id)
        if amount is not None and amount != b.planned:
            summary.setdefault("budget", []).append(
                {"id": str(b.id), "category": b.category, "from": str(b.planned),
                 "to": str(amount)})
            b = replace(b, planned=amount)
        lines.append(b)
    for new_line in changes.add_budget_lines:
        line = BudgetLine(id=new_id(), category=new_line.category, planned=new_line.planned,
                          currency=new_line.currency)
        lines.append(line)
        summary.setdefault("added_budget_lines", []).append(
            {"id": str(line.id), "category": line.category, "planned": str(line.planned)})
    return replace(plan, scope_statement=scope, milestones=milestones,
                   budget_lines=lines), summary


def applied(amendment: Amendment, principal: Principal, now: datetime,
            revision: int) -> Amendment:
    return replace(amendment, state=AmendmentState.APPLIED, applied_by=principal.id,
                   applied_at=now, revision=revision)
