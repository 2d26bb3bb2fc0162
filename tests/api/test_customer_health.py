"""Customer health 0–100 (domain §6) through the API on both engines: the factors behind the
score, a neutral baseline of 70 when nothing is known (missing factors named, not
penalised), open complaints and open high risks lowering it, satisfaction moving it both
ways; the scheduled check announcing a fall below the threshold once and the recovery once;
and the customer's record scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from tests.change_request_support import customer_of
from tests.customer_support import CUSTOMERS, if_match, make_customer, read_customer
from tests.db import rows
from tests.support import Actor, Actors, TestClock, assert_problem
from tests.survey_support import answer, invited, make_template, own_team, scheduler

CHECKS = f"{CUSTOMERS}/health-checks"
POLICY = "/api/v1/settings/customer-health"
FEEDBACK = "/api/v1/feedback"
FACTORS = ["satisfaction", "satisfaction_trend", "open_complaints", "sla_breaches",
           "days_since_last_contact", "open_high_risks"]


async def health(client: httpx.AsyncClient, who: Actor, customer: dict[str, Any]
                 ) -> dict[str, Any]:
    response = await client.get(f"{CUSTOMERS}/{customer['id']}/health", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["customer_id"] == customer["id"]
    assert [f["name"] for f in body["factors"]] == FACTORS
    return body


def factors(body: dict[str, Any]) -> dict[str, tuple[Any, float, bool]]:
    """name → (raw, points, missing)."""
    return {f["name"]: (f["raw"], f["points"], f["missing"]) for f in body["factors"]}


async def feedback(client: httpx.AsyncClient, who: Actor, customer: dict[str, Any],
                   kind: str = "complaint", severity: str = "low") -> dict[str, Any]:
    response = await client.post(FEEDBACK, headers=who.headers, json={
        "customer_id": customer["id"], "channel": "phone", "type": kind,
        "severity": severity, "summary": "月结对账单连续两个月延迟"})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def resolve(client: httpx.AsyncClient, who: Actor, item: dict[str, Any]) -> dict[str, Any]:
    for action, body in (("acknowledge", None), ("start", None),
                         ("resolve", {"resolution": "已重新出具对账单"})):
        response = await client.post(f"{FEEDBACK}/{item['id']}/{action}", json=body,
                                     headers={**who.headers, **if_match(item)})
        assert response.status_code == 200, response.text
        item = response.json()
    assert item["state"] == "resolved"
    return item


async def risk(client: httpx.AsyncClient, who: Actor, customer: dict[str, Any],
               likelihood: int, impact: int) -> dict[str, Any]:
    response = await client.post("/api/v1/risks", headers=who.headers, json={
        "title": "关键客户项目延期风险", "customer_id": customer["id"],
        "likelihood": likelihood, "impact": impact})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_customer_without_data_sits_at_the_neutral_baseline(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east)
    body = await health(client, actors.am_east, customer)
    assert (body["score"], body["threshold"], body["suggest_at_risk"]) == (70.0, 40.0, False)
    assert factors(body) == {
        "satisfaction": (None, 0.0, True), "satisfaction_trend": (None, 0.0, True),
        "open_complaints": (0, 0.0, False), "sla_breaches": (0, 0.0, False),
        "days_since_last_contact": (None, 0.0, True), "open_high_risks": (0, 0.0, False)}


async def test_open_complaints_and_high_risks_lower_health(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am)
    await feedback(client, am, customer, "suggestion")  # not a complaint
    await feedback(client, am, customer, "praise")
    complaint = await feedback(client, am, customer)
    high = await risk(client, am, customer, 4, 4)
    assert high["level"] == "high"
    await risk(client, am, customer, 1, 1)  # a low risk does not count
    body = await health(client, am, customer)
    got = factors(body)
    assert got["open_complaints"] == (1, -8.0, False)
    assert got["open_high_risks"] == (1, -10.0, False)
    assert got["days_since_last_contact"] == (0, 0.0, False)  # the feedback was a contact
    assert got["satisfaction"] == (None, 0.0, True)
    assert body["score"] == 52.0 and body["suggest_at_risk"] is False

    # Deductions are capped: four more complaints take at most 32 points.
    for _ in range(4):
        await feedback(client, am, customer, severity="medium")
    capped = await health(client, am, customer)
    assert factors(capped)["open_complaints"] == (5, -32.0, False)
    assert capped["score"] == 28.0 and capped["suggest_at_risk"] is True

    # A resolved complaint and a closed risk no longer count.
    await resolve(client, am, complaint)
    closed = await client.post(f"/api/v1/risks/{high['id']}/status", json={"status": "closed"},
                               headers={**am.headers, **if_match(high)})
    assert closed.status_code == 200, closed.text
    after = await health(client, am, customer)
    assert factors(after)["open_complaints"] == (4, -32.0, False)
    assert factors(after)["open_high_risks"] == (0, 0.0, False)
    assert after["score"] == 38.0


@pytest.mark.parametrize(("nps", "csat", "score", "points"), [
    (10, 5, 100.0, 30.0),  # satisfaction 100: +30
    (0, 1, 40.0, -30.0),  # satisfaction 0: −30, and 40 is not below the threshold of 40
    (8, 4, 85.0, 15.0),  # NPS 0 → 50 and CSAT 100 → 100: 75 on 0–100, +15
])
async def test_satisfaction_moves_health_both_ways(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors, nps: int, csat: int,
        score: float, points: float) -> None:
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    issued = await invited(client, actors.am_east, template, customer)
    await answer(app, issued["token"], {"nps": nps, "csat": csat, "ces": 3, "channel": "电话",
                                        "topics": ["报价"]})
    body = await health(client, actors.head_east, customer)
    raw, got, missing = factors(body)["satisfaction"]
    assert (got, missing) == (points, False)
    assert raw == 50 + points * 50 / 30
    assert factors(body)["satisfaction_trend"] == (None, 0.0, True)  # nothing before
    assert factors(body)["days_since_last_contact"] == (0, 0.0, False)  # the answer
    assert (body["score"], body["suggest_at_risk"]) == (score, False)


async def test_the_trend_and_the_last_contact_look_back_over_time(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    answers = {"ces": 3, "channel": "电话", "topics": ["报价"]}
    first = await invited(client, actors.am_east, template, customer)
    await answer(app, first["token"], {"nps": 0, "csat": 1, **answers})  # satisfaction 0
    second = await invited(client, actors.am_east, template, customer, expires_in_days=180)
    shift = timedelta(days=100).total_seconds()
    clock.advance(seconds=shift)
    try:
        # 100 days on: the answer is no longer recent, and the last contact is old.
        quiet = await health(client, actors.am_east, customer)
        assert factors(quiet)["satisfaction"] == (None, 0.0, True)
        assert factors(quiet)["satisfaction_trend"] == (None, 0.0, True)
        assert factors(quiet)["days_since_last_contact"] == (100, -15.0, False)  # capped
        assert quiet["score"] == 55.0
        await answer(app, second["token"], {"nps": 8, "csat": 4, **answers})  # 75
        better = await health(client, actors.am_east, customer)
    finally:
        clock.advance(seconds=-shift)
    got = factors(better)
    assert got["satisfaction"] == (75.0, 15.0, False)
    assert got["satisfaction_trend"] == (75.0, 10.0, False)  # +0.2 a point, capped at 10
    assert got["days_since_last_contact"] == (0, 0.0, False)
    assert better["score"] == 95.0

async def test_health_follows_the_customers_record_scope(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east)
    for outsider in (actors.am_east2, actors.am_west, actors.head_west, actors.finance):
        response = await client.get(f"{CUSTOMERS}/{customer['id']}/health",
                                    headers=outsider.headers)
        assert_problem(response, 404, "not_found")
    for reader in (actors.am_east, actors.head_east, actors.admin, actors.executive,
                   actors.analyst, actors.auditor):
        assert (await health(client, reader, customer))["score"] == 70.0
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(await client.get(f"{CUSTOMERS}/{unknown}/health",
                                    headers=actors.admin.headers), 404, "not_found")


# The scheduled check, on an app of its own (it looks at every customer) ------------------

@pytest.fixture
async def team(fresh_app: FastAPI) -> tuple[httpx.AsyncClient, Actors]:
    return await own_team(fresh_app)


async def check(client: httpx.AsyncClient, actors: Actors) -> int:
    response = await client.post(CHECKS, headers=actors.admin.headers)
    assert response.status_code == 200, response.text
    return response.json()["count"]  # type: ignore[no-any-return]


async def announced(app: FastAPI, customer: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The customer's health events in the outbox, oldest first: (type, payload)."""
    found = [r for r in await rows(app, outbox, entity_id=customer["id"])
             if r.type.startswith("customer.health_")]
    return [(r.type, r.data) for r in sorted(found, key=lambda r: r.occurred_at)]


