"""The unit of work: one transaction exposing every feature's repository."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.common.events import DomainEvent
from app.services.ports import RequestContext
from app.services.ports.access import (
    ApiKeyRepository,
    DepartmentRepository,
    LoginThrottle,
    RefreshTokenRepository,
    UserRepository,
)
from app.services.ports.audit import AuditLogReader, RecordDirectory
from app.services.ports.bulk import BulkJobRepository, CustomerCopy, ImportKeys
from app.services.ports.change_requests import ChangeRequestRepository
from app.services.ports.customers import CustomerRepository
from app.services.ports.feedback import FeedbackRepository
from app.services.ports.handovers import HandoverRepository
from app.services.ports.interactions import InteractionRepository
from app.services.ports.knowledge import KnowledgeRepository
from app.services.ports.notifications import (
    EmailOutbox,
    NotificationRepository,
    ReminderRepository,
)
from app.services.ports.plans import PlanRepository
from app.services.ports.policies import PolicyRepository
from app.services.ports.reports import ReportRepository
from app.services.ports.risks import RiskRepository
from app.services.ports.surveys import SurveyRepository
from app.services.ports.training import TrainingRepository
from app.services.ports.webhooks import WebhookRepository
from app.services.ports.worker import JobLeases, OutboxStore


class UnitOfWork(Protocol):
    """One transaction. Leaving without ``commit()`` rolls everything back."""

    users: UserRepository
    departments: DepartmentRepository
    refresh_tokens: RefreshTokenRepository
    api_keys: ApiKeyRepository
    login_throttle: LoginThrottle
    audit_log: AuditLogReader
    records: RecordDirectory
    customers: CustomerRepository
    policies: PolicyRepository
    risks: RiskRepository
    change_requests: ChangeRequestRepository
    knowledge: KnowledgeRepository
    handovers: HandoverRepository
    surveys: SurveyRepository
    feedback: FeedbackRepository
    notifications: NotificationRepository
    emails: EmailOutbox
    reminders: ReminderRepository
    outbox: OutboxStore
    webhooks: WebhookRepository
    jobs: JobLeases
    plans: PlanRepository
    interactions: InteractionRepository
    bulk_jobs: BulkJobRepository
    import_keys: ImportKeys
    customer_copy: CustomerCopy
    reports: ReportRepository
    training: TrainingRepository

    def record_change(self, action: str, entity_type: str, entity_id: UUID | str | None, *,
                      before: Mapping[str, Any] | None = None,
                      after: Mapping[str, Any] | None = None,
                      event: Mapping[str, Any] | None = None, at: datetime | None = None,
                      customer_id: UUID | None = None, actor: Principal | None = None) -> None:
        """The way to record a change: its audit entry (``before`` → ``after``) and, with
        ``event`` data, the domain event ``action`` occurred ``at`` (now by default), on
        ``customer_id``'s timeline when given. Data becomes JSON by one rule
        (``app.domain.common.recorded.json_value``: None stays null)."""
        ...
    def emit(self, event: DomainEvent) -> None:
        """An event that changes no record (a clock ran out, a score fell): announced,
        by the same JSON rule, without an audit entry."""
        ...
    async def commit(self) -> None: ...
    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, ctx: RequestContext, *, write: bool = True) -> UnitOfWork: ...
