"""What the change-request report reads of approvals (``cr_approval_times``, kept by
triggers on the steps and the changes) follows every action that changes it — approve,
reject, return, resubmit, cancel, a deputy's decision on behalf, the change moving to
another owner and department — on both engines: after each one the stored rows say what
the change and its steps say (each step's start, decision and status; each round's first
start, last decision and outcome), and the outcome is the one the action implies. The
migration fills the rows of steps written before it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import update

from app.repositories.schema import alembic_config
from app.repositories.tables_change_requests import (
    change_requests,
    cr_approval_steps,
    cr_approval_times,
)
from tests import conftest
from tests.change_request_support import (
    SMALL,
    approve_all,
    conclude,
    customer_of,
    decide,
    draft,
    drive,
    moved,
    panel,
)
from tests.db import rows
from tests.support import Actors, TestClock, actor, unique
from tests.survey_support import own_team

pytestmark = pytest.mark.asyncio(loop_scope="session")

BIG = {"cost": "80000.00", "likelihood": 4, "impact": 4}  # head, finance, executive

Round = tuple[datetime | None, datetime | None, str]


def from_steps(change: Any, steps: list[Any]) -> dict[tuple[int, int], tuple[Any, ...]]:
    """What the report should read of ``change`` and its steps, computed here: per step
    (round, position) its role, start, decision and status; per round (position 0) its
    first step's start, its last decision and its outcome; each with the change's
    department, owner and creation."""
    of_change = (change.department_id, change.owner_id, change.created_at)
    found = {(s.round, s.position): (s.role, *of_change, s.started_at, s.decided_at, s.status)
             for s in steps}
    for r in sorted({s.round for s in steps}):
        mine = [s for s in steps if s.round == r]
        began = next((s.started_at for s in mine if s.position == 1), None)
        decided = [s.decided_at for s in mine if s.decided_at is not None]
        statuses = {s.status for s in mine}
        outcome = next((o for o in ("rejected", "returned", "pending") if o in statuses),
                       "approved")
        found[r, 0] = ("end_to_end", *of_change, began, max(decided) if decided else None,
                       outcome)
    return found


async def rounds(app: FastAPI, cr: dict[str, Any]) -> dict[int, Round]:
    """The stored rounds of ``cr`` (start, end, outcome), every stored row checked against
    the change and its steps."""
    of_cr = UUID(cr["id"])
    stored = {(r.round, r.position): (r.role, r.department_id, r.owner_id, r.created_at,
                                      r.started_at, r.ended_at, r.outcome)
              for r in await rows(app, cr_approval_times, change_request_id=of_cr)}
    [change] = await rows(app, change_requests, id=of_cr)
    assert stored == from_steps(
        change, await rows(app, cr_approval_steps, change_request_id=of_cr))
    return {r: (began, ended, outcome)
            for (r, position), (*_, began, ended, outcome) in stored.items() if position == 0}


async def test_approve_return_and_resubmit_keep_each_round(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    cr = await drive(client, actors, "awaiting_approval", **BIG)
    head, finance, _ = cr["approval_steps"]
    [(began, ended, outcome)] = (await rounds(app, cr)).values()
    assert (began is not None, ended, outcome) == (True, None, "pending")

    cr = (await decide(client, actors.head_east, cr, head)).json()
    first = (await rounds(app, cr))[1]
    assert first[1] is not None and first[2] == "pending"  # decided, but the round goes on

    returned = await decide(client, actors.finance, cr, finance, "return", "请补充成本明细")
    assert returned.status_code == 200, returned.text
    cr = returned.json()
    first = (await rounds(app, cr))[1]
    assert first[2] == "returned" and first[1] >= first[0]

    cr = await moved(client, actors.am_east, cr, "submit", "已补充")
    assert await rounds(app, cr) == {1: first}  # no chain yet for round 2
    cr = await moved(client, actors.pm, cr, "start_assessment")
    cr = (await conclude(client, actors.pm, await panel(client, actors, cr), **SMALL)).json()
    stored = await rounds(app, cr)
    assert stored[1] == first and stored[2][1:] == (None, "pending")
    cr = await approve_all(client, actors, cr)
    stored = await rounds(app, cr)
    assert stored[1] == first and stored[2][2] == "approved" and stored[2][1] is not None


async def test_a_rejection_ends_the_round_and_a_cancellation_leaves_it_undecided(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    rejected = await drive(client, actors, "rejected", **BIG)
    assert [o for *_, o in (await rounds(app, rejected)).values()] == ["rejected"]
    # the change's rows follow its owner and department, whoever moves them (a handover)
    other = await actor(client, actors.admin, actors.west, ["account_manager"])
    async with app.state.engines.write.begin() as conn:
        await conn.execute(update(change_requests)
                           .where(change_requests.c.id == UUID(rejected["id"]))
                           .values(owner_id=UUID(other.id), department_id=UUID(actors.west)))
    assert [o for *_, o in (await rounds(app, rejected)).values()] == ["rejected"]

    cr = await drive(client, actors, "awaiting_approval", **BIG)
    cr = (await decide(client, actors.head_east, cr, cr["approval_steps"][0])).json()
    before = await rounds(app, cr)
    cr = await moved(client, actors.am_east, cr, "cancel", "不再需要")
    assert cr["state"] == "cancelled"
    # the steps stay as they were: the round was never decided, and the report leaves it out
    assert await rounds(app, cr) == before and before[1][2] == "pending"


async def test_a_deputys_decision_on_behalf_closes_the_round(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    north = (await client.post("/api/v1/departments", headers=actors.admin.headers,
                               json={"name": unique("华北事业部")})).json()["id"]
    head = await actor(client, actors.admin, north, ["department_head"])
    am = await actor(client, actors.admin, north, ["account_manager"])
    deputy = await actor(client, actors.admin, actors.west, ["department_head"])
    cr = await moved(client, am, await draft(client, am, await customer_of(client, am)),
                     "submit")
    cr = await moved(client, actors.pm, cr, "start_assessment")
    cr = (await conclude(client, actors.pm, await panel(client, actors, cr), **SMALL)).json()
    now = clock.now()
    created = await client.post("/api/v1/delegations", headers=head.headers, json={
        "delegator_id": head.id, "deputy_id": deputy.id, "role": "department_head",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat()})
    assert created.status_code == 201, created.text

    approved = await decide(client, deputy, cr, cr["approval_steps"][0], comment="代审批")
    assert approved.status_code == 200, approved.text
    [step] = approved.json()["approval_steps"]
    assert step["on_behalf_of"] == head.id
    [(began, ended, outcome)] = (await rounds(app, cr)).values()
    assert outcome == "approved" and ended is not None and ended >= began


@pytest.fixture
def own_database(db_engine: str, tmp_path: Path) -> Iterator[conftest.Database]:
    yield from conftest.make_database(db_engine, tmp_path)


async def test_the_migration_fills_the_rounds_of_steps_written_before_it(
        own_database: conftest.Database, clock: TestClock) -> None:
    app = conftest.test_app(conftest.test_settings(own_database.url), clock=clock)
    client, actors = await own_team(app)
    try:
        changes = [await drive(client, actors, "awaiting_approval", **BIG),
                   await drive(client, actors, "rejected", **BIG),
                   await drive(client, actors, "approved")]
        before = [await rounds(app, cr) for cr in changes]
        assert [[o for *_, o in r.values()] for r in before] == [
            ["pending"], ["rejected"], ["approved"]]
    finally:
        await client.aclose()
        await app.state.engines.dispose()
    config = alembic_config(own_database.url)
    await asyncio.to_thread(command.downgrade, config, "0019")  # the table goes
    await asyncio.to_thread(command.upgrade, config, "head")  # and is filled again
    try:
        assert [await rounds(app, cr) for cr in changes] == before
    finally:
        await app.state.engines.dispose()
