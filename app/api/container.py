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
from app.services.feedback import FeedbackService
from app.services.handovers import HandoverService
from app.services.knowledge import KnowledgeService
from app.services.people import PeopleService
from app.services.ports import Clock
from app.services.ports.idempotency import IdempotencyStore
from app.services.risks import RiskService
from app.services.satisfaction import SatisfactionService
from app.services.surveys import SurveyService
from app.services.training import CompetenceRulesService, TrainingService


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
    satisfaction: SatisfactionService
    customer_health: CustomerHealthService
    knowledge: KnowledgeService
    training: TrainingService
    competence_rules: CompetenceRulesService
    api_keys: ApiKeyService
    audit: AuditService
    idempotency: IdempotencyStore
    clock: Clock
    cursor_key: bytes
    readiness: Callable[[], Awaitable[dict[str, Any]]]
    pool_status: Callable[[], dict[str, int]]


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]
