"""Ports of handovers: the repository and the facts it gathers about a customer's open work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from app.domain.common.paging import Page, PageRequest
from app.domain.handovers.access import HandoverReach
from app.domain.handovers.model import (
    ChecklistItem,
    Finding,
    Handover,
    HandoverState,
    Notification,
    Signature,
)


@dataclass(frozen=True)
class HandoverFilter:
    state: HandoverState | None = None
    open_only: bool = False
    customer_id: UUID | None = None
    batch_id: UUID | None = None
    manager_id: UUID | None = None  # handing over or receiving
    department_id: UUID | None = None
    follow_up_overdue_on: date | None = None  # transferred, follow-up due before this day


@dataclass(frozen=True)
class CustomerWork:
    """What is open on a customer, as a handover sees it (checklist, risk, transfer)."""

    owner_since: datetime
    open_change_requests: list[dict[str, Any]]
    open_tasks: list[dict[str, Any]]
    open_risks: list[dict[str, Any]]
    closed_change_requests: int
    latest_satisfaction: int | None
    open_complaints: int


class HandoverRepository(Protocol):
    async def add_batch(self, values: dict[str, Any]) -> None: ...
    async def add(self, handover: Handover) -> None: ...
    async def save(self, handover: Handover) -> None: ...
    async def get(self, handover_id: UUID, reach: HandoverReach, *,
                  for_update: bool = False) -> Handover | None: ...
    async def list(self, reach: HandoverReach, filters: HandoverFilter,
                   page: PageRequest) -> Page[Handover]: ...
    async def open_for_customer(self, customer_id: UUID) -> UUID | None: ...
    async def receiving(self, customer_id: UUID, user_id: UUID) -> bool:
        """Whether ``user_id`` is receiving this customer in a handover still open."""
        ...
    async def save_item(self, handover_id: UUID, item: ChecklistItem) -> None: ...
    async def add_finding(self, handover_id: UUID, finding: Finding) -> None: ...
    async def save_finding(self, finding: Finding) -> None: ...
    async def add_signature(self, handover_id: UUID, signature: Signature) -> None: ...
    async def add_notification(self, handover_id: UUID, notification: Notification) -> None: ...
    async def customer_work(self, customer_id: UUID, owner_id: UUID) -> CustomerWork: ...
    async def overdue_follow_ups(self, today: date, limit: int) -> list[Handover]: ...
