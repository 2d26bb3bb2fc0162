"""A chunk of an import with the round trips taken out (issue 17): the customer use cases
run row by row as in a single create — the same rules, the same code — but the look-ups
they make for duplicates are answered from a few set-based reads made for the whole chunk,
and the customers and history rows they add (aggregates from ``create_in``, plain rows from
``import_new``) are written together when the chunk commits (a binary COPY a table on
PostgreSQL).
Anything else (reading a customer, updating one, a contact of a contacts file) first
writes what is pending and then goes to the store as it would without the batch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from app.domain.customers.history import FieldChange
from app.domain.customers.model import Customer
from app.services.ports.customers import (
    CustomerRepository,
    DuplicateHit,
    Holders,
    ImportedRows,
)


class BatchedCustomers:
    """The customer repository of one chunk: duplicate look-ups from ``holders`` (read
    once for the chunk's keys), ``add``/``add_history`` buffered until ``flush``."""

    def __init__(self, inner: CustomerRepository, holders: Holders,
                 refs: Iterable[tuple[str, str]], codes: Iterable[str],
                 points: Iterable[tuple[str, str]]) -> None:
        self._inner = inner
        self._holders = holders
        self._known_refs, self._known_codes = set(refs), set(codes)
        self._known_points = set(points)
        self._new: list[Customer] = []
        self._history: list[tuple[UUID, list[FieldChange], dict[str, Any]]] = []
        self._imported = ImportedRows()

    async def flush(self) -> None:
        if self._new or self._history:
            new, history = self._new, self._history
            self._new, self._history = [], []
            await self._inner.add_many(new, history)
        if self._imported.customers:
            imported, self._imported = self._imported, ImportedRows()
            await self._inner.add_imported(imported)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        async def flushed(*args: Any, **kwargs: Any) -> Any:
            await self.flush()
            return await method(*args, **kwargs)
        return flushed

    async def external_ref_holder(self, system: str, external_id: str) -> UUID | None:
        if (system, external_id) not in self._known_refs:
            await self.flush()
            return await self._inner.external_ref_holder(system, external_id)
        return self._holders.refs.get((system, external_id))

    async def credit_code_holder(self, credit_code: str,
                                 other_than: UUID | None) -> DuplicateHit | None:
        hit = self._holders.codes.get(credit_code)
        if credit_code not in self._known_codes or (hit is not None and other_than is not None
                                                    and hit.customer_id == other_than):
            await self.flush()
            return await self._inner.credit_code_holder(credit_code, other_than)
        return hit

    async def contact_point_holders(self, points: list[tuple[str, str]],
                                    other_than: UUID | None) -> list[DuplicateHit]:
        if other_than is not None or not set(points) <= self._known_points:
            await self.flush()
            return await self._inner.contact_point_holders(points, other_than)
        return [hit for point in points for hit in self._holders.points.get(point, [])]

    async def add(self, customer: Customer) -> None:
        self._new.append(customer)
        if customer.credit_code and customer.archived_at is None:
            self._holders.codes.setdefault(customer.credit_code, DuplicateHit(
                customer.id, customer.name, "credit_code", customer.credit_code))
        for ref in customer.external_refs.items():
            self._holders.refs.setdefault(ref, customer.id)
        for contact in customer.contacts:
            if contact.erased_at is None:
                for point in [("phone", p.number) for p in contact.phones] + \
                        [("email", e.address.lower()) for e in contact.emails]:
                    self._holders.points.setdefault(point, []).append(DuplicateHit(
                        customer.id, customer.name, *point))

    async def add_imported(self, rows: ImportedRows) -> None:
        pending = self._imported
        for name in ("customers", "tags", "refs", "contacts", "points", "history"):
            getattr(pending, name).extend(getattr(rows, name))
        for row in rows.customers:
            if row["credit_code"]:
                self._holders.codes.setdefault(row["credit_code"], DuplicateHit(
                    row["id"], row["name"], "credit_code", row["credit_code"]))
        for ref in rows.refs:
            self._holders.refs.setdefault((ref["system"], ref["external_id"]),
                                          ref["customer_id"])
        names = {row["id"]: row["name"] for row in rows.customers}
        for point in rows.points:
            self._holders.points.setdefault((point["kind"], point["value"]), []).append(
                DuplicateHit(point["customer_id"], names[point["customer_id"]],
                             point["kind"], point["value"]))

    async def add_history(self, customer_id: UUID, changes: list[FieldChange],
                          **at: Any) -> None:
        if changes:
            self._history.append((customer_id, changes, at))


class _Remembered:
    """A repository whose plain ``get`` answers are kept for the chunk (the owner of each
    row, the policies each create reads); other calls go through."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._got: dict[Any, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get(self, key: Any, **options: Any) -> Any:
        if options:
            return await self._inner.get(key, **options)
        if key not in self._got:
            self._got[key] = await self._inner.get(key)
        return self._got[key]


class _Flushing:
    """Another repository: what the batch holds is written before any call of it (a
    contacts row finds its account by name there)."""

    def __init__(self, inner: Any, batch: BatchedCustomers) -> None:
        self._inner = inner
        self._batch = batch

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        async def flushed(*args: Any, **kwargs: Any) -> Any:
            await self._batch.flush()
            return await method(*args, **kwargs)
        return flushed


class BatchedUnitOfWork:
    """The chunk's unit of work: the batch's customers, users and policies read once,
    everything else the store's own; pending writes go out before the commit."""

    def __init__(self, inner: Any, customers: BatchedCustomers) -> None:
        self._inner = inner
        self.customers = customers
        self.users = _Remembered(inner.users)
        self.policies = _Remembered(inner.policies)

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if callable(found):  # record_change, emit
            return found
        return _Flushing(found, self.customers)

    async def commit(self) -> None:
        await self.customers.flush()
        await self._inner.commit()
