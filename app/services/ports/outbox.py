"""What the outbox relay hands to its consumers (webhooks, notifications, e-mail).

The relay claims a batch of unpublished events, gives the batch to every consumer inside one
write unit of work, and marks the events published in that same transaction: a consumer only
*stages* its work (delivery rows, notification rows, e-mail rows) through the unit of work it is
given, so a crash anywhere leaves either nothing or everything of a batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from app.services.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class PublishedEvent:
    """One outbox row as consumers see it."""

    id: UUID
    type: str
    entity_type: str
    entity_id: str
    occurred_at: datetime
    data: dict[str, Any]
    request_id: str | None = None


class OutboxConsumer(Protocol):
    """Turns events into staged work in the relay's transaction; never does I/O itself."""

    name: str

    async def consume(self, uow: UnitOfWork, events: Sequence[PublishedEvent]) -> None: ...
