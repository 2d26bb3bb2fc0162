"""The risk register (风险登记): one entry per identified risk, rated by the risk matrix,
owned by a person, with mitigation and contingency plans (应急预案) and a review date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import READ_ACROSS_DEPARTMENTS, Role
from app.domain.access.scope import Reach, RecordScope
from app.domain.access.scope import read_scope as access_read_scope
from app.domain.access.scope import write_scope as access_write_scope
from app.domain.common.errors import DomainError, ErrorKind
from app.domain.risk.matrix import RiskLevel

# Roles that register and change risks; the others that read risks only read them.
RISK_EDITORS = frozenset({Role.ADMIN, Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER,
                          Role.PROJECT_MANAGER, Role.TECH_EXPERT})


class RiskStatus(StrEnum):
    OPEN = "open"
    MITIGATING = "mitigating"
    CLOSED = "closed"


# Status changes as data: (from, to). A closed risk may be reopened when it returns.
STATUS_TRANSITIONS: frozenset[tuple[RiskStatus, RiskStatus]] = frozenset({
    (RiskStatus.OPEN, RiskStatus.MITIGATING),
    (RiskStatus.OPEN, RiskStatus.CLOSED),
    (RiskStatus.MITIGATING, RiskStatus.OPEN),
    (RiskStatus.MITIGATING, RiskStatus.CLOSED),
    (RiskStatus.CLOSED, RiskStatus.OPEN),
})


class RiskStatusRefused(DomainError):
    code = "risk_status_not_allowed"
    kind = ErrorKind.CONFLICT


def allowed_statuses(current: RiskStatus) -> list[RiskStatus]:
    return sorted(to for frm, to in STATUS_TRANSITIONS if frm is current)


def check_status_change(current: RiskStatus, target: RiskStatus) -> None:
    if (current, target) not in STATUS_TRANSITIONS:
        raise RiskStatusRefused(current=current, target=target,
                                allowed=", ".join(allowed_statuses(current)) or "none")


@dataclass
class Risk:
    id: UUID
    title: str
    description: str
    customer_id: UUID | None
    change_request_id: UUID | None
    handover_id: UUID | None
    plan_id: UUID | None
    likelihood: int
    impact: int
    level: RiskLevel
    owner_id: UUID
    department_id: UUID
    mitigation: str
    contingency_plan: str
    early_warning: str
    next_review_date: date | None
    status: RiskStatus
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "title": self.title, "description": self.description,
            "customer_id": str(self.customer_id) if self.customer_id else None,
            "plan_id": str(self.plan_id) if self.plan_id else None,
            "likelihood": self.likelihood, "impact": self.impact, "level": self.level.label,
            "owner_id": str(self.owner_id), "mitigation": self.mitigation,
            "contingency_plan": self.contingency_plan, "early_warning": self.early_warning,
            "next_review_date": self.next_review_date.isoformat()
            if self.next_review_date else None,
            "status": self.status,
        }


def read_scope(principal: Principal) -> RecordScope:
    """Risks are a department's shared concern: its members all see them; the roles that
    read across departments see every risk."""
    if principal.kind is PrincipalKind.SERVICE or principal.roles & READ_ACROSS_DEPARTMENTS:
        return access_read_scope(principal)
    return RecordScope(Reach.DEPARTMENT, department_id=principal.department_id)


def write_scope(principal: Principal) -> RecordScope:
    """The risks a principal may update or move: administrators any, department heads
    their department's, the other editors the risks they own; the read-only roles and API
    keys (no key scope reaches risks) none."""
    if principal.kind is PrincipalKind.SERVICE or not principal.roles & RISK_EDITORS:
        return RecordScope(Reach.NONE)
    if Role.ADMIN in principal.roles or Role.DEPARTMENT_HEAD in principal.roles:
        return access_write_scope(principal)
    return RecordScope(Reach.OWN, user_id=principal.id, department_id=principal.department_id)


def allowed_changes(principal: Principal, risk: Risk) -> list[RiskStatus]:
    """The statuses ``principal`` may move ``risk`` to now: the status table's, within
    the write scope the updates load with; none for a risk the principal may only read."""
    if not write_scope(principal).covers(owner_id=risk.owner_id,
                                         department_id=risk.department_id):
        return []
    return allowed_statuses(risk.status)
