"""The customer summaries the customer and account-manager reports sum
(``tables_customer_summary``) hold what Python computes from every row of ``customers``,
``customer_health`` and ``customer_timeline`` after any sequence of writes: the triggers
of migration 0021_customer_summary count every insert, update and delete, row by row or
set-based (create, stage and tier changes, integrity, owner and department transfer,
sharing, archive and restore, merge with its history moved, erasure, health computed,
recomputed and removed, churn events recorded, moved and removed), and the
recount (``SqlCustomerSummary.refresh``) repairs a summary a load went around. On
PostgreSQL, a customer moved while another transaction recomputes its health is counted
once, in its final place."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.repositories.customer_summary import SqlCustomerSummary
from app.repositories.database import Engines, create_engines
from app.repositories.tables import departments, users
from app.repositories.tables_customer_summary import customer_health_summary
from app.repositories.tables_customers import customer_timeline, customers
from app.repositories.tables_feedback import customer_health
from tests.conftest import Database
from tests.customer_summary_support import (
    SUMMARIES,
    assert_summaries_exact,
    expected_and_held,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
TIERS, STAGES = "ABCD", ("prospect", "onboarding", "active", "at_risk", "churned")
C, H, T = customers.c, customer_health.c, customer_timeline.c
REASONS = ("price", "competitor", "service_quality", None)


@pytest_asyncio.fixture(loop_scope="session")
async def engines(database: Database) -> AsyncIterator[Engines]:
    made = create_engines(database.url)
    yield made
    await made.dispose()


async def _people(engines: Engines, departments_n: int = 2,
                  per_department: int = 2) -> list[tuple[UUID, UUID]]:
    """(owner, department) pairs: account managers of new departments."""
    pairs = []
    async with engines.write.begin() as conn:
        for _ in range(departments_n):
            dept = uuid4()
            await conn.execute(insert(departments).values(
                id=dept, name=f"汇总-{dept.hex[:8]}", description="", active=True, version=1,
                created_at=NOW, updated_at=NOW))
            for _ in range(per_department):
                user = uuid4()
                await conn.execute(insert(users).values(
                    id=user, username=f"u{user.hex[:12]}", display_name="客户经理",
                    email=f"{user.hex[:12]}@example.com", department_id=dept, active=True,
                    password_hash="x", version=1, created_at=NOW, updated_at=NOW))
                pairs.append((user, dept))
    return pairs


def _customer(rng: random.Random, owner: tuple[UUID, UUID]) -> dict[str, Any]:
    cid = uuid4()
    return {"id": cid, "name": f"客户{cid.hex[:6]}", "kind": "company", "industry": "制造业",
            "region": "华东", "address": "", "owner_id": owner[0], "department_id": owner[1],
            "shared_with_department": rng.random() < 0.3, "tags": [], "needs": [],
            "preferred_time": "", "custom_attributes": {}, "external_refs": {},
            "currency": "CNY", "value_score": 50, "tier_computed": "B",
            "tier": rng.choice(TIERS), "stage": rng.choice(STAGES),
            "integrity_score": rng.randrange(0, 101), "search_text": cid.hex, "version": 1,
            "created_at": NOW - timedelta(hours=rng.randrange(0, 24 * 40)), "updated_at": NOW}


def _event(rng: random.Random, customer_id: UUID) -> dict[str, Any]:
    """A stage change on the timeline: mostly to churned (with or without a reason)."""
    to = rng.choice(("churned", "churned", "at_risk"))
    data: dict[str, Any] = {"from": "active", "to": to, "action": "stage"}
    reason = rng.choice(REASONS)
    if to == "churned" and reason is not None:
        data["churn_reason"] = reason
    return {"customer_id": customer_id, "type": "customer.stage_changed",
            "entity_type": "customer", "entity_id": str(customer_id), "data": data,
            "occurred_at": NOW - timedelta(hours=rng.randrange(0, 24 * 40))}


def _health(rng: random.Random, customer_id: UUID) -> dict[str, Any]:
    score = rng.choice((0, 599, 600, 1000, rng.randrange(0, 1001)))
    return {"customer_id": customer_id, "score": score, "below_threshold": score < 600,
            "computed_at": NOW}


async def _assert_summary_exact(engines: Engines, step: str = "") -> None:
    await assert_summaries_exact(engines.read, step)


async def _step(conn: AsyncConnection, rng: random.Random, people: list[tuple[UUID, UUID]],
                ids: list[UUID], healthy: set[UUID]) -> str:
    """One randomly chosen write, as the app's paths make them; its name."""
    kind = rng.choice(("create", "create_many", "stage", "tier", "integrity", "transfer",
                       "transfer_book", "share", "archive", "restore", "merge", "erase",
                       "health", "health_many", "health_remove", "rename", "churn",
                       "churn_many", "history_moved", "history_removed"))
    if kind in ("create", "create_many") or len(ids) < 4:
        made = [_customer(rng, rng.choice(people))
                for _ in range(1 if kind == "create" else rng.randrange(2, 6))]
        await conn.execute(insert(customers).values(made))  # one multi-row statement
        ids.extend(m["id"] for m in made)
        return kind if kind.startswith("create") else "create"
    one = rng.choice(ids)
    if kind in ("stage", "tier", "integrity", "share", "rename"):
        value = {"stage": rng.choice(STAGES), "tier": rng.choice(TIERS),
                 "integrity_score": rng.randrange(0, 101),
                 "shared_with_department": rng.random() < 0.5,
                 "name": f"改名{rng.random()}"}
        column = {"integrity": "integrity_score", "share": "shared_with_department",
                  "rename": "name"}.get(kind, kind)
        await conn.execute(update(customers).where(C.id == one).values({column: value[column]}))
    elif kind == "transfer":
        owner, dept = rng.choice(people)
        await conn.execute(update(customers).where(C.id == one).values(
            owner_id=owner, department_id=dept))
    elif kind == "transfer_book":  # every customer of one manager to another, one statement
        (old, _), (owner, dept) = rng.sample(people, 2)
        await conn.execute(update(customers).where(C.owner_id == old).values(
            owner_id=owner, department_id=dept))
    elif kind == "archive":
        await conn.execute(update(customers).where(C.id == one).values(archived_at=NOW))
    elif kind == "restore":
        await conn.execute(update(customers).where(C.id == one).values(archived_at=None))
    elif kind == "merge":  # the source archived pointing at the target, its history moved
        into = rng.choice([i for i in ids if i != one])
        await conn.execute(update(customers).where(C.id == one).values(merged_into=into,
                                                                       archived_at=NOW))
        await conn.execute(update(customer_timeline).where(T.customer_id == one).values(
            customer_id=into))
    elif kind in ("churn", "churn_many"):
        chosen = [one] if kind == "churn" else rng.sample(ids, min(len(ids), 4))
        await conn.execute(insert(customer_timeline).values([_event(rng, i) for i in chosen]))
    elif kind == "history_moved":
        into = rng.choice([i for i in ids if i != one])
        await conn.execute(update(customer_timeline).where(T.customer_id == one).values(
            customer_id=into))
    elif kind == "history_removed":
        await conn.execute(delete(customer_timeline).where(T.customer_id == one))
    elif kind == "erase":
        await conn.execute(update(customers).where(C.merged_into == one).values(
            merged_into=None))
        await conn.execute(delete(customer_health).where(H.customer_id == one))
        await conn.execute(delete(customers).where(C.id == one))  # its history stays
        ids.remove(one)
        healthy.discard(one)
    elif kind == "health":
        row = _health(rng, one)
        if one in healthy:
            await conn.execute(update(customer_health).where(H.customer_id == one).values(
                score=row["score"], below_threshold=row["below_threshold"]))
        else:
            await conn.execute(insert(customer_health).values(row))
            healthy.add(one)
    elif kind == "health_many" and healthy:  # a recomputation over many, set-based
        chosen = rng.sample(sorted(healthy), min(len(healthy), 5))
        await conn.execute(update(customer_health).where(H.customer_id.in_(chosen)).values(
            score=(H.score + 377) % 1001, below_threshold=(H.score + 377) % 1001 < 600))
    elif kind == "health_remove" and healthy:
        gone = rng.choice(sorted(healthy))
        await conn.execute(delete(customer_health).where(H.customer_id == gone))
        healthy.discard(gone)
    return kind


