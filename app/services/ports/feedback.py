"""Ports of the feedback loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from app.domain.access.scope import RecordScope
from app.domain.common.paging import Page, PageRequest
from app.domain.feedback.model import FeedbackItem


@dataclass
class FeedbackRecord:
    """A feedback item as stored: the loop's values plus its SLA due times (fixed when the
    clock starts, so a later policy change does not move a promise already made), when a
    breach was announced, and the bookkeeping."""

    item: FeedbackItem
    acknowledge_due_at: datetime
    resolve_due_at: datetime
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    version: int
    acknowledge_breached_at: datetime | None = None
    resolve_breached_at: datetime | None = None


@dataclass(frozen=True)
class FeedbackFilter:
    state: str | None = None
    type: str | None = None
    severity: str | None = None
    customer_id: UUID | None = None
    owner_id: UUID | None = None
    department_id: UUID | None = None
    change_request_id: UUID | None = None
    handover_id: UUID | None = None
    open_only: bool = False
    breached_at: datetime | None = None  # only items past a due time at this instant


@dataclass(frozen=True)
class CustomerSignals:
    """What customer health reads besides survey scores."""

    open_complaints: int
    sla_breaches: int  # items whose acknowledge or resolve clock ran out, in the period
    last_contact: datetime | None
    open_high_risks: int


class FeedbackRepository(Protocol):
    async def add(self, record: FeedbackRecord) -> None: ...
    async def save(self, record: FeedbackRecord) -> None: ...
    async def get(self, feedback_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> FeedbackRecord | None: ...
    async def list(self, scope: RecordScope, filters: FeedbackFilter,
                   page: PageRequest) -> Page[FeedbackRecord]: ...
    async def breaches_to_announce(self, now: datetime,
                                   limit: int) -> list[FeedbackRecord]: ...
    async def open_of_customer(self, customer_id: UUID) -> list[FeedbackRecord]: ...
    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]: ...
    async def in_period(self, scope: RecordScope, since: datetime | None,
                        until: datetime | None,
                        department_id: UUID | None) -> list[FeedbackRecord]: ...
    async def signals(self, customer_id: UUID, since: datetime) -> CustomerSignals: ...
    async def customers_to_check(self, after: UUID | None, limit: int) -> list[UUID]: ...
    async def last_health(self, customer_id: UUID) -> bool | None:
        """Whether the customer was below the threshold at the last check (None: never
        checked)."""
        ...
    async def store_health(self, customer_id: UUID, score: float, below: bool,
                           now: datetime) -> None: ...
