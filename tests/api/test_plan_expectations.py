"""The expectations register (预期管理) through the API on both engines: who said what and
when, the assessment's rules (a reason when unrealistic, the commitment when something else
was committed, evidence at review), derived gaps against hand-worked cases, ``?gap=``, the
plan's gap summary, and ``expectation.gap_opened`` announced once per gap opened."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from tests.customer_support import contact, make_customer
from tests.db import rows
from tests.plan_support import active_plan, plan_path, read_plan, with_version
from tests.support import Actor, Actors, field_errors, versioned

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def expect(client: httpx.AsyncClient, who: Actor, plan: dict[str, Any],
                 **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Record an expectation; (it, the plan's new version as ``{"version": n}``)."""
    body = {"statement": "6 月底前上线监管报表", "category": "time",
            "stated_on": "2026-12-01", "channel": "meeting", **fields}
    response = await client.post(plan_path(plan, "/expectations"),
                                  headers=with_version(who, plan), json=body)
    assert response.status_code == 201, response.text
    return response.json(), {**plan, "version": int(response.headers["etag"].strip('"'))}


async def change(client: httpx.AsyncClient, who: Actor, plan: dict[str, Any],
                 e: dict[str, Any], **fields: Any) -> tuple[httpx.Response, dict[str, Any]]:
    response = await client.patch(plan_path(plan, f"/expectations/{e['id']}"),
                                  headers=with_version(who, plan), json=fields)
    if response.status_code == 200:
        plan = {**plan, "version": int(response.headers["etag"].strip('"'))}
    return response, plan


async def test_gaps_are_derived_and_filtered(app: FastAPI, client: httpx.AsyncClient,
                                             actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, contacts=[contact("王总")])
    plan = await active_plan(client, am, customer)
    boss = customer["contacts"][0]["id"]
    late, early = plan["milestones"][0], plan["milestones"][1]
    assert late["planned_date"] == "2027-02-01"

    unassessed, plan = await expect(client, am, plan, contact_id=boss)
    assert unassessed["gaps"] == ["not_committed"]
    declined, plan = await expect(client, am, plan, statement="免费增加三个报表",
                                  category="scope", realistic=False,
                                  unrealistic_reason="超出合同范围", agreement="not_committed")
    agreed, plan = await expect(client, am, plan, statement="上线后一周驻场支持",
                                category="service", agreement="agreed",
                                milestone_id=early["id"])
    instead, plan = await expect(client, am, plan, statement="系统 4 月上线",
                                 agreement="committed_instead",
                                 commitment="5 月底上线，4 月先开放试用",
                                 milestone_id=late["id"])
    assert (declined["gaps"], agreed["gaps"], instead["gaps"]) == (["not_committed"], [], [])

    # At review: partly met is a gap; met is not.
    response, plan = await change(client, am, plan, agreed, outcome="partly",
                                  evidence="驻场 3 天")
    assert response.json()["gaps"] == ["not_met"]
    assert response.json()["reviewed_on"] is not None
    response, plan = await change(client, am, plan, instead, outcome="met",
                                  evidence="5 月 28 日上线验收单")
    assert response.json()["gaps"] == []

    listed = (await client.get(plan_path(plan, "/expectations"), headers=am.headers)).json()
    assert listed["summary"] == {"expectations": 4, "with_gaps": 3, "met": 1,
                                 "not_committed": 2, "overdue": 0, "not_met": 1}
    by_gap = {}
    for gap in ("not_committed", "overdue", "not_met", "any", "none"):
        response = await client.get(plan_path(plan, "/expectations"), headers=am.headers,
                                    params={"gap": gap})
        by_gap[gap] = [e["id"] for e in response.json()["data"]]
    assert by_gap == {"not_committed": [unassessed["id"], declined["id"]], "overdue": [],
                      "not_met": [agreed["id"]],
                      "any": [unassessed["id"], declined["id"], agreed["id"]],
                      "none": [instead["id"]]}
    seen = await read_plan(client, am, plan)
    assert seen["gaps"] == listed["summary"]

    opened = [(r.data["expectation_id"], r.data["gap"]) for r in await rows(
        app, outbox, entity_id=plan["id"]) if r.type == "expectation.gap_opened"]
    assert sorted(opened) == sorted([(unassessed["id"], "not_committed"),
                                     (declined["id"], "not_committed"),
                                     (agreed["id"], "not_met")])


async def test_a_committed_expectation_whose_milestone_is_past_due_is_overdue(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    plan = await active_plan(client, am)
    response = await client.post(plan_path(plan, "/objectives"),
                                 headers=with_version(am, plan), json={
        "title": "响应时效", "horizon": "short_term", "metric": "平均响应时长",
        "baseline": "8", "target": "4", "unit": "小时", "due_date": "2020-01-31"})
    plan = versioned(response, 201)
    objective = plan["objectives"][0]
    e, plan = await expect(client, am, plan, agreement="agreed",
                           objective_id=objective["id"], category="quality")
    assert e["gaps"] == ["overdue"]
    response = await client.get(plan_path(plan, "/expectations"), headers=am.headers,
                                params={"gap": "overdue"})
    assert [x["id"] for x in response.json()["data"]] == [e["id"]]


async def test_the_assessment_rules(client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    plan = await active_plan(client, am)
    other = await make_customer(client, am, contacts=[contact("外人")])
    for fields, errors in (
            ({"realistic": False}, {"/unrealistic_reason": "missing"}),
            ({"agreement": "committed_instead"}, {"/commitment": "missing"}),
            ({"contact_id": other["contacts"][0]["id"]}, {"/contact_id": "contact_unknown"}),
            ({"milestone_id": plan["budget_lines"][0]["id"]},
             {"/milestone_id": "milestone_unknown"})):
        response = await client.post(plan_path(plan, "/expectations"),
                                     headers=with_version(am, plan), json={
            "statement": "s", "category": "cost", "stated_on": "2026-12-01",
            "channel": "phone", **fields})
        assert field_errors(response) == errors
    e, plan = await expect(client, am, plan)
    response, _ = await change(client, am, plan, e, outcome="met", evidence="x")
    assert field_errors(response) == {"/outcome": "review_needs_commitment"}
    response, _ = await change(client, am, plan, e, agreement="agreed", outcome="met")
    assert field_errors(response) == {"/evidence": "missing"}
    assert (await read_plan(client, am, plan))["version"] == plan["version"]
