"""Handover reports (domain §4, §10): one handover's report, and the figures by department
and month (count, states, median days to transfer, findings per handover, overdue
follow-ups) with each role's scope. On an app of its own, with the clock moved, so the
figures are exact."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.handover_support import HANDOVERS, customer_of_tier, ok, path_of, post, start
from tests.handover_time import clocked, move_to
from tests.support import Actor, Actors, TestClock, actor, assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPORT = "/api/v1/reports/handovers"
CREATED_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai


async def figures(client: httpx.AsyncClient, who: Actor, **params: str) -> dict[str, Any]:
    response = await client.get(REPORT, headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_the_figures_by_department_and_month_and_who_sees_which(
        fresh_app: FastAPI, clock: TestClock) -> None:
    async with clocked(fresh_app, clock) as (client, actors):
        await _scenario(client, actors, clock)


async def _scenario(client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    giver, taker = actors.am_east, actors.am_east2
    west_taker = await actor(client, actors.admin, actors.west, ["account_manager"])
    move_to(clock, CREATED_AT)
    east = [await start(client, giver, await customer_of_tier(client, giver, "C"), taker)
            for _ in range(3)]
    west = await start(client, actors.am_west,
                       await customer_of_tier(client, actors.am_west, "C"), west_taker)
    # One finding on the first, resolved; it is transferred two days later.
    first = await ok(client, giver, east[0], "/start-preparation")
    first = await ok(client, taker, first, "/findings", {"item": "contacts",
                                                         "text": "缺少财务联系人"},
                     versioned=False)
    first = await ok(client, giver, first, f"/findings/{first['findings'][0]['id']}/resolve",
                     {"resolution": "已补充"}, versioned=False)
    move_to(clock, datetime(2026, 6, 3, 2, 0, tzinfo=UTC))
    first = await ok(client, taker, first, "/sign")
    move_to(clock, datetime(2026, 6, 5, 2, 0, tzinfo=UTC))
    second = await ok(client, giver, east[1], "/start-preparation")
    second = await ok(client, taker, second, "/sign")
    await ok(client, actors.head_east, east[2], "/cancel", {"reason": "客户合并"})

    report = await client.get(path_of(first, "/report"), headers=actors.head_east.headers)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["durations"] == {"created_to_transferred_days": 2.0}
    assert body["handover"]["state"] == "transferred"
    assert [(f["item_key"], f["resolution"]) for f in body["handover"]["findings"]] == [
        ("contacts", "已补充")]
    assert [s["role"] for s in body["handover"]["signatures"]] == ["receiving"]
    assert {f["name"] for f in body["handover"]["risk"]["factors"]} >= {"tier", "open_risks"}
    assert body["handover"]["transfer"] is not None
    draft_report = await client.get(path_of(west, "/report"), headers=actors.admin.headers)
    assert draft_report.json()["durations"] == {}
    assert_problem(await client.get(path_of(west, "/report"),
                                    headers=actors.head_east.headers), 404, "not_found")

    # Forty days on, neither transferred handover has been followed up.
    move_to(clock, datetime(2026, 7, 11, 2, 0, tzinfo=UTC))
    east_figures = {"count": 3, "by_state": {"cancelled": 1, "transferred": 2},
                    "transferred": 2, "median_days_to_transfer": 3.0,
                    "findings_per_handover": 0.33, "overdue_follow_ups": 2}
    west_figures = {"count": 1, "by_state": {"draft": 1}, "transferred": 0,
                    "median_days_to_transfer": None, "findings_per_handover": 0.0,
                    "overdue_follow_ups": 0}
    everything = {"count": 4, "by_state": {"cancelled": 1, "draft": 1, "transferred": 2},
                  "transferred": 2, "median_days_to_transfer": 3.0,
                  "findings_per_handover": 0.25, "overdue_follow_ups": 2}
    for who in (actors.admin, actors.executive, actors.analyst):
        found = await figures(client, who)
        assert found["overall"] == everything
        assert sorted(found["by_department"], key=lambda d: d["count"]) == [
            {"department_id": actors.west, **west_figures},
            {"department_id": actors.east, **east_figures}]
        assert found["by_month"] == [{"month": "2026-06", **everything}]
    head = await figures(client, actors.head_east)
    assert head["overall"] == east_figures
    assert [d["department_id"] for d in head["by_department"]] == [actors.east]
    # A head asking for another department gets nothing of it.
    assert (await figures(client, actors.head_west,
                          department_id=actors.east))["overall"]["count"] == 0
    assert (await figures(client, actors.admin, department_id=actors.west))["overall"] == \
        west_figures
    assert (await figures(client, actors.admin, since="2026-07-01"))["overall"]["count"] == 0
    assert (await figures(client, actors.admin, until="2026-06-01"))["overall"]["count"] == 0
    assert (await figures(client, actors.admin, since="2026-06-01",
                          until="2026-06-02"))["overall"]["count"] == 4
    for who in (actors.am_east, actors.finance):
        assert_problem(await client.get(REPORT, headers=who.headers), 403, "forbidden")

    # Following up takes the handover out of the overdue figure.
    h = await ok(client, taker, first, "/follow-up", {
        "contacted_on": "2026-07-11", "channel": "phone", "outcome": "客户满意"})
    assert h["state"] == "followed_up"
    assert (await figures(client, actors.head_east))["overall"]["overdue_follow_ups"] == 1
    listed = await client.get(HANDOVERS, headers=actors.head_east.headers,
                              params={"follow_up_overdue": "true"})
    assert [x["id"] for x in listed.json()["data"]] == [second["id"]]
    assert_problem(await post(client, taker, h, "/follow-up", {
        "contacted_on": "2026-07-11", "channel": "phone", "outcome": "再次"}),
        409, "transition_not_allowed")
