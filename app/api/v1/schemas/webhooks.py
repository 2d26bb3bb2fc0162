"""Bodies for webhook endpoints, their secrets and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from app.api.v1.schemas.base import Input, Output

EventType = Annotated[str, Field(min_length=1, max_length=100,
                                 examples=["change_request.approved", "change_request.*"])]
Url = Annotated[str, Field(min_length=1, max_length=2000,
                           examples=["https://crm.example.com/hooks/accord"])]


class WebhookEndpointCreate(Input):
    url: Url
    description: str = Field(default="", max_length=500)
    event_types: list[EventType] = Field(
        min_length=1, max_length=50,
        description="Exact event types, or a prefix ending in `.*` (`change_request.*`); "
                    "`*` is every event")
    enabled: bool = True


class WebhookEndpointUpdate(Input):
    url: Url | None = None
    description: str | None = Field(default=None, max_length=500)
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=50)
    enabled: bool | None = Field(default=None, description="Enabling a disabled endpoint "
                                 "resumes its pending deliveries")


class WebhookEndpointOut(Output):
    id: UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: Literal["gone", "failing", "manual"] | None = Field(
        description="`gone`: the receiver answered 410; `failing`: it failed for longer than "
                    "the retry window (24 h); `manual`: disabled through the API")
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret signs too (a second signature)")
    created_at: datetime
    updated_at: datetime
    version: int


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str = Field(description="`whsec_…`: shown only in this answer; verify deliveries "
                                    "with it (Standard Webhooks)")


class WebhookDeliveryOut(Output):
    id: UUID
    webhook_id: str = Field(description="The `webhook-id` header: the same on every retry "
                                        "and redelivery")
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None


class WebhookAttemptOut(Output):
    id: UUID
    delivery_id: UUID
    webhook_id: str
    event_type: str
    number: int = Field(description="1 for the first attempt of the delivery")
    attempted_at: datetime
    outcome: Literal["succeeded", "failed", "gone"]
    status_code: int | None
    duration_ms: int
    error: str | None = Field(description="Why no answer came (timeout, refused target, …)")
    response_body: str | None = Field(description="The first 4 KiB of the receiver's answer")
