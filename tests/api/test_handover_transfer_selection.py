"""What a transfer takes along (domain §4), at the boundary of each selection: every change
request still open moves to the receiving manager and none that is closed, rejected or
cancelled does; every task of the leaver still open or in progress moves, and none that is
done or waived, nor anyone else's. One change request per state and one task per status
are planted behind the API (driving each through its workflow would take minutes), then
the last signature transfers the customer through the API."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select

from app.domain.change_requests.model import CRState, TaskStatus
from app.repositories.tables_change_requests import change_requests, cr_tasks
from tests.change_request_support import draft, moved
from tests.db import rows
from tests.handover_support import customer_of_tier, ok, start
from tests.support import Actors, actor

# Stated here, not read from the code: a new state must be placed on one side on purpose.
MOVED_STATES = {"draft", "submitted", "assessing", "awaiting_approval", "approved",
                "implementing", "implemented", "returned"}
KEPT_STATES = {"closed", "rejected", "cancelled"}
MOVED_TASKS = {"open", "in_progress"}
KEPT_TASKS = {"done", "waived"}


def test_every_state_and_status_is_on_one_side() -> None:
    assert set(CRState) == MOVED_STATES | KEPT_STATES and not MOVED_STATES & KEPT_STATES
    assert set(TaskStatus) == MOVED_TASKS | KEPT_TASKS and not MOVED_TASKS & KEPT_TASKS


async def plant(app: FastAPI, cr: dict[str, Any], leaver: str, other: str
                ) -> tuple[dict[str, UUID], dict[tuple[str, str], UUID]]:
    """A copy of ``cr`` in every state, and on ``cr`` a task in every status for the leaver
    and for someone else."""
    states = {state.value: uuid4() for state in CRState}
    tasks = {(status.value, who): uuid4() for status in TaskStatus for who in (leaver, other)}
    async with app.state.engines.write.begin() as conn:
        row = dict((await conn.execute(select(change_requests).where(
            change_requests.c.id == UUID(cr["id"])))).one()._mapping)
        await conn.execute(insert(change_requests), [
            {**row, "id": cr_id, "state": state} for state, cr_id in states.items()])
        await conn.execute(insert(cr_tasks), [
            {"id": task_id, "change_request_id": row["id"], "title": f"{status} 任务",
             "assignee_id": UUID(who), "due_date": None, "status": status,
             "waive_reason": "不需要" if status == "waived" else None, "version": 1,
             "created_at": row["created_at"], "updated_at": row["created_at"]}
            for (status, who), task_id in tasks.items()])
    return states, tasks


@pytest.mark.asyncio(loop_scope="session")
async def test_a_transfer_moves_exactly_the_open_changes_and_the_leavers_unfinished_tasks(
        client: httpx.AsyncClient, actors: Actors, app: FastAPI) -> None:
    taker, other = actors.am_east2, actors.head_east
    leaving = await actor(client, actors.admin, actors.east, ["account_manager"])
    customer = await customer_of_tier(client, leaving, "C")
    cr = await moved(client, leaving, await draft(client, leaving, customer, type="standard"),
                     "submit")
    h = await start(client, leaving, customer, taker)
    assert h["level"] == "light"
    h = await ok(client, leaving, h, "/start-preparation")
    states, tasks = await plant(app, cr, leaving.id, other.id)

    h = await ok(client, taker, h, "/sign")
    assert h["state"] == "transferred"
    moved_crs = {x["id"] for x in h["transfer"]["change_requests"]}
    assert moved_crs == {cr["id"], *(str(states[s]) for s in MOVED_STATES)}
    assert {x["id"] for x in h["transfer"]["tasks"]} == {
        str(tasks[(s, leaving.id)]) for s in MOVED_TASKS}

    owners = {str(r.id): (r.state, str(r.owner_id), str(r.requester_id))
              for r in await rows(app, change_requests, customer_id=UUID(customer["id"]))}
    for state, cr_id in states.items():
        person = taker.id if state in MOVED_STATES else leaving.id
        assert owners[str(cr_id)] == (state, person, person)
    assignees = {(r.status, str(r.id)): str(r.assignee_id)
                 for r in await rows(app, cr_tasks, change_request_id=UUID(cr["id"]))}
    for (status, who), task_id in tasks.items():
        expected = taker.id if who == leaving.id and status in MOVED_TASKS else who
        assert assignees[(status, str(task_id))] == expected, (status, who)
