"""``/auth``: sign in (OAuth2 password form), refresh, sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request, Response

from app.api.container import services
from app.api.problems import error_responses
from app.api.security import public, signed_in
from app.api.v1.routing import feature_router
from app.api.v1.schemas.auth import TOKEN_FORM_EXAMPLE, RefreshIn, TokenForm, TokenOut
from app.domain.common.errors import DomainError, TooManyAttempts
from app.services.auth import TokenPair
from app.services.ports import RequestContext

router = feature_router("auth")


def _tokens(pair: TokenPair, ctx: RequestContext, request: Request,
            response: Response) -> TokenOut:
    response.headers["Cache-Control"] = "no-store"
    now = services(request).clock.now()
    return TokenOut(
        access_token=pair.access_token,
        expires_in=int((pair.access_expires_at - now).total_seconds()),
        refresh_token=pair.refresh_token,
        refresh_expires_in=int((pair.refresh_expires_at - now).total_seconds()),
    )


@router.post("/auth/token", response_model=TokenOut, summary="Sign in with username and password",
             responses=error_responses(429), openapi_extra={"requestBody": {"content": {
                 "application/x-www-form-urlencoded": {"example": TOKEN_FORM_EXAMPLE}}}})
async def token(request: Request, response: Response,
                ctx: Annotated[RequestContext, Depends(public())],
                form: Annotated[TokenForm, Form()]) -> TokenOut:
    """OAuth2 password grant, so Swagger's *Authorize* button works. Failed attempts are
    limited per account and address (429 with Retry-After); an address the user signed in
    from before is not slowed by failures elsewhere."""
    attempts = request.app.state.metrics.login_attempts
    try:
        pair = await services(request).auth.login(ctx, form.username, form.password)
    except DomainError as error:
        attempts.labels("throttled" if isinstance(error, TooManyAttempts) else error.code).inc()
        raise
    attempts.labels("success").inc()
    return _tokens(pair, ctx, request, response)


@router.post("/auth/refresh", response_model=TokenOut, summary="Rotate a refresh token")
async def refresh(request: Request, response: Response, body: RefreshIn,
                  ctx: Annotated[RequestContext, Depends(public())]) -> TokenOut:
    """Returns a new access token and a new refresh token; the old refresh token is spent.
    Presenting a spent refresh token again signs out every session of its family."""
    pair = await services(request).auth.refresh(ctx, body.refresh_token)
    return _tokens(pair, ctx, request, response)


@router.post("/auth/logout", status_code=204, summary="Sign out (revoke the refresh token)")
async def logout(request: Request, body: RefreshIn,
                 ctx: Annotated[RequestContext, Depends(signed_in())]) -> Response:
    await services(request).auth.logout(ctx, body.refresh_token)
    return Response(status_code=204)