async def test_the_summary_equals_the_exact_aggregate_after_every_kind_of_write(
        engines: Engines) -> None:
    rng = random.Random(18)
    people = await _people(engines)
    ids: list[UUID] = []
    healthy: set[UUID] = set()
    seen = set()
    await _assert_summary_exact(engines, "before")
    for i in range(200):
        async with engines.write.begin() as conn:
            kinds = [await _step(conn, rng, people, ids, healthy)
                     for _ in range(rng.choice((1, 1, 3)))]  # several writes in one transaction
        seen.update(kinds)
        await _assert_summary_exact(engines, f"step {i}: {kinds}")
    assert len(seen) == 20  # every kind of write was exercised


async def test_a_rolled_back_write_leaves_the_summary_as_it_was(engines: Engines) -> None:
    rng = random.Random(7)
    people = await _people(engines, 1, 1)
    async with engines.write.connect() as conn, conn.begin() as tx:
        await conn.execute(insert(customers).values(_customer(rng, people[0])))
        await tx.rollback()
    await _assert_summary_exact(engines)


async def test_the_recount_repairs_one_department_or_all(engines: Engines) -> None:
    rng = random.Random(21)
    people = await _people(engines)
    made = [_customer(rng, rng.choice(people)) for _ in range(30)]
    async with engines.write.begin() as conn:
        await conn.execute(insert(customers).values(made))
        await conn.execute(insert(customer_health).values([_health(rng, m["id"])
                                                            for m in made[::2]]))
    async with engines.write.begin() as conn:
        await conn.execute(insert(customer_timeline).values([_event(rng, m["id"])
                                                              for m in made[1::3]]))
    first, second = people[0][1], people[-1][1]
    async with engines.write.begin() as conn:  # a load that went around the triggers
        for summary in SUMMARIES:
            await conn.execute(update(summary).where(summary.c.department_id == first)
                               .values(n=summary.c.n + 5))
            await conn.execute(delete(summary).where(summary.c.department_id == second))
    async with engines.write.begin() as conn:
        await SqlCustomerSummary(conn).refresh([first])
    for name, (expected, held) in (await expected_and_held(engines.read)).items():
        assert {k: v for k, v in held.items() if k[0] == first} == \
            {k: v for k, v in expected.items() if k[0] == first}, name
        assert not any(k[0] == second for k in held), name  # only the department asked for
    async with engines.write.begin() as conn:
        await SqlCustomerSummary(conn).refresh()
    await _assert_summary_exact(engines, "after the full recount")


