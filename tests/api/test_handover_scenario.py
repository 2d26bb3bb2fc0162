"""The issue's scenario, end to end through the API: a manager resigns; a batch handover of
their three customers (tier A, B, C) yields strict / standard / light; the strict one cannot
be signed while a finding is open or without the department head; after the last signature
the customers, their open change requests and tasks belong to the receiving manager, the
old manager gets 404 on them, and the timeline shows the handover."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.change_request_support import moved, read_cr
from tests.customer_support import CUSTOMERS, read_customer
from tests.handover_support import (
    HANDOVERS,
    customer_of_tier,
    ok,
    post,
    prepare,
    read,
)
from tests.support import Actors, actor, assert_problem, build_actors, list_all

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def team(fresh_app: FastAPI) -> tuple[httpx.AsyncClient, Actors]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh_app),
                               base_url="http://accord.test")
    return client, await build_actors(client, fresh_app)


async def test_a_resigning_managers_book_moves_with_its_open_work(
        team: tuple[httpx.AsyncClient, Actors]) -> None:
    client, actors = team
    admin = actors.admin
    leaving = await actor(client, admin, actors.east, ["account_manager"])
    taker, head = actors.am_east2, actors.head_east
    a = await customer_of_tier(client, leaving, "A", name="深圳市华为技术有限公司")
    b = await customer_of_tier(client, leaving, "B")
    c = await customer_of_tier(client, leaving, "C")
    # Open work on the tier A customer: a change being implemented with a task for the
    # leaving manager; a closed change that must stay attributed to them.
    cr = await client.post("/api/v1/change-requests", headers=leaving.headers, json={
        "customer_id": a["id"], "title": "报表模块上线", "description": "新增监管报表",
        "reason": "监管要求", "expected_effect": "按期报送", "category": "scope",
        "type": "standard", "priority": "high", "requested_completion_date": "2027-03-31"})
    assert cr.status_code == 201, cr.text
    cr_body = await moved(client, leaving, cr.json(), "submit")  # standard: approved
    cr_body = await moved(client, leaving, cr_body, "start_implementation")
    task = await client.post(f"/api/v1/change-requests/{cr_body['id']}/tasks",
                             headers=leaving.headers,
                             json={"title": "导出报表模板", "assignee_id": leaving.id})
    assert task.status_code == 201, task.text

    batch = await client.post(f"{HANDOVERS}/batches", headers=head.headers, json={
        "from_manager_id": leaving.id, "to_manager_id": taker.id, "reason": "resignation",
        "planned_date": "2026-12-15"})
    assert batch.status_code == 201, batch.text
    by_customer = {h["customer_id"]: h for h in batch.json()["handovers"]}
    assert {by_customer[x["id"]]["level"] for x in (a, b, c)} == {"strict", "standard", "light"}
    assert by_customer[a["id"]]["level"] == "strict"
    assert by_customer[b["id"]]["level"] == "standard"
    assert by_customer[c["id"]]["level"] == "light"
    strict = by_customer[a["id"]]
    assert [s["status"] for s in strict["steps"] if s["name"] == "meeting"] == ["pending"]
    light = by_customer[c["id"]]
    assert [s["status"] for s in light["steps"] if s["name"] == "meeting"] == ["skipped"]
    # The checklist shows what the service knows: the open change is listed.
    items = {i["key"]: i for i in strict["checklist"]}
    assert [x["id"] for x in items["open_change_requests"]["summary"]["change_requests"]] \
        == [cr_body["id"]]

    # The receiving manager reads the customer during the handover, but may not write.
    assert (await read_customer(client, taker, a["id"]))["owner_id"] == leaving.id
    refused = await client.patch(f"{CUSTOMERS}/{a['id']}", headers={
        **taker.headers, "If-Match": f'"{a["version"]}"'}, json={"industry": "通信"})
    assert_problem(refused, 404, "not_found")

    h = await prepare(client, actors, strict, a, leaving, taker)
    finding = await ok(client, taker, h, "/findings", {
        "item": "contacts", "text": "缺少财务联系人"}, versioned=False)
    h = finding
    open_finding = next(f for f in h["findings"] if f["resolved_at"] is None)
    # Both managers sign; the head's signature is still missing, and the finding blocks.
    refused = await post(client, leaving, h, "/sign")
    problem = assert_problem(refused, 409, "precondition_unmet")
    assert "open_findings" in problem["detail"] or problem.get("reason") == "open_findings"
    h = await ok(client, leaving, h, f"/findings/{open_finding['id']}/resolve",
                 {"resolution": "已补充财务联系人"}, versioned=False)
    for who in (leaving, taker):  # the finding cleared the item's verifications
        h = await ok(client, who, h, "/checklist/contacts/verify", versioned=False)
    h = await ok(client, leaving, h, "/sign")
    h = await ok(client, taker, h, "/sign")
    assert h["state"] == "meeting_held" and h["missing_signatures"] == ["department_head"]
    assert (await read_customer(client, head, a["id"]))["owner_id"] == leaving.id
    h = await ok(client, head, h, "/sign")
    assert h["state"] == "transferred"
    assert h["follow_up_due"] is not None

    # After the transfer: the customer, its open change and task belong to the taker.
    customer = await read_customer(client, taker, a["id"])
    assert customer["owner_id"] == taker.id
    after = await read_cr(client, taker, cr_body)
    assert after["requester_id"] == taker.id
    assert [t["assignee_id"] for t in after["tasks"]] == [taker.id]
    for path in (f"{CUSTOMERS}/{a['id']}", f"/api/v1/change-requests/{cr_body['id']}"):
        gone = await client.get(path, headers=leaving.headers)
        assert_problem(gone, 404, "not_found")
    timeline = await list_all(client, f"{CUSTOMERS}/{a['id']}/timeline", taker.headers)
    types = [e["type"] for e in timeline]
    assert "handover.transferred" in types and "customer.handed_over" in types
    assert "change_request.reassigned" in types and "task.reassigned" in types
    # The standard and the light handovers complete too: the whole book has moved.
    standard = await prepare(client, actors, by_customer[b["id"]], b, leaving, taker)
    for who in (leaving, taker):
        standard = await ok(client, who, standard, "/sign")
    light = await prepare(client, actors, by_customer[c["id"]], c, leaving, taker)
    light = await ok(client, taker, light, "/sign")  # light: the receiving manager acknowledges
    assert standard["state"] == light["state"] == "transferred"
    for book in (a, b, c):
        assert (await read_customer(client, taker, book["id"]))["owner_id"] == taker.id
        assert_problem(await client.get(f"{CUSTOMERS}/{book['id']}", headers=leaving.headers),
                       404, "not_found")
        events = await list_all(client, f"{CUSTOMERS}/{book['id']}/timeline", taker.headers)
        assert "handover.transferred" in [e["type"] for e in events]
    report = await client.get(f"{HANDOVERS}/{h['id']}/report", headers=head.headers)
    assert report.status_code == 200
    assert {s["role"] for s in report.json()["handover"]["signatures"]} == {
        "handing_over", "receiving", "department_head"}
    assert (await read(client, head, h))["transfer"]["change_requests"][0]["id"] == cr_body["id"]
