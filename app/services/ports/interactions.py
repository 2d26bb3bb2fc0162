"""Ports of customer interactions and the contact schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from app.domain.common.paging import Page, PageRequest
from app.domain.interactions.model import Interaction


@dataclass(frozen=True)
class Schedule:
    """When a customer was last contacted, when the next contact is due, and the due date
    whose lapse was last announced (announced once)."""

    customer_id: UUID
    last_contact_at: datetime
    due_on: date
    announced_due_on: date | None = None


class InteractionRepository(Protocol):
    async def add(self, interaction: Interaction) -> None: ...
    async def list(self, customer_id: UUID, page: PageRequest) -> Page[Interaction]: ...
    async def latest_at(self, customer_id: UUID) -> datetime | None: ...
    async def schedule(self, customer_id: UUID) -> Schedule | None: ...
    async def save_schedule(self, schedule: Schedule) -> None: ...
