"""The plan's life as data (domain §5): ``draft → active → completed``, ``cancelled``
from draft or active. Activating freezes the baseline (``baseline``); from then on the
commitment changes only through an amendment of an approved change request.

Who: the plan's owner, the customer's manager, a head of the customer's department, or an
administrator. Use cases call ``apply`` and the API shows ``allowed_actions``; no
transition is decided anywhere else."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.common.errors import FieldErrors
from app.domain.common.workflow import (
    Transition,
    in_state,
    leaving,
    permitted,
    require_guards,
    require_party,
)
from app.domain.plans.model import MilestoneStatus, Plan, PlanState

MAX_REASON = 2000


class Party(StrEnum):
    OWNER = "owner"  # who runs the plan
    CUSTOMER_MANAGER = "customer_manager"  # the customer's account manager
    DEPARTMENT_HEAD = "department_head"  # a head of the customer's department
    ADMIN = "admin"




def _scoped(plan: Plan) -> str | None:
    return None if plan.scope_statement.strip() else "scope_statement_missing"


def _dated(plan: Plan) -> str | None:
    if plan.planned_start is None or plan.planned_end is None:
        return "planned_dates_missing"
    return None


def _has_milestones(plan: Plan) -> str | None:
    return None if plan.milestones else "milestones_missing"


def _milestones_done(plan: Plan) -> str | None:
    if any(m.status is not MilestoneStatus.DONE for m in plan.milestones):
        return "open_milestones_remain"
    return None


Action = Transition[PlanState, Party, Plan]

EVERYONE = frozenset(Party)

ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("activate", frozenset({PlanState.DRAFT}), PlanState.ACTIVE, EVERYONE,
           (_scoped, _dated, _has_milestones)),
    Action("complete", frozenset({PlanState.ACTIVE}), PlanState.COMPLETED, EVERYONE,
           (_milestones_done,)),
    Action("cancel", frozenset({PlanState.DRAFT, PlanState.ACTIVE}), PlanState.CANCELLED,
           EVERYONE),
)}

# What each action announces (plan.<event>).
EVENTS = {"activate": "plan.activated", "complete": "plan.completed",
          "cancel": "plan.cancelled"}


def is_party(party: Party, plan: Plan, principal: Principal) -> bool:
    if party is Party.OWNER:
        return principal.id == plan.owner_id
    if party is Party.CUSTOMER_MANAGER:
        return principal.id == plan.customer_owner_id
    if party is Party.DEPARTMENT_HEAD:
        return principal.heads(plan.department_id)
    return Role.ADMIN in principal.roles


def check(plan: Plan, name: str, principal: Principal) -> PlanState:
    """The state ``name`` leads to, or why not now: TransitionNotAllowed, NotYourAction,
    PreconditionUnmet (naming the guard)."""
    action = leaving(ACTIONS, name, plan.state)
    require_party(action, lambda party: is_party(party, plan, principal))
    require_guards(action, plan)
    return action.target


def allowed_in_state(state: PlanState) -> list[str]:
    return in_state(ACTIONS, state)


def allowed_actions(plan: Plan, principal: Principal) -> list[str]:
    return permitted(allowed_in_state(plan.state), lambda name: check(plan, name, principal))


def apply(plan: Plan, name: str, principal: Principal, now: datetime, *,
          reason: str = "") -> Plan:
    """The plan after ``principal`` takes ``name`` at ``now``. ``cancel`` needs a reason;
    ``activate`` makes revision 0 the baseline (the use case stores its content)."""
    target = check(plan, name, principal)
    errors = FieldErrors()
    changes: dict[str, Any] = {"state": target}
    if name == "activate":
        changes.update(activated_at=now, revision=0)
    elif name in ("complete", "cancel"):
        changes["closed_at"] = now
    if name == "cancel":
        text = reason.strip()
        if not text:
            errors.add("/reason", "missing")
        elif len(text) > MAX_REASON:
            errors.add("/reason", "string_too_long", max_length=MAX_REASON)
        changes["cancel_reason"] = text
    errors.raise_if_any()
    return replace(plan, **changes)
