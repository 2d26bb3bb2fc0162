"""The transfer is all or nothing (domain §4): a real database trigger, installed in this
test's own database, makes one statement of the transfer fail (moving the risk's owner).
The last signature is then refused with problem+json that says nothing about SQL, and
NOTHING moved: the customer, its change request, task and risk keep their people, the
handover keeps its state and version, the signature is not stored and no audit entry,
outbox event or timeline row is left behind. Once the trigger is dropped the very same
signature succeeds and everything moves together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import Table, select, text

from app.repositories.tables import audit_head, audit_log, outbox
from app.repositories.tables_change_requests import change_requests, cr_tasks
from app.repositories.tables_customers import customer_history, customer_timeline, customers
from app.repositories.tables_handovers import handover_signatures, handovers
from app.repositories.tables_risks import risks
from tests.change_request_support import draft, moved
from tests.db import rows
from tests.handover_support import customer_of_tier, ok, post, prepare, read, start
from tests.risk_support import make_risk
from tests.support import Actor, Actors, actor, assert_problem, build_actors, verify_chain

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Every table the last signature writes to (directly or through the unit of work).
TOUCHED = (customers, customer_history, customer_timeline, change_requests, cr_tasks, risks,
           handovers, handover_signatures, outbox, audit_log, audit_head)
TRIGGER = {
    "sqlite": ["CREATE TRIGGER forced_failure BEFORE UPDATE OF owner_id ON risks "
               "BEGIN SELECT RAISE(ABORT, 'forced failure in risks'); END"],
    "postgresql": [
        "CREATE FUNCTION forced_failure() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'forced failure in risks'; END $$",
        "CREATE TRIGGER forced_failure BEFORE UPDATE OF owner_id ON risks "
        "FOR EACH ROW EXECUTE FUNCTION forced_failure()"],
}
DROP = {"sqlite": ["DROP TRIGGER forced_failure"],
        "postgresql": ["DROP TRIGGER forced_failure ON risks", "DROP FUNCTION forced_failure()"]}
# What the refused signature answers: SQLite reports the trigger's ABORT as a constraint
# failure (a conflict), PostgreSQL's RAISE EXCEPTION is an unexpected error.
REFUSAL = {"sqlite": (409, "write_conflict"), "postgresql": (500, "internal_error")}


async def database_state(app: FastAPI, tables: tuple[Table, ...] = TOUCHED
                         ) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``tables`` (sorted), read with the app's engine: equal snapshots mean
    the database did not change."""
    async with app.state.engines.read.connect() as conn:
        return {t.name: sorted((tuple(r) for r in (await conn.execute(select(t))).all()),
                               key=repr) for t in tables}


async def run_sql(app: FastAPI, statements: list[str]) -> None:
    async with app.state.engines.write.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def open_work(client: httpx.AsyncClient, owner: Actor,
                    customer: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any],
                                                       dict[str, Any]]:
    """A change being implemented that ``owner`` requested, a task of it assigned to
    them, and an open risk of the customer they own."""
    cr = await draft(client, owner, customer, type="standard")
    cr = await moved(client, owner, cr, "submit")  # standard: approved at once
    cr = await moved(client, owner, cr, "start_implementation")
    task = await client.post(f"/api/v1/change-requests/{cr['id']}/tasks", headers=owner.headers,
                             json={"title": "整理接口文档", "assignee_id": owner.id})
    assert task.status_code == 201, task.text
    [new_task] = task.json()["tasks"]  # the answer is the change with its tasks
    risk = await make_risk(client, owner, customer_id=customer["id"])
    assert risk["owner_id"] == owner.id
    return cr, new_task, risk


@pytest_asyncio.fixture(loop_scope="session")
async def team(fresh_app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, Actors]]:
    # PostgreSQL's failure is an unexpected error: let the app answer it instead of
    # re-raising it into the test.
    transport = httpx.ASGITransport(app=fresh_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as client:
        yield client, await build_actors(client, fresh_app)


async def test_a_failure_mid_transfer_moves_nothing_and_the_retry_moves_everything(
        fresh_app: FastAPI, db_engine: str, team: tuple[httpx.AsyncClient, Actors]) -> None:
    client, actors = team
    giver = await actor(client, actors.admin, actors.east, ["account_manager"])
    taker = actors.am_east2
    customer = await customer_of_tier(client, giver, "B")
    cr, task, risk = await open_work(client, giver, customer)
    h = await start(client, giver, customer, taker)
    assert h["level"] == "standard"
    h = await prepare(client, actors, h, customer, giver, taker)
    h = await ok(client, giver, h, "/sign")
    assert h["missing_signatures"] == ["receiving"]
    await run_sql(fresh_app, TRIGGER[db_engine])
    before = await database_state(fresh_app)

    refused = await post(client, taker, h, "/sign")

    status, code = REFUSAL[db_engine]
    problem = assert_problem(refused, status, code)
    leaked = refused.text.lower()
    for sql in ("forced failure", "risks", "update", "trigger", "owner_id", "sqlite",
                "asyncpg", "traceback"):
        assert sql not in leaked, refused.text
    assert set(problem) <= {"type", "title", "status", "detail", "code", "request_id",
                            "instance", "errors"}
    assert await database_state(fresh_app) == before
    now = await read(client, taker, h)
    assert (now["state"], now["version"]) == ("preparing", h["version"])
    assert [s["role"] for s in now["signatures"]] == ["handing_over"]
    assert now["transfer"] is None and now["transferred_at"] is None
    assert "sign" in now["allowed_actions"]

    await run_sql(fresh_app, DROP[db_engine])
    signed = await post(client, taker, h, "/sign")

    assert signed.status_code == 200, signed.text
    done = signed.json()
    assert (done["state"], done["version"]) == ("transferred", h["version"] + 1)
    # (later features may add steps of their own; here nothing else is open)
    assert {k: [i["id"] for i in v] for k, v in done["transfer"].items() if v} == {
        "change_requests": [cr["id"]], "tasks": [task["id"]], "risks": [risk["id"]]}
    [moved_customer] = await rows(fresh_app, customers, id=UUID(customer["id"]))
    [moved_cr] = await rows(fresh_app, change_requests, id=UUID(cr["id"]))
    [moved_task] = await rows(fresh_app, cr_tasks, id=UUID(task["id"]))
    [moved_risk] = await rows(fresh_app, risks, id=UUID(risk["id"]))
    assert {str(moved_customer.owner_id), str(moved_cr.owner_id), str(moved_cr.requester_id),
            str(moved_task.assignee_id), str(moved_risk.owner_id)} == {taker.id}
    signatures = await rows(fresh_app, handover_signatures, handover_id=UUID(h["id"]))
    assert sorted(s.role for s in signatures) == ["handing_over", "receiving"]
    events = [r.type for r in await rows(fresh_app, outbox,
                                         request_id=signed.headers["x-request-id"])]
    timeline = [r.type for r in await rows(fresh_app, customer_timeline,
                                           customer_id=UUID(customer["id"]))]
    assert sorted(events) == sorted([
        "handover.signature_given", "handover.signed", "customer.handed_over",
        "change_request.reassigned", "task.reassigned", "risk.reassigned",
        "handover.transferred"]), events
    for event in ("customer.handed_over", "change_request.reassigned", "task.reassigned",
                  "risk.reassigned", "handover.transferred"):
        assert timeline.count(event) == 1, (event, timeline)
    assert (await verify_chain(client, actors.auditor))["intact"] is True
