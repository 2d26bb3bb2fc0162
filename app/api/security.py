"""Authentication and the access declaration every route carries.

A route states who may call it with ``allow(...)``, ``signed_in()`` or ``public()``; the
dependency it returns resolves to the ``RequestContext`` the use case needs. A test walks
all routes and fails on any route without such a declaration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from app.api.container import services
from app.api.rate_limit import count_request
from app.domain.access.principal import Access, Principal
from app.domain.access.roles import Role, Scope
from app.domain.common.errors import DomainError, Forbidden, NotAuthenticated
from app.services.ports import RequestContext

TOKEN_URL = "/api/v1/auth/token"
bearer_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False,
                                     description="JWT access token from /api/v1/auth/token")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="API key of a service account (integrations)")

ContextDependency = Callable[..., Awaitable[RequestContext]]


def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


async def current_principal(
    request: Request,
    token: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    auth = services(request).auth
    try:
        if api_key:
            principal = await auth.principal_for_api_key(api_key)
        elif token:
            principal = await auth.principal_for_access_token(token)
        else:
            raise NotAuthenticated()
    except DomainError:
        await count_request(request, None)  # nobody signed in: the address's quota
        raise
    await count_request(request, principal)
    request.state.principal = principal
    structlog.contextvars.bind_contextvars(actor_id=str(principal.id))
    return principal


def _declared(access: Access) -> ContextDependency:
    async def dependency(request: Request,
                         principal: Annotated[Principal, Depends(current_principal)]
                         ) -> RequestContext:
        if not access.allows(principal):
            raise Forbidden(required=access.describe())
        return RequestContext(principal, getattr(request.state, "request_id", None),
                              client_addr(request))

    dependency.access = access  # type: ignore[attr-defined]
    return dependency


def allow(*roles: Role, scopes: tuple[Scope, ...] = ()) -> ContextDependency:
    """Users holding any of ``roles``, or API keys holding any of ``scopes``."""
    return _declared(Access(roles=frozenset(roles), scopes=frozenset(scopes)))


def signed_in(scopes: tuple[Scope, ...] = ()) -> ContextDependency:
    """Any signed-in user, whatever their roles (e.g. ``GET /me``), or API keys holding
    any of ``scopes``."""
    return _declared(Access(authenticated=True, scopes=frozenset(scopes)))


def public() -> ContextDependency:
    async def dependency(request: Request) -> RequestContext:
        await count_request(request, None)
        return RequestContext(None, getattr(request.state, "request_id", None),
                              client_addr(request))

    dependency.access = Access(public=True)  # type: ignore[attr-defined]
    return dependency
