"""Domain events: facts about state changes, stored in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.common.ids import new_id


@dataclass(frozen=True)
class DomainEvent:
    type: str  # "<entity>.<past-tense verb>", e.g. "user.created"
    entity_type: str
    entity_id: UUID
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    # Set when the event concerns a customer: it then appears on that customer's timeline,
    # whichever feature emitted it.
    customer_id: UUID | None = None
    id: UUID = field(default_factory=new_id)
