"""Composition root: the one place that wires adapters to ports and builds the ASGI app.

``uvicorn --factory app.main:create_app`` (or ``accord serve``) runs it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from app import __version__
from app.adapters.clock import SystemClock
from app.adapters.email_templates import JinjaEmailRenderer
from app.adapters.job_files import LocalJobFiles
from app.adapters.passwords import Argon2PasswordHasher
from app.adapters.secret_box import AesGcmSecretBox
from app.adapters.smtp import LoggingTransport, SmtpConfig, SmtpTransport
from app.adapters.survey_sender import LoggingInvitationSender
from app.adapters.tokens import JoseTokenCodec
from app.adapters.webhook_http import HttpWebhookTransport
from app.api import contract, docs, health, problems
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
from app.api.v1 import FORM_PATHS, TAGS, UPLOAD_PATHS, routers
from app.domain.access.rate_limit import Quota
from app.logs import configure_logging
from app.repositories.database import create_engines
from app.repositories.idempotency import SqlIdempotencyStore
from app.repositories.rate_limits import ProcessRateCounter, SqlRateCounter
from app.repositories.schema import head_revision, readiness
from app.repositories.search import Fts5Search, TrigramSearch
from app.repositories.unit_of_work import SqlUnitOfWorkFactory
from app.services import feedback, plans, surveys
from app.services.api_keys import ApiKeyService
from app.services.approval_policy import ApprovalPolicyService
from app.services.audit import AuditService
from app.services.auth import AuthService, LoginPolicy
from app.services.business_calendar import BusinessCalendarService
from app.services.change_requests import ChangeRequestService
from app.services.customer_health import CustomerHealthService
from app.services.customers import CustomerService
from app.services.delegations import DelegationService
from app.services.emails import EmailService, QueuedInvitationSender
from app.services.exports import ExportService
from app.services.feedback import FeedbackService
from app.services.handover_materials import DEFAULT_MATERIALS
from app.services.handovers import DEFAULT_TRANSFERS, HandoverService
from app.services.imports import ImportService
from app.services.interactions import ContactCadenceSettings, InteractionService
from app.services.jobs import WorkerStatusService
from app.services.knowledge import KnowledgeService
from app.services.notifications import NotificationConsumer, NotificationService
from app.services.people import PeopleService
from app.services.plans import PlanService
from app.services.ports import Clock
from app.services.ports.access import PasswordHasher
from app.services.ports.notifications import EmailLinks, EmailTransport
from app.services.ports.surveys import InvitationSender
from app.services.rate_limits import RateLimitService
from app.services.reminders import ReminderService
from app.services.reports import ReportService
from app.services.risks import RiskService
from app.services.satisfaction import SatisfactionService
from app.services.surveys import PublicLimits, SurveyService
from app.services.training import CompetenceRulesService, TrainingService
from app.services.webhook_log import WebhookLogRetention
from app.services.webhooks import WebhookService
from app.settings import Settings, get_settings
from app.worker.runner import Worker, build_worker

log = structlog.get_logger("accord.main")

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
HANDOVER_MATERIALS = (*DEFAULT_MATERIALS, feedback.HANDOVER_MATERIAL, plans.HANDOVER_MATERIAL)
HANDOVER_TRANSFERS = (*DEFAULT_TRANSFERS, feedback.HANDOVER_TRANSFER, surveys.HANDOVER_TRANSFER,
                      plans.HANDOVER_TRANSFER)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               hasher: PasswordHasher | None = None) -> FastAPI:
    """``clock`` and ``hasher`` are the tests' to replace (a movable clock, cheap hashing)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    clock = clock or SystemClock()
    engines = create_engines(settings.database_url, pool_size=settings.db_pool_size,
                             max_overflow=settings.db_max_overflow,
                             sqlite_busy_timeout_s=settings.sqlite_busy_timeout_s)
    search = TrigramSearch() if engines.dialect == "postgresql" else Fts5Search()
    uow = SqlUnitOfWorkFactory(engines, clock, search)
    hasher = hasher or Argon2PasswordHasher()
    signing_key = settings.signing_key.get_secret_value()
    tokens = JoseTokenCodec(key=signing_key, issuer=settings.jwt_issuer,
                            audience=settings.jwt_audience, key_id=settings.jwt_key_id,
                            lifetime=timedelta(minutes=settings.access_token_minutes),
                            previous_keys=settings.previous_keys)
    expected_head = head_revision()
    knowledge = KnowledgeService(uow, clock)
    links = EmailLinks(settings.public_url, settings.email_language)
    transport, invitations = _email(settings, uow, clock, links)
    customers = CustomerService(uow, clock)
    webhook_transport = HttpWebhookTransport(production=settings.env == "production")
    secret_box = AesGcmSecretBox(settings.jwt_key_id, signing_key, settings.previous_keys)
    job_files = LocalJobFiles(settings.job_files_dir)
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
        surveys=SurveyService(uow, clock, invitations, PublicLimits(
            settings.survey_attempts_per_window, timedelta(seconds=settings.survey_window_s)),
            link_base=settings.survey_link_base),
        feedback=FeedbackService(uow, clock),
        interactions=InteractionService(uow, clock),
        contact_cadence=ContactCadenceSettings(uow, clock),
        plans=PlanService(uow, clock, PublicLimits(
            settings.plan_report_attempts_per_window,
            timedelta(seconds=settings.plan_report_window_s)),
            link_base=settings.plan_report_link_base),
        satisfaction=SatisfactionService(uow),
        reports=ReportService(uow, clock),
        customer_health=CustomerHealthService(uow, clock),
        knowledge=knowledge,
        notifications=NotificationService(uow, clock),
        notification_consumer=NotificationConsumer(clock, links),
        emails=EmailService(uow, clock, transport, JinjaEmailRenderer()),
        reminders=ReminderService(uow, clock),
        training=TrainingService(uow, clock),
        competence_rules=CompetenceRulesService(uow, clock),
        api_keys=ApiKeyService(uow, clock),
        webhooks=WebhookService(uow, clock, webhook_transport, secret_box),
        webhook_log=WebhookLogRetention(
            uow, clock, timedelta(days=settings.webhook_log_retention_days)),
        worker_status=WorkerStatusService(
            uow, clock, timedelta(seconds=settings.worker_stale_after_s)),
        rate_limits=RateLimitService(
            SqlRateCounter(engines) if engines.dialect == "postgresql" else ProcessRateCounter(),
            clock, Quota(settings.rate_limit, settings.rate_limit_window_s)
            if settings.rate_limit else None, settings.rate_limit_anonymous_requests),
        audit=AuditService(uow, clock, checkpoint_key=(
            settings.audit_checkpoint_key.get_secret_value().encode()
            if settings.audit_checkpoint_key else None)),
        imports=ImportService(uow, clock, job_files, customers),
        exports=ExportService(uow, clock, job_files,
                              ttl=timedelta(hours=settings.export_ttl_hours)),
        idempotency=SqlIdempotencyStore(
            engines, ttl=timedelta(hours=settings.idempotency_ttl_hours),
            lock=timedelta(seconds=settings.idempotency_lock_s)),
        clock=clock,
        cursor_key=hmac.new(signing_key.encode(), b"cursor", hashlib.sha256).digest(),
        readiness=partial(readiness, engines, expected_head),
        pool_status=engines.pool_status,
    )

    def make_worker(worker_id: str | None = None) -> Worker:
        return build_worker(services, uow, clock, webhook_transport, secret_box, settings,
                            id=worker_id)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _announce_email(settings)
        worker = make_worker() if settings.runs_worker_in_process else None
        task = asyncio.create_task(worker.run()) if worker else None
        try:
            yield
        finally:
            if worker is not None and task is not None:
                worker.stop.set()
                await task
            await webhook_transport.aclose()
            await engines.dispose()

    app = FastAPI(title="Accord", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None, openapi_tags=TAGS,
                  swagger_ui_oauth2_redirect_url=docs.OAUTH2_REDIRECT_URL,
                  generate_unique_id_function=operation_id)
    app.state.services = services
    app.state.engines = engines
    # The use cases' own unit of work, for what runs beside a request (the worker's
    # consumers, a test handing events to one) on the engine's own search.
    app.state.unit_of_work = uow
    app.state.make_worker = make_worker
    app.state.webhook_transport = webhook_transport
    app.state.metrics = HttpMetrics(engines.pool_status)
    problems.install(app)
    docs.install(app)
    app.include_router(health.router)
    for router in routers:
        app.include_router(router)
    # The last added runs first: request id, CORS (its headers on every answer, 413/415
    # included), gzip (only for a client that accepts it), 304, body limits.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       form_paths=frozenset({TOKEN_URL}), form_patterns=FORM_PATHS,
                       upload_paths=UPLOAD_PATHS,
                       max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(NotModifiedMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes, compresslevel=6)
    if settings.allowed_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins,
                           allow_methods=CORS_METHODS, allow_headers=CORS_ALLOWED_HEADERS,
                           expose_headers=CORS_EXPOSED_HEADERS, max_age=600)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.openapi = partial(_openapi, app)  # type: ignore[method-assign]
    return app


