"""Customers, their contacts and history, and the administrators' policies, in memory
(``CustomerRepository``, ``PolicyRepository``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.access.scope import RecordScope
from app.domain.common.errors import WriteConflict
from app.domain.common.paging import Page, PageRequest
from app.domain.customers.history import FieldChange
from app.domain.customers.model import Contact, Customer
from app.services.ports.customers import CustomerFilter
from tests.memory.store import Working, copied, page_of


def in_scope(scope: RecordScope, customer: Customer) -> bool:
    """The customers' SQL scope filter: owner, department, or shared with the department."""
    return scope.covers(owner_id=customer.owner_id, department_id=customer.department_id,
                        shared_with_department=customer.shared_with_department)


class MemoryCustomerRepository:
    def __init__(self, tables: Working) -> None:
        self._t = tables

    async def add(self, customer: Customer) -> None:
        if customer.id in self._t.customers:
            raise WriteConflict()
        self._t.customers[customer.id] = replace(copied(customer), contacts=[])
        for contact in customer.contacts:
            await self.add_contact(contact)

    async def save(self, customer: Customer) -> None:
        """The customer's row; contacts are written one by one, as in SQL."""
        assert customer.id in self._t.customers
        self._t.customers[customer.id] = replace(copied(customer), contacts=[])

    async def get(self, customer_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Customer | None:
        stored = self._t.customers.get(customer_id)
        if stored is None or not in_scope(scope, stored):
            return None
        return self._whole(stored)

    def _whole(self, stored: Customer) -> Customer:
        contacts = sorted((c for c in self._t.contacts.values() if c.customer_id == stored.id),
                          key=lambda c: (not c.is_primary, c.created_at, c.id))
        return replace(copied(stored), contacts=copied(contacts))

    async def list(self, scope: RecordScope, filters: CustomerFilter,
                   page: PageRequest) -> Page[Customer]:
        unsupported = (filters.tag, filters.updated_since, filters.integrity_below, filters.q)
        assert all(f is None for f in unsupported), "filter not kept in memory yet"
        found = [c for c in self._t.customers.values() if in_scope(scope, c)
                 and (filters.include_archived or c.archived_at is None)
                 and all(v is None or getattr(c, name) == v for name, v in (
                     ("owner_id", filters.owner_id), ("department_id", filters.department_id),
                     ("tier", filters.tier), ("stage", filters.stage)))]
        sorted_page = page_of(found, page, lambda c: getattr(c, page.sort.field),
                              lambda c: c.id)
        return Page([self._whole(c) for c in sorted_page.items], sorted_page.next_after)

    async def add_contact(self, contact: Contact) -> None:
        self._t.contacts[contact.id] = copied(contact)

    async def save_contact(self, contact: Contact) -> None:
        assert contact.id in self._t.contacts
        self._t.contacts[contact.id] = copied(contact)

    async def add_history(self, customer_id: UUID, changes: list[FieldChange], *, action: str,
                          actor_id: str | None, request_id: str | None, now: datetime,
                          contact_id: UUID | None = None) -> None:
        self._t.customer_history.extend({
            "customer_id": customer_id, "contact_id": contact_id, "occurred_at": now,
            "actor_id": actor_id, "action": action, "field": c.field, "old": c.old,
            "new": c.new, "request_id": request_id, "redacted": False} for c in changes)


class MemoryPolicyRepository:
    def __init__(self, tables: Working) -> None:
        self._t = tables

    async def get(self, name: str) -> tuple[dict[str, Any], int] | None:
        return copied(self._t.policies.get(name))

    async def put(self, name: str, value: dict[str, Any], version: int, now: datetime,
                  actor_id: str | None) -> None:
        stored = self._t.policies.get(name)
        if (stored[1] if stored else 0) != version - 1:  # another administrator saved
            raise WriteConflict()
        self._t.policies[name] = (copied(value), version)
