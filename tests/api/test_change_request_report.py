"""The change-request report (GET /reports/change-requests, domain §10) on both engines,
every figure against values computed by hand. The history is seeded with exact instants
(tests/report_support.py) in a department of its own; Shanghai wall clock, working hours
Mon–Fri 09–18, the National Day holiday 1–7 Oct 2026 off (8 Oct and Sat 10 Oct worked).

Created in September 2026 (the period 2026-09-01 … 2026-11-01):

- A (am1, normal, scope, low, closed). Head: Wed 30 Sep 16:00 → Thu 8 Oct 10:00 = 2 h + 1 h
  = 3 h (the holiday counts nothing); finance: Thu 8 Oct 10:00 → Fri 9 Oct 10:00 = 9 h.
  Round end to end 12 h. Implemented Fri 9 Oct 23:30 (local), requested the 9th: on time.
  Cost 100 000 → 120 000 (1.2), schedule 10 → 15 days (1.5).
- B (am1, normal, schedule, medium, rejected). Head Mon 12 Oct 09:00 → 14:00 = 5 h; finance
  14:00 → rejected Tue 13 Oct 11:00 = 4 h + 2 h = 6 h; executive never current. Round 11 h.
- C (am2, normal, scope, high, awaiting approval in round 2). Round 1: head Tue 13 Oct
  09:00 → returned 10:30 = 1.5 h (round 1.5 h). Round 2: head Wed 14 Oct 09:00 → 17:00 = 8 h;
  finance current since 17:00, due Thu 15 Oct 17:00: overdue at the report (Fri 16 Oct 12:00).
- D (am2, emergency, price_contract, unassessed, implemented). Executive Thu 15 Oct 09:00 →
  09:30 = 0.5 h (round 0.5 h). Implemented Fri 23 Oct 00:30 local (Thu 22nd in UTC),
  requested the 22nd: late. Cost 20 000 → 10 000 (0.5), schedule 4 → 4 (1.0).
- E (am1, standard, contact_arrangements, unassessed, draft).
And F (am2, normal, submitted), created 5 Nov: outside the period.

Head steps 1.5, 3, 5, 8 → median 4, p90 = 5 + 0.7·3 = 7.1; finance 6, 9 → 7.5, p90 8.7;
executive 0.5; rounds 0.5, 1.5, 11, 12 → median 6.25, p90 11 + 0.7·1 = 11.7. Rounds decided
4: rejected 1, returned 1 (25 % each). On time 1 of 2. Cost ratios 0.5, 1.2 → 0.85;
schedule 1.0, 1.5 → 1.25. Emergency 1 of 5."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from itertools import pairwise
from typing import Any
from uuid import UUID

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.repositories.tables_change_requests import change_requests, cr_approval_steps
from tests.change_request_support import customer_of, drive
from tests.conftest import client_for
from tests.db import rows
from tests.feedback_support import pinned
from tests.report_support import (
    Team,
    change_request,
    figures,
    local,
    report,
    seed_change_requests,
    step,
    team,
)
from tests.support import Actor, Actors, TestClock, assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPORT = "/api/v1/reports/change-requests"
REPORT_AT = local(2026, 10, 16, 12)
PERIOD = {"since": "2026-09-01", "until": "2026-11-01"}
BIG = {"cost": "600000.00", "likelihood": 4, "impact": 4}  # a chain of several steps

EXPECTED: dict[tuple[str, str, str], tuple[Any, Any]] = {
    ("total", "all", "count"): (5, None),
    ("by_state", "awaiting_approval", "count"): (1, None),
    ("by_state", "closed", "count"): (1, None),
    ("by_state", "draft", "count"): (1, None),
    ("by_state", "implemented", "count"): (1, None),
    ("by_state", "rejected", "count"): (1, None),
    ("by_type", "emergency", "count"): (1, None),
    ("by_type", "normal", "count"): (3, None),
    ("by_type", "standard", "count"): (1, None),
    ("by_category", "contact_arrangements", "count"): (1, None),
    ("by_category", "price_contract", "count"): (1, None),
    ("by_category", "schedule", "count"): (1, None),
    ("by_category", "scope", "count"): (2, None),
    ("by_risk_level", "high", "count"): (1, None),
    ("by_risk_level", "low", "count"): (1, None),
    ("by_risk_level", "medium", "count"): (1, None),
    ("by_risk_level", "unassessed", "count"): (2, None),
    ("emergency", "all", "share"): (20.0, 5),
    ("approval_lead_time", "department_head", "median"): (4.0, 4),
    ("approval_lead_time", "department_head", "p90"): (7.1, 4),
    ("approval_lead_time", "finance", "median"): (7.5, 2),
    ("approval_lead_time", "finance", "p90"): (8.7, 2),
    ("approval_lead_time", "executive", "median"): (0.5, 1),
    ("approval_lead_time", "executive", "p90"): (0.5, 1),
    ("approval_lead_time", "end_to_end", "median"): (6.25, 4),
    ("approval_lead_time", "end_to_end", "p90"): (11.7, 4),
    ("approval_rounds", "all", "rejection_rate"): (25.0, 4),
    ("approval_rounds", "all", "return_rate"): (25.0, 4),
    ("implementation", "all", "on_time_rate"): (50.0, 2),
    ("estimate_accuracy", "cost", "median_ratio"): (0.85, 2),
    ("estimate_accuracy", "schedule", "median_ratio"): (1.25, 2),
    ("overdue_steps_now", "all", "count"): (1, None),
    ("overdue_steps_now", "finance", "count"): (1, None),
}
# am1 reads only A, B and E (the changes of the customers they own).
AM1: dict[tuple[str, str, str], tuple[Any, Any]] = {
    ("total", "all", "count"): (3, None),
    ("by_state", "closed", "count"): (1, None),
    ("by_state", "draft", "count"): (1, None),
    ("by_state", "rejected", "count"): (1, None),
    ("by_type", "normal", "count"): (2, None),
    ("by_type", "standard", "count"): (1, None),
    ("by_category", "contact_arrangements", "count"): (1, None),
    ("by_category", "schedule", "count"): (1, None),
    ("by_category", "scope", "count"): (1, None),
    ("by_risk_level", "low", "count"): (1, None),
    ("by_risk_level", "medium", "count"): (1, None),
    ("by_risk_level", "unassessed", "count"): (1, None),
    ("emergency", "all", "share"): (0.0, 3),
    ("approval_lead_time", "department_head", "median"): (4.0, 2),
    ("approval_lead_time", "department_head", "p90"): (4.8, 2),
    ("approval_lead_time", "finance", "median"): (7.5, 2),
    ("approval_lead_time", "finance", "p90"): (8.7, 2),
    ("approval_lead_time", "end_to_end", "median"): (11.5, 2),
    ("approval_lead_time", "end_to_end", "p90"): (11.9, 2),
    ("approval_rounds", "all", "rejection_rate"): (50.0, 2),
    ("approval_rounds", "all", "return_rate"): (0.0, 2),
    ("implementation", "all", "on_time_rate"): (100.0, 1),
    ("estimate_accuracy", "cost", "median_ratio"): (1.2, 1),
    ("estimate_accuracy", "schedule", "median_ratio"): (1.5, 1),
    ("overdue_steps_now", "all", "count"): (0, None),
}
NOTHING: dict[tuple[str, str, str], tuple[Any, Any]] = {
    ("total", "all", "count"): (0, None),
    ("emergency", "all", "share"): (None, 0),
    ("approval_rounds", "all", "rejection_rate"): (None, 0),
    ("approval_rounds", "all", "return_rate"): (None, 0),
    ("implementation", "all", "on_time_rate"): (None, 0),
    ("estimate_accuracy", "cost", "median_ratio"): (None, 0),
    ("estimate_accuracy", "schedule", "median_ratio"): (None, 0),
    ("overdue_steps_now", "all", "count"): (0, None),
}


Scenario = Team


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def scenario(app: FastAPI, actors: Actors) -> Scenario:
    async with client_for(app) as client:
        people = await team(client, actors.admin)
        mine = await customer_of(client, people.am1)
        theirs = await customer_of(client, people.am2)
    sept = local(2026, 9, 21, 10)
    a = change_request(mine, sept, state="closed", risk_level="low",
                       requested_completion_date=local(2026, 10, 9, 12).date(),
                       implemented_at=local(2026, 10, 9, 23, 30),
                       estimated_cost=Decimal("100000"), actual_cost=Decimal("120000"),
                       estimated_schedule_days=10, actual_schedule_days=15)
    b = change_request(mine, sept, state="rejected", category="schedule",
                       risk_level="medium", estimated_cost=Decimal("50000"))
    c = change_request(theirs, sept, state="awaiting_approval", round=2, risk_level="high")
    d = change_request(theirs, sept, state="implemented", type="emergency",
                       category="price_contract",
                       requested_completion_date=local(2026, 10, 22, 12).date(),
                       implemented_at=local(2026, 10, 23, 0, 30),
                       estimated_cost=Decimal("20000"), actual_cost=Decimal("10000"),
                       estimated_schedule_days=4, actual_schedule_days=4)
    e = change_request(mine, sept, type="standard", category="contact_arrangements")
    f = change_request(theirs, local(2026, 11, 5, 10), state="submitted")
    steps = [
        step(a, 1, 1, "department_head", "approved", local(2026, 9, 30, 16),
             local(2026, 10, 8, 10)),
        step(a, 1, 2, "finance", "approved", local(2026, 10, 8, 10), local(2026, 10, 9, 10)),
        step(b, 1, 1, "department_head", "approved", local(2026, 10, 12, 9),
             local(2026, 10, 12, 14)),
        step(b, 1, 2, "finance", "rejected", local(2026, 10, 12, 14), local(2026, 10, 13, 11)),
        # never current, and its change is rejected: not overdue, whatever its due time
        step(b, 1, 3, "executive", "pending", due=local(2026, 10, 14, 9)),
        step(c, 1, 1, "department_head", "returned", local(2026, 10, 13, 9),
             local(2026, 10, 13, 10, 30)),
        step(c, 1, 2, "finance", "pending", due=local(2026, 10, 13, 12)),  # an earlier round
        step(c, 2, 1, "department_head", "approved", local(2026, 10, 14, 9),
             local(2026, 10, 14, 17)),
        step(c, 2, 2, "finance", "pending", local(2026, 10, 14, 17), due=local(2026, 10, 15, 17)),
        step(d, 1, 1, "executive", "approved", local(2026, 10, 15, 9), local(2026, 10, 15, 9, 30)),
    ]
    await seed_change_requests(app, [a, b, c, d, e, f], steps)
    return people


async def _figures(client: httpx.AsyncClient, clock: TestClock, who: Actor,
                   **params: str) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    with pinned(clock, REPORT_AT):
        body = await report(client, who, REPORT, **params)
    assert body["report"] == "change_requests"
    return figures(body)


async def test_every_figure_matches_the_hand_computed_one(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    with pinned(clock, REPORT_AT):
        body = await report(client, actors.admin, REPORT, department_id=scenario.department_id,
                            **PERIOD)
    assert figures(body) == EXPECTED
    assert (body["since"], body["until"], body["department_id"], body["reach"]) == (
        "2026-09-01", "2026-11-01", scenario.department_id, "all")
    assert body["as_of"].startswith("2026-10-16T04:")
    lead = next(f for f in body["figures"] if f["section"] == "approval_lead_time")
    assert lead["unit"] == "working_hours" and lead["interval"] is None
    assert lead["label"] == {"en": "Approval lead time, median (working hours)",
                             "zh-CN": "审批时长中位数（工作小时）"}


async def test_the_period_is_the_creation_day(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    dept = scenario.department_id
    everything = await _figures(client, clock, actors.admin, department_id=dept)
    assert everything[("total", "all", "count")] == (6, None)
    assert everything[("by_state", "submitted", "count")] == (1, None)
    later = await _figures(client, clock, actors.admin, department_id=dept,
                           since="2026-09-22")
    assert later == {**NOTHING, ("total", "all", "count"): (1, None),
                     ("by_state", "submitted", "count"): (1, None),
                     ("by_type", "normal", "count"): (1, None),
                     ("by_category", "scope", "count"): (1, None),
                     ("by_risk_level", "unassessed", "count"): (1, None),
                     ("emergency", "all", "share"): (0.0, 1),
                     # overdue is "now", whenever the change was created
                     ("overdue_steps_now", "all", "count"): (1, None),
                     ("overdue_steps_now", "finance", "count"): (1, None)}


async def test_each_caller_counts_only_what_they_may_read(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    dept = scenario.department_id
    assert await _figures(client, clock, scenario.head, **PERIOD) == EXPECTED
    assert await _figures(client, clock, actors.analyst, department_id=dept,
                          **PERIOD) == EXPECTED
    assert await _figures(client, clock, scenario.am1, **PERIOD) == AM1
    am2 = await _figures(client, clock, scenario.am2, **PERIOD)
    assert am2[("total", "all", "count")] == (2, None)
    assert am2[("approval_lead_time", "end_to_end", "median")] == (1.0, 2)  # 0.5 and 1.5
    assert am2[("overdue_steps_now", "finance", "count")] == (1, None)
    # another department's head and manager count none of it, even when they ask for it
    for other in (actors.head_east, actors.am_east):
        assert await _figures(client, clock, other, department_id=dept, **PERIOD) == NOTHING
    for refused in (actors.finance, actors.pm, actors.tech, actors.auditor):
        assert_problem(await client.get(REPORT, headers=refused.headers), 403, "forbidden")
    assert_problem(await client.get(REPORT), 401, "not_authenticated")
    for bad in ({"since": "2026-13-01"}, {"department_id": "east"}, {"format": "xlsx"}):
        assert_problem(await client.get(REPORT, headers=actors.admin.headers, params=bad),
                       422, "validation_failed")


async def test_the_csv_has_the_same_figures(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    with pinned(clock, REPORT_AT):
        response = await client.get(REPORT, headers=actors.admin.headers, params={
            "department_id": scenario.department_id, "format": "csv", **PERIOD})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="change-requests-report-20261016.csv"' in \
        response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    found = {(r["section"], r["key"], r["metric"]): (float(r["value"]) if r["value"] else None,
                                                      int(r["n"]) if r["n"] else None)
             for r in rows}
    assert found == {k: (None if v is None else float(v), n)
                     for k, (v, n) in EXPECTED.items()}
    head = next(r for r in rows if r["section"] == "approval_lead_time"
                and r["key"] == "department_head" and r["metric"] == "p90")
    assert (head["unit"], head["label_zh_cn"]) == ("working_hours", "审批时长90分位（工作小时）")


async def test_the_workflow_records_when_steps_start_and_implementation_ends(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """What the lead times and on-time figures read: a step's start when it becomes
    current (the first on conclusion, the next on the approval before it), and the
    completion of the implementation."""
    cr = await drive(client, actors, "implemented", **BIG)
    steps = sorted(await rows(app, cr_approval_steps, change_request_id=UUID(cr["id"])),
                   key=lambda s: s.position)
    assert len(steps) >= 2
    assert steps[0].started_at is not None
    for earlier, later in pairwise(steps):
        assert later.started_at == earlier.decided_at
    (stored,) = await rows(app, change_requests, id=UUID(cr["id"]))
    assert stored.implemented_at is not None and stored.implemented_at >= steps[-1].decided_at
