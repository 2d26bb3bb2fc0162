"""What the webhook use cases need: storage of endpoints, deliveries and attempts, a
transport that posts to a receiver safely, and a box that seals endpoint secrets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.domain.common.paging import Page, PageRequest
from app.domain.webhooks.model import Delivery, DeliveryAttempt, WebhookEndpoint


@dataclass(frozen=True)
class DueDelivery:
    """A claimed delivery with what sending it needs from its endpoint."""

    delivery: Delivery
    url: str
    sealed_secrets: list[str]
    failing_since: datetime | None


@dataclass(frozen=True)
class DeliveryResult:
    """What a transport saw: the status (None when no answer came), the time it took, why
    it failed without an answer, and the first bytes of the answer."""

    status_code: int | None
    duration_ms: int
    error: str | None = None
    response_body: str | None = None


class WebhookRepository(Protocol):
    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    async def get_endpoint(self, endpoint_id: UUID, *,
                           for_update: bool = False) -> WebhookEndpoint | None: ...
    async def save_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    async def list_endpoints(self, page: PageRequest) -> Page[WebhookEndpoint]: ...
    async def enabled_endpoints(self) -> list[WebhookEndpoint]: ...
    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> None: ...
    async def get_delivery(self, delivery_id: UUID, *,
                           for_update: bool = False) -> Delivery | None: ...
    async def save_delivery(self, delivery: Delivery) -> None: ...
    async def claim_due(self, now: datetime, lease_until: datetime,
                        limit: int) -> list[DueDelivery]:
        """Pending deliveries due by ``now`` to enabled endpoints, oldest first, pushed to
        ``lease_until`` so no other worker takes them meanwhile (rows locked by another
        claim are skipped on PostgreSQL)."""
        ...
    async def record_attempts(self, deliveries: Sequence[Delivery],
                              attempts: Sequence[DeliveryAttempt]) -> None: ...
    async def endpoints_succeeded(self, endpoint_ids: Sequence[UUID]) -> None: ...
    async def endpoints_failed(self, endpoint_ids: Sequence[UUID], now: datetime) -> None: ...
    async def list_attempts(self, endpoint_id: UUID,
                            page: PageRequest) -> Page[DeliveryAttempt]: ...
    async def delivery_counts(self) -> Mapping[str, int]: ...
    async def attempt_counts(self) -> Mapping[str, int]: ...
    async def prune_attempts(self, before: datetime, limit: int) -> int:
        """Remove up to ``limit`` attempts made before ``before``, except the latest
        attempt of a delivery that may still be sent again (pending, or failed and open
        to a manual redelivery); the number removed."""
        ...


class WebhookTransport(Protocol):
    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> DeliveryResult:
        """POST once: no redirects followed, a timeout, the answer read up to a cap, and (in
        production) the host's addresses checked just before connecting."""
        ...

    async def target_problem(self, url: str) -> str | None:
        """Why ``url`` may not be a target now (its form or what its host resolves to)."""
        ...


class SecretBox(Protocol):
    def seal(self, secret: str) -> str: ...
    def open(self, sealed: str) -> str: ...
