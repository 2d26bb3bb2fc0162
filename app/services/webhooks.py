"""Webhook subscriptions (the API's use cases), the outbox consumer that stages a delivery
per subscribed endpoint, and the dispatcher that sends due deliveries and records each
attempt."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from app.domain.common.errors import FieldError, InvalidInput, InvalidState, NotFound
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.versions import check_version
from app.domain.webhooks import deliveries as rules
from app.domain.webhooks.deliveries import AttemptOutcome, DeliveryState, Move
from app.domain.webhooks.model import Delivery, DeliveryAttempt, WebhookEndpoint
from app.domain.webhooks.payload import PING, body, event_data
from app.domain.webhooks.signing import SECRET_BYTES, message_id, secret_from, signature_header
from app.domain.webhooks.subscriptions import (
    MAX_EVENT_TYPES,
    normalised,
    subscribed,
    valid_pattern,
)
from app.services.ports import Clock, RequestContext
from app.services.ports.outbox import PublishedEvent
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.ports.webhooks import DeliveryResult, DueDelivery, SecretBox, WebhookTransport

DISPATCHER = RequestContext(principal=None, request_id="worker-webhooks")
# A claimed delivery is not claimed again for this long: far more than one attempt takes
# (10 s timeout), so only a worker that died mid-send leaves it to another.
CLAIM_LEASE = timedelta(seconds=60)
USER_AGENT = "Accord-Webhooks/1"


@dataclass(frozen=True)
class IssuedSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once


@dataclass(frozen=True)
class EndpointChanges:
    url: str | None = None
    description: str | None = None
    event_types: tuple[str, ...] | None = None
    enabled: bool | None = None


def _public(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log and events may say about an endpoint (never a secret)."""
    return {"url": endpoint.url, "description": endpoint.description,
            "event_types": list(endpoint.event_types), "enabled": endpoint.enabled}


