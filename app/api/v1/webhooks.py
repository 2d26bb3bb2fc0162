"""``/webhook-endpoints``: subscriptions of other systems to events (Standard Webhooks), for
administrators and API keys holding ``webhooks:manage``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request, Response

from app.api.container import services
from app.api.etag import if_match, set_etag
from app.api.pagination import ListPage, list_page, page_params
from app.api.problems import error_responses
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.webhooks import (
    WebhookAttemptOut,
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)
from app.domain.access.roles import Role, Scope
from app.domain.common.paging import PageRequest
from app.domain.webhooks.model import Delivery, DeliveryAttempt, WebhookEndpoint
from app.domain.webhooks.signing import message_id
from app.services.ports import RequestContext
from app.services.webhooks import EndpointChanges, IssuedSecret

router = feature_router("webhooks")
Manager = Annotated[RequestContext, Depends(allow(Role.ADMIN, scopes=(Scope.WEBHOOKS_MANAGE,)))]
Version = Annotated[int, Depends(if_match)]


def _out(response: Response, endpoint: WebhookEndpoint) -> WebhookEndpointOut:
    set_etag(response, endpoint.version)
    return WebhookEndpointOut.model_validate(
        {**endpoint.__dict__, "event_types": list(endpoint.event_types)})


def _with_secret(response: Response, issued: IssuedSecret) -> WebhookEndpointWithSecret:
    response.headers["Cache-Control"] = "no-store"
    return WebhookEndpointWithSecret(**_out(response, issued.endpoint).model_dump(),
                                     secret=issued.secret)


def _delivery(delivery: Delivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(id=delivery.id, webhook_id=message_id(delivery.id.hex),
                              event_type=delivery.event_type, state=delivery.state,
                              attempts=delivery.attempts,
                              next_attempt_at=delivery.next_attempt_at)


def _attempt(attempt: DeliveryAttempt) -> WebhookAttemptOut:
    return WebhookAttemptOut.model_validate(attempt.__dict__)


@router.post("/webhook-endpoints", response_model=WebhookEndpointWithSecret, status_code=201,
             summary="Subscribe an endpoint to events (the secret is shown once)",
             responses=error_responses())
async def create(request: Request, response: Response, body: WebhookEndpointCreate,
                 ctx: Manager) -> WebhookEndpointWithSecret:
    """No Idempotency-Key: a replay would have to keep the secret. A retry subscribes
    another endpoint; disable the one whose secret was not received."""
    issued = await services(request).webhooks.create(ctx, body.url, body.description,
                                                     body.event_types, body.enabled)
    response.headers["Location"] = f"/api/v1/webhook-endpoints/{issued.endpoint.id}"
    return _with_secret(response, issued)


@router.get("/webhook-endpoints", response_model=ListPage[WebhookEndpointOut],
            summary="List webhook endpoints")
async def list_webhook_endpoints(
    request: Request, ctx: Manager,
    page: Annotated[PageRequest, Depends(page_params(["created_at"], "created_at"))],
) -> dict[str, object]:
    result = await services(request).webhooks.list(ctx, page)
    return list_page(request, result, page, lambda e: _out(Response(), e))


@router.get("/webhook-endpoints/{endpoint_id}", response_model=WebhookEndpointOut,
            summary="Read a webhook endpoint", responses=error_responses(404))
async def get(request: Request, response: Response, endpoint_id: UUID,
              ctx: Manager) -> WebhookEndpointOut:
    return _out(response, await services(request).webhooks.get(ctx, endpoint_id))


@router.patch("/webhook-endpoints/{endpoint_id}", response_model=WebhookEndpointOut,
              summary="Change, disable or enable a webhook endpoint",
              responses=error_responses(404, 412, 428))
async def update(request: Request, response: Response, endpoint_id: UUID,
                 body: WebhookEndpointUpdate, ctx: Manager,
                 version: Version) -> WebhookEndpointOut:
    changes = EndpointChanges(
        url=body.url, description=body.description, enabled=body.enabled,
        event_types=tuple(body.event_types) if body.event_types is not None else None)
    return _out(response, await services(request).webhooks.update(ctx, endpoint_id, version,
                                                                   changes))


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret",
             response_model=WebhookEndpointWithSecret,
             summary="Issue a new secret; the previous one signs too for 24 hours",
             responses=error_responses(404, 412, 428))
async def rotate_secret(request: Request, response: Response, endpoint_id: UUID,
                        ctx: Manager, version: Version) -> WebhookEndpointWithSecret:
    issued = await services(request).webhooks.rotate_secret(ctx, endpoint_id, version)
    return _with_secret(response, issued)


@router.post("/webhook-endpoints/{endpoint_id}/ping", response_model=WebhookDeliveryOut,
             status_code=202, summary="Send a webhook.ping test event to this endpoint",
             responses=error_responses(404, 409))
async def ping(request: Request, endpoint_id: UUID, ctx: Manager) -> WebhookDeliveryOut:
    return _delivery(await services(request).webhooks.ping(ctx, endpoint_id))


@router.get("/webhook-endpoints/{endpoint_id}/deliveries",
            response_model=ListPage[WebhookAttemptOut],
            summary="The delivery log: one entry per attempt, newest first by default",
            responses=error_responses(404))
async def list_deliveries(
    request: Request, endpoint_id: UUID, ctx: Manager,
    page: Annotated[PageRequest, Depends(page_params(["attempted_at"], "-attempted_at"))],
) -> dict[str, object]:
    result = await services(request).webhooks.attempts(ctx, endpoint_id, page)
    return list_page(request, result, page, _attempt)


@router.post("/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver",
             response_model=WebhookDeliveryOut, status_code=202,
             summary="Send a delivery again (same webhook-id and body)",
             responses=error_responses(404))
async def redeliver(request: Request, endpoint_id: UUID, delivery_id: UUID,
                    ctx: Manager) -> WebhookDeliveryOut:
    return _delivery(await services(request).webhooks.redeliver(ctx, endpoint_id,
                                                                delivery_id))
