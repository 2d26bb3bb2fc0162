"""``/api-keys``: service accounts for integrations (admin only)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request, Response

from app.api.container import services
from app.api.etag import if_match, set_etag
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.problems import error_responses
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.auth import ApiKeyCreate, ApiKeyIssued, ApiKeyOut
from app.domain.access.credentials import ApiKey
from app.domain.access.roles import Role
from app.domain.common.paging import PageRequest
from app.services.ports import RequestContext

router = feature_router("api keys")
Admin = Annotated[RequestContext, Depends(allow(Role.ADMIN))]


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut.model_validate({**key.__dict__, "scopes": sorted(key.scopes),
                                     "active": key.active})


@router.post("/api-keys", response_model=ApiKeyIssued, status_code=201,
             summary="Issue an API key (the secret is shown once)",
             responses=error_responses(409))
async def issue(request: Request, response: Response, body: ApiKeyCreate,
                ctx: Admin) -> ApiKeyIssued:
    """No Idempotency-Key here: a replay would have to keep the secret, and a secret is
    never stored. A retry issues another key; revoke the one that was not received."""
    issued = await services(request).api_keys.issue(ctx, body.name, frozenset(body.scopes),
                                                    body.department_id, body.rate_limit)
    response.headers["Location"] = f"/api/v1/api-keys/{issued.key.id}"
    response.headers["Cache-Control"] = "no-store"
    set_etag(response, issued.key.version)
    return ApiKeyIssued(**_out(issued.key).model_dump(), key=issued.secret)


@router.get("/api-keys", response_model=ListPage[ApiKeyOut], summary="List API keys")
async def list_api_keys(
    request: Request, ctx: Admin,
    page: Annotated[PageRequest, Depends(page_params(["created_at"], "created_at"))],
) -> dict[str, object]:
    return list_page(request, await services(request).api_keys.list(ctx, page), page, _out)


@router.get("/api-keys/{key_id}", response_model=ApiKeyOut, summary="Read an API key",
            responses=error_responses(404))
async def get(request: Request, response: Response, key_id: UUID,
              ctx: Admin) -> ApiKeyOut:
    key = await services(request).api_keys.get(ctx, key_id)
    set_etag(response, key.version)
    return _out(key)


@router.post("/api-keys/{key_id}/revoke", response_model=ApiKeyOut, summary="Revoke an API key",
             responses=error_responses(404, 409, 412, 428), dependencies=[Idempotent])
async def revoke(request: Request, response: Response, key_id: UUID, ctx: Admin,
                 version: Annotated[int, Depends(if_match)]) -> ApiKeyOut:
    key = await services(request).api_keys.revoke(ctx, key_id, version)
    set_etag(response, key.version)
    return _out(key)
