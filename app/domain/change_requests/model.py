"""The values a change request carries through its workflow."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.risk.matrix import RiskLevel


class CRState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ASSESSING = "assessing"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    IMPLEMENTING = "implementing"
    IMPLEMENTED = "implemented"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    RETURNED = "returned"


TERMINAL = frozenset({CRState.CLOSED, CRState.REJECTED, CRState.CANCELLED})


class CRType(StrEnum):
    STANDARD = "standard"  # a pre-approved template: no assessment or approval
    NORMAL = "normal"
    EMERGENCY = "emergency"  # one executive approval to implement, head review before close


class CRCategory(StrEnum):
    SCOPE = "scope"
    SCHEDULE = "schedule"
    PRICE_CONTRACT = "price_contract"
    PRODUCT_CONFIGURATION = "product_configuration"
    SERVICE_LEVEL = "service_level"
    CONTACT_ARRANGEMENTS = "contact_arrangements"


class StepStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"


@dataclass
class ApprovalStep:
    """One link of the approval chain. ``department_id`` is set for a department step:
    only a head of that department (or their deputy) may decide it."""

    id: UUID
    position: int
    role: Role
    department_id: UUID | None
    due_at: datetime
    status: StepStatus = StepStatus.PENDING
    decided_by: UUID | None = None
    decided_at: datetime | None = None
    on_behalf_of: UUID | None = None  # the absent approver a deputy decided for
    comment: str = ""


@dataclass(frozen=True)
class ConcludedAssessment:
    """The project manager's final estimates, from which the approval chain derives."""

    cost: Decimal
    currency: str
    schedule_days: int
    likelihood: int
    impact: int
    risk_level: RiskLevel
    recommendation: str
    concluded_by: UUID
    concluded_at: datetime


@dataclass
class ChangeRequestFacts:
    """What the workflow's guards look at; the full record holds more."""

    id: UUID
    state: CRState
    type: CRType
    category: CRCategory
    requester_id: UUID
    department_id: UUID  # the customer's department
    form_complete: bool
    assessor_roles: frozenset[Role] = frozenset()  # roles of the panel entries so far
    assessment: ConcludedAssessment | None = None
    steps: list[ApprovalStep] = field(default_factory=list)
    open_tasks: int = 0
    review_recorded: bool = False
    emergency_review_done: bool = False

    def current_step(self) -> ApprovalStep | None:
        return next((s for s in sorted(self.steps, key=lambda s: s.position)
                     if s.status is StepStatus.PENDING), None)
