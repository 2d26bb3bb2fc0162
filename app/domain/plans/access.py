"""Who reaches which plans. A plan follows its customer's record scope; project managers
and tech experts run plans for every department (as they assess every department's
changes), so they read all plans, and a plan's owner always reaches the plan they run."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import READ_ACROSS_DEPARTMENTS, Role
from app.domain.access.scope import Reach, RecordScope
from app.domain.access.scope import read_scope as customer_read_scope
from app.domain.access.scope import write_scope as customer_write_scope

PLAN_RUNNERS = frozenset({Role.PROJECT_MANAGER, Role.TECH_EXPERT})
# Roles that create and change plans (within their scope); the others only read them.
PLAN_EDITORS = frozenset({Role.ADMIN, Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER,
                          Role.PROJECT_MANAGER})


@dataclass(frozen=True)
class PlanReach:
    """A customer record scope, widened by the plans the principal owns (``owner_id``)."""

    scope: RecordScope
    owner_id: UUID | None = None

    def covers(self, *, plan_owner_id: UUID, customer_owner_id: UUID | None,
               department_id: UUID | None, shared_with_department: bool = False) -> bool:
        return plan_owner_id == self.owner_id or self.scope.covers(
            owner_id=customer_owner_id, department_id=department_id,
            shared_with_department=shared_with_department)


def read_reach(principal: Principal) -> PlanReach:
    if principal.kind is PrincipalKind.SERVICE:
        return PlanReach(customer_read_scope(principal))
    if principal.roles & (READ_ACROSS_DEPARTMENTS | PLAN_RUNNERS):
        return PlanReach(RecordScope(Reach.ALL))
    return PlanReach(customer_read_scope(principal), principal.id)


def write_reach(principal: Principal) -> PlanReach:
    """The customer's write scope, and the plans one owns; read-only roles none."""
    if principal.kind is PrincipalKind.SERVICE or not principal.roles & PLAN_EDITORS:
        return PlanReach(RecordScope(Reach.NONE))
    return PlanReach(customer_write_scope(principal), principal.id)


def creation_scope(principal: Principal) -> RecordScope:
    """The customers one may start a plan for: project managers any (they run plans for
    every department), the others the customers they may write."""
    if Role.PROJECT_MANAGER in principal.roles and principal.kind is PrincipalKind.USER:
        return RecordScope(Reach.ALL)
    return write_reach(principal).scope
