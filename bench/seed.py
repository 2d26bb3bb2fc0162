"""Seeding a benchmark database.

People go through the app's use cases (departments, an administrator and account managers
who can sign in). Customers go in bulk: chunks built by ``bench.fake_customers`` in worker
processes and written with COPY (``asyncpg.copy_records_to_table``). For speed the
secondary indexes of the customer tables are dropped before the load and recreated from
their exact saved definitions afterwards (checked identical), then the tables are analysed.
Foreign keys stay enforced throughout.

Real creation also writes history, timeline, outbox and audit rows; the seed leaves them
out because none of the benchmarked reads touch them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from app.domain.access.roles import Role
from app.services.people import NewUser
from app.services.ports import RequestContext
from app.settings import Settings
from bench.databases import dsn
from bench.fake_customers import (
    CONTACT_COLUMNS,
    CUSTOMER_COLUMNS,
    POINT_COLUMNS,
    REF_COLUMNS,
    SEARCH_TERMS,
    TAG_COLUMNS,
    Chunk,
    ChunkSpec,
    generate,
)

PASSWORD = "accord-bench-2026"
ADMIN = "bench.admin"
MANAGER = "bench.am.0.0"  # the account manager the report names
DEPARTMENTS = ["华东大客户部", "华南渠道部", "北方政企部"]
MANAGERS_PER_DEPARTMENT = 4
TABLES = ["customers", "contacts", "contact_points", "customer_tags", "customer_external_refs"]
CHUNK = 5_000
SYSTEM = RequestContext(principal=None, request_id="bench-seed")


@dataclass
class People:
    admin: str
    manager: str
    password: str
    owners: list[tuple[UUID, UUID]]  # (account manager, department)


@dataclass
class SeedReport:
    customers: int
    seconds_people: float = 0.0
    seconds_copy: float = 0.0
    seconds_indexes: float = 0.0
    seconds_analyze: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    term_matches: dict[str, int] = field(default_factory=dict)
    tier_counts: dict[str, int] = field(default_factory=dict)
    table_mb: float = 0.0

    @property
    def seconds(self) -> float:
        return self.seconds_people + self.seconds_copy + self.seconds_indexes + \
            self.seconds_analyze


async def create_people(url: str) -> People:
    """Through the use cases, as ``accord create-admin`` and ``accord demo`` do."""
    from app.main import create_app

    app = create_app(Settings(database_url=url, log_level="WARNING"))
    people = app.state.services.people
    owners = []
    try:
        departments = [await people.ensure_department(SYSTEM, name) for name in DEPARTMENTS]
        await people.create_user(SYSTEM, NewUser(
            username=ADMIN, display_name="压测管理员", email=f"{ADMIN}@bench.accord.local",
            password=PASSWORD, department_id=departments[0].id,
            roles=frozenset({Role.ADMIN})))
        for d, department in enumerate(departments):
            for m in range(MANAGERS_PER_DEPARTMENT):
                username = f"bench.am.{d}.{m}"
                user = await people.create_user(SYSTEM, NewUser(
                    username=username, display_name=f"客户经理{d}{m}",
                    email=f"{username}@bench.accord.local", password=PASSWORD,
                    department_id=department.id, roles=frozenset({Role.ACCOUNT_MANAGER})))
                owners.append((user.id, department.id))
    finally:
        await app.state.engines.dispose()
    return People(ADMIN, MANAGER, PASSWORD, owners)


def _chunks(specs: list[ChunkSpec], jobs: int) -> Iterator[Chunk]:
    """Chunks in order, built ``jobs`` at a time, at most two ahead per worker."""
    if jobs <= 1:
        yield from map(generate, specs)
        return
    with ProcessPoolExecutor(jobs) as pool:
        pending: list[Future[Chunk]] = []
        for spec in specs:
            pending.append(pool.submit(generate, spec))
            if len(pending) >= 2 * jobs:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


async def _secondary_indexes(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename = ANY($1::text[]) AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint) ORDER BY indexname", TABLES)
    return [(r["indexname"], r["indexdef"]) for r in rows]


async def _copy(conn: asyncpg.Connection, chunk: Chunk) -> None:
    async with conn.transaction():
        for table, columns, records in (
                ("customers", CUSTOMER_COLUMNS, chunk.customers),
                ("contacts", CONTACT_COLUMNS, chunk.contacts),
                ("contact_points", POINT_COLUMNS, chunk.contact_points),
                ("customer_tags", TAG_COLUMNS, chunk.customer_tags),
                ("customer_external_refs", REF_COLUMNS, chunk.customer_external_refs)):
            if records:
                await conn.copy_records_to_table(table, records=records, columns=columns)


async def seed(url: str, customers: int, *, seed_value: int = 2026, jobs: int = 2,
               progress: Callable[[str], None] = print) -> tuple[People, SeedReport]:
    report = SeedReport(customers)
    started = time.perf_counter()
    people = await create_people(url)
    report.seconds_people = time.perf_counter() - started
    reference = datetime.now(UTC).replace(microsecond=0)
    specs = [ChunkSpec(seed_value, first, min(CHUNK, customers - first), people.owners,
                       reference) for first in range(0, customers, CHUNK)]
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = await _secondary_indexes(conn)
        for name, _ in indexes:
            await conn.execute(f'DROP INDEX "{name}"')
        started = time.perf_counter()
        done = 0
        for chunk in _chunks(specs, jobs):
            await _copy(conn, chunk)
            done += len(chunk.customers)
            if done % 50_000 < CHUNK or done == customers:
                progress(f"  {done:,} customers copied ({time.perf_counter() - started:.0f} s)")
        report.seconds_copy = time.perf_counter() - started
        started = time.perf_counter()
        for _, definition in indexes:
            await conn.execute(definition)
        if await _secondary_indexes(conn) != indexes:
            raise RuntimeError("recreated indexes differ from the migrated ones")
        report.seconds_indexes = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) customers, contacts, contact_points, "
                           "customer_tags, customer_external_refs")
        report.seconds_analyze = time.perf_counter() - started
        await _describe(conn, report)
    finally:
        await conn.close()
    return people, report


async def _describe(conn: asyncpg.Connection, report: SeedReport) -> None:
    for table in TABLES:
        report.rows[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
    for term in SEARCH_TERMS:
        report.term_matches[term] = await conn.fetchval(
            "SELECT count(*) FROM customers WHERE archived_at IS NULL "
            "AND search_text LIKE $1", f"%{term}%")
    report.tier_counts = {r["tier"]: r["n"] for r in await conn.fetch(
        "SELECT tier, count(*) AS n FROM customers WHERE archived_at IS NULL "
        "GROUP BY tier ORDER BY tier")}
    report.table_mb = await conn.fetchval(
        "SELECT pg_total_relation_size('customers') / 1048576.0")


async def sample_ids(url: str, n: int = 20_000) -> list[str]:
    conn = await asyncpg.connect(dsn(url))
    try:
        rows = await conn.fetch("SELECT id FROM customers WHERE archived_at IS NULL "
                                "ORDER BY random() LIMIT $1", n)
    finally:
        await conn.close()
    return [str(r["id"]) for r in rows]


def seed_sync(url: str, customers: int, **kwargs) -> tuple[People, SeedReport]:  # type: ignore[no-untyped-def]
    return asyncio.run(seed(url, customers, **kwargs))
