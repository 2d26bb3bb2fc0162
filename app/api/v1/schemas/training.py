"""Bodies of staff training (员工培训)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, Field

from app.api.v1.schemas.base import Day, Input, Output
from app.domain.access.roles import Role
from app.domain.training.competence import RULES_MAX, Duty
from app.domain.training.model import (
    ATTENDEES_MAX,
    KNOWN_TOPICS,
    MATERIALS_MAX,
    TITLE_MAX,
    TOPIC,
    VALIDITY_MAX,
    Standing,
)

Mark = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class CourseCreate(Input):
    title: str = Field(min_length=1, max_length=TITLE_MAX, examples=["变更管理流程培训"])
    topic: str = Field(pattern=TOPIC.pattern, description=(
        "An open set of lower-case slugs; in use: " + ", ".join(KNOWN_TOPICS)))
    material_ids: list[UUID] = Field(default_factory=list, max_length=MATERIALS_MAX,
                                     description="Knowledge articles to study; each must exist")
    validity_months: int = Field(ge=1, le=VALIDITY_MAX, description=(
        "A completion is valid through the day it was completed plus this many calendar "
        "months, and lapsed from the day after"))
    pass_mark: Mark | None = Field(None, description=(
        "When the course has an assessment: the lowest passing score (0–100). Without "
        "one, attending passes"))
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": "变更管理流程培训", "topic": "change_management", "material_ids": [],
        "validity_months": 12, "pass_mark": "80"}]})


class CourseOut(Output):
    id: UUID
    title: str
    topic: str
    material_ids: list[UUID]
    validity_months: int
    pass_mark: Decimal | None
    department_id: UUID | None
    created_by: UUID
    version: int
    created_at: datetime
    updated_at: datetime


class AttendeeIn(Input):
    user_id: UUID
    attended: bool
    score: Mark | None = Field(None, description="Only for someone who attended")


class SessionCreate(Input):
    held_on: Day = Field(description="The day of the session: the completion day")
    trainer_id: UUID
    attendees: list[AttendeeIn] = Field(min_length=1, max_length=ATTENDEES_MAX)


class AttendeeResultOut(Output):
    user_id: UUID
    attended: bool
    score: Decimal | None
    passed: bool = Field(description="Derived: attended and, with a pass mark, score ≥ it")


class SessionOut(Output):
    id: UUID
    course_id: UUID
    held_on: date
    trainer_id: UUID
    results: list[AttendeeResultOut]
    created_by: UUID
    created_at: datetime


class CompletionOut(Output):
    user_id: UUID
    course_id: UUID
    session_id: UUID
    completed_on: date
    valid_through: date = Field(description="The last day it counts; lapsed the day after")


class CourseStandingOut(CompletionOut):
    course_title: str
    standing: Standing


class TrainingRecordOut(Output):
    user_id: UUID
    today: date = Field(description="The business calendar's day the standing is for")
    courses: list[CourseStandingOut] = Field(description="Per course, the completion that "
                                                         "counts longest")
    sessions: list[SessionOut] = Field(description="Sessions enrolled in, newest first, "
                                                   "with this person's result only")


class CompetenceRuleIO(Input):
    duty: Duty = Field(description=(
        "change_request.approve: deciding an approval step (approve, reject, return) · "
        "handover.sign_as_department_head · feedback.resolve"))
    course_id: UUID
    role: Role | None = Field(None, description=(
        "Only actors in this role (for approvals: only steps of this role); none: anyone "
        "taking the duty"))


class CompetenceRulesIO(Input):
    enabled: bool = Field(description="Off by default: no rule is checked while off")
    rules: list[CompetenceRuleIO] = Field(default_factory=list, max_length=RULES_MAX)


class CompetenceRulesOut(CompetenceRulesIO):
    version: int


class CoverageRowOut(Output):
    course_id: UUID
    course_title: str
    department_id: UUID
    role: Role = Field(description="Someone with two roles counts under each")
    trained: int = Field(description="Active people with a completion valid on the day")
    lapsed: int = Field(description="Completed before, none valid on the day")
    never: int = Field(description="No completion (in the period, when `since` is given)")


class CoverageOut(Output):
    on: date = Field(description="The day the standing is for: the day before `until`, "
                                 "or today")
    rows: list[CoverageRowOut]