def _email(settings: Settings, uow: SqlUnitOfWorkFactory, clock: Clock,
           links: EmailLinks) -> tuple[EmailTransport, InvitationSender]:
    """SMTP when ``ACCORD_SMTP_HOST`` is set (survey invitations then go through the
    e-mail outbox too); otherwise the development log (``_announce_email`` says which at
    start-up)."""
    if settings.smtp_host is None:
        return LoggingTransport(), LoggingInvitationSender(
            reveal_links=settings.env == "development")
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    transport = SmtpTransport(SmtpConfig(
        settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_username,
        password, settings.smtp_starttls, settings.smtp_ssl, settings.smtp_timeout_s))
    return transport, QueuedInvitationSender(uow, clock, links)


def _announce_email(settings: Settings) -> None:
    """How e-mail goes out, said once when the server starts (never the password)."""
    if settings.smtp_host is None:
        log.warning("email_not_configured", detail="ACCORD_SMTP_HOST is unset: survey "
                    "invitations and notification e-mails are logged, not sent")
    else:
        log.info("email_configured", host=settings.smtp_host, port=settings.smtp_port,
                 username=settings.smtp_username, starttls=settings.smtp_starttls,
                 ssl=settings.smtp_ssl)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document plus the problem+json schemas every error response names,
    and what ``app.api.contract`` adds: headers, problem codes, who may act."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes,
                             tags=app.openapi_tags)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = problems.Problem.model_json_schema(
            ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        app.openapi_schema = contract.complete(schema, app.routes)
    return app.openapi_schema
