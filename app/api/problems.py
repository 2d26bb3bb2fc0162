"""RFC 9457 problem details: the one place errors become HTTP responses."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import i18n
from app.api.allowed_methods import API_VERSIONS, allowed_methods, unknown_api_version
from app.api.denials import keep_denial
from app.api.etag import version_required
from app.domain.common.errors import DomainError, ErrorKind, TooManyAttempts, VersionRequired

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://errors.accord.example/"

STATUS_BY_KIND = {
    ErrorKind.BAD_REQUEST: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.GONE: 410,
    ErrorKind.PRECONDITION_FAILED: 412,
    ErrorKind.INVALID: 422,
    ErrorKind.PRECONDITION_REQUIRED: 428,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.UNAVAILABLE: 503,
}

log = structlog.get_logger("accord.errors")


class ProblemFieldError(BaseModel):
    pointer: str | None = Field(None, description="JSON pointer into the request body")
    parameter: str | None = Field(None, description="Query, path or header parameter name")
    detail: str
    reason: str = Field(description="Stable machine reason, e.g. `missing`, `string_too_long`")


class Problem(BaseModel):
    """An error (RFC 9457). ``code`` is stable; ``detail`` follows Accept-Language."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    errors: list[ProblemFieldError] | None = None

    model_config = {"json_schema_extra": {"examples": [{
        "type": TYPE_BASE + "precondition-failed", "title": "Version is stale",
        "status": 412, "detail": "The record has changed (version 3); you sent version 2.",
        "code": "precondition_failed", "request_id": "5f0c8e0a3c1b4e9f"}]}}


class ApiProblem(Exception):
    """An HTTP-level error that has no domain meaning (unknown parameter, body too large)."""

    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None,
                 **params: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.params, self.headers = status, code, params, headers or {}


def problem_body(status: int, code: str, params: dict[str, Any], *, lang: str,
                 request_id: str | None, errors: list[dict[str, Any]] | None = None
                 ) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code.replace("_", "-"),
        "title": i18n.title(code),
        "status": status,
        "detail": i18n.detail(code, params, lang),
        "code": code,
        "request_id": request_id,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(request: Request | None, status: int, code: str,
                     params: dict[str, Any] | None = None,
                     errors: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None,
                     extensions: dict[str, Any] | None = None) -> JSONResponse:
    lang = i18n.pick_language(request.headers.get("accept-language") if request else None)
    request_id = getattr(request.state, "request_id", None) if request else None
    body = problem_body(status, code, params or {}, lang=lang, request_id=request_id,
                        errors=errors)
    if extensions:
        body.update(jsonable_encoder(extensions))
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                        headers=headers)


def domain_error_response(request: Request, exc: DomainError) -> JSONResponse:
    status = STATUS_BY_KIND[exc.kind]
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after_s)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        headers["Retry-After"] = "5"
    lang = i18n.pick_language(request.headers.get("accept-language"))
    errors = [{"pointer": e.pointer, "reason": e.reason,
               "detail": i18n.field_detail(e.reason, e.params, lang)}
              for e in exc.field_errors] or None
    return problem_response(request, status, exc.code, exc.params, errors, headers,
                            exc.extensions)


def _validation_errors(request: Request, exc: RequestValidationError) -> JSONResponse:
    if version_required(exc.errors()):
        return domain_error_response(request, VersionRequired())
    lang = i18n.pick_language(request.headers.get("accept-language"))
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        kind = err.get("type", "value_error")
        if kind == "json_invalid":
            return problem_response(request, 400, "malformed_request",
                                    {"reason": err.get("ctx", {}).get("error", "invalid JSON")})
        ctx = dict(err.get("ctx") or {})
        if "error" in ctx:
            ctx["error"] = str(ctx["error"]).removeprefix("value is not a valid email address: ")
        item: dict[str, Any] = {"reason": kind,
                                "detail": i18n.field_detail(kind, ctx, lang, err.get("msg"))}
        if loc and loc[0] == "body":
            item["pointer"] = "/" + "/".join(p.replace("~", "~0").replace("/", "~1")
                                             for p in loc[1:])
        else:
            item["parameter"] = loc[-1] if loc else ""
        errors.append(item)
    return problem_response(request, 422, "validation_failed", {}, errors)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        await keep_denial(request, exc)
        return domain_error_response(request, exc)

    @app.exception_handler(ApiProblem)
    async def _api(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.params, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_errors(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            if unknown_api_version(request.url.path):
                return problem_response(request, 404, "api_version_unknown",
                                        {"versions": ", ".join(API_VERSIONS)},
                                        extensions={"versions": list(API_VERSIONS)})
            return problem_response(request, 404, "route_not_found")
        if exc.status_code == 405:
            allow = ", ".join(allowed_methods(request.app.routes, request.scope))
            return problem_response(request, 405, "method_not_allowed",
                                    {"method": request.method}, headers={"Allow": allow})
        code = {400: "malformed_request", 413: "payload_too_large",
                415: "unsupported_media_type"}.get(exc.status_code, "internal_error")
        return problem_response(request, exc.status_code, code, {"reason": exc.detail})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", exc_info=exc, path=request.url.path)
        # Starlette answers this one outside the request-id middleware: add the header here.
        request_id = getattr(request.state, "request_id", None)
        return problem_response(request, 500, "internal_error",
                                headers={"X-Request-ID": request_id} if request_id else None)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can return."""
    descriptions = {400: "Malformed request, unknown query parameter or bad cursor",
                    401: "Not authenticated", 403: "Role or scope not allowed",
                    404: "Not found, or outside your record scope", 405: "Method not allowed",
                    409: "State conflict or duplicate", 410: "No longer available",
                    412: "Stale If-Match",
                    413: "Body too large", 415: "Unsupported media type",
                    422: "Validation failed", 428: "If-Match required",
                    429: "Too many requests (Retry-After says when to retry)",
                    500: "Internal error",
                    503: "Database unavailable"}
    schema = {"$ref": "#/components/schemas/Problem"}
    return {s: {"description": descriptions[s], "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}}}
            for s in statuses}
