"""Follow-up deadlines after a transfer (domain §4): working days of the business calendar,
Chinese public holidays and make-up working days (调休) included; the overdue filter; one
escalation event per overdue follow-up however often the job runs. The clock is moved to
the last working day before National Day 2026 (2026-10-01..07 off, Saturday 10-10 worked),
on an app of its own so that handovers overdue "in the past" do not reach other tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.handover_support import HANDOVERS, customer_of_tier, ok, prepare, start
from tests.handover_time import clocked, move_to
from tests.support import Actor, Actors, TestClock, assert_problem, list_all

pytestmark = pytest.mark.asyncio(loop_scope="session")

ESCALATE = f"{HANDOVERS}/follow-up-escalations"
# transfer on Wednesday 2026-09-30, 12:00 in Shanghai
TRANSFER_AT = datetime(2026, 9, 30, 4, 0, tzinfo=UTC)
# strict 3 working days: 10-08, 10-09, 10-10 (a make-up Saturday); standard 7: then
# 10-12..10-15; light 14: then 10-16, 10-19..10-23, 10-26.
DUE = {"A": ("strict", "2026-10-10"), "B": ("standard", "2026-10-15"),
       "C": ("light", "2026-10-26")}


async def transferred(client: httpx.AsyncClient, actors: Actors, tier: str
                      ) -> dict[str, Any]:
    giver, taker = actors.am_east, actors.am_east2
    customer = await customer_of_tier(client, giver, tier)
    h = await prepare(client, actors, await start(client, giver, customer, taker), customer,
                      giver, taker)
    signers: list[Actor] = {"strict": [giver, taker, actors.head_east],
                            "standard": [giver, taker], "light": [taker]}[h["level"]]
    for who in signers:
        h = await ok(client, who, h, "/sign")
    assert h["state"] == "transferred", h
    return h


async def overdue_ids(client: httpx.AsyncClient, who: Actor) -> set[str]:
    return {x["id"] for x in await list_all(client, HANDOVERS, who.headers,
                                            follow_up_overdue="true")}


async def follow_up_events(client: httpx.AsyncClient, who: Actor,
                           h: dict[str, Any]) -> list[dict[str, Any]]:
    timeline = await list_all(client, f"/api/v1/customers/{h['customer_id']}/timeline",
                              who.headers)
    return [e for e in timeline if e["type"] == "handover.follow_up_overdue"]


async def test_follow_ups_fall_due_in_working_days_across_national_day(
        fresh_app: FastAPI, clock: TestClock) -> None:
    async with clocked(fresh_app, clock) as (client, actors):
        await _scenario(client, actors, clock)


async def _scenario(client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    move_to(clock, TRANSFER_AT)
    done = {tier: await transferred(client, actors, tier) for tier in DUE}
    for tier, (level, due) in DUE.items():
        assert (done[tier]["level"], done[tier]["follow_up_due"]) == (level, due), tier
        assert done[tier]["transferred_at"].startswith("2026-09-30")
    assert done["A"]["pulse_due_on"] == "2026-10-30"
    assert done["B"]["pulse_due_on"] is None and done["C"]["pulse_due_on"] is None
    assert await overdue_ids(client, actors.admin) == set()

    # On the due day itself (the make-up Saturday) nothing is overdue yet.
    move_to(clock, datetime(2026, 10, 10, 8, 0, tzinfo=UTC))
    assert await overdue_ids(client, actors.head_east) == set()
    assert (await client.post(ESCALATE, headers=actors.admin.headers)).json() == \
        {"escalated": 0}

    # The next working day the strict follow-up is overdue, and only that one.
    move_to(clock, datetime(2026, 10, 12, 2, 0, tzinfo=UTC))
    strict = done["A"]
    assert await overdue_ids(client, actors.head_east) == {strict["id"]}
    assert await overdue_ids(client, actors.am_east2) == {strict["id"]}
    assert await overdue_ids(client, actors.head_west) == set()
    seen = await client.get(f"{HANDOVERS}/{strict['id']}", headers=actors.am_east2.headers)
    assert seen.json()["follow_up_overdue"] is True

    refused = await client.post(ESCALATE, headers=actors.am_east2.headers)
    assert_problem(refused, 403, "forbidden")
    assert await follow_up_events(client, actors.admin, strict) == []
    first = await client.post(ESCALATE, headers=actors.admin.headers)
    assert first.status_code == 200 and first.json() == {"escalated": 1}, first.text
    again = await client.post(ESCALATE, headers=actors.admin.headers)
    assert again.json() == {"escalated": 0}
    [event] = await follow_up_events(client, actors.admin, strict)
    assert (event["entity_type"], event["entity_id"]) == ("handover", strict["id"])
    for tier in ("B", "C"):
        assert await follow_up_events(client, actors.admin, done[tier]) == []

    # A late follow-up is recorded as late, and the handover is no longer overdue.
    h = await ok(client, actors.am_east2, seen.json(), "/follow-up", {
        "contacted_on": "2026-10-12", "channel": "visit", "outcome": "客户认可新经理"})
    assert (h["state"], h["follow_up"]["on_time"], h["follow_up_overdue"]) == (
        "followed_up", False, False)
    assert await overdue_ids(client, actors.admin) == set()
    # In time: the standard one followed up on its due day.
    standard = await ok(client, actors.am_east2, done["B"], "/follow-up", {
        "contacted_on": "2026-10-15", "channel": "phone", "outcome": "一切正常"})
    assert standard["follow_up"]["on_time"] is True
    assert (await client.post(ESCALATE, headers=actors.admin.headers)).json() == \
        {"escalated": 0}
