"""The account-manager report's follow-through figures (GET /reports/account-managers,
issue 18 item 3): overdue contacts now and plan performance per manager, on both engines,
built through the API on a pinned clock and checked against figures computed by hand.

The report runs on Friday 16 Oct 2026, 12:00 Shanghai, over October (UTC days
2026-10-01 … 2026-11-01).

Contacts (tier A: 14 working days after the day of the latest contact; the 2026
Mid-Autumn and National Day holidays are off, Sunday 20 Sep and Saturday 10 Oct are
make-up working days):
- a1 (am1): called Mon 21 Sep → due Fri 16 Oct, today: not overdue.
- a2 (am1): called Sun 20 Sep (a working day) → due Thu 15 Oct, yesterday: overdue.
  (Counting weekdays only, both would have been due on 9 Oct, a week earlier.)
- a3 (am1): never contacted, no schedule: not counted.
- b1 (am2): called Sun 20 Sep → overdue. b2 (am2): the same, archived: not counted.
am1: 1 of 2 scheduled overdue (50.0 %), am2: 1 of 1 (100.0 %).

Plans, owned by the customer's manager (the default), are described in ``_plans``."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from tests.conftest import client_for
from tests.customer_support import if_match, make_customer
from tests.feedback_support import pinned
from tests.handover_support import TIER_INPUTS
from tests.plan_support import (
    add_part,
    draft_plan,
    plan_act,
    plan_path,
    spend,
    with_version,
)
from tests.report_support import Team, figures, local, report, team
from tests.support import Actor, Actors, TestClock, list_all, versioned

pytestmark = pytest.mark.asyncio(loop_scope="session")

MANAGERS = "/api/v1/reports/account-managers"
REPORT_AT = local(2026, 10, 16, 12)
PERIOD = {"since": "2026-10-01", "until": "2026-11-01"}
FOLLOW_THROUGH = ("contacts", "plans", "plans_by_state", "plan_milestones", "plan_objectives",
                  "plan_budget")


@dataclass
class Scenario(Team):
    customers: dict[str, dict[str, Any]]
    plans: dict[str, dict[str, Any]]


async def _contacted(client: httpx.AsyncClient, am: Actor, customer: dict[str, Any],
                     occurred_at: str) -> None:
    response = await client.post(f"/api/v1/customers/{customer['id']}/interactions",
                                 headers=am.headers, json={
        "kind": "call", "occurred_at": occurred_at, "summary": "季度回访"})
    assert response.status_code == 201, response.text


async def _milestone(client: httpx.AsyncClient, am: Actor, plan: dict[str, Any], index: int,
                     **changes: str) -> dict[str, Any]:
    milestone = plan["milestones"][index]
    return versioned(await client.patch(plan_path(plan, f"/milestones/{milestone['id']}"),
                                        headers=with_version(am, plan), json=changes))


async def _measured(client: httpx.AsyncClient, am: Actor, plan: dict[str, Any], index: int,
                    actual: str) -> dict[str, Any]:
    objective = plan["objectives"][index]
    return versioned(await client.patch(plan_path(plan, f"/objectives/{objective['id']}"),
                                        headers=with_version(am, plan),
                                        json={"actual": actual}))


async def _plan(client: httpx.AsyncClient, am: Actor, customer: dict[str, Any],
                milestones: list[str], objectives: list[dict[str, str]],
                start: str = "2026-09-01", end: str = "2026-12-31") -> dict[str, Any]:
    plan = await draft_plan(client, am, customer, planned_start=start, planned_end=end)
    for i, day in enumerate(milestones):
        plan = await add_part(client, am, plan, "milestones",
                              {"title": f"里程碑{i + 1}", "planned_date": day})
    for i, fields in enumerate(objectives):
        plan = await add_part(client, am, plan, "objectives", {
            "title": f"目标{i + 1}", "horizon": "short_term", "metric": "指标", **fields})
    return await add_part(client, am, plan, "budget-lines",
                          {"category": "实施人力", "planned": "100000.00"})


async def _plans(client: httpx.AsyncClient, s: Team, customers: dict[str, dict[str, Any]],
                 other: Actor) -> dict[str, dict[str, Any]]:
    """P1 (am1, active), milestones due in October: 8 Oct done 7 Oct (early), 12 Oct done
    12 Oct (the boundary day: on time), 13 Oct done 14 Oct (late), 15 Oct not done (past
    due: late), 16 Oct not done (due today: not judged yet), 31 Oct (not judged); outside
    the period: 30 Sep done on time, 1 Nov (``until`` is exclusive). Judged 4, on time 2:
    50.0 %, late 2, due 6. Objectives: 95 over a baseline of 80, measured 96 (achieved);
    2 h under a baseline of 8 h (lower is better), measured 3 (not) and 2 (achieved, on
    the target); 100 never measured (not): 2 of 4, 50.0 %. Budget 100,000 CNY, spent
    110,000: +10.0 %.

    P2 (am2, completed): 5 Oct done 6 Oct (late), 20 Oct done 15 Oct (early): judged 2,
    on time 1; objective 10 measured 10: 1 of 1; budget 100,000 CNY, spent 80,000: −20.0 %.

    Not measured: P3 (am1, draft, a milestone due 14 Oct and an achieved objective),
    P4 (am1, cancelled, the same); P5 (am1, active, planned for 2027: its objective is
    outside the period's window, its milestone due in 2027).

    Scope: P6 (draft) is run by am2 for am1's customer a1: am2's plan. P7 (draft) is run
    by am1 for a customer of another department (``other``'s): am1 reads it as its owner,
    their head does not, nor does a report of am1's department."""
    am1, am2 = s.am1, s.am2
    p1 = await _plan(client, am1, customers["a1"], [
        "2026-10-08", "2026-10-12", "2026-10-13", "2026-10-15", "2026-10-16", "2026-10-31",
        "2026-09-30", "2026-11-01"], [
        {"target": "95", "baseline": "80"}, {"target": "2", "baseline": "8"},
        {"target": "2", "baseline": "8"}, {"target": "100"}])
    p1 = versioned(await plan_act(client, am1, p1, "activate"))
    for index, actual in ((0, "2026-10-07"), (1, "2026-10-12"), (2, "2026-10-14"),
                          (6, "2026-09-30")):
        p1 = await _milestone(client, am1, p1, index, status="done", actual_date=actual)
    for index, actual in ((0, "96"), (1, "3"), (2, "2")):
        p1 = await _measured(client, am1, p1, index, actual)
    p1 = await spend(client, am1, p1, "110000.00")

    p2 = await _plan(client, am2, customers["b1"], ["2026-10-05", "2026-10-20"],
                     [{"target": "10"}])
    p2 = versioned(await plan_act(client, am2, p2, "activate"))
    for index, actual in ((0, "2026-10-06"), (1, "2026-10-15")):
        p2 = await _milestone(client, am2, p2, index, status="done", actual_date=actual)
    p2 = await _measured(client, am2, p2, 0, "10")
    p2 = await spend(client, am2, p2, "80000.00")
    p2 = versioned(await plan_act(client, am2, p2, "complete"))

    p3 = await _plan(client, am1, customers["a2"], ["2026-10-14"], [{"target": "1"}])
    p3 = await _measured(client, am1, p3, 0, "1")
    p4 = await _plan(client, am1, customers["a2"], ["2026-10-14"], [{"target": "1"}])
    p4 = await _measured(client, am1, p4, 0, "1")
    p4 = versioned(await plan_act(client, am1, p4, "cancel", reason="客户暂缓"))
    p5 = await _plan(client, am1, customers["a2"], ["2027-03-01"], [{"target": "1"}],
                     start="2027-01-04", end="2027-06-30")
    p5 = versioned(await plan_act(client, am1, p5, "activate"))
    p5 = await _measured(client, am1, p5, 0, "1")
    p6 = await draft_plan(client, am1, customers["a1"], owner_id=am2.id)
    elsewhere = await make_customer(client, other)
    p7 = await draft_plan(client, other, elsewhere, owner_id=am1.id)
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4, "p5": p5, "p6": p6, "p7": p7}


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def scenario(app: FastAPI, actors: Actors, clock: TestClock) -> Scenario:
    async with client_for(app) as client:
        people = await team(client, actors.admin)
        am1, am2 = people.am1, people.am2
        customers: dict[str, dict[str, Any]] = {}
        with pinned(clock, local(2026, 9, 15, 10)):
            for name, am in (("a1", am1), ("a2", am1), ("a3", am1), ("b1", am2),
                             ("b2", am2)):
                customers[name] = await make_customer(client, am, **TIER_INPUTS["A"],
                                                      shared_with_department=name == "b1")
        with pinned(clock, REPORT_AT):
            for name, am, when in (("a1", am1, "2026-09-21T10:00:00+08:00"),
                                   ("a2", am1, "2026-09-20T10:00:00+08:00"),
                                   ("b1", am2, "2026-09-20T10:00:00+08:00"),
                                   ("b2", am2, "2026-09-20T10:00:00+08:00")):
                await _contacted(client, am, customers[name], when)
            b2 = versioned(await client.get(f"/api/v1/customers/{customers['b2']['id']}",
                                            headers=am2.headers))
            archived = await client.post(f"/api/v1/customers/{b2['id']}/archive",
                                         headers={**am2.headers, **if_match(b2)})
            assert archived.status_code == 200, archived.text
            plans = await _plans(client, people, customers, actors.am_east)
    return Scenario(people.department_id, people.head, am1, am2, customers, plans)


def _expected(s: Scenario) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    am1, am2 = s.am1.id, s.am2.id
    return {
        ("contacts", am1, "overdue"): (1, None),
        ("contacts", am1, "overdue_share"): (50.0, 2),
        ("contacts", am2, "overdue"): (1, None),
        ("contacts", am2, "overdue_share"): (100.0, 1),
        ("plans_by_state", f"{am1}/active", "count"): (2, None),
        ("plans_by_state", f"{am1}/cancelled", "count"): (1, None),
        ("plans_by_state", f"{am1}/draft", "count"): (1, None),
        ("plans_by_state", f"{am2}/completed", "count"): (1, None),
        ("plans_by_state", f"{am2}/draft", "count"): (1, None),
        ("plans", am1, "count"): (4, None),
        ("plans", am2, "count"): (2, None),
        ("plan_milestones", am1, "due"): (6, None),
        ("plan_milestones", am1, "on_time_rate"): (50.0, 4),
        ("plan_milestones", am1, "late"): (2, None),
        ("plan_milestones", am2, "due"): (2, None),
        ("plan_milestones", am2, "on_time_rate"): (50.0, 2),
        ("plan_milestones", am2, "late"): (1, None),
        ("plan_objectives", am1, "achieved_rate"): (50.0, 4),
        ("plan_objectives", am2, "achieved_rate"): (100.0, 1),
        ("plan_budget", f"{am1}/CNY", "variance_pct"): (10.0, 1),
        ("plan_budget", f"{am2}/CNY", "variance_pct"): (-20.0, 1),
    }


def _follow_through(found: dict[tuple[str, str, str], tuple[Any, Any]]
                    ) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    return {k: v for k, v in found.items() if k[0] in FOLLOW_THROUGH}


async def _figures(client: httpx.AsyncClient, clock: TestClock, who: Actor,
                   **params: str) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    with pinned(clock, REPORT_AT):
        return _follow_through(figures(await report(client, who, MANAGERS, **params)))


async def test_follow_through_figures_match_the_hand_computed_ones(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    s = scenario
    found = await _figures(client, clock, actors.admin, department_id=s.department_id,
                           **PERIOD)
    assert found == _expected(s)
    # the same overdue customers the customer list's contact_overdue filter names
    for am, names in ((s.am1, {"a2"}), (s.am2, {"b1"})):
        with pinned(clock, REPORT_AT):
            overdue = {c["id"] for c in await list_all(
                client, "/api/v1/customers", s.head.headers, contact_overdue="true",
                owner_id=am.id)}
        assert overdue == {s.customers[n]["id"] for n in names}


async def test_objectives_and_budget_agree_with_the_plan_report(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    s = scenario
    found = await _figures(client, clock, actors.admin, department_id=s.department_id,
                           **PERIOD)
    for am in (s.am1, s.am2):
        with pinned(clock, REPORT_AT):
            plans = await report(client, actors.admin, "/api/v1/reports/plans",
                                 owner_id=am.id, **PERIOD)
        totals = plans["totals"]
        assert found[("plan_objectives", am.id, "achieved_rate")] == (
            float(totals["objectives_achieved_pct"]), totals["objectives"])
        assert found[("plan_budget", f"{am.id}/CNY", "variance_pct")] == (
            float(totals["budget"][0]["variance_pct"]), totals["plans"])


async def test_the_period_selects_milestones_and_plan_windows(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    """Over 2027 only P5 runs: its objective (measured, achieved) and its milestone (not
    due yet); counts now do not depend on the period. Without a period every milestone
    of the active and completed plans counts: P1's 8, P2's 2 and P5's 1."""
    s = scenario
    later = await _figures(client, clock, actors.admin, department_id=s.department_id,
                           since="2027-01-01", until="2028-01-01")
    am1 = s.am1.id
    assert later[("plan_objectives", am1, "achieved_rate")] == (100.0, 1)
    assert (later[("plan_milestones", am1, "due")],
            later[("plan_milestones", am1, "on_time_rate")]) == ((1, None), (None, 0))
    assert ("plan_milestones", s.am2.id, "due") not in later
    assert later[("plans", am1, "count")] == (4, None)
    assert later[("contacts", am1, "overdue")] == (1, None)
    everything = await _figures(client, clock, actors.admin, department_id=s.department_id)
    # P1: 30 Sep on time joins the judged; 1 Nov not judged yet
    assert (everything[("plan_milestones", am1, "due")],
            everything[("plan_milestones", am1, "on_time_rate")]) == ((9, None), (60.0, 5))
    assert everything[("plan_objectives", am1, "achieved_rate")] == (60.0, 5)
    # P1 and P5: 200,000 planned, 110,000 spent
    assert everything[("plan_budget", f"{am1}/CNY", "variance_pct")] == (-45.0, 2)


async def test_managers_see_their_row_heads_their_department_analysts_all(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    s = scenario
    expected = _expected(s)
    assert await _figures(client, clock, s.head, **PERIOD) == expected
    assert await _figures(client, clock, actors.analyst, department_id=s.department_id,
                          **PERIOD) == expected
    # b1 (am2's) is shared with the department: am1 reads it, but it is am2's row
    assert s.customers["b1"]["shared_with_department"] is True
    own = {am.id: {k: v for k, v in expected.items() if k[1].partition("/")[0] == am.id}
           for am in (s.am1, s.am2)}
    # am1 also owns P7, a draft for another department's customer
    own[s.am1.id].update({("plans_by_state", f"{s.am1.id}/draft", "count"): (2, None),
                          ("plans", s.am1.id, "count"): (5, None)})
    for am in (s.am1, s.am2):
        assert await _figures(client, clock, am, **PERIOD) == own[am.id]
    assert await _figures(client, clock, actors.head_east, department_id=s.department_id,
                          **PERIOD) == {}


async def test_csv_carries_the_same_figures_with_labels(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    s = scenario
    with pinned(clock, REPORT_AT):
        response = await client.get(MANAGERS, headers=s.head.headers,
                                    params={**PERIOD, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    found = {(r["section"], r["key"], r["metric"]): r for r in rows
             if r["section"] in FOLLOW_THROUGH}
    assert set(found) == set(_expected(s))
    row = found[("plan_milestones", s.am1.id, "on_time_rate")]
    assert (row["value"], row["n"], row["unit"], row["label_en"], row["label_zh_cn"]) == (
        "50.0", "4", "percent", "Milestones done on time", "里程碑按期完成率")
    row = found[("contacts", s.am2.id, "overdue")]
    assert (row["value"], row["label_zh_cn"]) == ("1", "逾期未回访客户")
