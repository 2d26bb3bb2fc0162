"""An overdue approval step raises one escalation event (domain §3), however often the
scheduler runs and whoever runs it (an administrator or an API key with `jobs:run`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from tests.change_request_support import drive, events_of
from tests.support import Actors, TestClock, assert_problem

ESCALATE = "/api/v1/change-requests/escalations"


async def test_an_overdue_step_is_escalated_exactly_once(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    cr = await drive(client, actors, "awaiting_approval")
    due = datetime.fromisoformat(cr["approval_steps"][0]["due_at"])
    before = await client.post(ESCALATE, headers=actors.admin.headers)
    assert before.status_code == 200, before.text
    assert "change_request.approval_overdue" not in await events_of(client, actors.auditor, cr)

    shift = (due - clock.now() + timedelta(minutes=1)).total_seconds()
    clock.advance(seconds=shift)
    try:
        first = await client.post(ESCALATE, headers=actors.admin.headers)
        assert first.status_code == 200 and first.json()["escalated"] >= 1
        again = await client.post(ESCALATE, headers=actors.admin.headers)
        assert again.json()["escalated"] == 0
    finally:
        clock.advance(seconds=-shift)
    events = await events_of(client, actors.auditor, cr)
    assert events.count("change_request.approval_overdue") == 1
    entries = await client.get("/api/v1/audit/entries", headers=actors.auditor.headers,
                               params={"entity_type": "change_request",
                                       "entity_id": cr["id"], "sort": "-seq", "limit": 1})
    [entry] = entries.json()["data"]
    assert entry["action"] == "change_request.approval_overdue"
    assert entry["after"]["role"] == "department_head"


async def test_only_administrators_and_schedulers_run_escalations(
        client: httpx.AsyncClient, actors: Actors) -> None:
    assert_problem(await client.post(ESCALATE, headers=actors.head_east.headers), 403,
                   "forbidden")
    issued = await client.post("/api/v1/api-keys", headers=actors.admin.headers,
                               json={"name": "调度器", "scopes": ["jobs:run"]})
    key = issued.json()["key"]
    ran = await client.post(ESCALATE, headers={"X-API-Key": key})
    assert ran.status_code == 200 and isinstance(ran.json()["escalated"], int)
    reader = await client.post("/api/v1/api-keys", headers=actors.admin.headers,
                               json={"name": "只读", "scopes": ["customers:read"]})
    assert_problem(await client.post(ESCALATE, headers={"X-API-Key": reader.json()["key"]}),
                   403, "forbidden")
