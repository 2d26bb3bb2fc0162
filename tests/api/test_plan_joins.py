"""Plans join what exists (issue 16 item 11) through the API on both engines: ``plan_id``
on feedback and risks names a real plan of the same customer (422 otherwise); the plan
lists its risks; the handover checklist shows the customer's open plans; the transfer moves
the open plans the handing-over manager owned to the receiving manager in the same
transaction (owner, version, event, audit), and leaves closed plans and plans others run."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from app.repositories.tables_plans import plans as plans_table
from tests.customer_support import make_customer
from tests.db import rows
from tests.feedback_support import FEEDBACK, body, record
from tests.handover_support import customer_of_tier, prepare, sign_all, start
from tests.plan_support import active_plan, plan_act, plan_path, read_plan, ready_plan
from tests.risk_support import RISKS, make_risk
from tests.support import Actors, actor, assert_problem, audit_entries, field_errors

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_feedback_names_a_plan_of_its_customer(client: httpx.AsyncClient,
                                                     actors: Actors) -> None:
    am = actors.am_east
    plan = await ready_plan(client, am)
    customer = {"id": plan["customer_id"]}
    other = await make_customer(client, am)
    fb = await record(client, am, customer, plan_id=plan["id"])
    assert fb["plan_id"] == plan["id"]
    for wrong_customer, plan_id in ((other, plan["id"]), (customer, str(uuid.uuid4()))):
        response = await client.post(FEEDBACK, headers=am.headers,
                                     json=body(wrong_customer, plan_id=plan_id))
        assert field_errors(response) == {"/plan_id": "plan_unknown"}


async def test_risks_name_a_plan_of_their_customer_and_list_on_it(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    plan = await active_plan(client, am)
    other = await make_customer(client, am)
    risk = await make_risk(client, am, customer_id=plan["customer_id"], plan_id=plan["id"],
                           likelihood=4, impact=4)
    assert risk["plan_id"] == plan["id"]
    await make_risk(client, am, customer_id=plan["customer_id"])  # the customer's, not the plan's
    for fields in ({"customer_id": other["id"], "plan_id": plan["id"]},
                   {"plan_id": plan["id"]},
                   {"customer_id": plan["customer_id"], "plan_id": str(uuid.uuid4())}):
        response = await client.post(RISKS, headers=am.headers,
                                     json={"title": "错配", "likelihood": 1, "impact": 1,
                                           **fields})
        assert field_errors(response) == {"/plan_id": "plan_unknown"}
    listed = await client.get(plan_path(plan, "/risks"), headers=actors.head_east.headers)
    assert listed.status_code == 200, listed.text
    assert [(r["id"], r["level"]) for r in listed.json()["data"]] == [(risk["id"], "high")]
    assert_problem(await client.get(plan_path(plan, "/risks"), headers=actors.am_west.headers),
                   404, "not_found")


async def test_open_plans_are_on_the_checklist_and_move_on_transfer(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    leaving = await actor(client, actors.admin, actors.east, ["account_manager"])
    taker, head = actors.am_east2, actors.head_east
    customer = await customer_of_tier(client, leaving, "C")
    running = await active_plan(client, leaving, customer)
    line = running["budget_lines"][0]
    response = await client.patch(plan_path(running, f"/budget-lines/{line['id']}"),
                                  headers={**leaving.headers,
                                           "If-Match": f'"{running["version"]}"'},
                                  json={"actual": "360000.00"})
    running = response.json()
    drafted = await ready_plan(client, leaving, customer)
    by_pm = await ready_plan(client, leaving, customer, owner_id=actors.pm.id)
    cancelled = await ready_plan(client, leaving, customer)
    cancelled = (await plan_act(client, leaving, cancelled, "cancel", reason="不做了")).json()

    h = await start(client, head, customer, taker)
    [item] = [i for i in h["checklist"] if i["key"] == "active_plans"]
    listed = item["summary"]
    assert listed["count"] == 3
    assert {p["id"] for p in listed["plans"]} == {running["id"], drafted["id"], by_pm["id"]}
    [shown] = [p for p in listed["plans"] if p["id"] == running["id"]]
    assert [(m["title"], m["overdue"]) for m in shown["open_milestones"]] == [
        ("需求确认", False), ("系统上线", False)]
    assert shown["gaps"] == {"expectations": 0, "with_gaps": 0, "met": 0, "not_committed": 0,
                             "overdue": 0, "not_met": 0}
    # 实施人力 300000 → 360000, 软件许可 200000 → 0: in total 500000 → 360000, −28.00 %.
    assert shown["budget_variance"] == {"CNY": {
        "planned": "500000.00", "actual": "360000.00", "variance": "-140000.00",
        "variance_pct": "-28.00"}}

    h = await prepare(client, actors, h, customer, leaving, taker)
    h = await sign_all(client, h, leaving, taker, head)
    assert h["state"] == "transferred"
    assert sorted(p["id"] for p in h["transfer"]["plans"]) == sorted(
        [running["id"], drafted["id"]])
    for plan in (running, drafted):
        after = await read_plan(client, taker, plan)
        assert after["owner_id"] == taker.id and after["version"] == plan["version"] + 1
        assert after["state"] == plan["state"]
        assert_problem(await client.get(plan_path(plan), headers=leaving.headers), 404,
                       "not_found")
        [event] = [r for r in await rows(app, outbox, entity_id=plan["id"])
                   if r.type == "plan.reassigned"]
        assert event.data == {"handover_id": h["id"], "from": leaving.id, "to": taker.id}
        entries = await audit_entries(client, actors.auditor, "plan", plan["id"])
        assert entries[-1]["action"] == "plan.reassigned"
    for plan, owner in ((by_pm, actors.pm.id), (cancelled, leaving.id)):
        [stored] = await rows(app, plans_table, id=uuid.UUID(plan["id"]))
        assert stored.owner_id == uuid.UUID(owner) and stored.version == plan["version"]