class WebhookService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, transport: WebhookTransport,
                 box: SecretBox) -> None:
        self._uow = uow
        self._clock = clock
        self._transport = transport
        self._box = box

    async def _check(self, url: str | None, event_types: Iterable[str] | None) -> None:
        errors = []
        if url is not None and (reason := await self._transport.target_problem(url)):
            errors.append(FieldError("/url", reason))
        if event_types is not None:
            types = list(event_types)
            if not types or len(types) > MAX_EVENT_TYPES:
                errors.append(FieldError("/event_types", "webhook_event_types_count",
                                         {"max": MAX_EVENT_TYPES}))
            errors += [FieldError(f"/event_types/{i}", "webhook_event_type_invalid")
                       for i, t in enumerate(types) if not valid_pattern(t)]
        if errors:
            raise InvalidInput(errors)

    def _new_secret(self) -> tuple[str, str]:
        secret = secret_from(secrets.token_bytes(SECRET_BYTES))
        return secret, self._box.seal(secret)

    async def create(self, ctx: RequestContext, url: str, description: str,
                     event_types: Sequence[str], enabled: bool = True) -> IssuedSecret:
        await self._check(url, event_types)
        now = self._clock.now()
        secret, sealed = self._new_secret()
        endpoint = WebhookEndpoint(
            id=new_id(), url=url, description=description, event_types=normalised(event_types),
            enabled=enabled, secret_sealed=sealed, created_at=now, updated_at=now,
            created_by=ctx.principal.id if ctx.principal else None,
            disabled_reason=None if enabled else "manual")
        async with self._uow(ctx) as uow:
            await uow.webhooks.add_endpoint(endpoint)
            uow.record_change("webhook_endpoint.created", "webhook_endpoint", endpoint.id,
                              after=_public(endpoint), event=_public(endpoint), at=now)
            await uow.commit()
        return IssuedSecret(endpoint, secret)

    async def list(self, ctx: RequestContext, page: PageRequest) -> Page[WebhookEndpoint]:
        async with self._uow(ctx, write=False) as uow:
            return await uow.webhooks.list_endpoints(page)

    async def get(self, ctx: RequestContext, endpoint_id: UUID) -> WebhookEndpoint:
        async with self._uow(ctx, write=False) as uow:
            return await _endpoint(uow, endpoint_id)

    async def update(self, ctx: RequestContext, endpoint_id: UUID, expected_version: int,
                     changes: EndpointChanges) -> WebhookEndpoint:
        await self._check(changes.url, changes.event_types)
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            endpoint = await _endpoint(uow, endpoint_id, for_update=True)
            check_version(endpoint.version, expected_version)
            before = _public(endpoint)
            if changes.url is not None:
                endpoint.url = changes.url
            if changes.description is not None:
                endpoint.description = changes.description
            if changes.event_types is not None:
                endpoint.event_types = normalised(changes.event_types)
            if changes.enabled is not None and changes.enabled != endpoint.enabled:
                endpoint.enabled = changes.enabled
                endpoint.disabled_reason = None if changes.enabled else "manual"
                endpoint.failing_since = None  # enabled again: its failure clock restarts
            if _public(endpoint) == before:
                return endpoint
            endpoint.version += 1
            endpoint.updated_at = now
            await uow.webhooks.save_endpoint(endpoint)
            uow.record_change("webhook_endpoint.updated", "webhook_endpoint", endpoint.id,
                              before=before, after=_public(endpoint), event=_public(endpoint),
                              at=now)
            await uow.commit()
        return endpoint

    async def rotate_secret(self, ctx: RequestContext, endpoint_id: UUID,
                            expected_version: int) -> IssuedSecret:
        """A new secret; the previous one keeps signing beside it for 24 hours, so
        receivers can switch without losing a delivery."""
        now = self._clock.now()
        secret, sealed = self._new_secret()
        async with self._uow(ctx) as uow:
            endpoint = await _endpoint(uow, endpoint_id, for_update=True)
            check_version(endpoint.version, expected_version)
            endpoint.rotate(sealed, now)
            endpoint.version += 1
            endpoint.updated_at = now
            await uow.webhooks.save_endpoint(endpoint)
            overlap = {"previous_secret_expires_at": endpoint.previous_secret_expires_at}
            uow.record_change("webhook_endpoint.secret_rotated", "webhook_endpoint",
                              endpoint.id, after=overlap, event=overlap, at=now)
            await uow.commit()
        return IssuedSecret(endpoint, secret)

    async def ping(self, ctx: RequestContext, endpoint_id: UUID) -> Delivery:
        """A ``webhook.ping`` delivery to this endpoint alone, sent by the worker."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            endpoint = await _endpoint(uow, endpoint_id)
            if not endpoint.enabled:
                raise InvalidState(state="webhook_disabled")
            delivery = _staged(endpoint.id, None, PING, body(PING, now, {
                "endpoint_id": str(endpoint.id)}), now)
            await uow.webhooks.add_deliveries([delivery])
            await uow.commit()
        return delivery

    async def attempts(self, ctx: RequestContext, endpoint_id: UUID,
                       page: PageRequest) -> Page[DeliveryAttempt]:
        async with self._uow(ctx, write=False) as uow:
            await _endpoint(uow, endpoint_id)
            return await uow.webhooks.list_attempts(endpoint_id, page)

    async def redeliver(self, ctx: RequestContext, endpoint_id: UUID,
                        delivery_id: UUID) -> Delivery:
        """Send a delivery again, same ``webhook-id`` and body, with a fresh retry window."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            delivery = await uow.webhooks.get_delivery(delivery_id, for_update=True)
            if delivery is None or delivery.endpoint_id != endpoint_id:
                raise NotFound(entity="webhook_delivery")
            delivery.state = rules.apply(delivery.state, Move.REDELIVER)
            delivery.next_attempt_at = now
            delivery.first_attempt_at = None
            await uow.webhooks.save_delivery(delivery)
            uow.record_change("webhook_delivery.redelivered", "webhook_delivery", delivery.id,
                              after={"endpoint_id": endpoint_id, "event_type":
                                     delivery.event_type})
            await uow.commit()
        return delivery


async def _endpoint(uow: UnitOfWork, endpoint_id: UUID, *,
                    for_update: bool = False) -> WebhookEndpoint:
    endpoint = await uow.webhooks.get_endpoint(endpoint_id, for_update=for_update)
    if endpoint is None:
        raise NotFound(entity="webhook_endpoint")
    return endpoint


def _staged(endpoint_id: UUID, event_id: UUID | None, event_type: str, payload: str,
            now: datetime) -> Delivery:
    return Delivery(id=new_id(), endpoint_id=endpoint_id, event_id=event_id,
                    event_type=event_type, payload=payload, state=DeliveryState.PENDING,
                    next_attempt_at=now, created_at=now)


class WebhookConsumer:
    """Stages one delivery per (event, enabled endpoint subscribed to its type)."""

    name = "webhooks"

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def consume(self, uow: UnitOfWork, events: Sequence[PublishedEvent]) -> None:
        endpoints = await uow.webhooks.enabled_endpoints()
        if not endpoints:
            return
        now = self._clock.now()
        staged = []
        for event in events:
            payload: str | None = None
            for endpoint in endpoints:
                if subscribed(endpoint.event_types, event.type):
                    payload = payload or body(event.type, event.occurred_at, event_data(
                        str(event.id), event.entity_type, event.entity_id, event.data))
                    staged.append(_staged(endpoint.id, event.id, event.type, payload, now))
        await uow.webhooks.add_deliveries(staged)


