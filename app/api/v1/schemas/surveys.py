"""Bodies of satisfaction surveys (满意度调查)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import ConfigDict, Field

from app.api.v1.schemas.base import Input, Output
from app.domain.surveys.model import QuestionKind, Trigger


class QuestionIO(Input):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    kind: QuestionKind
    text: str = Field(min_length=1, max_length=1000)
    options: list[str] = Field(default_factory=list, max_length=50)
    required: bool = True


class TemplateCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "变更完成回访", "questions": [
            {"id": "nps", "kind": "nps", "text": "您有多大可能向同事推荐我们？"},
            {"id": "csat", "kind": "csat", "text": "您对本次变更的结果满意吗？"},
            {"id": "ces", "kind": "ces", "text": "提出并完成这次变更有多容易？"},
            {"id": "comment", "kind": "text", "text": "还有什么建议？", "required": False}]}]})

    name: str = Field(min_length=1, max_length=200)
    questions: list[QuestionIO] = Field(min_length=1, max_length=50)


class TemplateOut(Output):
    id: UUID
    name: str
    questions: list[QuestionIO]
    created_by: UUID
    created_at: datetime
    archived_at: datetime | None
    version: int


class InvitationCreate(Input):
    template_id: UUID
    customer_id: UUID
    contact_id: UUID
    expires_in_days: int | None = Field(None, ge=1, le=180,
                                        description="Default: the automation setting's")


class InvitationOut(Output):
    id: UUID
    template_id: UUID
    customer_id: UUID
    contact_id: UUID
    department_id: UUID
    owner_id: UUID
    trigger: Trigger
    source_id: UUID | None
    expires_at: datetime
    created_at: datetime
    responded_at: datetime | None
    revoked_at: datetime | None


class IssuedOut(InvitationOut):
    token: str = Field(description="Shown once: only its hash is stored")
    link: str = Field(description="The public answer path for this token")


class PublicQuestion(Output):
    id: str
    kind: QuestionKind
    text: str
    options: list[str]
    required: bool


class PublicSurveyOut(Output):
    name: str
    questions: list[PublicQuestion]
    expires_at: datetime


class ResponseIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "answers": {"nps": 9, "csat": 5, "ces": 2, "comment": "响应很及时 👍"}}]})

    answers: dict[str, Any] = Field(description="Question id → answer: an integer for NPS "
                                    "(0–10), CSAT (1–5) and CES (1–7), an option for single "
                                    "choice, a list of options for multiple choice, text")


class AutomationIO(Input):
    change_request_closed_template_id: UUID | None = None
    handover_pulse_template_id: UUID | None = None
    expires_in_days: int = Field(14, ge=1, le=180)


class AutomationOut(AutomationIO):
    version: int


class AutomationRunOut(Output):
    invited: int = Field(description="Invitations sent by this run")
