"""The use cases and ports the routes reach, wired by ``app.main`` onto ``app.state``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from app.services.api_keys import ApiKeyService
from app.services.approval_policy import ApprovalPolicyService
from app.services.audit import AuditService
from app.services.auth import AuthService
from app.services.business_calendar import BusinessCalendarService
from app.services.change_requests import ChangeRequestService
from app.services.customer_health import CustomerHealthService
from app.services.customers import CustomerService
from app.services.delegations import DelegationService
from app.services.emails import EmailService
from app.services.exports import ExportService
from app.services.feedback import FeedbackService
from app.services.handovers import HandoverService
from app.services.imports import ImportService
from app.services.interactions import ContactCadenceSettings, InteractionService
from app.services.jobs import WorkerStatusService
from app.services.knowledge import KnowledgeService
from app.services.notifications import NotificationConsumer, NotificationService
from app.services.people import PeopleService
from app.services.plans import PlanService
from app.services.ports import Clock
from app.services.ports.idempotency import IdempotencyStore
from app.services.rate_limits import RateLimitService
from app.services.reminders import ReminderService
from app.services.reports import ReportService
from app.services.risks import RiskService
from app.services.satisfaction import SatisfactionService
from app.services.surveys import SurveyService
from app.services.training import CompetenceRulesService, TrainingService
from app.services.webhook_log import WebhookLogRetention
from app.services.webhooks import WebhookService


@dataclass(frozen=True)
class Services:
    auth: AuthService
    people: PeopleService
    customers: CustomerService
    risks: RiskService
    change_requests: ChangeRequestService
    delegations: DelegationService
    approval_policy: ApprovalPolicyService
    business_calendar: BusinessCalendarService
    handovers: HandoverService
    surveys: SurveyService
    feedback: FeedbackService
    plans: PlanService
    interactions: InteractionService
    contact_cadence: ContactCadenceSettings
    satisfaction: SatisfactionService
    reports: ReportService
    customer_health: CustomerHealthService
    knowledge: KnowledgeService
    notifications: NotificationService
    notification_consumer: NotificationConsumer
    emails: EmailService
    reminders: ReminderService
    training: TrainingService
    competence_rules: CompetenceRulesService
    api_keys: ApiKeyService
    audit: AuditService
    webhooks: WebhookService
    webhook_log: WebhookLogRetention
    worker_status: WorkerStatusService
    rate_limits: RateLimitService
    imports: ImportService
    exports: ExportService
    idempotency: IdempotencyStore
    clock: Clock
    cursor_key: bytes
    readiness: Callable[[], Awaitable[dict[str, Any]]]
    pool_status: Callable[[], dict[str, int]]


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]
