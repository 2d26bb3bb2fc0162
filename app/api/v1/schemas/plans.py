"""Bodies of customer plans (客户方案): the plan, its objectives, milestones and
deliverables, budget lines, amendments and revisions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import ConfigDict, Field

from app.api.v1.schemas.base import Day, Input, Output
from app.domain.plans.expectations import Gap
from app.domain.plans.figures import ObjectiveStatus
from app.domain.plans.model import (
    Agreement,
    AmendmentState,
    DeliverableKind,
    ExpectationCategory,
    ExpectationChannel,
    Horizon,
    MilestoneStatus,
    Outcome,
    PlanState,
    TeamPart,
)

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
Figure = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]
Currency = Annotated[str, Field(pattern="^[A-Z]{3}$", examples=["CNY"])]
Title = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=5000)]
ShortText = Annotated[str, Field(max_length=500)]


class TeamMemberIO(Input):
    user_id: UUID
    part: TeamPart
    note: ShortText = ""


class ConstraintsIO(Input):
    time: LongText = ""
    budget: LongText = ""
    resources: LongText = ""


class PlanFields(Input):
    title: Title
    scope_statement: LongText = Field("", description="范围说明; part of the baseline once "
                                                      "the plan is active")
    owner_id: UUID | None = Field(None, description="Defaults to the customer's manager")
    team: list[TeamMemberIO] = Field(default_factory=list, max_length=50)
    constraints: ConstraintsIO = Field(default_factory=ConstraintsIO)
    planned_start: Day | None = None
    planned_end: Day | None = None


class PlanCreate(PlanFields):
    customer_id: UUID
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "customer_id": "0b6c1e9a-5d55-4a8e-9a57-8f7b8f0c2a11", "title": "二期数字化方案",
        "scope_statement": "上线监管报表与移动审批", "planned_start": "2027-01-04",
        "planned_end": "2027-06-30",
        "constraints": {"time": "6 月底前上线", "budget": "不超过 80 万",
                        "resources": "两名实施"}}]})


class PlanPatch(PlanFields):
    title: Title = Field(None)  # type: ignore[assignment]
    owner_id: UUID = Field(None)  # type: ignore[assignment]


class ReasonIn(Input):
    reason: LongText = ""


class ObjectiveIn(Input):
    title: Title
    horizon: Horizon
    metric: ShortText = Field(min_length=1)
    target: Figure
    unit: Annotated[str, Field(max_length=50)] = ""
    baseline: Figure | None = Field(None, description="A target below the baseline means "
                                                      "lower is better")
    due_date: Day | None = None


class ObjectivePatch(Input):
    title: Title = Field(None)  # type: ignore[assignment]
    metric: ShortText = Field(None, min_length=1)  # type: ignore[assignment]
    target: Figure = Field(None)  # type: ignore[assignment]
    unit: Annotated[str, Field(max_length=50)] = Field(None)  # type: ignore[assignment]
    baseline: Figure | None = None
    due_date: Day | None = None
    actual: Figure | None = Field(None, description="The measured value")
    measured_at: Day | None = Field(None, description="Default: today, with an actual")


class TrainingIO(Input):
    attendees: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list,
                                                                   max_length=500)
    date: Day | None = None
    materials: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list,
                                                                   max_length=100)


class DeliverableIO(Input):
    id: UUID | None = Field(None, description="Kept when given; new otherwise")
    title: Title
    kind: DeliverableKind
    delivered_at: Day | None = None
    training: TrainingIO | None = Field(None, description="客户培训, for kind training")


class MilestoneIn(Input):
    title: Title
    planned_date: Day
    owner_id: UUID | None = None
    deliverables: list[DeliverableIO] = Field(default_factory=list, max_length=50)


class MilestonePatch(Input):
    title: Title = Field(None)  # type: ignore[assignment]
    planned_date: Day = Field(None, description="Baseline: refused on an active plan")  # type: ignore[assignment]
    owner_id: UUID | None = None
    status: MilestoneStatus = Field(None)  # type: ignore[assignment]
    actual_date: Day | None = None
    acceptance_note: LongText = Field(None)  # type: ignore[assignment]
    deliverables: list[DeliverableIO] = Field(None, max_length=50)  # type: ignore[assignment]


class BudgetLineIn(Input):
    category: Annotated[str, Field(min_length=1, max_length=100)]
    planned: Money
    currency: Currency = "CNY"
    actual: Money = Decimal("0")
    note: ShortText = ""


class BudgetLinePatch(Input):
    category: Annotated[str, Field(min_length=1, max_length=100)] = Field(None)  # type: ignore[assignment]
    planned: Money = Field(None, description="Baseline: refused on an active plan")  # type: ignore[assignment]
    actual: Money = Field(None)  # type: ignore[assignment]
    note: ShortText = Field(None)  # type: ignore[assignment]


class NewMilestoneIO(Input):
    title: Title
    planned_date: Day
    owner_id: UUID | None = None


class NewBudgetLineIO(Input):
    category: Annotated[str, Field(min_length=1, max_length=100)]
    planned: Money
    currency: Currency = "CNY"


class AmendmentChangesIO(Input):
    scope_statement: LongText | None = None
    milestone_dates: dict[UUID, Day] = Field(default_factory=dict,
                                             description="milestone id → new planned date")
    budget_planned: dict[UUID, Money] = Field(default_factory=dict,
                                              description="budget line id → new planned amount")
    add_milestones: list[NewMilestoneIO] = Field(default_factory=list, max_length=50)
    add_budget_lines: list[NewBudgetLineIO] = Field(default_factory=list, max_length=50)


class AmendmentIn(Input):
    change_request_id: UUID = Field(description="A change request of the plan's customer, "
                                                "still in draft or returned")
    changes: AmendmentChangesIO


# answers -----------------------------------------------------------------------------

class TeamMemberOut(Output):
    user_id: UUID
    part: TeamPart
    note: str


class ConstraintsOut(Output):
    time: str
    budget: str
    resources: str


class ObjectiveOut(Output):
    id: UUID
    title: str
    horizon: Horizon
    metric: str
    target: Decimal
    unit: str
    baseline: Decimal | None
    due_date: date | None
    actual: Decimal | None
    measured_at: date | None
    status: ObjectiveStatus = Field(description="Derived: achieved, not_achieved, open")


class TrainingOut(Output):
    attendees: list[str]
    date: date | None
    materials: list[str]


class DeliverableOut(Output):
    id: UUID
    title: str
    kind: DeliverableKind
    delivered_at: date | None
    training: TrainingOut | None


class MilestoneOut(Output):
    id: UUID
    title: str
    planned_date: date
    owner_id: UUID | None
    status: MilestoneStatus
    actual_date: date | None
    acceptance_note: str
    deliverables: list[DeliverableOut]
    on_time: bool | None = Field(description="Derived: done by the planned date (true), "
                                             "late or overdue (false), not due yet (null)")
    overdue: bool


class VarianceOut(Output):
    planned: Decimal
    actual: Decimal
    variance: Decimal = Field(description="actual − planned")
    variance_pct: Decimal | None = Field(description="variance / planned × 100, 2 places; "
                                                     "null when nothing was planned")


class BudgetLineOut(VarianceOut):
    id: UUID
    category: str
    currency: str
    note: str


class BudgetTotalOut(VarianceOut):
    currency: str


class PlanFiguresOut(Output):
    objectives: int
    objectives_achieved: int
    objectives_not_achieved: int
    milestones: int
    milestones_done: int
    milestones_on_time: int
    milestones_late: int
    budget: list[BudgetTotalOut]


class PlanOut(Output):
    id: UUID
    customer_id: UUID
    department_id: UUID
    title: str
    scope_statement: str
    owner_id: UUID
    team: list[TeamMemberOut]
    constraints: ConstraintsOut
    planned_start: date | None
    planned_end: date | None
    state: PlanState
    revision: int | None = Field(description="The baseline's revision (0 at activation)")
    objectives: list[ObjectiveOut]
    milestones: list[MilestoneOut]
    budget_lines: list[BudgetLineOut]
    figures: PlanFiguresOut
    gaps: GapSummaryOut = Field(description="The expectations register's derived gaps")
    allowed_actions: list[str]
    activated_at: datetime | None
    closed_at: datetime | None
    cancel_reason: str
    version: int
    created_by: UUID
    created_at: datetime
    updated_at: datetime


class AmendmentOut(Output):
    id: UUID
    plan_id: UUID
    change_request_id: UUID
    changes: dict[str, Any]
    state: AmendmentState
    created_by: UUID
    created_at: datetime
    applied_by: UUID | None
    applied_at: datetime | None
    revision: int | None


class RevisionOut(Output):
    number: int = Field(description="0: the baseline frozen at activation")
    content: dict[str, Any] = Field(description="Scope, milestone dates and planned budget "
                                                "after this revision")
    summary: dict[str, Any] = Field(description="What moved from the previous revision")
    change_request_id: UUID | None
    amendment_id: UUID | None
    created_by: UUID
    created_at: datetime


class RevisionsOut(Output):
    revisions: list[RevisionOut]
    current: dict[str, Any]


# progress reports ----------------------------------------------------------------------

class ProgressReportIn(Input):
    period_start: Day
    period_end: Day
    completed_work: LongText = ""
    issues: LongText = ""
    next_steps: LongText = ""
    internal_notes: LongText = Field("", description="Never shown to the customer")


class ProgressReportPatch(ProgressReportIn):
    period_start: Day = Field(None)  # type: ignore[assignment]
    period_end: Day = Field(None)  # type: ignore[assignment]


class ReportShareIn(Input):
    expires_in_days: int = Field(14, ge=1, le=90)


class MilestoneStatusOut(Output):
    title: str
    planned_date: date
    actual_date: date | None
    status: MilestoneStatus
    on_time: bool | None
    overdue: bool


class ProgressReportOut(Output):
    id: UUID
    plan_id: UUID
    customer_id: UUID
    period_start: date
    period_end: date
    completed_work: str
    issues: str
    next_steps: str
    internal_notes: str
    state: str = Field(description="draft | published (immutable)")
    milestone_status: list[MilestoneStatusOut] = Field(
        description="Computed from the plan's milestones; frozen when published")
    allowed_actions: list[str]
    shared: bool = Field(description="A link is out, not revoked and not expired")
    share_expires_at: datetime | None
    share_revoked_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str
    published_at: datetime | None
    published_by: UUID | None
    version: int
    created_by: UUID
    created_at: datetime
    updated_at: datetime


class SharedProgressReportOut(ProgressReportOut):
    token: str = Field(description="Shown once: the service keeps only its hash")
    link: str


class PublicReportOut(Output):
    customer_name: str
    plan_title: str
    period_start: date
    period_end: date
    completed_work: str
    issues: str
    next_steps: str
    milestone_status: list[MilestoneStatusOut]
    published_at: datetime
    acknowledged_at: datetime | None
    link_expires_at: datetime


class ReportAcknowledgeIn(Input):
    name: Annotated[str, Field(max_length=100)] = ""


class ReportCommentIn(Input):
    comment: Annotated[str, Field(min_length=1, max_length=2000)]
    name: Annotated[str, Field(max_length=100)] = ""


class ReportCommentOut(Output):
    feedback_id: UUID


# expectations --------------------------------------------------------------------------

class ExpectationIn(Input):
    statement: LongText = Field(min_length=1, examples=["6 月底前上线监管报表"])
    category: ExpectationCategory
    contact_id: UUID | None = Field(None, description="Who said it: a contact of the customer")
    stated_on: Day
    channel: ExpectationChannel
    realistic: bool | None = None
    unrealistic_reason: LongText = Field("", description="Required when not realistic")
    agreement: Agreement | None = None
    commitment: LongText = Field("", description="What was committed instead")
    objective_id: UUID | None = Field(None, description="The objective that carries it")
    milestone_id: UUID | None = Field(None, description="The milestone that carries it")


class ExpectationPatch(ExpectationIn):
    statement: LongText = Field(None, min_length=1)  # type: ignore[assignment]
    category: ExpectationCategory = Field(None)  # type: ignore[assignment]
    stated_on: Day = Field(None)  # type: ignore[assignment]
    channel: ExpectationChannel = Field(None)  # type: ignore[assignment]
    outcome: Outcome | None = Field(None, description="At review: met, partly, not_met")
    evidence: LongText = Field("", description="Required with an outcome")
    reviewed_on: Day | None = Field(None, description="Default: today, with an outcome")


class ExpectationOut(Output):
    id: UUID
    statement: str
    category: ExpectationCategory
    contact_id: UUID | None
    stated_on: date
    channel: ExpectationChannel
    realistic: bool | None
    unrealistic_reason: str
    agreement: Agreement | None
    commitment: str
    objective_id: UUID | None
    milestone_id: UUID | None
    outcome: Outcome | None
    evidence: str
    reviewed_on: date | None
    gaps: list[Gap] = Field(description="Derived: not_committed, overdue, not_met")


class GapSummaryOut(Output):
    expectations: int
    with_gaps: int
    met: int
    not_committed: int
    overdue: int
    not_met: int


class ExpectationsOut(Output):
    data: list[ExpectationOut]
    summary: GapSummaryOut = Field(description="Over the whole register, whatever the filter")


# performance (绩效评估) -------------------------------------------------------------------

class PlanPerformanceOut(Output):
    plan_id: UUID
    title: str
    customer_id: UUID
    department_id: UUID
    owner_id: UUID
    state: PlanState
    planned_start: date | None
    planned_end: date | None
    objectives: int
    objectives_achieved: int
    milestones: int
    milestones_on_time: int
    milestones_late: int
    budget: list[BudgetTotalOut]
    expectations: int
    expectations_met: int
    gaps_open: int


class PlanPerformanceTotalsOut(Output):
    plans: int
    objectives: int
    objectives_achieved: int
    objectives_achieved_pct: Decimal | None
    milestones_judged: int = Field(description="Done, or past their planned date")
    milestones_on_time: int
    milestones_on_time_pct: Decimal | None
    expectations: int
    expectations_met: int
    gaps_open: int
    budget: list[BudgetTotalOut]


class PlanPerformanceReportOut(Output):
    since: datetime | None
    until: datetime | None
    plans: list[PlanPerformanceOut]
    totals: PlanPerformanceTotalsOut
