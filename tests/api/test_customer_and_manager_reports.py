"""The customer report (GET /reports/customers) and the account-manager report (GET
/reports/account-managers), domain §10, on both engines, against figures computed by hand.
A department of its own; customers made through the API on a pinned clock (so creation and
churn fall on known days), health, feedback, changes and handovers seeded with exact
instants; survey answers given through the public page.

Customers (Shanghai wall clock):
- c1 (am1): high value (tier A), active, created 5 Oct 2026; health 85.0.
- c2 (am1): at risk, created 20 Oct; churned 3 Nov (price); health 42.0, below threshold.
- c3 (am2): at risk, created 10 Nov; churned 12 Nov (competitor); health 61.0.
- c4 (am2): created 1 Sep, archived: never counted as live, and outside the period.

Period 2026-10-01 … 2026-12-01, report at 20 Nov 12:00."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.repositories.tables_feedback import customer_health, feedback_items
from app.repositories.tables_handovers import handovers
from tests.change_request_support import HIGH_VALUE, customer_of
from tests.conftest import client_for
from tests.customer_support import if_match
from tests.feedback_support import pinned
from tests.report_support import (
    Team,
    change_request,
    feedback,
    figures,
    handover,
    insert_rows,
    local,
    report,
    seed_change_requests,
    team,
)
from tests.support import Actor, Actors, TestClock, assert_problem, versioned
from tests.survey_support import ANSWERS, answer, invited, make_template

pytestmark = pytest.mark.asyncio(loop_scope="session")

CUSTOMERS = "/api/v1/reports/customers"
MANAGERS = "/api/v1/reports/account-managers"
REPORT_AT = local(2026, 11, 20, 12)
PERIOD = {"since": "2026-10-01", "until": "2026-12-01"}


@dataclass
class Scenario(Team):
    customers: dict[str, dict[str, Any]]


async def _customer(client: httpx.AsyncClient, clock: TestClock, am: Actor, when: Any,
                    **fields: Any) -> dict[str, Any]:
    with pinned(clock, when):
        return await customer_of(client, am, **fields)


async def _churn(client: httpx.AsyncClient, clock: TestClock, am: Actor,
                 customer: dict[str, Any], when: Any, reason: str) -> dict[str, Any]:
    with pinned(clock, when):
        response = await client.post(
            f"/api/v1/customers/{customer['id']}/stage", headers={**am.headers,
                                                                **if_match(customer)},
            json={"stage": "churned", "churn_reason": reason,
                  "churn_note": "客户已书面通知"})
    return versioned(response)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def scenario(app: FastAPI, actors: Actors, clock: TestClock) -> Scenario:
    async with client_for(app) as client:
        people = await team(client, actors.admin)
        dept, head, am1, am2 = people.department_id, people.head, people.am1, people.am2
        c1 = await _customer(client, clock, am1, local(2026, 10, 5, 10), stage="active",
                             **HIGH_VALUE)
        c2 = await _customer(client, clock, am1, local(2026, 10, 20, 10), stage="at_risk")
        c3 = await _customer(client, clock, am2, local(2026, 11, 10, 10), stage="at_risk")
        c4 = await _customer(client, clock, am2, local(2026, 9, 1, 10))
        c2 = await _churn(client, clock, am1, c2, local(2026, 11, 3, 10), "price")
        c3 = await _churn(client, clock, am2, c3, local(2026, 11, 12, 10), "competitor")
        archived = await client.post(f"/api/v1/customers/{c4['id']}/archive",
                                     headers={**am2.headers, **if_match(c4)})
        assert archived.status_code == 200, archived.text
        # survey answers in November: am1's c1 (10, 5) and (6, 3); am2's c3 (9, 4)
        template = await make_template(client, actors.admin)
        with pinned(clock, local(2026, 11, 15, 10)):
            for who, customer, nps, csat in ((am1, c1, 10, 5), (am1, c1, 6, 3),
                                             (am2, c3, 9, 4)):
                invitation = await invited(client, who, template, customer)
                await answer(app, invitation["token"], {**ANSWERS, "nps": nps, "csat": csat})
    await insert_rows(app, customer_health, [
        {"customer_id": UUID(c["id"]), "score": score, "below_threshold": below,
         "computed_at": REPORT_AT}
        for c, score, below in ((c1, 850, False), (c2, 420, True), (c3, 610, False))])
    # feedback: am1 A acknowledged in time, resolved late; B never acknowledged (both ran
    # out); am2 C acknowledged in time, its resolve clock still running
    await insert_rows(app, feedback_items, [
        feedback(c1, local(2026, 10, 6, 9), local(2026, 10, 6, 13), local(2026, 10, 8, 9),
                 local(2026, 10, 6, 11), local(2026, 10, 9, 9)),
        feedback(c1, local(2026, 10, 7, 9), local(2026, 10, 7, 12), local(2026, 10, 9, 9)),
        feedback(c3, local(2026, 11, 11, 9), local(2026, 11, 11, 12), local(2026, 12, 1, 9),
                 local(2026, 11, 11, 10)),
    ])
    created = local(2026, 10, 10, 10)
    await seed_change_requests(app, [
        change_request(c1, created, state="closed", implemented_at=local(2026, 10, 20, 10)),
        change_request(c1, created, state="rejected"),
        change_request(c3, created, state="cancelled"),
    ], [])
    await insert_rows(app, handovers, [
        handover(c2, am2.id, local(2026, 10, 25, 10), local(2026, 11, 2, 10)),
        handover(c1, am2.id, local(2026, 11, 14, 10), None),  # not transferred: not counted
    ])
    return Scenario(dept, head, am1, am2, {"c1": c1, "c2": c2, "c3": c3, "c4": c4})


async def _figures(client: httpx.AsyncClient, clock: TestClock, who: Actor, path: str,
                   **params: str) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    with pinned(clock, REPORT_AT):
        return figures(await report(client, who, path, **params))


def _customer_expected(s: Scenario, names: list[str]) -> dict[tuple[str, str, str],
                                                              tuple[Any, Any]]:
    """The customer figures of those live customers (integrity from what the API says)."""
    live = [s.customers[n] for n in names]
    health = {"c1": 85.0, "c2": 42.0, "c3": 61.0}
    bands = {"c1": "80-100", "c2": "40-59", "c3": "60-79"}
    integrity = [c["integrity_score"] for c in live]
    out: dict[tuple[str, str, str], tuple[Any, Any]] = {
        ("total", "all", "count"): (len(live), None),
        ("by_department", s.department_id, "count"): (len(live), None),
        ("integrity", "all", "median"): (statistics.median(integrity), len(live)),
        ("health", "all", "median"): (statistics.median(health[n] for n in names), len(live)),
        ("health", "all", "below_threshold"): (round(100 * ("c2" in names) / len(live), 1),
                                               len(live)),
    }
    for key, getter in (("by_tier", lambda c: c["tier"]["effective"]),
                        ("by_stage", lambda c: c["stage"]),
                        ("integrity_bands", lambda c: _band(c["integrity_score"]))):
        for c in live:
            k = (key, getter(c), "count")
            out[k] = ((out.get(k) or (0, None))[0] + 1, None)
    for n in names:
        k = ("health_bands", bands[n], "count")
        out[k] = ((out.get(k) or (0, None))[0] + 1, None)
    return out


def _band(value: int) -> str:
    return next((b for limit, b in ((20, "0-19"), (40, "20-39"), (60, "40-59"),
                                    (80, "60-79")) if value < limit), "80-100")


async def test_customer_figures_match_the_hand_computed_ones(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    s = scenario
    assert s.customers["c1"]["tier"]["effective"] == "A"
    found = await _figures(client, clock, actors.admin, CUSTOMERS, department_id=s.department_id,
                           **PERIOD)
    assert found == {
        **_customer_expected(s, ["c1", "c2", "c3"]),
        ("new", "2026-10", "count"): (2, None), ("new", "2026-11", "count"): (1, None),
        ("new", "all", "count"): (3, None),
        ("churned", "2026-11/competitor", "count"): (1, None),
        ("churned", "2026-11/price", "count"): (1, None),
        ("churned", "all", "count"): (2, None)}
    # before November nothing churned; c4, created in September, counts as new then
    early = await _figures(client, clock, actors.admin, CUSTOMERS, department_id=s.department_id,
                           since="2026-09-01", until="2026-11-01")
    assert (early[("new", "2026-09", "count")], early[("new", "all", "count")],
            early[("churned", "all", "count")]) == ((1, None), (3, None), (0, None))


async def test_customer_report_scope(client: httpx.AsyncClient, actors: Actors,
                                     clock: TestClock, scenario: Scenario) -> None:
    s = scenario
    whole = await _figures(client, clock, s.head, CUSTOMERS, **PERIOD)
    assert whole == await _figures(client, clock, actors.analyst, CUSTOMERS,
                                   department_id=s.department_id, **PERIOD)
    assert whole[("total", "all", "count")] == (3, None)
    am1 = await _figures(client, clock, s.am1, CUSTOMERS, **PERIOD)
    assert {k: v for k, v in am1.items() if k[0] not in ("new", "churned")} == \
        _customer_expected(s, ["c1", "c2"])
    assert (am1[("new", "all", "count")], am1[("churned", "all", "count")],
            am1[("churned", "2026-11/price", "count")]) == ((2, None), (1, None), (1, None))
    am2 = await _figures(client, clock, s.am2, CUSTOMERS, **PERIOD)
    assert (am2[("total", "all", "count")], am2[("churned", "all", "count")]) == \
        ((1, None), (1, None))
    nothing = await _figures(client, clock, actors.head_east, CUSTOMERS,
                             department_id=s.department_id, **PERIOD)
    assert nothing == {("total", "all", "count"): (0, None),
                       ("integrity", "all", "median"): (None, 0),
                       ("health", "all", "median"): (None, 0),
                       ("health", "all", "below_threshold"): (None, 0),
                       ("new", "all", "count"): (0, None), ("churned", "all", "count"): (0, None)}
    for refused in (actors.finance, actors.auditor):
        assert_problem(await client.get(CUSTOMERS, headers=refused.headers), 403, "forbidden")


def _manager_expected(s: Scenario) -> dict[str, dict[tuple[str, str], tuple[Any, Any]]]:
    """Per manager: (section, metric) → (value, n), computed by hand.

    CSAT: am1 1 of 2 satisfied (50.0), am2 1 of 1 (100.0). NPS: am1 one promoter and one
    detractor (0.0), am2 one promoter (100.0). Shrinkage: with two managers the data show
    no between-manager variance, so the documented prior k = 30 is used; overall CSAT 2/3:
    am1 2/3 + 2/32·(1/2 − 2/3) = 65.6, am2 2/3 + 1/31·(1 − 2/3) = 67.7; overall NPS 1/3:
    am1 1/3 − 2/32·1/3 = 31.25 → 31.2, am2 1/3 + 1/31·2/3 = 35.5."""
    am1, am2 = s.am1.id, s.am2.id
    c1_tier = s.customers["c1"]["tier"]["effective"]
    c2_tier = s.customers["c2"]["tier"]["effective"]
    c3_tier = s.customers["c3"]["tier"]["effective"]
    am1_tiers: dict[str, int] = {}
    for t in (c1_tier, c2_tier):
        am1_tiers[t] = am1_tiers.get(t, 0) + 1
    return {
        am1: {("customers", "count"): (2, None),
              **{("customers_by_tier", f"count/{t}"): (n, None) for t, n in am1_tiers.items()},
              ("health", "mean"): (63.5, 2), ("health", "below_threshold"): (50.0, 2),
              ("feedback_sla", "acknowledge_compliance"): (50.0, 2),
              ("feedback_sla", "resolve_compliance"): (0.0, 2),
              ("changes", "count"): (2, None), ("changes", "implemented"): (1, None),
              ("changes", "rejection_rate"): (50.0, 2), ("changes", "cancelled"): (0, None),
              ("satisfaction", "csat"): (50.0, 2), ("satisfaction", "csat_shrunk"): (65.6, 2),
              ("satisfaction", "nps"): (0.0, 2), ("satisfaction", "nps_shrunk"): (31.2, 2),
              ("handovers", "in"): (0, None), ("handovers", "out"): (1, None)},
        am2: {("customers", "count"): (1, None),
              ("customers_by_tier", f"count/{c3_tier}"): (1, None),
              ("health", "mean"): (61.0, 1), ("health", "below_threshold"): (0.0, 1),
              ("feedback_sla", "acknowledge_compliance"): (100.0, 1),
              ("feedback_sla", "resolve_compliance"): (None, 0),
              ("changes", "count"): (1, None), ("changes", "implemented"): (0, None),
              ("changes", "rejection_rate"): (0.0, 1), ("changes", "cancelled"): (1, None),
              ("satisfaction", "csat"): (100.0, 1), ("satisfaction", "csat_shrunk"): (67.7, 1),
              ("satisfaction", "nps"): (100.0, 1), ("satisfaction", "nps_shrunk"): (35.5, 1),
              ("handovers", "in"): (1, None), ("handovers", "out"): (0, None)},
    }


def _by_manager(found: dict[tuple[str, str, str], tuple[Any, Any]]
                ) -> dict[str, dict[tuple[str, str], tuple[Any, Any]]]:
    rows: dict[str, dict[tuple[str, str], tuple[Any, Any]]] = {}
    for (section, key, metric), value in found.items():
        manager, _, tier = key.partition("/")
        rows.setdefault(manager, {})[(section, metric + (f"/{tier}" if tier else ""))] = value
    return rows


async def test_manager_figures_match_the_hand_computed_ones(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    s = scenario
    with pinned(clock, REPORT_AT):
        body = await report(client, actors.admin, MANAGERS, department_id=s.department_id,
                            **PERIOD)
    assert _by_manager(figures(body)) == _manager_expected(s)
    csat = next(f for f in body["figures"] if f["section"] == "satisfaction"
                and f["key"] == s.am1.id and f["metric"] == "csat")
    # Wilson 95% for 1 of 2: centre 0.5, half-width 0.405
    assert csat["interval"] == {"low": 9.5, "high": 90.5}
    assert csat["flag"] == "low_confidence"
    shrunk = next(f for f in body["figures"] if f["metric"] == "nps_shrunk")
    assert shrunk["flag"] == "shrunk_toward_overall_mean" and shrunk["interval"] is None


async def test_managers_see_their_row_heads_their_department_analysts_all(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock,
        scenario: Scenario) -> None:
    s = scenario
    expected = _manager_expected(s)
    assert _by_manager(await _figures(client, clock, s.head, MANAGERS, **PERIOD)) == expected
    assert _by_manager(await _figures(client, clock, actors.analyst, MANAGERS,
                                      department_id=s.department_id, **PERIOD)) == expected
    mine = _by_manager(await _figures(client, clock, s.am1, MANAGERS, **PERIOD))
    assert set(mine) == {s.am1.id}
    # alone, am1's shrinkage has no other manager to pull toward: their own mean
    assert mine[s.am1.id][("satisfaction", "csat_shrunk")] == (50.0, 2)
    assert {k: v for k, v in mine[s.am1.id].items() if not k[1].endswith("_shrunk")} == \
        {k: v for k, v in expected[s.am1.id].items() if not k[1].endswith("_shrunk")}
    theirs = _by_manager(await _figures(client, clock, s.am2, MANAGERS, **PERIOD))
    assert set(theirs) == {s.am2.id}
    # the handover from am1 to am2 is am2's as well: counted once, as "in"
    assert theirs[s.am2.id][("handovers", "in")] == (1, None)
    assert await _figures(client, clock, actors.head_east, MANAGERS,
                          department_id=s.department_id, **PERIOD) == {}
