"""Builders for plan scenarios (客户方案): a draft with milestones and budget, one call per
workflow action with If-Match from the body last read, and ``active_plan`` which takes a
fresh plan to ``active`` with its baseline frozen."""

from __future__ import annotations

from typing import Any

import httpx

from tests.customer_support import if_match, make_customer
from tests.support import Actor, unique, versioned

PLANS = "/api/v1/plans"


def plan_path(plan: dict[str, Any], suffix: str = "") -> str:
    return f"{PLANS}/{plan['id']}{suffix}"


def with_version(who: Actor, plan: dict[str, Any] | int) -> dict[str, str]:
    return {**who.headers, **if_match(plan)}


async def draft_plan(client: httpx.AsyncClient, who: Actor, customer: dict[str, Any],
                     **fields: Any) -> dict[str, Any]:
    body = {"customer_id": customer["id"], "title": unique("二期方案"),
            "scope_statement": "上线监管报表模块与移动审批", "planned_start": "2027-01-04",
            "planned_end": "2027-06-30", **fields}
    response = await client.post(PLANS, headers=who.headers, json=body)
    created = versioned(response, 201)
    assert response.headers["location"] == plan_path(created)
    return created


async def read_plan(client: httpx.AsyncClient, who: Actor, plan: dict[str, Any]
                    ) -> dict[str, Any]:
    return versioned(await client.get(plan_path(plan), headers=who.headers))


async def add_part(client: httpx.AsyncClient, who: Actor, plan: dict[str, Any], part: str,
                   body: dict[str, Any]) -> dict[str, Any]:
    """POST a milestone, objective or budget line; the plan after it (201)."""
    response = await client.post(plan_path(plan, "/" + part), headers=with_version(who, plan),
                                 json=body)
    return versioned(response, 201)


async def spend(client: httpx.AsyncClient, who: Actor, plan: dict[str, Any],
                actual: str) -> dict[str, Any]:
    """Record the actual cost of the plan's first budget line; the plan after it."""
    line = plan["budget_lines"][0]
    return versioned(await client.patch(plan_path(plan, f"/budget-lines/{line['id']}"),
                                        headers=with_version(who, plan),
                                        json={"actual": actual}))


async def plan_act(client: httpx.AsyncClient, who: Actor, plan: dict[str, Any], action: str,
                   **body: Any) -> httpx.Response:
    return await client.post(plan_path(plan, "/" + action), headers=with_version(who, plan),
                             json=body or None)


async def ready_plan(client: httpx.AsyncClient, who: Actor,
                     customer: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A draft with two milestones and two budget lines: ready to activate."""
    customer = customer or await make_customer(client, who)
    plan = await draft_plan(client, who, customer, **fields)
    plan = await add_part(client, who, plan, "milestones",
                          {"title": "需求确认", "planned_date": "2027-02-01"})
    plan = await add_part(client, who, plan, "milestones",
                          {"title": "系统上线", "planned_date": "2027-05-31"})
    plan = await add_part(client, who, plan, "budget-lines",
                          {"category": "实施人力", "planned": "300000.00"})
    return await add_part(client, who, plan, "budget-lines",
                          {"category": "软件许可", "planned": "200000.00"})


async def active_plan(client: httpx.AsyncClient, who: Actor,
                      customer: dict[str, Any] | None = None) -> dict[str, Any]:
    plan = await ready_plan(client, who, customer)
    response = await plan_act(client, who, plan, "activate")
    return versioned(response)


PUBLIC_REPORTS = "/api/v1/public/plan-reports/"


def report_path(report: dict[str, Any], suffix: str = "") -> str:
    return f"{PLANS}/{report['plan_id']}/reports/{report['id']}{suffix}"


async def report_of(client: httpx.AsyncClient, who: Actor, plan: dict[str, Any],
                    **fields: Any) -> dict[str, Any]:
    """A draft progress report for January, with an internal note the customer never sees."""
    response = await client.post(plan_path(plan, "/reports"), headers=who.headers, json={
        "period_start": "2027-01-01", "period_end": "2027-01-31",
        "completed_work": "完成需求调研与蓝图设计", "issues": "客户接口人变更",
        "next_steps": "2 月完成开发环境搭建", "internal_notes": "客户预算偏紧，注意控制变更",
        **fields})
    return versioned(response, 201)


async def publish_and_share(client: httpx.AsyncClient, who: Actor, plan: dict[str, Any],
                            days: int = 14) -> dict[str, Any]:
    """A published report of ``plan`` shared for ``days``: the body carries the token."""
    report = await report_of(client, who, plan)
    report = versioned(await client.post(report_path(report, "/publish"),
                                         headers=with_version(who, report)))
    return versioned(await client.post(report_path(report, "/share"),
                                       headers=with_version(who, report),
                                       json={"expires_in_days": days}))
