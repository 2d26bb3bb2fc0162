"""Bodies of feedback (反馈) and satisfaction (满意度) reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import ConfigDict, Field

from app.api.v1.schemas.base import Figure, Input, Instant, Output, Share
from app.domain.feedback.model import FeedbackChannel, FeedbackState, FeedbackType, Severity

Text = Field(min_length=1, max_length=5000)


class FeedbackCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "customer_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "channel": "phone",
        "type": "complaint", "severity": "high",
        "summary": "月结对账单连续两个月延迟，财务部门非常不满"}]})

    customer_id: UUID
    channel: FeedbackChannel
    type: FeedbackType
    severity: Severity
    summary: str = Text
    received_at: Instant | None = Field(None, description="When it arrived (default: now)")
    change_request_id: UUID | None = None
    plan_id: UUID | None = None
    handover_id: UUID | None = None


class ResolveIn(Input):
    resolution: str = Text


class ConfirmIn(Input):
    contact_id: UUID | None = Field(None, description="The customer's contact who agreed")
    agreed_at: Instant | None = None
    note: str = Field("", max_length=5000, description="With whom, when no contact is named")


class ReopenIn(Input):
    reason: str = Text


class BreachOut(Output):
    clock: str
    due_at: datetime
    met_at: datetime | None
    overdue_working_hours: Figure


class SlaOut(Output):
    acknowledge_due_at: datetime
    resolve_due_at: datetime
    acknowledge_breached: bool
    resolve_breached: bool
    breaches: list[BreachOut]


class ConfirmationOut(Output):
    recorded_by: UUID
    recorded_at: datetime
    contact_id: UUID | None
    note: str


class FeedbackOut(Output):
    id: UUID
    customer_id: UUID
    department_id: UUID
    owner_id: UUID
    channel: FeedbackChannel
    type: FeedbackType
    severity: Severity
    summary: str
    state: FeedbackState
    received_at: datetime
    change_request_id: UUID | None
    plan_id: UUID | None
    handover_id: UUID | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    confirmed_at: datetime | None
    resolution: str
    confirmation: ConfirmationOut | None
    reopened_at: datetime | None
    reopen_count: int
    sla: SlaOut
    allowed_actions: list[str]
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    version: int


class SlaPolicyIO(Input):
    acknowledge_hours: float = Field(gt=0, le=2000, description="Working hours")
    acknowledge_urgent_hours: float = Field(gt=0, le=2000)
    resolve_working_days: int = Field(ge=1, le=250)
    urgent_types: list[FeedbackType]
    urgent_severities: list[Severity]


class SlaPolicyOut(SlaPolicyIO):
    version: int


class FeedbackReportOut(Output):
    total: int
    by_type: dict[str, int]
    by_severity: dict[str, int]
    by_state: dict[str, int]
    by_channel: dict[str, int]
    acknowledge_sla: dict[str, Any]
    resolve_sla: dict[str, Any]
    time_to_acknowledge: dict[str, Any]
    time_to_resolve: dict[str, Any]


class IntervalOut(Output):
    low: Figure
    high: Figure


class ScoreOut(Output):
    metric: str
    estimate: Figure | None
    interval: IntervalOut | None = Field(description="95% confidence interval")
    n: int
    low_confidence: bool = Field(description="Fewer than 30 answers")


class ScoresOut(Output):
    nps: ScoreOut
    csat: ScoreOut
    ces: ScoreOut


class ResponseRateOut(Output):
    rate: Share | None
    responses: int
    n: int
    low_confidence: bool


class PeriodOut(ScoresOut):
    period: str


class ShrunkOut(Output):
    raw: Figure | None
    shrunk: Figure | None
    weight: Share = Field(description="n / (n + k): how much of its own result a group keeps")


class SegmentOut(ScoresOut):
    key: str
    shrunk: dict[str, ShrunkOut] | None = Field(
        None, description="Per manager: estimates shrunk toward the overall mean")


class ShrinkageOut(Output):
    overall: Figure | None
    k: Figure
    k_source: str
    explanation: str


class SatisfactionReportOut(Output):
    overall: ScoresOut
    response_rate: ResponseRateOut
    by_period: list[PeriodOut]
    segment: str | None
    by_segment: list[SegmentOut]
    shrinkage: dict[str, ShrinkageOut] = Field(
        description="Per-manager comparisons: empirical-Bayes shrinkage toward the overall "
                    "mean, so that small samples do not top or trail the ranking by chance")
