"""客户方案 (domain §5) through the API on both engines: a plan's draft and its parts, the
derived figures against hand-computed values, every transition from every state (the
workflow table) by each party, record scope (outside it 404; read-only roles 403),
If-Match on every change, and the baseline frozen at activation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables_plans import plans as plans_table
from tests.customer_support import if_match, make_customer
from tests.db import row_count
from tests.plan_support import (
    PLANS,
    active_plan,
    add_part,
    draft_plan,
    plan_act,
    plan_path,
    read_plan,
    ready_plan,
    with_version,
)
from tests.support import Actors, assert_problem, audit_entries, field_errors, list_all

pytestmark = pytest.mark.asyncio(loop_scope="session")

# The workflow table, stated independently of the code under test.
TABLE: dict[str, dict[str, str]] = {
    "draft": {"activate": "active", "cancel": "cancelled"},
    "active": {"complete": "completed", "cancel": "cancelled"},
    "completed": {},
    "cancelled": {},
}
ACTIONS = ["activate", "complete", "cancel"]
EVENTS = {"activate": "plan.activated", "complete": "plan.completed",
          "cancel": "plan.cancelled"}


async def plan_in(client: httpx.AsyncClient, actors: Actors, state: str) -> dict[str, Any]:
    """A plan of am_east's customer in ``state``; an active one has every milestone done
    (so ``complete`` may be taken)."""
    am = actors.am_east
    plan = await ready_plan(client, am)
    if state == "draft":
        return plan
    if state == "cancelled":
        return (await plan_act(client, am, plan, "cancel", reason="客户预算冻结")).json()
    plan = (await plan_act(client, am, plan, "activate")).json()
    for milestone in plan["milestones"]:
        response = await client.patch(plan_path(plan, f"/milestones/{milestone['id']}"),
                                      headers=with_version(am, plan),
                                      json={"status": "done", "actual_date": "2027-01-20"})
        assert response.status_code == 200, response.text
        plan = response.json()
    if state == "active":
        return plan
    return (await plan_act(client, am, plan, "complete")).json()


async def test_a_draft_starts_with_the_customer_manager_as_owner(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east)
    plan = await draft_plan(client, actors.pm, customer,
                            team=[{"user_id": actors.tech.id, "part": "tech_expert"}],
                            constraints={"time": "6 月底前", "budget": "80 万以内"})
    assert plan["owner_id"] == actors.am_east.id
    assert plan["state"] == "draft" and plan["revision"] is None
    assert plan["team"] == [{"user_id": actors.tech.id, "part": "tech_expert", "note": ""}]
    assert plan["constraints"] == {"time": "6 月底前", "budget": "80 万以内", "resources": ""}
    assert plan["allowed_actions"] == []  # the project manager who wrote it does not run it
    seen = await read_plan(client, actors.am_east, plan)
    assert seen["allowed_actions"] == ["cancel"]  # not ready: no milestone yet
    assert plan["department_id"] == actors.east
    entries = await audit_entries(client, actors.auditor, "plan", plan["id"])
    assert [e["action"] for e in entries] == ["plan.created"]


async def test_derived_figures_match_hand_computed_values(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    plan = await ready_plan(client, am)
    lines = {b["category"]: b for b in plan["budget_lines"]}
    # 实施人力 planned 300000, actual 330000: +30000, +10.00 %.
    response = await client.patch(plan_path(plan, f"/budget-lines/{lines['实施人力']['id']}"),
                                  headers=with_version(am, plan), json={"actual": "330000.00"})
    plan = response.json()
    # 软件许可 planned 200000, actual 185000.50: −14999.50, −7.50 % (7.49975 rounds up).
    response = await client.patch(plan_path(plan, f"/budget-lines/{lines['软件许可']['id']}"),
                                  headers=with_version(am, plan), json={"actual": "185000.50"})
    plan = response.json()
    by = {b["category"]: b for b in plan["budget_lines"]}
    assert (by["实施人力"]["variance"], by["实施人力"]["variance_pct"]) == ("30000.00", "10.00")
    assert (by["软件许可"]["variance"], by["软件许可"]["variance_pct"]) == ("-14999.50", "-7.50")
    # In total: planned 500000, actual 515000.50: +15000.50, +3.00 % (3.0001).
    assert plan["figures"]["budget"] == [{"currency": "CNY", "planned": "500000.00",
                                          "actual": "515000.50", "variance": "15000.50",
                                          "variance_pct": "3.00"}]
    # Objectives: higher is better (satisfaction 4.5 → target 4.8, measured 4.9: achieved);
    # lower is better (response hours 8 → target 4, measured 5 and past due: not achieved).
    plan = await add_part(client, am, plan, "objectives", {
        "title": "满意度提升", "horizon": "long_term", "metric": "CSAT", "baseline": "4.5",
        "target": "4.8", "unit": "分", "due_date": "2027-06-30"})
    plan = await add_part(client, am, plan, "objectives", {
        "title": "响应时效", "horizon": "short_term", "metric": "平均响应时长",
        "baseline": "8", "target": "4", "unit": "小时", "due_date": "2020-01-31"})
    csat, hours = plan["objectives"]
    assert csat["status"] == "open" and hours["status"] == "not_achieved"
    response = await client.patch(plan_path(plan, f"/objectives/{csat['id']}"),
                                  headers=with_version(am, plan), json={"actual": "4.9"})
    plan = response.json()
    response = await client.patch(plan_path(plan, f"/objectives/{hours['id']}"),
                                  headers=with_version(am, plan),
                                  json={"actual": "5", "measured_at": "2020-01-30"})
    plan = response.json()
    csat, hours = plan["objectives"]
    assert csat["status"] == "achieved" and csat["measured_at"] is not None
    assert hours["status"] == "not_achieved"
    assert plan["figures"]["objectives_achieved"] == 1
    assert plan["figures"]["objectives_not_achieved"] == 1


async def test_milestone_on_time_late_and_not_yet_due(client: httpx.AsyncClient,
                                                      actors: Actors) -> None:
    am = actors.am_east
    plan = await draft_plan(client, am, await make_customer(client, am))
    for title, day in (("按期", "2020-03-01"), ("延期", "2020-03-01"), ("逾期", "2020-03-01"),
                       ("未到期", "2099-01-01")):
        plan = await add_part(client, am, plan, "milestones",
                              {"title": title, "planned_date": day})
    ids = {m["title"]: m["id"] for m in plan["milestones"]}
    for title, actual in (("按期", "2020-03-01"), ("延期", "2020-03-02")):
        response = await client.patch(plan_path(plan, f"/milestones/{ids[title]}"),
                                      headers=with_version(am, plan),
                                      json={"status": "done", "actual_date": actual})
        plan = response.json()
    timing = {m["title"]: (m["on_time"], m["overdue"]) for m in plan["milestones"]}
    assert timing == {"按期": (True, False), "延期": (False, False), "逾期": (False, True),
                      "未到期": (None, False)}
    assert plan["figures"]["milestones_on_time"] == 1
    assert plan["figures"]["milestones_late"] == 2
    assert plan["figures"]["milestones_done"] == 2


@pytest.mark.parametrize("state", list(TABLE))
@pytest.mark.parametrize("action", ACTIONS)
async def test_every_action_from_every_state(client: httpx.AsyncClient, actors: Actors,
                                             state: str, action: str) -> None:
    plan = await plan_in(client, actors, state)
    assert plan["state"] == state
    assert set(plan["allowed_actions"]) == set(TABLE[state])
    response = await plan_act(client, actors.am_east, plan, action, **(
        {"reason": "客户要求终止"} if action == "cancel" else {}))
    target = TABLE[state].get(action)
    if target is None:
        body = assert_problem(response, 409, "transition_not_allowed")
        assert body["detail"]
        assert (await read_plan(client, actors.am_east, plan))["version"] == plan["version"]
        return
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["state"] == target and after["version"] == plan["version"] + 1
    # Just activated, its milestones are open: complete is guarded until they are done.
    expected = ["cancel"] if target == "active" else sorted(TABLE[target])
    assert after["allowed_actions"] == expected
    entries = await audit_entries(client, actors.auditor, "plan", plan["id"])
    assert entries[-1]["action"] == EVENTS[action]


@pytest.mark.parametrize(("who", "status"), [
    ("am_east", 200), ("head_east", 200), ("admin", 200),  # owner, head, administrator
    ("am_east2", 404), ("head_west", 404), ("am_west", 404),  # outside the scope
    ("pm", 404),  # reads every plan, changes only the plans it owns
    ("analyst", 403), ("auditor", 403), ("executive", 403), ("finance", 403),
])
async def test_who_may_activate(client: httpx.AsyncClient, actors: Actors, who: str,
                                status: int) -> None:
    plan = await ready_plan(client, actors.am_east)
    response = await plan_act(client, getattr(actors, who), plan, "activate")
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["state"] == "active"
    else:
        assert (await read_plan(client, actors.am_east, plan))["state"] == "draft"


async def test_a_project_manager_who_owns_a_plan_runs_it(client: httpx.AsyncClient,
                                                         actors: Actors) -> None:
    plan = await ready_plan(client, actors.am_east, owner_id=actors.pm.id)
    assert plan["owner_id"] == actors.pm.id
    seen = await read_plan(client, actors.pm, plan)
    assert seen["allowed_actions"] == ["activate", "cancel"]
    response = await plan_act(client, actors.pm, seen, "activate")
    assert response.status_code == 200, response.text


async def test_record_scope_on_read_and_list(client: httpx.AsyncClient,
                                             actors: Actors) -> None:
    plan = await ready_plan(client, actors.am_east)
    for who in (actors.am_east2, actors.am_west, actors.head_west):
        assert_problem(await client.get(plan_path(plan), headers=who.headers), 404,
                       "not_found")
        listed = await list_all(client, PLANS, who.headers, customer_id=plan["customer_id"])
        assert listed == []
    for who in (actors.head_east, actors.admin, actors.analyst, actors.pm, actors.executive):
        seen = await read_plan(client, who, plan)
        assert seen["id"] == plan["id"]
    assert (await read_plan(client, actors.analyst, plan))["allowed_actions"] == []
    listed = await list_all(client, PLANS, actors.am_east.headers,
                            customer_id=plan["customer_id"])
    assert [p["id"] for p in listed] == [plan["id"]]


async def test_a_plan_for_a_customer_out_of_reach_is_refused(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await make_customer(client, actors.am_west)
    before = await row_count(app, plans_table)
    response = await client.post(PLANS, headers=actors.am_east.headers, json={
        "customer_id": customer["id"], "title": "越权方案"})
    assert field_errors(response) == {"/customer_id": "customer_unknown"}
    assert await row_count(app, plans_table) == before


async def test_every_change_needs_if_match(client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    plan = await ready_plan(client, am)
    milestone = plan["milestones"][0]
    for method, suffix, body in (
            ("PATCH", "", {"title": "新标题"}), ("POST", "/activate", None),
            ("POST", "/milestones", {"title": "x", "planned_date": "2027-03-01"}),
            ("PATCH", f"/milestones/{milestone['id']}", {"status": "in_progress"})):
        response = await client.request(method, plan_path(plan, suffix), headers=am.headers,
                                        json=body)
        assert_problem(response, 428, "precondition_required")
        response = await client.request(method, plan_path(plan, suffix),
                                        headers={**am.headers, **if_match(plan["version"] - 1)},
                                        json=body)
        assert_problem(response, 412, "precondition_failed")
    assert (await read_plan(client, am, plan))["version"] == plan["version"]


async def test_activation_freezes_the_baseline(client: httpx.AsyncClient,
                                               actors: Actors) -> None:
    am = actors.am_east
    plan = await active_plan(client, am)
    assert plan["revision"] == 0
    milestone, line = plan["milestones"][0], plan["budget_lines"][0]
    refused = [
        ("PATCH", "", {"scope_statement": "扩大范围"}, "scope_statement"),
        ("PATCH", f"/milestones/{milestone['id']}", {"planned_date": "2027-03-01"},
         "milestone.planned_date"),
        ("PATCH", f"/budget-lines/{line['id']}", {"planned": "999999.00"}, "budget.planned"),
        ("POST", "/milestones", {"title": "新增", "planned_date": "2027-04-01"}, "milestones"),
        ("POST", "/budget-lines", {"category": "差旅", "planned": "1000.00"}, "budget_lines"),
    ]
    for method, suffix, body, field in refused:
        response = await client.request(method, plan_path(plan, suffix),
                                        headers=with_version(am, plan), json=body)
        problem = assert_problem(response, 409, "plan_baseline_frozen")
        assert field in problem["detail"]
    assert (await read_plan(client, am, plan))["version"] == plan["version"]
    # Progress is recorded freely: actual date, status, actual cost, a new title.
    response = await client.patch(plan_path(plan, f"/milestones/{milestone['id']}"),
                                  headers=with_version(am, plan),
                                  json={"status": "done", "actual_date": "2027-02-03",
                                        "acceptance_note": "客户签字验收"})
    assert response.status_code == 200, response.text
    plan = response.json()
    response = await client.patch(plan_path(plan, f"/budget-lines/{line['id']}"),
                                  headers=with_version(am, plan), json={"actual": "120000.00"})
    assert response.status_code == 200, response.text
    plan = response.json()
    response = await client.patch(plan_path(plan), headers=with_version(am, plan),
                                  json={"title": "二期方案（执行中）"})
    assert response.status_code == 200, response.text


async def test_activation_needs_scope_dates_and_milestones(client: httpx.AsyncClient,
                                                           actors: Actors) -> None:
    am = actors.am_east
    plan = await draft_plan(client, am, await make_customer(client, am), scope_statement="")
    problem = assert_problem(await plan_act(client, am, plan, "activate"), 409,
                             "precondition_unmet")
    assert problem["detail"]


async def test_a_closed_plan_changes_no_more(client: httpx.AsyncClient,
                                             actors: Actors) -> None:
    plan = await plan_in(client, actors, "cancelled")
    assert plan["cancel_reason"] == "客户预算冻结"
    response = await client.patch(plan_path(plan), headers=with_version(actors.am_east, plan),
                                  json={"title": "改个名字"})
    assert_problem(response, 409, "plan_closed")


async def test_cancel_needs_a_reason(client: httpx.AsyncClient, actors: Actors) -> None:
    plan = await ready_plan(client, actors.am_east)
    response = await plan_act(client, actors.am_east, plan, "cancel", reason=" ")
    assert field_errors(response) == {"/reason": "missing"}


async def test_unknown_parts_are_404(client: httpx.AsyncClient, actors: Actors) -> None:
    plan = await ready_plan(client, actors.am_east)
    response = await client.patch(plan_path(plan, f"/milestones/{uuid.uuid4()}"),
                                  headers=with_version(actors.am_east, plan),
                                  json={"status": "done"})
    assert_problem(response, 404, "not_found")


async def test_each_part_change_is_recorded_under_its_own_action(
        client: httpx.AsyncClient, actors: Actors) -> None:
    """Audit actions and event types name the part: webhooks subscribe to them."""
    am = actors.am_east
    plan = await draft_plan(client, am, await make_customer(client, am))
    for part, body, patch in (
            ("objectives", {"title": "满意度提升", "horizon": "long_term", "metric": "CSAT",
                            "baseline": "4.5", "target": "4.8", "unit": "分",
                            "due_date": "2027-06-30"}, {"actual": "4.6"}),
            ("milestones", {"title": "需求确认", "planned_date": "2027-02-01"},
             {"status": "done", "actual_date": "2027-01-30"}),
            ("budget-lines", {"category": "实施人力", "planned": "300000.00"},
             {"actual": "1000.00"})):
        plan = await add_part(client, am, plan, part, body)
        key = part.replace("-", "_")
        response = await client.patch(plan_path(plan, f"/{part}/{plan[key][-1]['id']}"),
                                      headers=with_version(am, plan), json=patch)
        assert response.status_code == 200, response.text
        plan = response.json()
    assert plan["objectives"][0]["actual"] == "4.6"
    assert plan["milestones"][0]["status"] == "done"
    assert plan["budget_lines"][0]["actual"] == "1000.00"
    entries = await audit_entries(client, actors.auditor, "plan", plan["id"])
    assert [e["action"] for e in entries] == [
        "plan.created", "plan.objective_added", "plan.objective_updated",
        "plan.milestone_added", "plan.milestone_updated", "plan.budget_line_added",
        "plan.budget_line_updated"]
