"""Bodies of change requests (变更管理)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from app.api.v1.schemas.base import Amount, Day, Input, Instant, Output, output_of
from app.domain.access.roles import Role
from app.domain.change_requests.model import (
    SUBMIT_REQUIRES,
    CRCategory,
    CRState,
    CRType,
    GoalsMet,
    Priority,
    Recommendation,
    StepStatus,
    Task,
    TaskStatus,
)
from app.domain.customers.model import ContactChannel

Text = Annotated[str, Field(max_length=10_000)]
Scale = Annotated[int, Field(ge=1, le=5)]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
LevelLabel = Literal["low", "medium", "high", "critical"]


class Attachment(Input):
    name: str = Field(min_length=1, max_length=200)
    ref: str = Field(min_length=1, max_length=1000, description="Where the file lives")


# A draft may be saved half written; ``submit`` refuses it (409 precondition_unmet,
# reason form_incomplete) until each of SUBMIT_REQUIRES is filled in.
FOR_SUBMIT = "Needed before `submit` (a draft may leave it empty)"


class ChangeRequestForm(Input):
    """A change request's form. ``submit`` needs every field of
    ``x-required-for-submit`` filled in; a draft may be saved without them."""

    model_config = ConfigDict(json_schema_extra={"x-required-for-submit": list(SUBMIT_REQUIRES)})

    title: str = Field(min_length=1, max_length=200, examples=["二期项目上线时间调整"])
    description: Text = Field("", description=FOR_SUBMIT)
    reason: Text = Field("", description=f"{FOR_SUBMIT}. 变更原因")
    expected_effect: Text = Field("", description=f"{FOR_SUBMIT}. 预期效果")
    category: CRCategory = CRCategory.SCOPE
    type: CRType = CRType.NORMAL
    priority: Priority = Priority.MEDIUM
    requested_completion_date: Day | None = Field(None, description=FOR_SUBMIT)
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)


class ChangeRequestCreate(ChangeRequestForm):
    model_config = ConfigDict(json_schema_extra={
        "x-required-for-submit": list(SUBMIT_REQUIRES), "examples": [{
        "customer_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "title": "二期项目上线时间调整", "description": "客户要求增加报表模块",
        "reason": "业务部门新增监管报送需求", "expected_effect": "按期满足监管报送",
        "category": "scope", "type": "normal", "priority": "high",
        "requested_completion_date": "2027-03-31"}]})

    customer_id: UUID


class ChangeRequestPatch(ChangeRequestForm):
    title: str = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]


class TransitionIn(Input):
    comment: str = Field("", max_length=2000)


class ConclusionIn(Input):
    """The final estimates; the risk level comes from the risk matrix."""

    cost: Money = Field(examples=["80000.00"])
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    schedule_days: int = Field(ge=0, le=3650)
    likelihood: Scale
    impact: Scale
    recommendation: Recommendation
    summary: Text = ""
    comment: str = Field("", max_length=2000)


class AssessmentIn(Input):
    necessity: Scale
    feasibility: Scale
    scope_impact: Text = ""
    schedule_days: int = Field(ge=0, le=3650)
    cost: Money
    resources: Text = ""
    likelihood: Scale
    impact: Scale
    recommendation: Recommendation
    comment: Text = ""


class CustomerInputIn(Input):
    contact_id: UUID
    opinion: Text = Field(min_length=1)


class TaskIn(Input):
    title: str = Field(min_length=1, max_length=200)
    assignee_id: UUID
    due_date: Day | None = None


class TaskStatusIn(Input):
    status: TaskStatus
    waive_reason: str | None = Field(None, max_length=2000)


class ProgressIn(Input):
    percent: int = Field(ge=0, le=100)
    note: Text = ""


class CommunicationIn(Input):
    contact_id: UUID | None = None
    channel: ContactChannel
    summary: Text = Field(min_length=1)
    reported_at: Instant


class ReviewIn(Input):
    goals_met: GoalsMet
    actual_cost: Money
    actual_schedule_days: int = Field(ge=0, le=3650)
    customer_satisfaction: Scale
    lessons_learned: Text = ""


class ApprovalStepOut(Output):
    """One step of a change request's approval chain."""

    id: UUID
    position: int
    role: Role
    department_id: UUID | None
    due_at: datetime | None = Field(description="When the step falls due: the policy's "
                                    "working time from the moment it became current; null "
                                    "while an earlier step is still pending.")
    overdue: bool
    status: StepStatus
    decided_by: UUID | None
    decided_at: datetime | None
    on_behalf_of: UUID | None
    comment: str


