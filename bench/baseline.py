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
from sqlalchemy import JSON
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api.pagination import encode_cursor
from app.api.v1.schemas.customers import ContactOut, CustomerOut, CustomerSummary
from app.domain.common.paging import Sort
from app.domain.customers.lifecycle import allowed_targets
from app.domain.customers.model import Stage
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
COLUMNS = ", ".join(c.name for c in customers.columns if c.name not in ("tier", "search_text"))
AUTHORISED = ("SELECT u.active AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id "
              "AND r.role = ANY($2::text[])) FROM users u WHERE u.id = $1")
ONE = f"SELECT {COLUMNS} FROM customers WHERE id = $1"  # noqa: S608 - constant text
CONTACTS = (f"SELECT {', '.join(CONTACT)} FROM contacts WHERE customer_id = $1 "  # noqa: S608
            "ORDER BY is_primary DESC, created_at, id")
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


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


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
            row = await conn.fetchrow(ONE, customer_id)
            if row is None:
                return JSONResponse({"code": "not_found"}, 404)
            contacts = await conn.fetch(CONTACTS, customer_id)
        return JSONResponse(_detail(row, contacts), headers={"ETag": f'"{row["version"]}"'})

    async def page(request: Request) -> Response:
        params = request.query_params
        limit = int(params.get("limit", "50"))
        where, args = ["archived_at IS NULL"], []
        for column in ("tier", "owner_id"):
            if column in params:
                args.append(params[column] if column == "tier" else UUID(params[column]))
                where.append(f"{column} = ${len(args)}")
        if "q" in params:
            args.append(_like(params["q"].strip().lower()))
            where.append(f"search_text LIKE ${len(args)} ESCAPE '\\'")
        args.append(limit + 1)
        sql = (f"SELECT {COLUMNS} FROM customers WHERE {' AND '.join(where)} "  # noqa: S608
               f"ORDER BY updated_at DESC, id DESC LIMIT ${len(args)}")
        async with state["pool"].acquire() as conn:
            if refused := await authorise(request, conn):
                return refused
            rows = await conn.fetch(sql, *args)
        more, rows = len(rows) > limit, rows[:limit]
        cursor = encode_cursor(cursor_key, LIST_PATH, SORT, (rows[-1]["updated_at"],
                                                             rows[-1]["id"])) if more else None
        return JSONResponse({"data": [_summary(r) for r in rows], "next_cursor": cursor})

    async def ready(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route(LIST_PATH, page), Route(LIST_PATH + "/{customer_id}", one),
                             Route("/readyz", ready)], lifespan=lifespan)
