"""The in-memory ``UnitOfWork`` and ``UnitOfWorkFactory``.

The repositories work on copies of the committed tables (``store.Working``); ``commit()``
publishes them with the staged audit entries (hash-chained) and events (outbox and
customer timeline); leaving without commit drops them. Staging is ``SqlUnitOfWork``'s:
it borrows ``record_change``, ``record`` and ``emit`` from it (same ``_ctx``, ``_write``,
``_audit``, ``_events`` and ``_clock``), and a new staging method is borrowed the same way.

Not kept in memory yet: refresh tokens, API keys, the login throttle, knowledge."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any

from app.domain.audit.chain import AuditRecord
from app.domain.audit.checkpoint import Checkpoint
from app.domain.common.events import DomainEvent
from app.domain.common.paging import Page, PageRequest
from app.repositories.unit_of_work import SqlUnitOfWork
from app.services.ports import Clock, RequestContext
from tests.memory.change_requests import MemoryChangeRequestRepository
from tests.memory.customer_work import (
    MemoryFeedbackRepository,
    MemoryPlanRepository,
    MemoryRiskRepository,
    MemorySurveyRepository,
)
from tests.memory.customers import MemoryCustomerRepository, MemoryPolicyRepository
from tests.memory.handovers import MemoryHandoverRepository
from tests.memory.people import MemoryDepartmentRepository, MemoryUserRepository
from tests.memory.store import MemoryStore, page_of
from tests.memory.training import MemoryTrainingRepository


class MemoryAuditLog:
    """``AuditLogReader`` over the committed chain (entries appended by commits)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def entries(self, batch_size: int = 1000) -> AsyncIterator[AuditRecord]:
        for record in list(self._store.audit):
            yield record

    async def head(self) -> tuple[int, str]:
        return self._store.head()

    async def list(self, page: PageRequest, entity_type: str | None,
                   entity_id: str | None) -> Page[AuditRecord]:
        found = [a for a in self._store.audit if entity_type in (None, a.entity_type)
                 and entity_id in (None, a.entity_id)]
        return page_of(found, page, lambda a: a.seq, lambda a: a.seq)

    async def checkpoints(self) -> list[Checkpoint]:
        return list(self._store.checkpoints)

    async def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        self._store.checkpoints.append(checkpoint)  # not undone: no test rolls one back


class MemoryRecordDirectory:
    """``RecordDirectory``: no record is kept by id outside the tables' copies here."""

    async def existing(self, entity_type: str, ids: Sequence[str]) -> str | None:
        return None


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore, clock: Clock, ctx: RequestContext, *,
                 write: bool) -> None:
        self._store = store
        self._clock = clock
        self._ctx = ctx
        self._write = write
        self._audit: list[dict[str, Any]] = []
        self._events: list[DomainEvent] = []

    async def __aenter__(self) -> MemoryUnitOfWork:
        self._tables, self._generation = self._store.checkout()
        t = self._tables
        self.users = MemoryUserRepository(t, "users")
        self.departments = MemoryDepartmentRepository(t, "departments")
        self.audit_log = MemoryAuditLog(self._store)
        self.records = MemoryRecordDirectory()
        self.customers = MemoryCustomerRepository(t)
        self.policies = MemoryPolicyRepository(t)
        self.risks = MemoryRiskRepository(t, "risks")
        self.change_requests = MemoryChangeRequestRepository(t)
        self.handovers = MemoryHandoverRepository(t)
        self.surveys = MemorySurveyRepository(t)
        self.feedback = MemoryFeedbackRepository(t)
        self.plans = MemoryPlanRepository(t, "plans")
        self.training = MemoryTrainingRepository(t)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        """Whatever was not committed is dropped with the copy."""
        self._audit, self._events = [], []

    # Staged as the SQL unit of work stages them: one serialisation rule for both.
    record_change = SqlUnitOfWork.record_change
    record = SqlUnitOfWork.record
    emit = SqlUnitOfWork.emit

    async def commit(self) -> None:
        actor = self._ctx.principal
        self._generation = self._store.publish(
            self._tables, self._generation, self._audit, self._events, self._clock.now(),
            str(actor.id) if actor else None)
        self._audit, self._events = [], []


class MemoryUnitOfWorkFactory:
    """What ``app.main`` gets from ``SqlUnitOfWorkFactory``, over one ``MemoryStore``."""

    def __init__(self, store: MemoryStore, clock: Clock) -> None:
        self.store = store
        self._clock = clock

    def __call__(self, ctx: RequestContext, *, write: bool = True) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store, self._clock, ctx, write=write)