class AssessmentOut(Output):
    id: UUID
    round: int
    assessor_id: UUID
    assessor_role: Role
    necessity: int
    feasibility: int
    scope_impact: str
    schedule_days: int
    cost: Amount
    resources: str
    likelihood: int
    impact: int
    recommendation: Recommendation
    comment: str
    created_at: datetime


TaskOut = output_of(Task, "TaskOut")


class ChangeRequestSummary(Output):
    id: UUID
    customer_id: UUID
    department_id: UUID
    requester_id: UUID
    title: str
    category: CRCategory
    type: CRType
    priority: Priority
    state: CRState
    round: int
    requested_completion_date: date | None
    version: int
    created_at: datetime
    updated_at: datetime


class ChangeRequestOut(ChangeRequestSummary):
    owner_id: UUID
    description: str
    reason: str
    expected_effect: str
    attachments: list[dict[str, str]]
    estimated_cost: Amount | None
    currency: str
    estimated_schedule_days: int | None
    likelihood: int | None
    impact: int | None
    risk_level: LevelLabel | None
    recommendation: Recommendation | None
    assessment_summary: str | None
    concluded_by: UUID | None
    concluded_at: datetime | None
    goals_met: GoalsMet | None
    actual_cost: Amount | None
    actual_schedule_days: int | None
    customer_satisfaction: int | None
    lessons_learned: str | None
    reviewed_by: UUID | None
    reviewed_at: datetime | None
    emergency_reviewed_by: UUID | None
    emergency_reviewed_at: datetime | None
    knowledge_article_id: UUID | None
    assessments: list[AssessmentOut]
    approval_steps: list[ApprovalStepOut]
    tasks: list[TaskOut]
    overdue: bool
    allowed_actions: list[str] = Field(description=(
        "Exactly what you may do now: the workflow actions, and `review` while you may "
        "record the review (POST …/review), which closing needs"))


class ActivityOut(Output):
    customer_inputs: list[dict[str, Any]]
    progress: list[dict[str, Any]]
    communications: list[dict[str, Any]]


class ApprovalPolicyIO(Input):
    finance_from: Money
    executive_from: Money
    executive_risk_levels: list[LevelLabel]
    executive_categories: list[CRCategory]
    step_due_hours: float = Field(gt=0, le=2000, description="Working hours per step")


class ApprovalPolicyOut(ApprovalPolicyIO):
    version: int


class CalendarIO(Input):
    timezone: str = Field(max_length=64, examples=["Asia/Shanghai"])
    day_start: str = Field(pattern=r"^\d{2}:\d{2}$", examples=["09:00"])
    day_end: str = Field(pattern=r"^\d{2}:\d{2}$", examples=["18:00"])
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7,
                                                            description="0 = Monday")
    use_statutory_holidays: bool = True
    company_days_off: list[Day] = Field(default_factory=list, max_length=400)


class CalendarOut(CalendarIO):
    # as stored: the bound on years applies to what is sent
    company_days_off: list[date] = Field(default_factory=list, max_length=400)
    version: int


class DelegationIn(Input):
    delegator_id: UUID
    deputy_id: UUID
    role: Role
    starts_at: Instant
    ends_at: Instant


class DelegationOut(Output):
    id: UUID
    delegator_id: UUID
    deputy_id: UUID
    role: Role
    starts_at: datetime
    ends_at: datetime
    created_by: UUID
    created_at: datetime
    revoked_at: datetime | None
