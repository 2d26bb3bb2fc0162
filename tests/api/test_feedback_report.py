"""The feedback report (GET /reports/feedback, domain §6) through the API on both engines,
against figures computed by hand: volumes by type, severity, state and channel; SLA
compliance (share of clocks met among those that ran: done, or past their due); working
hours to acknowledge and to resolve (median, mean); the period and department filters;
each role's scope; the CSV export.

The scenario lives in a department of its own so that nothing else counts, and every
step happens on a pinned clock, so the figures hold whenever the suite runs. Times are
Shanghai wall clock, working hours Mon–Fri 09–18 (week of 9 November 2026, no holiday):

- A, am1, complaint/high/phone, received Mon 9th 09:00: acknowledged Mon 11:00 (2 h; urgent,
  due 13:00: met), resolved Wed 11th 09:00 (18 h: met), confirmed.
- B, am1, complaint/medium/email, received Mon 9th 09:00: acknowledged Thu 12th 09:00 (27 h;
  due Wed 15:00: late), resolved Tue 17th 09:00 (54 h: late).
- C, am1, suggestion/low/web, received Tue 10th 14:00: acknowledged Tue 15:00 (1 h: met), in
  progress; its resolve due, Tue 17th 14:00, ran out.
- D, am2, praise/low/im, received Wed 11th 10:00, untouched: acknowledge due Fri 13th 16:00
  and resolve due Wed 18th 10:00 both ran out.
- E, am2, question/critical/visit, received Wed 18th 11:00, untouched: no clock has run yet
  at the report (Wed 18th 12:00).

Acknowledge: measured A B C D, met A C → 50.0 %. Resolve: measured A B C D, met A → 25.0 %.
Time to acknowledge 2, 27, 1 → median 2.0, mean 10.0. Time to resolve 18, 54 → median
36.0, mean 36.0."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from tests.change_request_support import customer_of
from tests.conftest import client_for
from tests.feedback_support import department, local, moved, pinned, record
from tests.support import Actor, Actors, TestClock, actor, assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPORT = "/api/v1/reports/feedback"
REPORT_AT = local(2026, 11, 18, 12)
EXPECTED: dict[str, Any] = {
    "total": 5,
    "by_type": {"complaint": 2, "praise": 1, "question": 1, "suggestion": 1},
    "by_severity": {"critical": 1, "high": 1, "low": 2, "medium": 1},
    "by_state": {"confirmed": 1, "in_progress": 1, "received": 2, "resolved": 1},
    "by_channel": {"email": 1, "im": 1, "phone": 1, "visit": 1, "web": 1},
    "acknowledge_sla": {"measured": 4, "met": 2, "compliance_percent": 50.0},
    "resolve_sla": {"measured": 4, "met": 1, "compliance_percent": 25.0},
    "time_to_acknowledge": {"n": 3, "median_working_hours": 2.0, "mean_working_hours": 10.0},
    "time_to_resolve": {"n": 2, "median_working_hours": 36.0, "mean_working_hours": 36.0},
}
# What am1 alone sees (A, B, C): acknowledge A B C measured, A C met; resolve A B C, A met.
AM1: dict[str, Any] = {
    **EXPECTED, "total": 3,
    "by_type": {"complaint": 2, "suggestion": 1},
    "by_severity": {"high": 1, "low": 1, "medium": 1},
    "by_state": {"confirmed": 1, "in_progress": 1, "resolved": 1},
    "by_channel": {"email": 1, "phone": 1, "web": 1},
    "acknowledge_sla": {"measured": 3, "met": 2, "compliance_percent": 66.7},
    "resolve_sla": {"measured": 3, "met": 1, "compliance_percent": 33.3},
}
EMPTY: dict[str, Any] = {
    "total": 0, "by_type": {}, "by_severity": {}, "by_state": {}, "by_channel": {},
    "acknowledge_sla": {"measured": 0, "met": 0, "compliance_percent": None},
    "resolve_sla": {"measured": 0, "met": 0, "compliance_percent": None},
    "time_to_acknowledge": {"n": 0, "median_working_hours": None, "mean_working_hours": None},
    "time_to_resolve": {"n": 0, "median_working_hours": None, "mean_working_hours": None},
}


@dataclass
class Scenario:
    department_id: str
    head: Actor
    am1: Actor
    am2: Actor


async def _step(client: httpx.AsyncClient, clock: TestClock, who: Actor,
                fb: dict[str, Any], action: str, *when: int,
                payload: dict[str, Any] | None = None) -> dict[str, Any]:
    with pinned(clock, local(*when)):
        return await moved(client, who, fb, action, payload)


async def _received(client: httpx.AsyncClient, clock: TestClock, who: Actor,
                    customer: dict[str, Any], when: tuple[int, ...],
                    **fields: Any) -> dict[str, Any]:
    with pinned(clock, local(*when)):
        return await record(client, who, customer, received_at=local(*when).isoformat(),
                            **fields)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def scenario(app: FastAPI, actors: Actors, clock: TestClock) -> Scenario:
    async with client_for(app) as client:
        return await _build(client, actors, clock)


async def _build(client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> Scenario:
    dept = await department(client, actors.admin)
    head = await actor(client, actors.admin, dept, ["department_head"])
    am1 = await actor(client, actors.admin, dept, ["account_manager"])
    am2 = await actor(client, actors.admin, dept, ["account_manager"])
    mine = await customer_of(client, am1)
    theirs = await customer_of(client, am2)

    a = await _received(client, clock, am1, mine, (2026, 11, 9, 9), type="complaint",
                        severity="high", channel="phone")
    a = await _step(client, clock, am1, a, "acknowledge", 2026, 11, 9, 11)
    a = await _step(client, clock, am1, a, "start", 2026, 11, 9, 12)
    a = await _step(client, clock, am1, a, "resolve", 2026, 11, 11, 9)
    a = await _step(client, clock, am1, a, "confirm", 2026, 11, 11, 10)

    b = await _received(client, clock, am1, mine, (2026, 11, 9, 9), type="complaint",
                        severity="medium", channel="email")
    b = await _step(client, clock, am1, b, "acknowledge", 2026, 11, 12, 9)
    b = await _step(client, clock, am1, b, "start", 2026, 11, 12, 10)
    b = await _step(client, clock, am1, b, "resolve", 2026, 11, 17, 9)

    c = await _received(client, clock, am1, mine, (2026, 11, 10, 14), type="suggestion",
                        severity="low", channel="web")
    c = await _step(client, clock, am1, c, "acknowledge", 2026, 11, 10, 15)
    await _step(client, clock, am1, c, "start", 2026, 11, 10, 16)

    await _received(client, clock, am2, theirs, (2026, 11, 11, 10), type="praise",
                    severity="low", channel="im")
    await _received(client, clock, am2, theirs, (2026, 11, 18, 11), type="question",
                    severity="critical", channel="visit")
    return Scenario(dept, head, am1, am2)


async def _report(client: httpx.AsyncClient, clock: TestClock, who: Actor,
                  **params: str) -> dict[str, Any]:
    with pinned(clock, REPORT_AT):
        response = await client.get(REPORT, headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


async def test_figures_match_the_hand_computed_ones(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    found = await _report(client, clock, actors.admin, department_id=scenario.department_id)
    assert found == EXPECTED


async def test_each_role_reports_within_its_scope(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    dept = scenario.department_id
    assert await _report(client, clock, scenario.head) == EXPECTED
    assert await _report(client, clock, scenario.head, department_id=dept) == EXPECTED
    for reader in (actors.executive, actors.analyst):
        assert await _report(client, clock, reader, department_id=dept) == EXPECTED
    assert await _report(client, clock, scenario.am1) == AM1
    am2 = await _report(client, clock, scenario.am2)
    assert (am2["total"], am2["by_type"]) == (2, {"praise": 1, "question": 1})
    assert am2["acknowledge_sla"] == {"measured": 1, "met": 0, "compliance_percent": 0.0}
    # Another department's head and manager see none of it, even when they ask for it.
    assert await _report(client, clock, actors.head_east, department_id=dept) == EMPTY
    assert await _report(client, clock, actors.am_east, department_id=dept) == EMPTY
    for other in (actors.finance, actors.pm, actors.tech, actors.auditor):
        assert_problem(await client.get(REPORT, headers=other.headers), 403, "forbidden")
    assert_problem(await client.get(REPORT), 401, "not_authenticated")


async def test_the_period_is_received_from_since_to_before_until(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    """UTC days: D (Wed 11th 10:00 Shanghai = 02:00 UTC) is on the 11th; C (Tue 10th 14:00)
    on the 10th; E on the 18th."""
    dept = scenario.department_id
    assert await _report(client, clock, actors.admin, department_id=dept,
                         since="2026-11-09", until="2026-11-19") == EXPECTED
    late = await _report(client, clock, actors.admin, department_id=dept, since="2026-11-11")
    assert (late["total"], late["by_type"]) == (2, {"praise": 1, "question": 1})
    assert late["acknowledge_sla"] == {"measured": 1, "met": 0, "compliance_percent": 0.0}
    assert late["resolve_sla"] == {"measured": 1, "met": 0, "compliance_percent": 0.0}
    early = await _report(client, clock, actors.admin, department_id=dept, until="2026-11-10")
    assert (early["total"], early["by_state"]) == (2, {"confirmed": 1, "resolved": 1})
    assert early["time_to_resolve"] == {"n": 2, "median_working_hours": 36.0,
                                        "mean_working_hours": 36.0}
    assert await _report(client, clock, actors.admin, department_id=dept,
                         since="2026-12-01") == EMPTY
    for bad in ({"since": "2026-13-01"}, {"department_id": "east"}, {"format": "xlsx"}):
        assert_problem(await client.get(REPORT, headers=actors.admin.headers, params=bad),
                       422, "validation_failed")
    assert_problem(await client.get(REPORT, headers=actors.admin.headers,
                                    params={"colour": "red"}), 400, "unknown_query_parameter")


async def test_the_csv_export(client: httpx.AsyncClient, actors: Actors, clock: TestClock,
                              scenario: Scenario) -> None:
    """UTF-8 with a BOM (Excel opens it as such), one row per figure, empty cells for
    figures that do not exist; the same figures as the JSON report."""
    with pinned(clock, REPORT_AT):
        response = await client.get(REPORT, headers={**actors.admin.headers,
                                                     "Accept-Language": "zh-CN"},
                                    params={"department_id": scenario.department_id,
                                            "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "feedback-report.csv" in response.headers["content-disposition"]
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8")
    table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert table[0] == ["section", "key", "value"]
    cells = {(section, key): value for section, key, value in table[1:]}
    assert len(cells) == len(table) - 1
    expected = {(section, key): value for section, content in EXPECTED.items()
                for key, value in (content.items() if isinstance(content, dict)
                                   else [("value", content)])}
    assert cells == {k: "" if v is None else str(v) for k, v in expected.items()}
    assert text.count("\r\n") == len(table)
    with pinned(clock, REPORT_AT):
        none = await client.get(REPORT, headers=actors.head_east.headers,
                                params={"department_id": scenario.department_id,
                                        "format": "csv"})
    rows = list(csv.reader(io.StringIO(none.content.decode("utf-8").removeprefix("\ufeff"))))
    assert ["acknowledge_sla", "compliance_percent", ""] in rows
    assert ["total", "value", "0"] in rows
