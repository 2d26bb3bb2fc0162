"""ASGI middleware: request ids, one JSON log line and metrics per request, body limits,
304 for a cached copy that is still current; and what browsers on other origins may use."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.etag import ANY, entity_tags
from app.api.i18n import pick_language
from app.api.metrics import HttpMetrics
from app.api.problems import problem_body
from app.api.rate_limit import rate_limit_headers

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_JSON_TYPES = re.compile(r"^application/([a-z0-9.+-]*\+)?json\s*(;.*)?$", re.IGNORECASE)
_FORM_TYPES = re.compile(r"^(application/x-www-form-urlencoded|multipart/form-data)\s*(;.*)?$",
                         re.IGNORECASE)

# CORS: what a browser on an allowed origin may send and read.
CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CORS_ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-API-Key", "Accept-Language",
                        "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-Id")
CORS_EXPOSED_HEADERS = ("ETag", "Location", "X-Request-Id", "Idempotent-Replayed",
                        "Retry-After", "Content-Disposition", "RateLimit-Limit",
                        "RateLimit-Remaining", "RateLimit-Reset")

log = structlog.get_logger("accord.access")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def _send_problem(scope: Scope, send: Send, status: int, code: str,
                        params: dict[str, Any]) -> None:
    body = json.dumps(problem_body(
        status, code, params, lang=pick_language(_header(scope, b"accept-language")),
        request_id=scope.get("state", {}).get("request_id")), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Outermost: gives every request an id (the caller's ``X-Request-ID`` if sane), logs
    one structured line when it ends, and feeds the request metrics."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = given if given and _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (REQUEST_ID_HEADER.encode(), request_id.encode()),
                                      *rate_limit_headers(scope["state"])]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status, elapsed)
            client = scope.get("client")
            # A path carrying a secret (a survey token) is logged as its template only.
            path = template if "{token}" in template else scope["path"]
            log.info("request", method=scope["method"], path=path, route=template,
                     status=status, duration_ms=round(elapsed * 1000, 2),
                     client=client[0] if client else None)


class BodyLimitMiddleware:
    """413 above the limit (checked on Content-Length and while streaming), 415 for a body
    that is neither JSON nor, on the routes that take it, a form."""

    def __init__(self, app: ASGIApp, max_bytes: int, form_paths: frozenset[str],
                 upload_paths: frozenset[str] = frozenset(), max_upload_bytes: int = 0,
                 form_patterns: tuple[re.Pattern[str], ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.form_paths = form_paths
        # form routes with a path parameter (a page's token)
        self.form_patterns = form_patterns
        # file uploads (multipart) with their own, larger limit
        self.upload_paths = upload_paths
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        uploads = scope["path"] in self.upload_paths
        limit = self.max_upload_bytes if uploads else self.max_bytes
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _send_problem(scope, send, 413, "payload_too_large", {"limit": limit})
            return
        content_type = _header(scope, b"content-type")
        has_body = (length is not None and length != "0") or _header(
            scope, b"transfer-encoding") is not None
        takes_form = scope["path"] in self.form_paths or any(
            p.fullmatch(scope["path"]) for p in self.form_patterns)
        allowed = _FORM_TYPES if takes_form else _JSON_TYPES
        # an upload route checks its caller first, then that the body is a form (422)
        if has_body and not uploads and not (content_type and allowed.match(content_type)):
            await _send_problem(scope, send, 415,
                                "form_required" if takes_form else "unsupported_media_type", {})
            return
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not too_large or started:
                raise
        if too_large and not started:
            await _send_problem(scope, send, 413, "payload_too_large", {"limit": limit})


class NotModifiedMiddleware:
    """A GET whose If-None-Match names the answer's ETag gets 304 with that ETag and no
    body (RFC 9110 §13.1.2): the client's copy is confirmed without being sent again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = _header(scope, b"if-none-match") if scope["type"] == "http" and scope[
            "method"] in ("GET", "HEAD") else None
        tags = entity_tags(header) if header else None
        if not tags:
            await self.app(scope, receive, send)
            return
        # If-None-Match compares weakly: W/"3" and "3" name the same version.
        wanted = {t.removeprefix("W/") for t in tags}
        not_modified = False

        async def conditional_send(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = message.get("headers", [])
                etag = next((v.decode("latin-1") for k, v in headers if k.lower() == b"etag"),
                            None)
                if etag and (ANY in wanted or etag.removeprefix("W/") in wanted):
                    not_modified = True
                    await send({"type": "http.response.start", "status": 304, "headers": [
                        (k, v) for k, v in headers
                        if k.lower() not in (b"content-length", b"content-type")]})
                    await send({"type": "http.response.body", "body": b""})
                    return
            if not not_modified:
                await send(message)

        await self.app(scope, receive, conditional_send)
