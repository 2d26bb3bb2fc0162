"""Bodies of the risk register, its heat map and the risk matrix."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from app.api.v1.schemas.base import Day, Input, Output
from app.domain.risk.register import RiskStatus

Scale = Annotated[int, Field(ge=1, le=5)]
LevelLabel = Literal["low", "medium", "high", "critical"]
LongText = Annotated[str, Field(max_length=5000)]


class RiskFields(Input):
    title: str = Field(min_length=1, max_length=200, examples=["关键客户项目延期风险"])
    description: LongText = ""
    customer_id: UUID | None = None
    plan_id: UUID | None = Field(None, description="A plan of the same customer")
    likelihood: Scale
    impact: Scale
    owner_id: UUID | None = Field(None, description="Defaults to you")
    mitigation: LongText = ""
    contingency_plan: LongText = Field("", description="应急预案")
    early_warning: LongText = Field("", description="Early-warning condition")
    next_review_date: Day | None = None


class RiskCreate(RiskFields):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": "关键客户项目延期风险", "likelihood": 4, "impact": 4,
        "mitigation": "每周与客户项目经理对齐里程碑", "contingency_plan": "启用备用实施团队",
        "early_warning": "连续两周里程碑滑期", "next_review_date": "2026-12-15"}]})


class RiskPatch(RiskFields):
    title: str = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]
    likelihood: Scale = Field(None)  # type: ignore[assignment]
    impact: Scale = Field(None)  # type: ignore[assignment]


class RiskStatusChange(Input):
    status: RiskStatus


class RiskOut(Output):
    id: UUID
    title: str
    description: str
    customer_id: UUID | None
    change_request_id: UUID | None
    handover_id: UUID | None
    plan_id: UUID | None
    likelihood: int
    impact: int
    level: LevelLabel
    owner_id: UUID
    department_id: UUID
    mitigation: str
    contingency_plan: str
    early_warning: str
    next_review_date: date | None
    status: RiskStatus
    allowed_statuses: list[RiskStatus]
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class HeatmapCell(Output):
    likelihood: int
    impact: int
    level: LevelLabel
    count: int


class HeatmapOut(Output):
    cells: list[HeatmapCell] = Field(description="All 25 cells, likelihood then impact")
    total: int


class RiskMatrixIn(Input):
    cells: list[Annotated[list[LevelLabel], Field(min_length=5, max_length=5)]] = Field(
        min_length=5, max_length=5,
        description="cells[likelihood-1][impact-1]; never lower than a cell with lower or "
                    "equal likelihood and impact")


class RiskMatrixOut(RiskMatrixIn):
    version: int
