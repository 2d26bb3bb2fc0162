"""Bodies of the signed-in user's notifications and notification preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from app.api.v1.schemas.base import Input, Output

Language = Literal["zh-CN", "en"]


class MyNotificationOut(Output):
    id: UUID
    kind: str = Field(description="What happened, e.g. `approval_step_assigned`, "
                                  "`change_request_decided`, `handover_step`, "
                                  "`feedback_sla_breached`, `approval_step_due_soon`")
    entity_type: str = Field(description="The kind of record it is about")
    entity_id: str = Field(description="The record's id")
    path: str = Field(description="Where the record is read, e.g. "
                                  "`/api/v1/change-requests/{id}`")
    details: dict[str, Any] = Field(description="What the message says about the record "
                                                "(title, step, due time…)")
    created_at: datetime
    read_at: datetime | None


class NotificationsMarkedOut(Output):
    marked: int = Field(description="How many unread notifications were marked read")


class NotificationPreferencesOut(Output):
    email: bool = Field(description="Also send each notification by e-mail")
    language: Language = Field(description="The language of the e-mails")
    version: int = Field(description="0 until first saved")


class NotificationPreferencesUpdate(Input):
    """Only the fields sent change; the first save takes the language of
    ``Accept-Language`` unless one is sent."""

    email: bool = Field(None)  # type: ignore[assignment]
    language: Language = Field(None)  # type: ignore[assignment]
