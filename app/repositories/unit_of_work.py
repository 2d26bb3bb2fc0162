"""The unit of work: one database transaction per use case, with the audit entries and
outbox events the use case staged written inside it, just before commit.

In a request that claimed an ``Idempotency-Key``, ``commit()`` writes all that and parks
the transaction on the request's ``PendingAnswer``: the route's answer is stored in it and
both commit together (``app.services.ports.idempotency.PendingAnswer`` says why)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.principal import Principal
from app.domain.common.events import DomainEvent
from app.domain.common.recorded import json_object, json_value
from app.repositories.audit import SqlAuditLog
from app.repositories.bulk import SqlBulkJobRepository
from app.repositories.bulk_copy import PostgresCustomerCopy
from app.repositories.change_requests import SqlChangeRequestRepository
from app.repositories.credentials import (
    SqlApiKeyRepository,
    SqlLoginThrottle,
    SqlRefreshTokenRepository,
)
from app.repositories.customers import SqlCustomerRepository
from app.repositories.database import Engines
from app.repositories.direct import Prepared
from app.repositories.feedback import SqlFeedbackRepository
from app.repositories.handovers import SqlHandoverRepository
from app.repositories.idempotency import store_answer
from app.repositories.import_keys import SqlImportKeys
from app.repositories.interactions import SqlInteractionRepository
from app.repositories.knowledge import SqlKnowledgeRepository
from app.repositories.notifications import (
    SqlEmailOutbox,
    SqlNotificationRepository,
    SqlReminderRepository,
)
from app.repositories.plans import SqlPlanRepository
from app.repositories.policies import SqlPolicyRepository
from app.repositories.records import SqlRecordDirectory
from app.repositories.reports import SqlReportRepository
from app.repositories.risks import SqlRiskRepository
from app.repositories.search import SubstringSearch
from app.repositories.storage_errors import translate_storage_errors
from app.repositories.surveys import SqlSurveyRepository
from app.repositories.tables import outbox
from app.repositories.tables_customers import customer_timeline
from app.repositories.training import SqlTrainingRepository
from app.repositories.users import SqlDepartmentRepository, SqlUserRepository
from app.repositories.webhooks import SqlWebhookRepository
from app.repositories.worker import SqlJobLeases, SqlOutboxStore
from app.services.ports import Clock, RequestContext
from app.services.ports.idempotency import Claim, StoredResponse, pending_answer

_INSERT_OUTBOX = Prepared(insert(outbox))
_INSERT_TIMELINE = Prepared(insert(customer_timeline))


class SqlUnitOfWork:
    def __init__(self, engines: Engines, clock: Clock, search: SubstringSearch,
                 ctx: RequestContext, *, write: bool) -> None:
        self._engine = engines.write if write else engines.read
        self._search = search
        self._clock = clock
        self._ctx = ctx
        self._write = write
        self._audit: list[dict[str, Any]] = []
        self._events: list[DomainEvent] = []
        self._conn: AsyncConnection | None = None
        self._errors = translate_storage_errors()

    async def __aenter__(self) -> SqlUnitOfWork:
        pending = pending_answer.get()
        if self._write and pending is not None and pending.parked:
            # It would wait for the parked transaction's locks, held until the answer.
            raise RuntimeError("an idempotent request commits one unit of work")
        await self._errors.__aenter__()
        try:
            self._conn = await self._engine.connect()
            if self._write:  # a read begins with its first statement (autocommit on PostgreSQL)
                await self._conn.begin()
        except BaseException as exc:
            await self._close()
            await self._errors.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        conn = self._conn
        self.users = SqlUserRepository(conn)
        self.departments = SqlDepartmentRepository(conn)
        self.refresh_tokens = SqlRefreshTokenRepository(conn)
        self.api_keys = SqlApiKeyRepository(conn)
        self.login_throttle = SqlLoginThrottle(conn)
        self.audit_log = SqlAuditLog(conn)
        self.records = SqlRecordDirectory(conn)
        self.customers = SqlCustomerRepository(conn, self._search)
        self.policies = SqlPolicyRepository(conn)
        self.risks = SqlRiskRepository(conn)
        self.change_requests = SqlChangeRequestRepository(conn)
        self.knowledge = SqlKnowledgeRepository(conn, self._search)
        self.handovers = SqlHandoverRepository(conn)
        self.surveys = SqlSurveyRepository(conn)
        self.feedback = SqlFeedbackRepository(conn)
        self.notifications = SqlNotificationRepository(conn)
        self.emails = SqlEmailOutbox(conn)
        self.reminders = SqlReminderRepository(conn)
        self.outbox = SqlOutboxStore(conn)
        self.webhooks = SqlWebhookRepository(conn)
        self.jobs = SqlJobLeases(conn)
        self.plans = SqlPlanRepository(conn)
        self.interactions = SqlInteractionRepository(conn)
        self.bulk_jobs = SqlBulkJobRepository(conn)
        self.import_keys = SqlImportKeys(conn)
        self.customer_copy = PostgresCustomerCopy(conn, self._engine)
        self.reports = SqlReportRepository(conn)
        self.training = SqlTrainingRepository(conn)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        async with translate_storage_errors():
            try:
                await self._close()
            except Exception:
                if exc is None:
                    raise  # else the use case's own error is the one to report
        await self._errors.__aexit__(exc_type, exc, tb)

    async def _close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                if conn.in_transaction():
                    await conn.rollback()
            finally:
                await conn.close()

    def record_change(self, action: str, entity_type: str, entity_id: UUID | str | None, *,
                      before: Mapping[str, Any] | None = None,
                      after: Mapping[str, Any] | None = None,
                      event: Mapping[str, Any] | None = None, at: datetime | None = None,
                      customer_id: UUID | None = None, actor: Principal | None = None) -> None:
        """Stage the audit entry of ``action`` on the entity (``before`` → ``after``) and,
        when ``event`` data is given, the domain event ``action`` about it, occurred ``at``
        (now by default; on ``customer_id``'s timeline when given). All data becomes JSON
        by one rule (``json_value``)."""
        self.record(action, entity_type, entity_id, before=before, after=after, actor=actor)
        if event is not None:
            assert isinstance(entity_id, UUID), "an event names its entity by id"
            self.emit(DomainEvent(action, entity_type, entity_id, at or self._clock.now(),
                                  dict(event), customer_id=customer_id))

    def record(self, action: str, entity_type: str, entity_id: UUID | str | None, *,
               before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
               actor: Principal | None = None) -> None:
        if not self._write:
            raise RuntimeError("audit entries need a write unit of work")
        who = actor or self._ctx.principal
        self._audit.append({
            "actor_id": str(who.id) if who else None,
            "actor_roles": sorted(who.roles | who.scopes) if who else [],
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id) if entity_id is not None else None,
            "before": json_object(before),
            "after": json_object(after),
            "request_id": self._ctx.request_id,
            "client_addr": self._ctx.client_addr,
        })

    async def _project_timeline(self) -> None:
        """Events about a customer join its timeline, whichever feature emitted them."""
        assert self._conn is not None
        actor = self._ctx.principal
        rows = [{"customer_id": e.customer_id, "occurred_at": e.occurred_at, "type": e.type,
                 "entity_type": e.entity_type, "entity_id": str(e.entity_id),
                 "actor_id": str(actor.id) if actor else None, "data": e.data}
                for e in self._events if e.customer_id is not None]
        if rows:
            await _INSERT_TIMELINE.run_many(self._conn, rows)

    def emit(self, event: DomainEvent) -> None:
        if not self._write:
            raise RuntimeError("events need a write unit of work")
        self._events.append(replace(event, data=json_value(event.data)))

    async def commit(self) -> None:
        assert self._conn is not None, "commit outside the unit of work"
        if self._events:
            await _INSERT_OUTBOX.run_many(self._conn, [{
                "id": e.id, "type": e.type, "entity_type": e.entity_type,
                "entity_id": str(e.entity_id), "occurred_at": e.occurred_at, "data": e.data,
                "request_id": self._ctx.request_id,
            } for e in self._events])
            await self._project_timeline()
        if self._audit:
            await self.audit_log.append(self._audit, self._clock.now())
        self._audit, self._events = [], []
        pending = pending_answer.get()
        claim = pending.claim if pending is not None else None
        if pending is None or claim is None:
            await self._conn.commit()
            if pending is not None:
                pending.committed = True
        else:
            conn, self._conn = self._conn, None  # the request's answer finishes it
            pending.park(lambda answer: _finish_parked(conn, claim, answer))


async def _finish_parked(conn: AsyncConnection, claim: Claim,
                         answer: StoredResponse | None) -> None:
    """Commit a parked transaction with the request's answer stored, or roll it back."""
    async with translate_storage_errors():
        try:
            if answer is not None:
                await store_answer(conn, claim, answer)
                await conn.commit()
        finally:
            try:
                if conn.in_transaction():
                    await conn.rollback()
            finally:
                await conn.close()


class SqlUnitOfWorkFactory:
    def __init__(self, engines: Engines, clock: Clock, search: SubstringSearch) -> None:
        self._engines = engines
        self._clock = clock
        self._search = search

    def __call__(self, ctx: RequestContext, *, write: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engines, self._clock, self._search, ctx, write=write)