async def test_a_fall_below_the_threshold_is_announced_once_and_so_is_the_recovery(
        fresh_app: FastAPI, team: tuple[httpx.AsyncClient, Actors]) -> None:
    client, actors = team
    am = actors.am_east
    falling = await make_customer(client, am)
    steady = await make_customer(client, am)
    await feedback(client, am, steady)  # one complaint: 62, above the threshold
    assert await check(client, actors) == 0
    complaints = [await feedback(client, am, falling) for _ in range(4)]
    assert (await health(client, am, falling))["score"] == 38.0

    assert await check(client, actors) == 1
    assert await check(client, actors) == 0  # still below: no new announcement
    [(kind, payload)] = await announced(fresh_app, falling)
    assert kind == "customer.health_below_threshold"
    assert payload["score"] == 38.0 and payload["threshold"] == 40.0
    assert payload["suggested_stage"] == "at_risk"
    assert payload["factors"]["open_complaints"] == -32.0
    assert await announced(fresh_app, steady) == []
    stage = (await read_customer(client, am, falling["id"]))["stage"]
    assert stage != "at_risk"  # suggested, not applied

    await resolve(client, am, complaints[0])
    assert (await health(client, am, falling))["score"] == 46.0
    assert await check(client, actors) == 0  # a recovery is not a fall
    assert await check(client, actors) == 0
    events = await announced(fresh_app, falling)
    assert [k for k, _ in events] == ["customer.health_below_threshold",
                                      "customer.health_recovered"]
    assert events[1][1]["score"] == 46.0 and events[1][1]["suggested_stage"] is None
    timeline = await client.get(f"{CUSTOMERS}/{falling['id']}/timeline", headers=am.headers)
    types = [e["type"] for e in timeline.json()["data"]]
    assert types.count("customer.health_below_threshold") == 1
    assert types.count("customer.health_recovered") == 1

    # Falling again is a new fall, announced again.
    await feedback(client, am, falling)
    assert await check(client, actors) == 1
    assert [k for k, _ in await announced(fresh_app, falling)][-1] == \
        "customer.health_below_threshold"


