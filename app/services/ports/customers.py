"""Ports of the customer archive: the repository, its filters and what it reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from app.domain.access.scope import RecordScope
from app.domain.common.paging import Page, PageRequest
from app.domain.customers.history import FieldChange
from app.domain.customers.model import Contact, Customer


@dataclass(frozen=True)
class CustomerFilter:
    owner_id: UUID | None = None
    department_id: UUID | None = None
    tier: str | None = None
    stage: str | None = None
    tag: str | None = None
    updated_since: datetime | None = None
    integrity_below: int | None = None
    q: str | None = None
    include_archived: bool = False
    contact_overdue: bool = False  # next contact due before the business calendar's today
    contact_due_before: date | None = None  # set by the use case from contact_overdue
    external_ref: tuple[str, str] | None = None  # (system, id): the customer a CRM id names


@dataclass(frozen=True)
class DuplicateHit:
    """An existing customer that already holds a credit code, phone or e-mail."""

    customer_id: UUID
    customer_name: str
    kind: str  # "credit_code" | "phone" | "email"
    value: str


@dataclass
class ImportedRows:
    """New customers of an import chunk as the rows of each table (column → value), built
    from plain values by the rules of a single create, without an aggregate per row."""

    customers: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    refs: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Holders:
    """Who already holds each of many external references, credit codes and contact
    points (kind, value)."""

    refs: dict[tuple[str, str], UUID]
    codes: dict[str, DuplicateHit]
    points: dict[tuple[str, str], list[DuplicateHit]]


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    contact_id: UUID | None
    occurred_at: datetime
    actor_id: str | None
    action: str
    field: str
    old: Any
    new: Any
    request_id: str | None
    redacted: bool


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    occurred_at: datetime
    type: str
    entity_type: str
    entity_id: str
    actor_id: str | None
    data: dict[str, Any]


class CustomerRepository(Protocol):
    """Reads take the caller's record scope: a customer outside it is simply not found."""

    async def add(self, customer: Customer) -> None: ...
    async def save(self, customer: Customer) -> None: ...
    async def get(self, customer_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Customer | None: ...
    async def list(self, scope: RecordScope, filters: CustomerFilter,
                   page: PageRequest) -> Page[Customer]: ...
    async def credit_code_holder(self, credit_code: str,
                                 other_than: UUID | None) -> DuplicateHit | None: ...
    async def contact_point_holders(self, points: list[tuple[str, str]],
                                    other_than: UUID | None) -> list[DuplicateHit]: ...
    async def external_ref_holder(self, system: str, external_id: str) -> UUID | None: ...
    async def holders_of_many(self, refs: Sequence[tuple[str, str]], codes: Sequence[str],
                              points: Sequence[tuple[str, str]]) -> Holders:
        """The three look-ups above for many values at once (bulk import)."""
        ...
    async def add_many(self, new: Sequence[Customer],
                       history: Sequence[tuple[UUID, list[FieldChange], dict[str, Any]]]
                       ) -> None:
        """``add`` and ``add_history`` (its keyword arguments) for many customers at once."""
        ...
    async def add_imported(self, rows: ImportedRows) -> None:
        """New customers of an import as plain rows, each table in one statement (a binary
        COPY on PostgreSQL)."""
        ...
    async def contacts_of_many(self, customer_ids: list[UUID]) -> dict[UUID, list[Contact]]:
        """The contacts of a page of customers in one read (exports)."""
        ...
    async def add_contact(self, contact: Contact) -> None: ...
    async def save_contact(self, contact: Contact) -> None: ...
    async def move_contacts(self, source_id: UUID, target_id: UUID) -> None: ...
    async def add_history(self, customer_id: UUID, changes: list[FieldChange], *, action: str,
                          actor_id: str | None, request_id: str | None, now: datetime,
                          contact_id: UUID | None = None) -> None: ...
    async def copy_history(self, source_id: UUID, target_id: UUID) -> None: ...
    async def redact_contact_history(self, contact_id: UUID) -> None: ...
    async def history(self, customer_id: UUID, page: PageRequest) -> Page[HistoryEntry]: ...
    async def timeline(self, customer_id: UUID, page: PageRequest) -> Page[TimelineEntry]: ...
    async def all_ids(self, after: UUID | None, limit: int) -> list[UUID]: ...
    async def needs_in_use(self, needs: list[str]) -> list[str]: ...