@dataclass(frozen=True)
class AttemptReport:
    """One attempt, for the worker's log line and counters (no secret, no signature)."""

    webhook_id: str
    endpoint_id: UUID
    url: str
    event_type: str
    number: int
    outcome: AttemptOutcome
    status_code: int | None
    duration_ms: int
    error: str | None
    state: DeliveryState
    retry_at: datetime | None
    disabled: str | None


class WebhookDispatcher:
    """Sends the deliveries that are due: claim a batch (short transaction), post them
    concurrently, record every attempt and its consequence (second transaction)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, transport: WebhookTransport,
                 box: SecretBox, *, batch_size: int = 100,
                 claim_lease: timedelta = CLAIM_LEASE,
                 jitter: Callable[[], float] = random.random,
                 observe: Callable[[AttemptReport], None] | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._transport = transport
        self._box = box
        self._batch_size = batch_size
        self._claim_lease = claim_lease
        self._jitter = jitter
        self._observe = observe

    async def dispatch_due(self) -> int:
        now = self._clock.now()
        async with self._uow(DISPATCHER) as uow:
            claimed = await uow.webhooks.claim_due(now, now + self._claim_lease,
                                                   self._batch_size)
            await uow.commit()
        if not claimed:
            return 0
        sent = await asyncio.gather(*(self._send(c) for c in claimed))
        await self._record(claimed, sent)
        return len(claimed)

    async def drain(self) -> int:
        total = 0
        while n := await self.dispatch_due():
            total += n
        return total

    async def _send(self, due: DueDelivery) -> tuple[datetime, DeliveryResult]:
        delivery = due.delivery
        at = self._clock.now()
        payload = delivery.payload.encode()
        timestamp = int(at.timestamp())
        webhook_id = message_id(delivery.id.hex)
        headers = {
            "content-type": "application/json", "user-agent": USER_AGENT,
            "webhook-id": webhook_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                [self._box.open(s) for s in due.sealed_secrets], webhook_id, timestamp, payload),
        }
        return at, await self._transport.post(due.url, headers, payload)

    async def _record(self, claimed: Sequence[DueDelivery],
                      sent: Sequence[tuple[datetime, DeliveryResult]]) -> None:
        deliveries, attempts, reports = [], [], []
        succeeded: set[UUID] = set()
        failed: set[UUID] = set()
        disable: dict[UUID, str] = {}
        for due, (at, result) in zip(claimed, sent, strict=True):
            d = due.delivery
            outcome = rules.outcome_of(result.status_code)
            d.attempts += 1
            d.first_attempt_at = d.first_attempt_at or at
            decision = rules.after_attempt(
                state=d.state, attempt=d.attempts, first_attempt_at=d.first_attempt_at, now=at,
                outcome=outcome, endpoint_failing_since=due.failing_since,
                jitter=self._jitter())
            d.state, d.next_attempt_at = decision.state, decision.retry_at
            d.last_attempt_at, d.last_status_code = at, result.status_code
            deliveries.append(d)
            attempts.append(DeliveryAttempt(
                id=new_id(), delivery_id=d.id, endpoint_id=d.endpoint_id,
                event_type=d.event_type, attempted_at=at, outcome=outcome,
                status_code=result.status_code, duration_ms=result.duration_ms,
                error=result.error, response_body=result.response_body, number=d.attempts))
            (succeeded if outcome is AttemptOutcome.SUCCEEDED else failed).add(d.endpoint_id)
            if decision.disable_endpoint:
                disable[d.endpoint_id] = decision.disable_endpoint
            reports.append(AttemptReport(
                message_id(d.id.hex), d.endpoint_id, due.url, d.event_type, d.attempts, outcome,
                result.status_code, result.duration_ms, result.error, d.state,
                decision.retry_at, decision.disable_endpoint))
        async with self._uow(DISPATCHER) as uow:
            await uow.webhooks.record_attempts(deliveries, attempts)
            await uow.webhooks.endpoints_failed(sorted(failed - succeeded), self._clock.now())
            await uow.webhooks.endpoints_succeeded(sorted(succeeded))
            for endpoint_id, reason in disable.items():
                await _disable(uow, endpoint_id, reason, self._clock.now())
            await uow.commit()
        if self._observe is not None:
            for report in reports:
                self._observe(report)


async def _disable(uow: UnitOfWork, endpoint_id: UUID, reason: str, now: datetime) -> None:
    """Disable an endpoint the receiver gave up on (410) or that failed for longer than
    the retry window, and announce it."""
    endpoint = await uow.webhooks.get_endpoint(endpoint_id, for_update=True)
    if endpoint is None or not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.version += 1
    endpoint.updated_at = now
    await uow.webhooks.save_endpoint(endpoint)
    uow.record_change("webhook_endpoint.disabled", "webhook_endpoint", endpoint.id,
                      before={"enabled": True}, after={"enabled": False, "reason": reason},
                      event={"url": endpoint.url, "reason": reason}, at=now)

