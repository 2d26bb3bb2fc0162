"""Feedback joins the customer handover (domain §4 and §6) through the API on both engines:
the open feedback is an item of the handover checklist, open complaints raise the risk
factor ``open_complaints``, and on transfer the open feedback owned by the handing-over
manager moves to the receiving manager (owner, version, ``feedback.reassigned`` event and
audit, listed in the handover's ``transfer``); closed-loop feedback stays where it was."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from app.repositories.tables_feedback import feedback_items
from tests.db import rows
from tests.feedback_support import act, at, drive, events, moved, path_of, read, record
from tests.handover_support import customer_of_tier, prepare, sign_all, start
from tests.support import Actor, Actors, actor, assert_problem, audit_entries

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _factor(handover: dict[str, Any], name: str) -> dict[str, Any]:
    [factor] = [f for f in handover["risk"]["factors"] if f["name"] == name]
    return factor


def _item(handover: dict[str, Any], key: str) -> dict[str, Any]:
    [item] = [i for i in handover["checklist"] if i["key"] == key]
    return item


async def test_open_complaints_raise_the_handover_risk(client: httpx.AsyncClient,
                                                       actors: Actors) -> None:
    """No open complaint: 0 points; one or two: 1; three or more: 2. Complaints no longer
    open, and other types, do not count."""
    for complaints, points in ((0, 0), (1, 1), (3, 2)):
        leaving = await actor(client, actors.admin, actors.east, ["account_manager"])
        customer = await customer_of_tier(client, leaving, "C")
        for _ in range(complaints):
            await record(client, leaving, customer, type="complaint")
        await drive(client, leaving, customer, "resolved", type="complaint")
        await record(client, leaving, customer, type="suggestion")
        h = await start(client, actors.head_east, customer, actors.am_east2)
        factor = _factor(h, "open_complaints")
        assert (factor["value"], factor["points"]) == (complaints, points), complaints
        baseline = sum(f["points"] for f in h["risk"]["factors"])
        assert h["risk"]["likelihood"] == min(5, 1 + baseline)


async def test_open_feedback_is_on_the_checklist_and_moves_on_transfer(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    leaving = await actor(client, actors.admin, actors.east, ["account_manager"])
    taker, head = actors.am_east2, actors.head_east
    customer = await customer_of_tier(client, leaving, "C")
    received = await record(client, leaving, customer, type="complaint", severity="high",
                            summary="发票抬头错误，客户要求重开 🧾")
    working = await drive(client, leaving, customer, "in_progress", type="question")
    closed = await drive(client, leaving, customer, "confirmed", type="complaint")
    resolved = await drive(client, leaving, customer, "resolved", type="suggestion")

    h = await start(client, head, customer, taker)
    listed = _item(h, "open_feedback")["summary"]
    assert listed["count"] == 2
    assert [f["id"] for f in listed["feedback"]] == [received["id"], working["id"]]
    first = listed["feedback"][0]
    assert (first["type"], first["severity"], first["state"], first["summary"]) == (
        "complaint", "high", "received", "发票抬头错误，客户要求重开 🧾")
    assert at(first["resolve_due_at"]) == at(received["sla"]["resolve_due_at"])

    h = await prepare(client, actors, h, customer, leaving, taker)
    h = await sign_all(client, h, leaving, taker, head)
    assert h["state"] == "transferred"
    moved_ids = sorted(f["id"] for f in h["transfer"]["feedback"])
    assert moved_ids == sorted([received["id"], working["id"]])
    assert {f["id"]: f["type"] for f in h["transfer"]["feedback"]} == {
        received["id"]: "complaint", working["id"]: "question"}

    for fb in (received, working):
        after = await read(client, taker, fb)
        assert after["owner_id"] == taker.id
        assert after["version"] == fb["version"] + 1
        assert after["state"] == fb["state"]
        assert after["allowed_actions"] == fb["allowed_actions"]
        assert_problem(await client.get(path_of(fb), headers=leaving.headers), 404,
                       "not_found")
        [event] = [r for r in await rows(app, outbox, entity_id=fb["id"])
                   if r.type == "feedback.reassigned"]
        assert event.data == {"handover_id": h["id"], "from": leaving.id, "to": taker.id}
        entries = await audit_entries(client, actors.auditor, "feedback", fb["id"])
        # the leaving manager's read after the transfer was refused, and is audited too
        assert [e["action"] for e in entries[-2:]] == ["feedback.reassigned", "access.denied"]
        assert entries[-2]["after"]["to"] == taker.id
    for fb in (closed, resolved):  # out of the open loop: stays with the old manager
        [stored] = await rows(app, feedback_items, id=uuid.UUID(fb["id"]))
        assert stored.owner_id == uuid.UUID(leaving.id)
        assert stored.version == fb["version"]
        assert "feedback.reassigned" not in await events(app, fb)

    # The receiving manager carries the loop on; the reopened one goes back to its owner.
    done = await moved(client, taker, await read(client, taker, working), "resolve")
    assert done["state"] == "resolved"
    stale = await act(client, taker, received, "acknowledge")
    assert_problem(stale, 412, "precondition_failed")
    timeline = await _timeline(client, taker, customer)
    assert timeline.count("feedback.reassigned") == 2


async def _timeline(client: httpx.AsyncClient, who: Actor,
                    customer: dict[str, Any]) -> list[str]:
    response = await client.get(f"/api/v1/customers/{customer['id']}/timeline",
                                headers=who.headers, params={"limit": 200})
    assert response.status_code == 200, response.text
    return [e["type"] for e in response.json()["data"]]


async def test_feedback_may_name_its_handover(client: httpx.AsyncClient,
                                              actors: Actors) -> None:
    """Feedback raised about a handover links to it (same customer only) and lists by it."""
    customer = await customer_of_tier(client, actors.am_east, "C")
    other = await customer_of_tier(client, actors.am_east, "C")
    h = await start(client, actors.head_east, customer, actors.am_east2)
    fb = await record(client, actors.am_east, customer, handover_id=h["id"], type="question")
    assert fb["handover_id"] == h["id"]
    listed = await client.get("/api/v1/feedback", headers=actors.head_east.headers,
                              params={"handover_id": h["id"]})
    assert [f["id"] for f in listed.json()["data"]] == [fb["id"]]
    refused = await client.post("/api/v1/feedback", headers=actors.am_east.headers, json={
        "customer_id": other["id"], "channel": "phone", "type": "question",
        "severity": "low", "summary": "交接后联系人是谁", "handover_id": h["id"]})
    body = assert_problem(refused, 422, "validation_failed")
    assert [(e["pointer"], e["reason"]) for e in body["errors"]] == [
        ("/handover_id", "handover_unknown")]