async def test_the_threshold_and_weights_are_a_setting_and_checks_are_scheduled(
        team: tuple[httpx.AsyncClient, Actors]) -> None:
    client, actors = team
    customer = await make_customer(client, actors.am_east)
    # Administrators and schedulers (an API key with jobs:run) run the checks.
    for who in (actors.head_east, actors.am_east, actors.executive):
        assert_problem(await client.post(CHECKS, headers=who.headers), 403, "forbidden")
    ran = await client.post(CHECKS, headers=await scheduler(client, actors.admin))
    assert ran.status_code == 200 and ran.json() == {"count": 0}
    current = await client.get(POLICY, headers=actors.am_east.headers)
    assert current.status_code == 200, current.text
    policy = {k: v for k, v in current.json().items() if k != "version"}
    assert (policy["baseline"], policy["threshold"], policy["complaint_points"]) == (
        70.0, 40.0, 8.0)
    changed = {**policy, "threshold": 75.0}
    assert_problem(await client.put(POLICY, json=changed, headers=actors.admin.headers), 428,
                   "precondition_required")
    assert_problem(await client.put(POLICY, json=changed, headers={
        **actors.head_east.headers, "If-Match": current.headers["etag"]}), 403, "forbidden")
    stored = await client.put(POLICY, json=changed, headers={
        **actors.admin.headers, "If-Match": current.headers["etag"]})
    assert stored.status_code == 200, stored.text
    body = await health(client, actors.am_east, customer)
    assert (body["score"], body["threshold"], body["suggest_at_risk"]) == (70.0, 75.0, True)
    assert await check(client, actors) == 1  # every new customer is now below

