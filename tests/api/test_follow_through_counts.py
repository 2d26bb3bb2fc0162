"""The counts the account-manager report's follow-through figures read instead of the
customers (migration 0022_report_plans): next contacts due per (owner, department, due
date) of live customers, and each plan's copy of its customer's department. Triggers keep
both, so whatever writes the tables keeps them: customers made and contacts logged through
the API, then a seeded random sequence of the writes the other paths make (handover and
import move owners and departments, archive and erasure, merge, the contact schedule
moving or going, a plan moving to the surviving customer, bulk statements of many rows).
After every write both equal the exact aggregate over the tables, on both engines."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from sqlalchemy import and_, delete, func, insert, select, update

from app.repositories.tables_customers import customers
from app.repositories.tables_interactions import contact_due_counts, contact_schedules
from app.repositories.tables_plans import plans
from tests.conftest import client_for
from tests.customer_support import make_customer
from tests.plan_support import draft_plan
from tests.report_support import team
from tests.support import Actors

pytestmark = pytest.mark.asyncio(loop_scope="session")

STEPS = 60


async def _exact(conn: Any) -> dict[tuple[Any, Any, Any], int]:
    c, s = customers, contact_schedules
    rows = await conn.execute(
        select(c.c.owner_id, c.c.department_id, s.c.due_on, func.count())
        .select_from(s.join(c, c.c.id == s.c.customer_id))
        .where(c.c.archived_at.is_(None), c.c.merged_into.is_(None))
        .group_by(c.c.owner_id, c.c.department_id, s.c.due_on))
    return {(o, d, day): int(n) for o, d, day, n in rows}


async def _kept(conn: Any) -> dict[tuple[Any, Any, Any], int]:
    k = contact_due_counts
    rows = await conn.execute(select(k.c.owner_id, k.c.department_id, k.c.due_on, k.c.n)
                              .where(k.c.n != 0))
    return {(o, d, day): int(n) for o, d, day, n in rows}


async def _stale_plans(conn: Any) -> list[Any]:
    """Plans whose copy of the customer's department is not the customer's department."""
    return list((await conn.execute(
        select(plans.c.id).select_from(plans.join(customers,
                                                  customers.c.id == plans.c.customer_id))
        .where(plans.c.scope_department_id.is_distinct_from(customers.c.department_id))
    )).scalars())


async def _write(conn: Any, rng: random.Random, ids: list[UUID],
                 keys: list[tuple[UUID, UUID]], plan_ids: list[UUID]) -> str:
    """One random write, as one statement; returns what it did (for the failure message)."""
    now = datetime(2026, 10, 1, tzinfo=UTC)
    customer = rng.choice(ids)
    step = rng.randrange(9)
    if step == 0:  # a handover or an import moves the customer to another manager
        owner, department = rng.choice(keys)
        await conn.execute(update(customers).where(customers.c.id == customer)
                           .values(owner_id=owner, department_id=department))
    elif step == 1:  # archive, or restore
        archived = (await conn.execute(select(customers.c.archived_at).where(
            customers.c.id == customer))).scalar_one()
        await conn.execute(update(customers).where(customers.c.id == customer)
                           .values(archived_at=None if archived else now))
    elif step == 2:  # merged into another customer (and, rarely, the marker taken back)
        into = None if rng.random() < 0.3 else rng.choice(ids)
        await conn.execute(update(customers).where(customers.c.id == customer)
                           .values(merged_into=into))
    elif step == 3:  # a contact logged: the schedule's due date moves (or starts)
        due = date(2026, 10, 1) + timedelta(days=rng.randrange(-5, 6))
        moved = await conn.execute(update(contact_schedules).where(
            contact_schedules.c.customer_id == customer).values(due_on=due))
        if moved.rowcount == 0:
            await conn.execute(insert(contact_schedules).values(
                customer_id=customer, last_contact_at=now, due_on=due))
    elif step == 4:  # erasure takes the schedule away
        await conn.execute(delete(contact_schedules).where(
            contact_schedules.c.customer_id == customer))
    elif step == 5:  # a bulk transfer: every customer of one manager to another, at once
        (old, _), (owner, department) = rng.choice(keys), rng.choice(keys)
        await conn.execute(update(customers).where(customers.c.id.in_(ids),
                                                   customers.c.owner_id == old)
                           .values(owner_id=owner, department_id=department))
    elif step == 6:  # a bulk move of every schedule by a day
        later = (contact_schedules.c.due_on + timedelta(days=1)
                 if conn.dialect.name == "postgresql"
                 else func.date(contact_schedules.c.due_on, "+1 day"))
        await conn.execute(update(contact_schedules).where(
            contact_schedules.c.customer_id.in_(ids)).values(due_on=later))
    elif step == 7:  # a merge moves a plan to the surviving customer
        await conn.execute(update(plans).where(plans.c.id == rng.choice(plan_ids))
                           .values(customer_id=customer))
    else:  # a bulk archive of one manager's customers, and the schedules of some go
        owner, _ = rng.choice(keys)
        await conn.execute(update(customers).where(and_(
            customers.c.id.in_(ids), customers.c.owner_id == owner,
            customers.c.archived_at.is_(None)))
            .values(archived_at=now))
        await conn.execute(delete(contact_schedules).where(
            contact_schedules.c.customer_id.in_(rng.sample(ids, 2))))
    return f"step {step} on {customer}"


async def test_kept_counts_equal_the_exact_aggregate_after_random_writes(
        app: FastAPI, actors: Actors) -> None:
    async with client_for(app) as client:
        people = await team(client, actors.admin)
        managers = [people.am1, people.am2, actors.am_east]
        made = []
        for i in range(9):
            am = managers[i % 3]
            customer = await make_customer(client, am)
            made.append(customer)
            if i % 4 != 3:  # a contact logged through the API starts the schedule
                response = await client.post(
                    f"/api/v1/customers/{customer['id']}/interactions", headers=am.headers,
                    json={"kind": "call", "occurred_at": "2026-09-21T10:00:00+08:00",
                          "summary": "回访"})
                assert response.status_code == 201, response.text
        drafted = [await draft_plan(client, managers[i % 3], made[i]) for i in range(0, 9, 2)]

    ids = [UUID(c["id"]) for c in made]
    keys = [(UUID(m.id), UUID(m.department_id)) for m in managers]
    plan_ids = [UUID(p["id"]) for p in drafted]
    async with app.state.engines.write.begin() as conn:
        assert await _stale_plans(conn) == []
        assert await conn.scalar(select(func.count()).select_from(contact_schedules).where(
            contact_schedules.c.customer_id.in_(ids))) == 7  # the contacts logged above
        assert await _kept(conn) == await _exact(conn)
    rng = random.Random(18)  # a reproducible sequence
    for _ in range(STEPS):
        async with app.state.engines.write.begin() as conn:
            # only this test's customers move: other tests' rows share the database
            did = await _write(conn, rng, ids, keys, plan_ids)
        async with app.state.engines.write.connect() as conn:
            assert await _kept(conn) == await _exact(conn), did
            assert await _stale_plans(conn) == [], did
