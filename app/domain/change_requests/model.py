"""The values a change request carries through its workflow."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
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
    only a head of that department (or their deputy) may decide it. ``due_at`` is set when
    the step becomes current (its clock starts then), None while it waits its turn."""

    id: UUID
    position: int
    role: Role
    department_id: UUID | None
    due_at: datetime | None
    status: StepStatus = StepStatus.PENDING
    decided_by: UUID | None = None
    decided_at: datetime | None = None
    on_behalf_of: UUID | None = None  # the absent approver a deputy decided for
    comment: str = ""
    escalated_at: datetime | None = None  # when its overdue escalation was raised
    started_at: datetime | None = None  # when it became current: its lead time runs from here


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
    steps: list[ApprovalStep] = field(default_factory=list)
    open_tasks: int = 0
    review_recorded: bool = False
    emergency_review_done: bool = False

    def current_step(self) -> ApprovalStep | None:
        return next((s for s in sorted(self.steps, key=lambda s: s.position)
                     if s.status is StepStatus.PENDING), None)


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class Recommendation(StrEnum):
    PROCEED = "proceed"
    REJECT = "reject"
    DEFER = "defer"


class GoalsMet(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    WAIVED = "waived"


FINISHED_TASK = frozenset({TaskStatus.DONE, TaskStatus.WAIVED})


@dataclass(frozen=True)
class Conclusion:
    """The project manager's final estimates that end an assessment; the approval chain
    follows from them."""

    cost: Decimal
    currency: str
    schedule_days: int
    likelihood: int
    impact: int
    recommendation: Recommendation
    summary: str


@dataclass
class Assessment:
    """What a panel member judges (变更评估): necessity, feasibility, impact, estimates,
    risk and a recommendation."""

    necessity: int
    feasibility: int
    scope_impact: str
    schedule_days: int
    cost: Decimal
    resources: str
    likelihood: int
    impact: int
    recommendation: Recommendation
    comment: str


@dataclass(kw_only=True)
class AssessmentEntry(Assessment):
    """One panel member's assessment in one round, as recorded."""

    id: UUID
    round: int
    assessor_id: UUID
    assessor_role: Role
    created_at: datetime


@dataclass
class Task:
    id: UUID
    title: str
    assignee_id: UUID
    due_date: date | None
    status: TaskStatus
    waive_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


# The form's fields ``submit`` needs filled in (变更申请); a draft may lack them.
SUBMIT_REQUIRES = ("title", "description", "reason", "expected_effect",
                   "requested_completion_date")


@dataclass
class ChangeRequest:
    id: UUID
    customer_id: UUID
    department_id: UUID
    owner_id: UUID
    requester_id: UUID
    title: str
    description: str
    reason: str
    expected_effect: str
    category: CRCategory
    type: CRType
    priority: Priority
    requested_completion_date: date | None
    attachments: list[dict[str, str]]
    state: CRState
    round: int
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime
    estimated_cost: Decimal | None = None
    estimated_schedule_days: int | None = None
    likelihood: int | None = None
    impact: int | None = None
    risk_level: RiskLevel | None = None
    recommendation: Recommendation | None = None
    assessment_summary: str | None = None
    concluded_by: UUID | None = None
    concluded_at: datetime | None = None
    goals_met: GoalsMet | None = None
    actual_cost: Decimal | None = None
    actual_schedule_days: int | None = None
    customer_satisfaction: int | None = None
    lessons_learned: str | None = None
    reviewed_by: UUID | None = None
    reviewed_at: datetime | None = None
    emergency_reviewed_by: UUID | None = None
    emergency_reviewed_at: datetime | None = None
    knowledge_article_id: UUID | None = None
    implemented_at: datetime | None = None  # on-time implementation is judged by it
    assessments: list[AssessmentEntry] = field(default_factory=list)
    steps: list[ApprovalStep] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)

    @property
    def form_complete(self) -> bool:
        """变更申请: what submit checks before anyone else spends time on it."""
        values = [getattr(self, name) for name in SUBMIT_REQUIRES]
        return all(v.strip() if isinstance(v, str) else v is not None for v in values)

    def current_round_assessments(self) -> list[AssessmentEntry]:
        return [a for a in self.assessments if a.round == self.round]

    def current_round_steps(self) -> list[ApprovalStep]:
        return sorted(self.steps, key=lambda s: s.position)

    def deciding_roles(self) -> list[Role]:
        """The roles of the current pending step and the next: whose delegations decide
        now and, once this decision is made, next."""
        return [s.role for s in self.current_round_steps()
                if s.status is StepStatus.PENDING][:2]

    def facts(self) -> ChangeRequestFacts:
        return ChangeRequestFacts(
            id=self.id, state=self.state, type=self.type, category=self.category,
            requester_id=self.requester_id, department_id=self.department_id,
            form_complete=self.form_complete,
            assessor_roles=frozenset(a.assessor_role for a in self.current_round_assessments()),
            steps=self.current_round_steps(),
            open_tasks=sum(t.status not in FINISHED_TASK for t in self.tasks),
            review_recorded=self.reviewed_at is not None,
            emergency_review_done=self.emergency_reviewed_at is not None)

    def snapshot(self) -> dict[str, object]:
        return {"state": self.state, "round": self.round, "title": self.title,
                "type": self.type, "category": self.category, "priority": self.priority,
                "estimated_cost": None if self.estimated_cost is None
                else str(self.estimated_cost),
                "risk_level": self.risk_level.label if self.risk_level else None}