async def test_a_customer_moved_while_its_health_is_recomputed_is_counted_once(
        engines: Engines, db_engine: str) -> None:
    if db_engine != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    rng = random.Random(3)
    people = await _people(engines, 2, 1)
    row = _customer(rng, people[0])
    async with engines.write.begin() as conn:
        await conn.execute(insert(customers).values(row))
        await conn.execute(insert(customer_health).values(
            customer_id=row["id"], score=500, below_threshold=True, computed_at=NOW))
    async with engines.write.connect() as mover, engines.write.connect() as scorer:
        moving = await mover.begin()
        await mover.execute(update(customers).where(C.id == row["id"]).values(
            owner_id=people[1][0], department_id=people[1][1]))

        async def recompute() -> None:
            async with scorer.begin():
                await scorer.execute(update(customer_health).where(
                    H.customer_id == row["id"]).values(score=700, below_threshold=False))
        scoring = asyncio.create_task(recompute())
        await asyncio.sleep(0.3)  # the recomputation waits for the move's lock
        assert not scoring.done()
        await moving.commit()
        await scoring
    await _assert_summary_exact(engines)
    async with engines.read.connect() as conn:
        hs = customer_health_summary.c
        placed = (await conn.execute(select(hs.owner_id, hs.score, hs.n).where(
            hs.department_id.in_([people[0][1], people[1][1]]), hs.n != 0))).all()
    assert placed == [(people[1][0], 700, 1)]
