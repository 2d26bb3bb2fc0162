"""The risk report (GET /reports/risks) and the handover outcomes of GET /reports/handovers
(domain §10) on both engines, against figures computed by hand. A department of its own;
risks, handovers and findings seeded with exact instants; customers, their churn and the
survey answers made through the API on a pinned clock. Report at Fri 20 Nov 2026 12:00
(Shanghai).

Risks: r1 open, 4×4 critical, am1's, review due 10 Nov (overdue), linked to a change,
opened 3 Oct; r2 mitigating, 2×3 medium, am2's, review 25 Nov, linked to a handover,
opened 15 Oct; r3 3×3 high, am1's, opened 20 Oct, closed 5 Nov, linked to a change (closed:
not counted); r4 open, 1×1 low, am2's, opened 10 Sep (before the period), linked to a plan.

Handovers (am1 → am2), created in May: h1 transferred Mon 1 Jun 10:00, its customer churned
Sun 30 Aug 17:00 — day 90 after the transfer's day: counted; h2 transferred Tue 2 Jun 10:00,
churned Tue 1 Sep 09:00 — day 91: not counted; h3 transferred 3 Jun, never churned; h4
transferred 1 Nov, churned 10 Nov: its 90 days have not passed, so it counts "so far" only;
h5 not transferred (its customer churned): nowhere. Churn within 90 days: 1 of 3 (33.3 %),
so far 2. Satisfaction: h3's customer answered 4 May (CSAT 5, NPS 10) and 3 Jul (CSAT 2,
NPS 3); h1's customer only before: left out. Findings: h1 contacts ×2, contracts ×1; h2
contacts ×1; over 5 handovers: contacts 3 (0.6 each), contracts 1 (0.2)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.repositories.tables_handovers import handover_findings, handovers
from app.repositories.tables_risks import risks
from tests.change_request_support import customer_of
from tests.conftest import client_for
from tests.customer_support import if_match
from tests.feedback_support import pinned
from tests.report_support import Team, figures, handover, insert_rows, local, report, team
from tests.support import Actor, Actors, TestClock, assert_problem, versioned
from tests.survey_support import ANSWERS, answer, invited, make_template

pytestmark = pytest.mark.asyncio(loop_scope="session")

RISKS = "/api/v1/reports/risks"
HANDOVERS = "/api/v1/reports/handovers"
REPORT_AT = local(2026, 11, 20, 12)
PERIOD = {"since": "2026-10-01", "until": "2026-12-01"}


Scenario = Team


def _risk(dept: str, owner: Actor, likelihood: int, impact: int, level: int, status: str,
          created: Any, review: date | None = None, closed: Any = None,
          **links: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "title": "关键联系人离职", "description": "", "customer_id": None,
            "change_request_id": None, "handover_id": None, "plan_id": None,
            "likelihood": likelihood, "impact": impact, "level": level,
            "owner_id": uuid.UUID(owner.id), "department_id": uuid.UUID(dept),
            "mitigation": "", "contingency_plan": "", "early_warning": "",
            "next_review_date": review, "status": status, "version": 1, "created_at": created,
            "updated_at": created, "closed_at": closed, **links}


async def _churn(client: httpx.AsyncClient, clock: TestClock, am: Actor,
                 customer: dict[str, Any], when: Any) -> None:
    with pinned(clock, when):
        versioned(await client.post(
            f"/api/v1/customers/{customer['id']}/stage",
            headers={**am.headers, **if_match(customer)},
            json={"stage": "churned", "churn_reason": "competitor", "churn_note": "已转签"}))


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def scenario(app: FastAPI, actors: Actors, clock: TestClock) -> Scenario:
    async with client_for(app) as client:
        people = await team(client, actors.admin)
        dept, am1, am2 = people.department_id, people.am1, people.am2
        with pinned(clock, local(2026, 5, 1, 10)):
            k = [await customer_of(client, am1, stage="at_risk") for _ in range(5)]
        template = await make_template(client, actors.admin)
        for customer, when, csat, nps in ((k[2], local(2026, 5, 4, 10), 5, 10),
                                          (k[2], local(2026, 7, 3, 10), 2, 3),
                                          (k[0], local(2026, 5, 6, 10), 4, 9)):
            with pinned(clock, when):
                invitation = await invited(client, am1, template, customer)
                await answer(app, invitation["token"], {**ANSWERS, "nps": nps, "csat": csat})
        await _churn(client, clock, am1, k[0], local(2026, 8, 30, 17))
        await _churn(client, clock, am1, k[1], local(2026, 9, 1, 9))
        await _churn(client, clock, am1, k[3], local(2026, 11, 10, 10))
        await _churn(client, clock, am1, k[4], local(2026, 11, 11, 10))
    may = local(2026, 5, 20, 10)
    rows = [handover(k[0], am2.id, may, local(2026, 6, 1, 10)),
            handover(k[1], am2.id, may, local(2026, 6, 2, 10)),
            handover(k[2], am2.id, may, local(2026, 6, 3, 10)),
            handover(k[3], am2.id, may, local(2026, 11, 1, 10)),
            handover(k[4], am2.id, may, None)]
    await insert_rows(app, handovers, rows)
    await insert_rows(app, handover_findings, [
        {"id": uuid.uuid4(), "handover_id": rows[i]["id"], "item_key": item,
         "raised_by": uuid.UUID(am2.id), "text": "缺少资料", "raised_at": may}
        for i, item in ((0, "contacts"), (0, "contacts"), (0, "contracts"), (1, "contacts"))])
    await insert_rows(app, risks, [
        _risk(dept, am1, 4, 4, 4, "open", local(2026, 10, 3, 10), date(2026, 11, 10),
              change_request_id=uuid.uuid4()),
        _risk(dept, am2, 2, 3, 2, "mitigating", local(2026, 10, 15, 10), date(2026, 11, 25),
              handover_id=uuid.uuid4()),
        _risk(dept, am1, 3, 3, 3, "closed", local(2026, 10, 20, 10), None,
              local(2026, 11, 5, 10), change_request_id=uuid.uuid4()),
        _risk(dept, am2, 1, 1, 1, "open", local(2026, 9, 10, 10), None,
              plan_id=uuid.uuid4()),
    ])
    return people


async def _get(client: httpx.AsyncClient, clock: TestClock, who: Actor, path: str,
               **params: str) -> dict[str, Any]:
    with pinned(clock, REPORT_AT):
        return await report(client, who, path, **params)


def _risks_expected(s: Scenario) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    return {("open", "all", "count"): (3, None),
            ("open_by_level", "low", "count"): (1, None),
            ("open_by_level", "medium", "count"): (1, None),
            ("open_by_level", "critical", "count"): (1, None),
            ("open_by_owner", s.am1.id, "count"): (1, None),
            ("open_by_owner", s.am2.id, "count"): (2, None),
            ("heat_map", "1x1", "count"): (1, None), ("heat_map", "2x3", "count"): (1, None),
            ("heat_map", "4x4", "count"): (1, None),
            ("reviews_overdue", "all", "count"): (1, None),
            ("linked", "change_request", "count"): (1, None),
            ("linked", "handover", "count"): (1, None), ("linked", "plan", "count"): (1, None),
            ("opened", "2026-10", "count"): (3, None), ("opened", "all", "count"): (3, None),
            ("closed", "2026-11", "count"): (1, None), ("closed", "all", "count"): (1, None)}


async def test_risk_figures_and_who_reads_them(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    s = scenario
    expected = _risks_expected(s)
    body = await _get(client, clock, actors.admin, RISKS, department_id=s.department_id,
                      **PERIOD)
    assert figures(body) == expected
    # a department's risks are its members' shared concern: its managers read them all
    for reader in (s.head, s.am1, s.am2):
        assert figures(await _get(client, clock, reader, RISKS, **PERIOD)) == expected
    assert figures(await _get(client, clock, actors.analyst, RISKS,
                              department_id=s.department_id, **PERIOD)) == expected
    september = figures(await _get(client, clock, actors.admin, RISKS,
                                   department_id=s.department_id, since="2026-09-01",
                                   until="2026-10-01"))
    assert (september[("opened", "2026-09", "count")], september[("closed", "all", "count")],
            september[("open", "all", "count")]) == ((1, None), (0, None), (3, None))
    outside = figures(await _get(client, clock, actors.am_east, RISKS,
                                 department_id=s.department_id, **PERIOD))
    assert outside == {("open", "all", "count"): (0, None),
                       ("reviews_overdue", "all", "count"): (0, None),
                       ("linked", "change_request", "count"): (0, None),
                       ("linked", "handover", "count"): (0, None),
                       ("linked", "plan", "count"): (0, None),
                       ("opened", "all", "count"): (0, None),
                       ("closed", "all", "count"): (0, None)}
    assert_problem(await client.get(RISKS, headers=actors.auditor.headers), 403, "forbidden")


OUTCOMES: dict[tuple[str, str, str], tuple[Any, Any]] = {
    ("churn_within_90_days", "all", "rate"): (33.3, 3),
    ("churn_within_90_days", "all", "so_far"): (2, None),
    ("satisfaction_compared", "all", "customers"): (1, None),
    ("satisfaction_before", "all", "csat"): (100.0, 1),
    ("satisfaction_before", "all", "nps"): (100.0, 1),
    ("satisfaction_after", "all", "csat"): (0.0, 1),
    ("satisfaction_after", "all", "nps"): (-100.0, 1),
    ("findings", "contacts", "count"): (3, None),
    ("findings", "contacts", "per_handover"): (0.6, 5),
    ("findings", "contracts", "count"): (1, None),
    ("findings", "contracts", "per_handover"): (0.2, 5),
}


async def test_handover_outcomes_churn_on_the_90th_day_and_satisfaction_before_after(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    s = scenario
    body = await _get(client, clock, actors.admin, HANDOVERS, department_id=s.department_id)
    assert body["overall"]["count"] == 5
    assert figures({"figures": body["outcomes"]}) == OUTCOMES
    before = next(f for f in body["outcomes"] if f["section"] == "satisfaction_before"
                  and f["metric"] == "csat")
    # Wilson 95% for 1 of 1: [20.7, 100]
    assert (before["interval"], before["flag"]) == ({"low": 20.7, "high": 100.0},
                                                    "low_confidence")
    for reader in (s.head,):
        found = await _get(client, clock, reader, HANDOVERS)
        assert figures({"figures": found["outcomes"]}) == OUTCOMES
    found = await _get(client, clock, actors.analyst, HANDOVERS, department_id=s.department_id)
    assert figures({"figures": found["outcomes"]}) == OUTCOMES
    other = await _get(client, clock, actors.head_east, HANDOVERS,
                       department_id=s.department_id)
    assert figures({"figures": other["outcomes"]}) == {
        ("churn_within_90_days", "all", "rate"): (None, 0),
        ("churn_within_90_days", "all", "so_far"): (0, None),
        ("satisfaction_compared", "all", "customers"): (0, None),
        ("satisfaction_before", "all", "csat"): (None, 0),
        ("satisfaction_before", "all", "nps"): (None, 0),
        ("satisfaction_after", "all", "csat"): (None, 0),
        ("satisfaction_after", "all", "nps"): (None, 0)}
    assert_problem(await client.get(HANDOVERS, headers=s.am1.headers), 403, "forbidden")
