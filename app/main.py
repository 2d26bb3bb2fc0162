"""Composition root: the one place that wires adapters to ports and builds the ASGI app.

``uvicorn --factory app.main:create_app`` (or ``accord serve``) runs it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from app import __version__
from app.adapters.clock import SystemClock
from app.adapters.passwords import Argon2PasswordHasher
from app.adapters.survey_sender import LoggingInvitationSender
from app.adapters.tokens import JoseTokenCodec
from app.api import docs, health, problems
from app.api.container import Services
from app.api.metrics import HttpMetrics
from app.api.middleware import (
    CORS_ALLOWED_HEADERS,
    CORS_EXPOSED_HEADERS,
    CORS_METHODS,
    BodyLimitMiddleware,
    NotModifiedMiddleware,
    RequestContextMiddleware,
)
from app.api.operation_ids import operation_id
from app.api.security import TOKEN_URL
from app.api.v1 import TAGS, routers
from app.logs import configure_logging
from app.repositories.database import create_engines
from app.repositories.idempotency import SqlIdempotencyStore
from app.repositories.schema import head_revision, readiness
from app.repositories.search import Fts5Search, TrigramSearch
from app.repositories.unit_of_work import SqlUnitOfWorkFactory
from app.services import feedback, surveys
from app.services.api_keys import ApiKeyService
from app.services.approval_policy import ApprovalPolicyService
from app.services.audit import AuditService
from app.services.auth import AuthService, LoginPolicy
from app.services.business_calendar import BusinessCalendarService
from app.services.change_requests import ChangeRequestService
from app.services.customer_health import CustomerHealthService
from app.services.customers import CustomerService
from app.services.delegations import DelegationService
from app.services.feedback import FeedbackService
from app.services.handover_materials import DEFAULT_MATERIALS
from app.services.handovers import DEFAULT_TRANSFERS, HandoverService
from app.services.knowledge import KnowledgeService
from app.services.people import PeopleService
from app.services.ports import Clock
from app.services.risks import RiskService
from app.services.satisfaction import SatisfactionService
from app.services.surveys import PublicLimits, SurveyService
from app.services.training import CompetenceRulesService, TrainingService
from app.settings import Settings, get_settings

DESCRIPTION = """\
**Accord** governs customer records, change requests (变更管理), handovers (客户移交),
feedback and satisfaction next to the CRM you already run.

Conventions: JSON only; errors are `application/problem+json` with a stable `code`
(`Accept-Language: zh-CN` for Chinese details); lists are keyset-paginated
(`limit`, `cursor`, `sort`); changes need `If-Match` with the ETag you read; POSTs accept
`Idempotency-Key`. Sign in with **Authorize** (username and password) or send an
integration's `X-API-Key`.
"""

# What a handover checks and moves: the handover feature's own, and what later features
# plug in (open feedback; open survey invitations).
HANDOVER_MATERIALS = (*DEFAULT_MATERIALS, feedback.HANDOVER_MATERIAL)
HANDOVER_TRANSFERS = (*DEFAULT_TRANSFERS, feedback.HANDOVER_TRANSFER, surveys.HANDOVER_TRANSFER)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    clock = clock or SystemClock()
    engines = create_engines(settings.database_url, pool_size=settings.db_pool_size,
                             max_overflow=settings.db_max_overflow,
                             sqlite_busy_timeout_s=settings.sqlite_busy_timeout_s)
    search = TrigramSearch() if engines.dialect == "postgresql" else Fts5Search()
    uow = SqlUnitOfWorkFactory(engines, clock, search)
    hasher = Argon2PasswordHasher()
    signing_key = settings.signing_key.get_secret_value()
    tokens = JoseTokenCodec(key=signing_key, issuer=settings.jwt_issuer,
                            audience=settings.jwt_audience, key_id=settings.jwt_key_id,
                            lifetime=timedelta(minutes=settings.access_token_minutes),
                            previous_keys=settings.previous_keys)
    expected_head = head_revision()
    knowledge = KnowledgeService(uow, clock)
    customers = CustomerService(uow, clock)
    services = Services(
        auth=AuthService(uow, hasher, tokens, clock, LoginPolicy(
            window=timedelta(seconds=settings.login_window_s),
            max_failures_per_pair=settings.login_max_failures_per_pair,
            max_failures_per_address=settings.login_max_failures_per_address,
            account_slowdown_after=settings.login_account_slowdown_after,
            max_delay=timedelta(seconds=settings.login_max_delay_s)),
            refresh_lifetime=timedelta(days=settings.refresh_token_days),
            principal_cache_s=settings.principal_cache_s),
        people=PeopleService(uow, hasher, clock),
        customers=customers,
        risks=RiskService(uow, clock),
        change_requests=ChangeRequestService(uow, clock, knowledge),
        delegations=DelegationService(uow, clock),
        approval_policy=ApprovalPolicyService(uow, clock),
        business_calendar=BusinessCalendarService(uow, clock),
        handovers=HandoverService(uow, clock, customers,
                                  materials=HANDOVER_MATERIALS, transfers=HANDOVER_TRANSFERS),
        surveys=SurveyService(uow, clock, LoggingInvitationSender(
            reveal_links=settings.env == "development"), PublicLimits(
            settings.survey_attempts_per_window, timedelta(seconds=settings.survey_window_s))),
        feedback=FeedbackService(uow, clock),
        satisfaction=SatisfactionService(uow),
        customer_health=CustomerHealthService(uow, clock),
        knowledge=knowledge,
        training=TrainingService(uow, clock),
        competence_rules=CompetenceRulesService(uow, clock),
        api_keys=ApiKeyService(uow, clock),
        audit=AuditService(uow),
        idempotency=SqlIdempotencyStore(
            engines, ttl=timedelta(hours=settings.idempotency_ttl_hours),
            lock=timedelta(seconds=settings.idempotency_lock_s)),
        clock=clock,
        cursor_key=hmac.new(signing_key.encode(), b"cursor", hashlib.sha256).digest(),
        readiness=partial(readiness, engines, expected_head),
        pool_status=engines.pool_status,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engines.dispose()

    app = FastAPI(title="Accord", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None, openapi_tags=TAGS,
                  swagger_ui_oauth2_redirect_url=docs.OAUTH2_REDIRECT_URL,
                  generate_unique_id_function=operation_id)
    app.state.services = services
    app.state.engines = engines
    app.state.metrics = HttpMetrics(engines.pool_status)
    problems.install(app)
    docs.install(app)
    app.include_router(health.router)
    for router in routers:
        app.include_router(router)
    # The last added runs first: request id, CORS (its headers on every answer, 413/415
    # included), gzip (only for a client that accepts it), 304, body limits.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       form_paths=frozenset({TOKEN_URL}))
    app.add_middleware(NotModifiedMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes, compresslevel=6)
    if settings.allowed_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins,
                           allow_methods=CORS_METHODS, allow_headers=CORS_ALLOWED_HEADERS,
                           expose_headers=CORS_EXPOSED_HEADERS, max_age=600)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.openapi = partial(_openapi, app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document plus the problem+json schemas every error response names."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes,
                             tags=app.openapi_tags)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = problems.Problem.model_json_schema(
            ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        app.openapi_schema = schema
    return app.openapi_schema
