"""Plan performance (绩效评估, ``GET /reports/plans``) through the API on both engines,
against hand-computed figures for the plans of a department of its own: objectives
achieved, milestones on time, budget variance, expectations met, gaps open; the shared
period parameters on the plans' planned window; CSV; record scope."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.customer_support import make_customer
from tests.plan_support import (
    add_part,
    draft_plan,
    plan_act,
    plan_path,
    spend,
    with_version,
)
from tests.support import Actor, Actors, actor, unique, versioned

pytestmark = pytest.mark.asyncio(loop_scope="session")
REPORT = "/api/v1/reports/plans"


async def _done(client: httpx.AsyncClient, who: Actor, plan: dict[str, Any], index: int,
                actual: str) -> dict[str, Any]:
    milestone = plan["milestones"][index]
    return versioned(await client.patch(plan_path(plan, f"/milestones/{milestone['id']}"),
                                        headers=with_version(who, plan),
                                        json={"status": "done", "actual_date": actual}))


async def _department(client: httpx.AsyncClient, actors: Actors) -> tuple[str, Actor]:
    response = await client.post("/api/v1/departments", headers=actors.admin.headers,
                                 json={"name": unique("方案绩效部")})
    department = response.json()["id"]
    return department, await actor(client, actors.admin, department, ["account_manager"])


async def test_figures_totals_period_and_csv(client: httpx.AsyncClient,
                                             actors: Actors) -> None:
    department, am = await _department(client, actors)
    customer = await make_customer(client, am)

    # P1, active: on time, late, not yet due; 100000 → 120000; one objective achieved,
    # one past due and never measured; one expectation met, one not committed.
    p1 = await draft_plan(client, am, customer, planned_start="2019-12-01",
                          planned_end="2020-06-30")
    for title, day in (("一", "2020-01-01"), ("二", "2020-02-01"), ("三", "2099-01-01")):
        p1 = await add_part(client, am, p1, "milestones", {"title": title, "planned_date": day})
    p1 = await add_part(client, am, p1, "budget-lines", {"category": "人力",
                                                          "planned": "100000.00"})
    p1 = await add_part(client, am, p1, "objectives", {
        "title": "上线率", "horizon": "short_term", "metric": "上线模块数", "baseline": "0",
        "target": "10"})
    p1 = await add_part(client, am, p1, "objectives", {
        "title": "时效", "horizon": "short_term", "metric": "响应时长", "baseline": "8",
        "target": "4", "due_date": "2020-01-31"})
    p1 = versioned(await plan_act(client, am, p1, "activate"))
    p1 = await _done(client, am, p1, 0, "2019-12-31")
    p1 = await _done(client, am, p1, 1, "2020-02-05")
    p1 = await spend(client, am, p1, "120000.00")
    objective = p1["objectives"][0]
    p1 = versioned(await client.patch(plan_path(p1, f"/objectives/{objective['id']}"),
                                      headers=with_version(am, p1), json={"actual": "12"}))
    for fields in ({"agreement": "agreed", "outcome": "met", "evidence": "验收单"}, {}):
        response = await client.post(plan_path(p1, "/expectations"),
                                     headers=with_version(am, p1), json={
            "statement": "按期上线", "category": "time", "stated_on": "2019-11-20",
            "channel": "meeting", **({"agreement": "agreed"} if fields else {})})
        assert response.status_code == 201, response.text
        p1 = {**p1, "version": int(response.headers["etag"].strip('"'))}
        if fields:
            response = await client.patch(
                plan_path(p1, f"/expectations/{response.json()['id']}"),
                headers=with_version(am, p1), json=fields)
            assert response.status_code == 200, response.text
            p1 = {**p1, "version": int(response.headers["etag"].strip('"'))}

    # P2, completed: on time; 50000 → 40000.
    p2 = await draft_plan(client, am, customer, planned_start="2020-01-01",
                          planned_end="2020-03-31")
    p2 = await add_part(client, am, p2, "milestones", {"title": "交付",
                                                        "planned_date": "2020-03-01"})
    p2 = await add_part(client, am, p2, "budget-lines", {"category": "许可",
                                                          "planned": "50000.00"})
    p2 = versioned(await plan_act(client, am, p2, "activate"))
    p2 = await _done(client, am, p2, 0, "2020-03-01")
    p2 = await spend(client, am, p2, "40000.00")
    p2 = versioned(await plan_act(client, am, p2, "complete"))

    # Drafts and cancelled plans are not measured.
    await draft_plan(client, am, customer, planned_start="2020-01-01")
    dropped = await draft_plan(client, am, customer, planned_start="2020-01-01")
    await plan_act(client, am, dropped, "cancel", reason="取消")

    response = await client.get(REPORT, headers=actors.admin.headers,
                                params={"department_id": department})
    assert response.status_code == 200, response.text
    body = response.json()
    rows = {r["plan_id"]: r for r in body["plans"]}
    assert set(rows) == {p1["id"], p2["id"]}
    first = rows[p1["id"]]
    assert (first["objectives"], first["objectives_achieved"], first["milestones"],
            first["milestones_on_time"], first["milestones_late"], first["expectations"],
            first["expectations_met"], first["gaps_open"]) == (2, 1, 3, 1, 1, 2, 1, 1)
    assert first["budget"] == [{"currency": "CNY", "planned": "100000.00",
                                "actual": "120000.00", "variance": "20000.00",
                                "variance_pct": "20.00"}]
    assert rows[p2["id"]]["budget"][0]["variance_pct"] == "-20.00"
    # Totals: objectives 1 of 2 = 50.00 %; milestones judged 3 (two of P1, one of P2),
    # on time 2 = 66.67 %; budget 150000 → 160000: +10000, +6.67 %.
    assert body["totals"] == {
        "plans": 2, "objectives": 2, "objectives_achieved": 1,
        "objectives_achieved_pct": "50.00", "milestones_judged": 3, "milestones_on_time": 2,
        "milestones_on_time_pct": "66.67", "expectations": 2, "expectations_met": 1,
        "gaps_open": 1, "budget": [{"currency": "CNY", "planned": "150000.00",
                                    "actual": "160000.00", "variance": "10000.00",
                                    "variance_pct": "6.67"}]}

    # The period meets the planned window: from April 2020 only P1 still runs.
    later = await client.get(REPORT, headers=actors.admin.headers,
                             params={"department_id": department, "since": "2020-04-01"})
    assert [r["plan_id"] for r in later.json()["plans"]] == [p1["id"]]
    early = await client.get(REPORT, headers=actors.admin.headers,
                             params={"department_id": department, "until": "2019-12-01"})
    assert early.json()["plans"] == []

    exported = await client.get(REPORT, headers=actors.admin.headers,
                                params={"department_id": department, "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert {(line["plan_id"], line["budget_variance"], line["budget_variance_pct"])
            for line in lines} == {(p1["id"], "20000.00", "20.00"),
                                   (p2["id"], "-10000.00", "-20.00")}

    # Another department's manager sees none of them; the analyst reads all.
    outside = await client.get(REPORT, headers=actors.am_west.headers,
                               params={"department_id": department})
    assert outside.json()["plans"] == []
    by_owner = await client.get(REPORT, headers=actors.analyst.headers,
                                params={"owner_id": am.id})
    assert {r["plan_id"] for r in by_owner.json()["plans"]} == {p1["id"], p2["id"]}
    assert (await client.get(REPORT, headers=actors.auditor.headers)).status_code == 403
