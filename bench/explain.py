"""EXPLAIN (ANALYZE, BUFFERS) of the SQL the app really sends for the three reads.

The reads run through the app's own use cases (``CustomerService.get`` / ``.list``) as the
benchmark's administrator; every statement SQLAlchemy hands to asyncpg is captured, then
explained with the same text and parameters on a plain asyncpg connection: once to time a
first run, and again for the plan shown (warm, as under load).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import event

from app.domain.common.paging import PageRequest, Sort
from app.services.auth import user_principal
from app.services.ports import RequestContext
from app.services.ports.customers import CustomerFilter
from app.settings import Settings
from bench.databases import dsn

KEY_NODES = re.compile(r"(Index Scan|Index Only Scan|Bitmap Index Scan|Bitmap Heap Scan|"
                       r"Seq Scan|Sort|Limit|Nested Loop|Hash)")


@dataclass
class Plan:
    read: str
    sql: str
    lines: list[str]
    execution_ms: float = 0.0  # warm: the statement's second run
    first_run_ms: float = 0.0  # its first run, with whatever the caches held
    planning_ms: float = 0.0  # warm
    indexes: list[str] = field(default_factory=list)

    @property
    def key_lines(self) -> list[str]:
        """The plan's nodes, conditions and buffers (not the planner's own), and times."""
        body = self.lines[:next((i for i, line in enumerate(self.lines)
                                 if line.startswith("Planning")), len(self.lines))]
        keep = [line for line in body if KEY_NODES.search(line)
                or "Index Cond" in line or "Recheck Cond" in line or "Filter:" in line
                or "Rows Removed" in line or line.strip().startswith("Buffers")]
        return keep[:16] + [line for line in self.lines if line.endswith(" ms")
                            and line.startswith(("Planning Time", "Execution Time"))]


async def _capture(url: str, admin: str, customer_id: UUID, tier: str,
                   term: str) -> dict[str, list[tuple[str, Any]]]:
    from app.main import create_app

    app = create_app(Settings(database_url=url, log_level="WARNING"))
    services = app.state.services
    captured: dict[str, list[tuple[str, Any]]] = {}
    current: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               _many: bool) -> None:
        current.append((statement, parameters))

    try:
        ctx = RequestContext(user_principal(await services.people.user_by_username(admin)),
                             "bench-explain")
        event.listen(app.state.engines.read.sync_engine, "before_cursor_execute", record)
        page = PageRequest(sort=Sort.parse("-updated_at"), limit=50)
        await services.customers.get(ctx, customer_id)
        captured["get-one"], current[:] = list(current), []
        await services.customers.list(ctx, CustomerFilter(tier=tier), page)
        captured["page"], current[:] = list(current), []
        await services.customers.list(ctx, CustomerFilter(q=term), page)
        captured["search"], current[:] = list(current), []
    finally:
        event.remove(app.state.engines.read.sync_engine, "before_cursor_execute", record)
        await app.state.engines.dispose()
    return captured


def _execution_ms(lines: list[str], what: str = "Execution Time") -> float:
    return next((float(line.split(":")[1].split()[0]) for line in lines
                 if line.startswith(what)), float("nan"))


async def explain(url: str, admin: str, customer_id: UUID, tier: str, term: str) -> list[Plan]:
    captured = await _capture(url, admin, customer_id, tier, term)
    plans = []
    conn = await asyncpg.connect(dsn(url))
    try:
        for read, statements in captured.items():
            for sql, parameters in statements:
                if "FROM customers" not in sql and "FROM contacts" not in sql:
                    continue
                args = list(parameters or ())
                first = [r[0] for r in await conn.fetch(f"EXPLAIN (ANALYZE) {sql}", *args)]
                rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
                lines = [r[0] for r in rows]
                plan = Plan(read, sql, lines, first_run_ms=_execution_ms(first))
                plan.execution_ms = _execution_ms(lines)
                plan.planning_ms = _execution_ms(lines, "Planning Time")
                for line in lines:
                    plan.indexes += [m for m in re.findall(r"(?:using|on) (ix_\w+|pk_\w+)", line)
                                     if m not in plan.indexes]
                plans.append(plan)
    finally:
        await conn.close()
    return plans
