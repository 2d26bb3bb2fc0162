"""The raw baseline: the benchmark's three customer reads served by Starlette + asyncpg,
no ORM, no validation layer, no middleware.

It answers with the same JSON (``bench.run`` checks the bodies are identical to the app's)
and does the same database work per request as the app, written by hand: it verifies the
HS256 bearer token with the standard library (signature, kid, iss, aud, exp, use), checks in
one query that the user is active and holds a reading role, and keeps that answer per token
for as long as the app keeps a principal (``ACCORD_PRINCIPAL_CACHE_S``, refused once the
token expires), then runs the SELECTs the app runs, compiled from the app's own
statements. It serves administrators only (record scope "all"), which is what the
benchmark signs in as. Run: ``uvicorn bench.baseline:create_app --factory --workers 2``
with ``BENCH_DSN`` (a postgresql:// DSN).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import JSON, Select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api.pagination import encode_cursor
from app.api.v1.schemas.customers import ContactOut, CustomerOut, CustomerSummary
from app.domain.access.scope import Reach
from app.domain.common.paging import Sort
from app.domain.customers.lifecycle import allowed_targets
from app.domain.customers.model import Stage
from app.repositories.customers import _CONTACTS_OF, _by_id, _list_shape
from app.repositories.search import like_pattern
from app.repositories.tables_customers import contacts, customers
from app.settings import get_settings

READ_ROLES = ["admin", "executive", "analyst", "auditor", "department_head", "account_manager"]
# The response fields come from the app's own schemas, so both answer the same shape.
SUMMARY = list(CustomerSummary.model_fields)
DETAIL = [f for f in CustomerOut.model_fields
          if f not in SUMMARY and f not in ("contacts", "allowed_stages")]
CONTACT = list(ContactOut.model_fields)
JSON_COLUMNS = {c.name for c in (*customers.columns, *contacts.columns)
                if isinstance(c.type, JSON)}


def _compiled(statement: Select[Any]) -> tuple[str, list[str]]:
    """The SQL the app's Prepared statement sends on PostgreSQL, and its parameters' names
    in positional order."""
    compiled = statement.compile(dialect=PGDialect_asyncpg())
    return compiled.string, list(compiled.positiontup or [])


# The app's own statements (app/repositories/customers.py), for an administrator (record
# scope "all"): a customer by id, its contacts, the page by tier and the search (on
# PostgreSQL the page's ids first from the covering index, then those rows).
ONE = _compiled(_by_id(Reach.ALL))
CONTACTS = _compiled(_CONTACTS_OF.statement)
PAGE = _compiled(_list_shape(Reach.ALL, ("tier",), False, False, False, "updated_at", True,
                             False))
SEARCH = _compiled(_list_shape(Reach.ALL, (), False, True, False, "updated_at", True, False))
AUTHORISED = ("SELECT u.active AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id "
              "AND r.role = ANY($2::text[])) FROM users u WHERE u.id = $1")
SORT = Sort.parse("-updated_at")
LIST_PATH = "/api/v1/customers"


class Unauthorised(Exception):
    pass


class Principals:
    """The app's principal cache, as the baseline needs it: an authorised token seen again
    within the cache's lifetime is neither decoded nor looked up, and is refused once the
    token itself expires (app/services/principal_cache.py)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._fresh: dict[str, tuple[float, int]] = {}  # token: (fresh until, token exp)

    def known(self, authorization: str) -> bool:
        entry = self._fresh.get(authorization)
        if entry is None:
            return False
        fresh_until, expires = entry
        if time.monotonic() < fresh_until and time.time() < expires:
            return True
        del self._fresh[authorization]
        return False

    def keep(self, authorization: str, expires: int) -> None:
        if self.ttl_s > 0:
            self._fresh[authorization] = (time.monotonic() + self.ttl_s, expires)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    def __init__(self) -> None:
        settings = get_settings()
        self.key = settings.signing_key.get_secret_value().encode()
        self.issuer, self.audience = settings.jwt_issuer, settings.jwt_audience
        self.key_id = settings.jwt_key_id

    def subject(self, authorization: str | None) -> tuple[UUID, int]:
        """The token's user and its expiry (epoch seconds)."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorised()
        try:
            head, body, signature = authorization[7:].split(".")
            expected = hmac.new(self.key, f"{head}.{body}".encode(), hashlib.sha256).digest()
            header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
            valid = hmac.compare_digest(_unb64(signature), expected) and \
                header.get("alg") == "HS256" and header.get("kid") == self.key_id and \
                claims.get("iss") == self.issuer and claims.get("aud") == self.audience and \
                claims.get("use") == "access" and claims["exp"] > time.time()
            if not valid:
                raise Unauthorised()
            return UUID(claims["sub"]), int(claims["exp"])
        except (ValueError, KeyError, TypeError) as exc:
            raise Unauthorised() from exc


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def _value(row: asyncpg.Record, name: str) -> Any:
    value = row[name]
    return json.loads(value) if name in JSON_COLUMNS else _json(value)


def _summary(row: asyncpg.Record) -> dict[str, Any]:
    values = dict(row)
    values["archived"] = values["archived_at"] is not None
    values["tier"] = {"effective": values["tier_manual"] or values["tier_computed"],
                      "computed": values["tier_computed"], "manual": values["tier_manual"],
                      "manual_reason": values["tier_manual_reason"],
                      "value_score": str(values["value_score"])}
    return {k: values[k] if k in ("tier", "archived") else _value(row, k) for k in SUMMARY}


def _detail(row: asyncpg.Record, contacts: list[asyncpg.Record]) -> dict[str, Any]:
    body = _summary(row)
    body.update({name: _value(row, name) for name in DETAIL})
    body["contacts"] = [{k: _value(c, k) for k in CONTACT} for c in contacts]
    body["allowed_stages"] = allowed_targets(Stage(row["stage"]))
    return body


async def _fetch(conn: asyncpg.Connection, statement: tuple[str, list[str]],
                 **params: Any) -> list[asyncpg.Record]:
    sql, names = statement
    return await conn.fetch(sql, *[params[name] for name in names])


def create_app() -> Starlette:
    tokens = Tokens()
    principals = Principals(get_settings().principal_cache_s)
    cursor_key = hmac.new(tokens.key, b"cursor", hashlib.sha256).digest()
    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=2,
                                                  max_size=10)
        yield
        await state["pool"].close()

    async def authorise(request: Request, conn: asyncpg.Connection) -> Response | None:
        authorization = request.headers.get("authorization") or ""
        if principals.known(authorization):
            return None
        try:
            subject, expires = tokens.subject(authorization)
        except Unauthorised:
            return JSONResponse({"code": "not_authenticated"}, 401)
        if not await conn.fetchval(AUTHORISED, subject, READ_ROLES):
            return JSONResponse({"code": "forbidden"}, 403)
        principals.keep(authorization, expires)
        return None

    async def one(request: Request) -> Response:
        try:
            customer_id = UUID(request.path_params["customer_id"])
        except ValueError:
            return JSONResponse({"code": "validation_failed"}, 422)
        async with state["pool"].acquire() as conn:
            if refused := await authorise(request, conn):
                return refused
            found = await _fetch(conn, ONE, customer_id=customer_id)
            if not found:
                return JSONResponse({"code": "not_found"}, 404)
            contacts = await _fetch(conn, CONTACTS, customer_id=customer_id)
        row = found[0]
        return JSONResponse(_detail(row, contacts), headers={"ETag": f'"{row["version"]}"'})

    async def page(request: Request) -> Response:
        params = request.query_params
        limit = int(params.get("limit", "50"))
        async with state["pool"].acquire() as conn:
            if refused := await authorise(request, conn):
                return refused
            if "q" in params:
                rows = await _fetch(conn, SEARCH, page_limit=limit + 1,
                                    filter_q=like_pattern(params["q"].strip().lower()))
            else:
                rows = await _fetch(conn, PAGE, page_limit=limit + 1,
                                    filter_tier=params["tier"])
        more, rows = len(rows) > limit, rows[:limit]
        cursor = encode_cursor(cursor_key, LIST_PATH, SORT, (rows[-1]["updated_at"],
                                                             rows[-1]["id"])) if more else None
        return JSONResponse({"data": [_summary(r) for r in rows], "next_cursor": cursor})

    async def ready(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route(LIST_PATH, page), Route(LIST_PATH + "/{customer_id}", one),
                             Route("/readyz", ready)], lifespan=lifespan)
