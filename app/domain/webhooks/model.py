"""The webhook records: an endpoint (subscription), a delivery (one event to one endpoint,
its ``webhook-id`` kept across retries) and the log entry of each attempt."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from app.domain.webhooks.deliveries import AttemptOutcome, DeliveryState

# After a rotation the previous secret keeps signing for this long, beside the new one.
ROTATION_OVERLAP = timedelta(hours=24)


@dataclass
class WebhookEndpoint:
    id: UUID
    url: str
    description: str
    event_types: tuple[str, ...]
    enabled: bool
    # The secrets as the secret box sealed them: the plaintext is needed to sign, so
    # they cannot be hashed; they are never shown after creation or rotation.
    secret_sealed: str
    created_at: datetime
    updated_at: datetime
    created_by: UUID | None
    previous_secret_sealed: str | None = None
    previous_secret_expires_at: datetime | None = None
    failing_since: datetime | None = None
    disabled_reason: str | None = None  # "gone", "failing" or "manual"
    version: int = 1

    def sealed_signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while its overlap lasts."""
        sealed = [self.secret_sealed]
        if (self.previous_secret_sealed is not None
                and self.previous_secret_expires_at is not None
                and now < self.previous_secret_expires_at):
            sealed.append(self.previous_secret_sealed)
        return sealed

    def rotate(self, new_sealed: str, now: datetime) -> None:
        self.previous_secret_sealed = self.secret_sealed
        self.previous_secret_expires_at = now + ROTATION_OVERLAP
        self.secret_sealed = new_sealed


@dataclass
class Delivery:
    id: UUID
    endpoint_id: UUID
    event_id: UUID | None
    event_type: str
    payload: str  # the JSON body, fixed when the delivery is staged
    state: DeliveryState
    next_attempt_at: datetime | None
    created_at: datetime
    attempts: int = 0
    first_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None


@dataclass(frozen=True)
class DeliveryAttempt:
    id: UUID
    delivery_id: UUID
    endpoint_id: UUID
    event_type: str
    attempted_at: datetime
    outcome: AttemptOutcome
    status_code: int | None
    duration_ms: int
    error: str | None = None
    response_body: str | None = None
    number: int = 1
    webhook_id: str = field(default="")
