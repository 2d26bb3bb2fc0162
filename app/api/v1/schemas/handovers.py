"""Bodies of handovers (客户移交)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import ConfigDict, Field

from app.api.v1.schemas.base import Day, Figure, Input, Output
from app.api.v1.schemas.reports import ReportFigureOut
from app.domain.customers.model import ContactChannel, Tier
from app.domain.handovers.model import (
    HandoverLevel,
    HandoverReason,
    HandoverState,
    SignatureRole,
    Stakeholder,
)

Note = Field("", max_length=2000)


PLANNED_DATE = Field(None, description=(
    "The day the transfer is planned for. It is a plan: an open "
    "handover past it shows `transfer_overdue`; the follow-up falls due counting from the "
    "real transfer, not from this day."))

class HandoverCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "customer_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "to_manager_id": "5b1f6a34-1d2c-4c8e-9a0b-7e2f3d4c5b6a",
        "reason": "reassignment", "planned_date": "2026-12-15",
        "note": "区域调整，华南客户统一由新经理负责"}]})

    customer_id: UUID
    to_manager_id: UUID = Field(description="The receiving account manager (接收客户经理)")
    reason: HandoverReason
    planned_date: Day | None = PLANNED_DATE
    note: str = Note


class BatchCreate(Input):
    """All live customers of one account manager, e.g. when they resign (离职移交)."""

    from_manager_id: UUID
    to_manager_id: UUID
    reason: HandoverReason
    planned_date: Day | None = PLANNED_DATE
    note: str = Note


class NotificationIn(Input):
    stakeholder: Stakeholder
    channel: ContactChannel
    contact_id: UUID | None = Field(None, description="Required when the customer is told")
    note: str = Note


class MeetingIn(Input):
    held_on: Day
    attendees: list[str] = Field(min_length=1, max_length=50)
    minutes: str = Field("", max_length=20_000, description="会议纪要 (required for strict)")


class FollowUpIn(Input):
    contacted_on: Day
    channel: ContactChannel
    outcome: str = Field(min_length=1, max_length=5000)


class CancelIn(Input):
    reason: str = Field(min_length=1, max_length=2000)


class FindingIn(Input):
    item: str = Field(min_length=1, max_length=48, description="The checklist item's key")
    text: str = Field(min_length=1, max_length=5000)


class ResolutionIn(Input):
    resolution: str = Field(min_length=1, max_length=5000)


class HandoverRiskFactorOut(Output):
    name: str
    value: Any
    points: int = Field(description="What the factor adds to the likelihood")


class HandoverRiskOut(Output):
    likelihood: int
    impact: int
    level: str
    factors: list[HandoverRiskFactorOut]


class ItemOut(Output):
    key: str
    summary: dict[str, Any] = Field(description="What the service knows about this material")
    handing_over_verified_by: UUID | None
    handing_over_verified_at: datetime | None
    receiving_verified_by: UUID | None
    receiving_verified_at: datetime | None
    verified_by_both: bool


class FindingOut(Output):
    id: UUID
    item_key: str
    raised_by: UUID
    text: str
    raised_at: datetime
    resolved_by: UUID | None
    resolution: str | None
    resolved_at: datetime | None


class SignatureOut(Output):
    role: SignatureRole
    signer_id: UUID
    signed_at: datetime
    on_behalf_of: UUID | None = Field(description="The departed manager a head signed for")


class NotificationOut(Output):
    id: UUID
    stakeholder: Stakeholder
    user_id: UUID | None
    contact_id: UUID | None
    channel: str
    notified_at: datetime
    recorded_by: UUID
    note: str


class HandoverStepOut(Output):
    name: str
    status: str = Field(description="done, pending, or skipped (the level does not require it)")
    at: datetime | None


class HandoverSummary(Output):
    id: UUID
    batch_id: UUID | None
    customer_id: UUID
    customer_name: str
    department_id: UUID
    from_manager_id: UUID
    to_manager_id: UUID
    reason: HandoverReason
    level: HandoverLevel
    state: HandoverState
    risk_level: str
    planned_date: date | None
    follow_up_due: date | None = Field(description=(
        "Set at the transfer: working days after the real transfer, per the level"))
    follow_up_overdue: bool
    transfer_overdue: bool = Field(description=(
        "Still open after its planned_date (the business calendar's day)"))
    allowed_actions: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


class HandoverOut(HandoverSummary):
    note: str
    level_reasons: list[str]
    risk: HandoverRiskOut
    steps: list[HandoverStepOut]
    checklist: list[ItemOut]
    findings: list[FindingOut]
    signatures: list[SignatureOut]
    missing_signatures: list[SignatureRole]
    notifications: list[NotificationOut]
    meeting: dict[str, Any] | None
    transfer: dict[str, Any] | None = Field(description="What moved with the customer")
    follow_up: dict[str, Any] | None
    notified_at: datetime | None
    preparation_started_at: datetime | None
    meeting_held_at: datetime | None
    signed_at: datetime | None
    transferred_at: datetime | None
    followed_up_at: datetime | None
    pulse_due_on: date | None = Field(description="Satisfaction pulse (strict handovers)")
    cancelled_at: datetime | None
    cancel_reason: str | None


class BatchOut(Output):
    id: UUID
    from_manager_id: UUID
    to_manager_id: UUID
    reason: HandoverReason
    handovers: list[HandoverOut]
    skipped: list[dict[str, str]] = Field(description="Customers already in an open handover")


class ReportOut(Output):
    handover: HandoverOut
    durations: dict[str, Figure]


class Figures(Output):
    count: int
    by_state: dict[str, int]
    transferred: int
    median_days_to_transfer: Figure | None
    findings_per_handover: Figure | None
    overdue_follow_ups: int


class DepartmentFigures(Figures):
    department_id: UUID


class MonthFigures(Figures):
    month: str


class HandoverReportOut(Output):
    overall: Figures
    by_department: list[DepartmentFigures]
    by_month: list[MonthFigures]
    outcomes: list[ReportFigureOut] = Field(
        description="Churn within 90 days of the transfer, satisfaction before against "
                    "after (same customers, 95% intervals), findings by checklist item")


class StandardIO(Input):
    tier_levels: dict[Tier, HandoverLevel]
    raise_at_open_items: int = Field(ge=1, le=1000)
    raise_at_contacts: int = Field(ge=1, le=1000)
    follow_up_working_days: dict[HandoverLevel, int]
    satisfaction_pulse_days: int = Field(ge=1, le=365)


class StandardOut(StandardIO):
    version: int


class FollowUpEscalationOut(Output):
    escalated: int = Field(description="Overdue follow-ups announced by this run")
