"""The oracle of the customer summaries (``tables_customer_summary``): what each should
hold, computed in Python from every row of ``customers``, ``customer_health`` and
``customer_timeline``, against what it holds (rows whose count is zero left out)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.repositories.tables_customer_summary import (
    customer_churn_days,
    customer_health_summary,
    customer_new_days,
    customer_summary,
)
from app.repositories.tables_customers import customer_timeline, customers
from app.repositories.tables_feedback import customer_health

SUMMARIES = (customer_summary, customer_health_summary, customer_new_days,
             customer_churn_days)


async def expected_and_held(engine: AsyncEngine) -> dict[str, tuple[Counter[Any], ...]]:
    """Per summary: (what it should hold, what it holds), keyed by its key columns."""
    c, h, t = customers.c, customer_health.c, customer_timeline.c
    async with engine.connect() as conn:
        people = {r.id: r for r in await conn.execute(select(
            c.id, c.department_id, c.owner_id, c.shared_with_department, c.tier, c.stage,
            c.integrity_score, c.archived_at, c.merged_into, c.created_at))}
        health = (await conn.execute(select(h.customer_id, h.score, h.below_threshold))).all()
        events = (await conn.execute(select(t.customer_id, t.occurred_at, t.data).where(
            t.type == "customer.stage_changed"))).all()
        held = {s.name: Counter({tuple(r[:-1]): r[-1] for r in await conn.execute(
            select(s).where(s.c.n != 0))}) for s in SUMMARIES}

    def scope(p: Any) -> tuple[Any, ...]:
        return (p.department_id, p.owner_id, p.shared_with_department)

    def live(p: Any) -> bool:
        return p.archived_at is None and p.merged_into is None
    expected: dict[str, Counter[Any]] = {s.name: Counter() for s in SUMMARIES}
    for p in people.values():
        if live(p):
            expected["customer_summary"][(*scope(p), p.tier, p.stage, p.integrity_score)] += 1
        if p.merged_into is None:
            expected["customer_new_days"][(*scope(p), p.created_at.astimezone(UTC).date())] += 1
    for customer_id, score, below in health:
        p = people.get(customer_id)
        if p is not None and live(p):
            expected["customer_health_summary"][(*scope(p), score, below)] += 1
    for customer_id, occurred_at, data in events:
        p = people.get(customer_id)
        if p is not None and data.get("to") == "churned":
            expected["customer_churn_days"][
                (*scope(p), occurred_at.astimezone(UTC).date(), data.get("churn_reason") or "")
            ] += 1
    return {name: (expected[name], held[name]) for name in expected}


async def assert_summaries_exact(engine: AsyncEngine, step: str = "") -> dict[str, Counter[Any]]:
    """Every summary holds what it should; what they should hold."""
    found = await expected_and_held(engine)
    for name, (expected, held) in found.items():
        assert held == expected, f"{name} after {step}"
    return {name: expected for name, (expected, _) in found.items()}
