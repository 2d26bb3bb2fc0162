"""Where one request's CPU goes, measured in-process (no HTTP, no other load from us):
each step of a read is timed on its own with ``time.process_time`` (the best of five
batches), next to the raw-asyncpg floor and the baseline. This is what explains the
ratio between the app and the baseline, step by step."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import select

from app.domain.common.paging import PageRequest, Sort
from app.repositories.direct import Prepared
from app.repositories.tables_customers import customers
from app.services.auth import user_principal
from app.services.ports import RequestContext
from app.services.ports.customers import CustomerFilter
from app.settings import Settings
from bench.databases import dsn

Step = tuple[str, float]  # (what, microseconds of CPU — or a count, for round trips)


@contextmanager
def _counting_round_trips() -> Iterator[list[int]]:
    """Count the messages asyncpg sends and waits for: simple queries (BEGIN, ROLLBACK,
    the pool's reset) and executions of prepared statements."""
    from asyncpg.connection import Connection
    from asyncpg.prepared_stmt import PreparedStatement

    count = [0]
    patched = [(Connection, "execute"), (Connection, "_do_execute"),
               (PreparedStatement, "_PreparedStatement__do_execute")]
    originals = [getattr(cls, name) for cls, name in patched]

    def counted(original: Callable[..., Any], simple_only: bool) -> Callable[..., Any]:
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not simple_only or len(args) <= 1:  # execute(query) without arguments
                count[0] += 1
            return await original(self, *args, **kwargs)

        return wrapper

    for (cls, name), original in zip(patched, originals, strict=True):
        setattr(cls, name, counted(original, name == "execute"))
    try:
        yield count
    finally:
        for (cls, name), original in zip(patched, originals, strict=True):
            setattr(cls, name, original)


async def _round_trips(fn: Callable[[], Awaitable[Any]], n: int = 50) -> float:
    for _ in range(5):
        await fn()
    with _counting_round_trips() as count:
        for _ in range(n):
            await fn()
    return count[0] / n


async def _cost(fn: Callable[[], Awaitable[Any]], n: int = 200) -> float:
    for _ in range(20):
        await fn()
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(n):
            await fn()
        best = min(best, (time.process_time() - started) / n * 1e6)
    return best


def _asgi_get(app: Any, path: str, token: str) -> Callable[[], Awaitable[None]]:
    """One GET through the whole ASGI application (routing, middleware, dependencies,
    serialisation), without a socket."""
    raw, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": raw, "raw_path": raw.encode(),
             "query_string": query.encode(), "root_path": "", "client": ("127.0.0.1", 9),
             "server": ("127.0.0.1", 80),
             "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def call() -> None:
        status = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(dict(scope), receive, send)
        if status != [200]:
            raise RuntimeError(f"{path} answered {status}")

    return call


async def measure(url: str, admin: str, password: str, customer_id: str,
                  tier: str) -> list[Step]:
    from app.api.v1.customers import SummaryPage, _customer_out, _summary
    from app.main import create_app
    from bench.baseline import create_app as create_baseline

    app = create_app(Settings(database_url=url, log_level="WARNING"))
    services = app.state.services
    os.environ["BENCH_DSN"] = dsn(url)
    baseline = create_baseline()
    lifespan = baseline.router.lifespan_context(baseline)
    await lifespan.__aenter__()
    raw = await asyncpg.connect(dsn(url))
    try:
        ctx = RequestContext(user_principal(await services.people.user_by_username(admin)), "b")
        token = (await services.auth.login(RequestContext(None, "bench", "127.0.0.1"), admin,
                                           password)).access_token
        page = PageRequest(sort=Sort.parse("-updated_at"), limit=50)
        listed = await services.customers.list(ctx, CustomerFilter(tier=tier), page)
        tokens = services.auth._tokens
        uow = services.customers._uow
        cid = UUID(customer_id)
        one, lst = f"/api/v1/customers/{customer_id}", \
            f"/api/v1/customers?limit=50&tier={tier}&sort=-updated_at"

        async def empty_uow() -> None:
            async with uow(RequestContext(None), write=False):
                pass

        one_customer = await services.customers.get(ctx, UUID(customer_id))

        async def detail() -> None:
            _customer_out(one_customer).model_dump_json()

        async def summaries() -> None:
            SummaryPage(data=[_summary(c) for c in listed.items],
                        next_cursor=None).model_dump_json()

        async def jwt() -> None:
            tokens.read_access(token)

        async def principal_uncached() -> None:
            services.auth._principals.clear()
            await services.auth.principal_for_access_token(token)

        conn = await app.state.engines.read.connect()
        prebuilt = select(*customers.c).where(customers.c.id == cid)

        async def core_built() -> None:
            (await conn.execute(select(*customers.c).where(customers.c.id == cid))).one()

        async def core_prebuilt() -> None:
            (await conn.execute(prebuilt)).one()

        direct = Prepared(prebuilt)

        async def prepared_direct() -> None:
            assert await direct.one_or_none(conn) is not None

        steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("raw asyncpg: SELECT one customer by id (the floor for one query)",
             lambda: raw.fetchrow("SELECT * FROM customers WHERE id = $1", cid)),
            ("SQLAlchemy Core: the same SELECT, statement built per call", core_built),
            ("SQLAlchemy Core: the same SELECT, statement built once", core_prebuilt),
            ("the same SELECT as a Prepared statement (compiled once, sent by asyncpg)",
             prepared_direct),
            ("JWT check (python-jose)", jwt),
            ("empty read unit of work (pool checkout, transaction handling)", empty_uow),
            ("principal lookup, token not seen before (JWT check + unit of work + user "
             "and roles)", principal_uncached),
            ("principal lookup, token seen within the cache's lifetime",
             lambda: services.auth.principal_for_access_token(token)),
            ("CustomerService.get (unit of work + customer + contacts, to domain)",
             lambda: services.customers.get(ctx, cid)),
            ("CustomerService.list, page of 50 (unit of work + query + 50 to domain)",
             lambda: services.customers.list(ctx, CustomerFilter(tier=tier), page)),
            ("customer → response model → JSON (pydantic), get-one", detail),
            ("50 domain customers → response models → JSON (pydantic)", summaries),
            ("whole request in-process, app: get-one", _asgi_get(app, one, token)),
            ("whole request in-process, baseline: get-one", _asgi_get(baseline, one, token)),
            ("whole request in-process, app: page", _asgi_get(app, lst, token)),
            ("whole request in-process, baseline: page", _asgi_get(baseline, lst, token)),
        ]
        trips = [(f"round trips to PostgreSQL per request, {who}: {read}",
                  await _round_trips(_asgi_get(target, path, token)))
                 for read, path in (("get-one", one), ("page", lst))
                 for who, target in (("app", app), ("baseline", baseline))]
        try:
            return [(name, await _cost(fn)) for name, fn in steps] + trips
        finally:
            await conn.close()
    finally:
        await raw.close()
        await lifespan.__aexit__(None, None, None)
        await app.state.engines.dispose()


def measure_sync(*args: Any) -> list[Step]:
    try:
        import uvloop

        return uvloop.run(measure(*args))
    except ImportError:  # pragma: no cover
        return asyncio.run(measure(*args))
