"""Interactions and the contact cadence (沟通及时 · 回访) through the API on both engines: an
interaction is recorded for a customer in scope and shows on its timeline; the next
contact is due in working days (across the 2026 National Day holiday); overdue customers
are listed with ``contact_overdue=true`` and announced once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from tests.customer_support import contact, make_customer
from tests.db import rows
from tests.handover_support import TIER_INPUTS
from tests.support import Actors, assert_problem, field_errors, list_all

pytestmark = pytest.mark.asyncio(loop_scope="session")


def interactions(customer: dict[str, Any]) -> str:
    return f"/api/v1/customers/{customer['id']}/interactions"


async def test_a_call_before_national_day_is_due_after_it(app: FastAPI,
                                                         client: httpx.AsyncClient,
                                                         actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, contacts=[contact("王总")], **TIER_INPUTS["A"])
    response = await client.post(interactions(customer), headers=am.headers, json={
        "kind": "call", "occurred_at": "2026-09-22T10:00:00+08:00",
        "summary": "确认二期需求范围", "participants": ["李经理", "王总"],
        "contact_ids": [customer["contacts"][0]["id"]], "next_step": "国庆后上门拜访"})
    assert response.status_code == 201, response.text
    call = response.json()
    assert call["recorded_by"] == am.id and call["kind"] == "call"

    cadence = (await client.get(f"/api/v1/customers/{customer['id']}/contact-cadence",
                                headers=am.headers)).json()
    assert cadence == {"tier": "A", "working_days": 14,
                       "last_contact_at": "2026-09-22T02:00:00Z",
                       "next_contact_due": "2026-10-19", "overdue": True}
    overdue = {c["id"] for c in await list_all(client, "/api/v1/customers", am.headers,
                                               contact_overdue="true")}
    assert customer["id"] in overdue

    # The scheduler announces it once, however often it runs.
    for _ in range(2):
        response = await client.post("/api/v1/customers/contact-escalations",
                                     headers=actors.admin.headers)
        assert response.status_code == 200, response.text
    announced = [r for r in await rows(app, outbox, entity_id=customer["id"])
                 if r.type == "customer.contact_overdue"]
    assert [r.data["due_on"] for r in announced] == ["2026-10-19"]

    # Contacted today: no longer overdue, no longer listed.
    now = datetime.now(UTC).isoformat()
    response = await client.post(interactions(customer), headers=am.headers, json={
        "kind": "visit", "occurred_at": now, "summary": "上门拜访"})
    assert response.status_code == 201, response.text
    cadence = (await client.get(f"/api/v1/customers/{customer['id']}/contact-cadence",
                                headers=am.headers)).json()
    assert cadence["overdue"] is False
    overdue = {c["id"] for c in await list_all(client, "/api/v1/customers", am.headers,
                                               contact_overdue="true")}
    assert customer["id"] not in overdue

    listed = await list_all(client, interactions(customer), am.headers)
    assert [i["kind"] for i in listed] == ["visit", "call"]
    timeline = await list_all(client, f"/api/v1/customers/{customer['id']}/timeline",
                              am.headers)
    assert [e["type"] for e in timeline].count("customer.interaction_recorded") == 2


async def test_interactions_follow_the_customer_scope(client: httpx.AsyncClient,
                                                      actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east)
    body = {"kind": "email", "occurred_at": "2026-11-02T09:00:00+08:00", "summary": "发送周报"}
    for who in (actors.am_west, actors.am_east2, actors.head_west):
        assert_problem(await client.post(interactions(customer), headers=who.headers,
                                         json=body), 404, "not_found")
        assert_problem(await client.get(interactions(customer), headers=who.headers), 404,
                       "not_found")
    assert_problem(await client.post(interactions(customer), headers=actors.analyst.headers,
                                     json=body), 403, "forbidden")
    other = await make_customer(client, actors.am_east, contacts=[contact()])
    response = await client.post(interactions(customer), headers=actors.am_east.headers,
                                 json={**body, "contact_ids": [other["contacts"][0]["id"]]})
    assert field_errors(response) == {"/contact_ids/0": "contact_unknown"}
    response = await client.post(interactions(customer), headers=actors.am_east.headers,
                                 json={**body, "occurred_at": "2099-01-01T00:00:00+08:00"})
    assert field_errors(response) == {"/occurred_at": "out_of_range"}


async def test_the_cadence_is_an_admin_setting(client_with: Any, actors: Actors) -> None:
    async with client_with() as c:
        read = await c.get("/api/v1/settings/contact-cadence", headers=actors.am_east.headers)
        assert read.json()["working_days"] == {"A": 14, "B": 30, "C": 60, "D": 90}
        body = {"working_days": {"A": 7, "B": 30, "C": 60, "D": 90}}
        refused = await c.put("/api/v1/settings/contact-cadence",
                              headers={**actors.head_east.headers,
                                       "If-Match": read.headers["etag"]}, json=body)
        assert_problem(refused, 403, "forbidden")
        response = await c.put("/api/v1/settings/contact-cadence",
                               headers={**actors.admin.headers,
                                        "If-Match": read.headers["etag"]}, json=body)
        assert response.status_code == 200, response.text
        try:
            customer = await make_customer(c, actors.am_east, **TIER_INPUTS["A"])
            await c.post(interactions(customer), headers=actors.am_east.headers, json={
                "kind": "call", "occurred_at": "2026-09-22T10:00:00+08:00", "summary": "x"})
            cadence = (await c.get(f"/api/v1/customers/{customer['id']}/contact-cadence",
                                   headers=actors.am_east.headers)).json()
            # 7 working days after 22 Sep: 23, 24, 28, 29, 30, 8 Oct, 9 Oct.
            assert (cadence["working_days"], cadence["next_contact_due"]) == (7, "2026-10-09")
        finally:
            back = {"working_days": {"A": 14, "B": 30, "C": 60, "D": 90}}
            restored = await c.put("/api/v1/settings/contact-cadence",
                                   headers={**actors.admin.headers,
                                            "If-Match": response.headers["etag"]}, json=back)
            assert restored.status_code == 200, restored.text
