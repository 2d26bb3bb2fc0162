"""Feedback SLA clocks (domain §6) through the API on both engines, in working time of the
business calendar (Mon–Fri 09:00–18:00 Asia/Shanghai, statutory holidays and 调休 from
chinese-calendar): acknowledge within 24 working hours (4 for a high or critical
complaint), resolve within 5 working days (45 working hours). Receipts are back-dated and
the clock pinned, so the figures hold whenever the suite runs.

Calendar facts behind the figures (chinese-calendar's 2026 schedule, checked below):
Mid-autumn 25–27 September and National Day 1–7 October are off; Sunday 20 September and
Saturday 10 October are 调休 make-up working days; Sunday 11 October is off.

Settings tests (policy, company days off) and the escalation job run on an app and a
database of their own: they change what every other test would see, and the job counts
every breach in the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import chinese_calendar
import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from tests.change_request_support import customer_of
from tests.conftest import client_for
from tests.customer_support import if_match
from tests.db import rows
from tests.feedback_support import (
    FEEDBACK,
    at,
    events,
    local,
    moved,
    near,
    path_of,
    pinned,
    read,
    record,
)
from tests.support import Actor, Actors, TestClock, actor, assert_problem, first_admin, list_all

pytestmark = pytest.mark.asyncio(loop_scope="session")

URGENT = {"type": "complaint", "severity": "high"}
ROUTINE = {"type": "complaint", "severity": "medium"}
ESCALATE = "/api/v1/feedback/sla-escalations"
SLA = "/api/v1/settings/feedback-sla"
CALENDAR = "/api/v1/settings/business-calendar"
TODAY = local(2026, 11, 24, 10)  # Tuesday: the pinned "now" unless a test says otherwise


def _dues(fb: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """(acknowledge due, resolve due) of a feedback body."""
    return at(fb["sla"]["acknowledge_due_at"]), at(fb["sla"]["resolve_due_at"])


async def test_the_calendar_data_these_figures_rest_on() -> None:
    off = [date(2026, 9, d) for d in (25, 26, 27)] + [date(2026, 10, d) for d in range(1, 8)]
    assert not any(chinese_calendar.is_workday(d) for d in off)
    assert chinese_calendar.is_workday(date(2026, 9, 20))  # Sunday, 调休
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # Saturday, 调休
    assert not chinese_calendar.is_workday(date(2026, 10, 11))
    assert chinese_calendar.is_workday(date(2026, 10, 8))


# (received, urgent acknowledge due, acknowledge due, resolve due), Shanghai wall clock.
DUE_TIMES = {
    # Friday 16:00: 2 h left. 4 h → Monday 11:00; 24 h = 2+9+9+4 → Wednesday 13:00;
    # 45 h = 2+9+9+9+9+7 → the next Friday 16:00.
    "weekend": ((2026, 11, 20, 16), (2026, 11, 23, 11), (2026, 11, 25, 13),
                (2026, 11, 27, 16)),
    # Wednesday 30 September 17:00, the eve of National Day: 1 h left, then 1–7 October
    # off. 4 h = 1+3 → Thursday 8 October 12:00; 24 h = 1+9 (8th)+9 (9th)+5 → Saturday
    # 10 October 14:00 (调休); 45 h = 1+9+9+9 (10th), Sunday 11th off, +9 (12th)+8 →
    # Tuesday 13 October 17:00.
    "national_day": ((2026, 9, 30, 17), (2026, 10, 8, 12), (2026, 10, 10, 14),
                     (2026, 10, 13, 17)),
    # Thursday 24 September 15:00, before Mid-autumn (25–27 off): 3 h left. 4 h = 3+1 →
    # Monday 28th 10:00; 24 h = 3+9+9+3 → Wednesday 30th 12:00; 45 h = 3+27 (28–30), then
    # National Day, +9 (8 October)+6 → Friday 9 October 15:00.
    "mid_autumn": ((2026, 9, 24, 15), (2026, 9, 28, 10), (2026, 9, 30, 12),
                   (2026, 10, 9, 15)),
    # Friday 18 September 17:00: 1 h left; Saturday off but Sunday 20th is a make-up day.
    # 4 h = 1+3 → Sunday 20th 12:00; 24 h = 1+9+9+5 → Tuesday 22nd 14:00; 45 h = 1+9+9+9+9+8
    # → Thursday 24th 17:00.
    "make_up_sunday": ((2026, 9, 18, 17), (2026, 9, 20, 12), (2026, 9, 22, 14),
                       (2026, 9, 24, 17)),
}


@pytest.mark.parametrize("case", list(DUE_TIMES))
async def test_due_times_in_working_time(client: httpx.AsyncClient, actors: Actors,
                                         clock: TestClock, case: str) -> None:
    received, urgent_ack, ack, resolve = (local(*t) for t in DUE_TIMES[case])
    customer = await customer_of(client, actors.am_east)
    with pinned(clock, TODAY):
        urgent = await record(client, actors.am_east, customer, **URGENT,
                              received_at=received.isoformat())
        critical = await record(client, actors.am_east, customer, type="complaint",
                                severity="critical", received_at=received.isoformat())
        routine = await record(client, actors.am_east, customer, **ROUTINE,
                               received_at=received.isoformat())
        high_praise = await record(client, actors.am_east, customer, type="praise",
                                   severity="high", received_at=received.isoformat())
    for fb in (urgent, critical):
        assert _dues(fb) == (urgent_ack, resolve)
    for fb in (routine, high_praise):  # only complaints get the short clock
        assert _dues(fb) == (ack, resolve)
    assert at(urgent["received_at"]) == received


async def test_breaches_show_and_filter_while_a_clock_runs_out(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    """An urgent complaint received Friday 20 November 16:00 is due to be acknowledged by
    Monday 11:00. At Monday 10:59 nothing is breached; at Tuesday 10:00 the acknowledge
    clock is 8 working hours over (Monday 11–18, Tuesday 9–10) and the item is listed
    with ``breached=true``; acknowledged then, the breach stays, with when it was met."""
    am = actors.am_east
    customer = await customer_of(client, am)
    received = local(2026, 11, 20, 16)
    with pinned(clock, local(2026, 11, 23, 10, 59)):
        fb = await record(client, am, customer, **URGENT, received_at=received.isoformat())
        calm = await record(client, am, customer, **ROUTINE)
        assert fb["sla"]["breaches"] == [] and not fb["sla"]["acknowledge_breached"]
        assert await _breached_ids(client, am, customer) == set()
    with pinned(clock, TODAY):
        late = await read(client, am, fb)
        assert late["sla"]["acknowledge_breached"] and not late["sla"]["resolve_breached"]
        [breach] = late["sla"]["breaches"]
        assert (breach["clock"], breach["met_at"]) == ("acknowledge", None)
        assert at(breach["due_at"]) == local(2026, 11, 23, 11)
        assert breach["overdue_working_hours"] == pytest.approx(8.0, abs=0.01)
        assert await _breached_ids(client, am, customer) == {fb["id"]}
        assert not (await read(client, am, calm))["sla"]["acknowledge_breached"]
        done = await moved(client, am, fb, "acknowledge")
        [kept] = done["sla"]["breaches"]
        assert near(kept["met_at"], TODAY)
        assert kept["overdue_working_hours"] == pytest.approx(8.0, abs=0.01)
        # Acknowledged: no longer past a due time now (the resolve clock runs to Friday).
        assert await _breached_ids(client, am, customer) == set()
    with pinned(clock, local(2026, 11, 30, 10)):  # Monday: resolve due Friday 16:00
        # ... and the routine one, never acknowledged, ran out on Wednesday 25th 10:59.
        over = await read(client, am, done)
        assert over["sla"]["resolve_breached"]
        assert [b["clock"] for b in over["sla"]["breaches"]] == ["acknowledge", "resolve"]
        assert over["sla"]["breaches"][1]["overdue_working_hours"] == pytest.approx(3.0,
                                                                                 abs=0.01)
        assert await _breached_ids(client, am, customer) == {fb["id"], calm["id"]}


async def _breached_ids(client: httpx.AsyncClient, who: Actor,
                        customer: dict[str, Any]) -> set[str]:
    return {f["id"] for f in await list_all(client, FEEDBACK, who.headers, breached="true",
                                            customer_id=customer["id"])}


async def test_done_in_time_is_no_breach(client: httpx.AsyncClient, actors: Actors,
                                         clock: TestClock) -> None:
    """Acknowledged before its due and resolved before its due: no breach later, and a
    resolved item is not listed as breached though its resolve due has passed."""
    am = actors.am_east
    customer = await customer_of(client, am)
    with pinned(clock, local(2026, 11, 23, 10)):
        fb = await record(client, am, customer, **URGENT,
                          received_at=local(2026, 11, 20, 16).isoformat())
        for action in ("acknowledge", "start", "resolve"):
            fb = await moved(client, am, fb, action)
    with pinned(clock, local(2026, 12, 7, 10)):
        later = await read(client, am, fb)
        assert later["sla"]["breaches"] == []
        assert not later["sla"]["acknowledge_breached"] and not later["sla"]["resolve_breached"]
        assert await _breached_ids(client, am, customer) == set()


# An app and a database of their own -------------------------------------------------


@dataclass
class Own:
    client: httpx.AsyncClient
    app: FastAPI
    admin: Actor
    am: Actor


@pytest.fixture
async def own(fresh_app: FastAPI) -> AsyncIterator[Own]:
    async with client_for(fresh_app) as c:
        admin = await first_admin(c, fresh_app)
        am = await actor(c, admin, admin.department_id, ["account_manager"])
        yield Own(c, fresh_app, admin, am)


async def _outboxed(app: FastAPI, fb: dict[str, Any], kind: str) -> list[Any]:
    return [r for r in await rows(app, outbox, entity_id=fb["id"]) if r.type == kind]


async def test_escalation_announces_each_breach_exactly_once(
        own: Own, clock: TestClock) -> None:
    c, am = own.client, own.am
    customer = await customer_of(c, am)
    with pinned(clock, TODAY):
        # Received Monday 16 November 10:00: acknowledge due (8+9+7 h) Wednesday 18th
        # 16:00, resolve due (8+4×9+1 h) Monday 23rd 10:00; both ran out by Tuesday 24th.
        both = await record(c, am, customer, **ROUTINE,
                            received_at=local(2026, 11, 16, 10).isoformat())
        # Acknowledged in time (urgent, due Friday 20th 15:00 from Friday 11:00), resolve
        # due Friday 27th: nothing ran out.
        fine = await record(c, am, customer, **URGENT,
                            received_at=local(2026, 11, 20, 11).isoformat())
    with pinned(clock, local(2026, 11, 20, 14)):
        fine = await moved(c, am, fine, "acknowledge")
    with pinned(clock, TODAY):
        assert_problem(await c.post(ESCALATE, headers=am.headers), 403, "forbidden")
        first = await c.post(ESCALATE, headers=own.admin.headers)
        assert first.status_code == 200, first.text
        assert first.json() == {"count": 2}
        again = await c.post(ESCALATE, headers=own.admin.headers)
        assert again.json() == {"count": 0}
    [ack] = await _outboxed(own.app, both, "feedback.acknowledge_overdue")
    [res] = await _outboxed(own.app, both, "feedback.resolve_overdue")
    assert at(ack.data["due_at"]) == local(2026, 11, 18, 16)
    assert at(res.data["due_at"]) == local(2026, 11, 23, 10)
    assert ack.data["state"] == "received" and ack.data["severity"] == "medium"
    assert [e for e in await events(own.app, fine) if e.endswith("_overdue")] == []
    timeline = await list_all(c, f"/api/v1/customers/{customer['id']}/timeline",
                              am.headers)
    overdue = sorted(e["type"] for e in timeline
                     if e["entity_id"] == both["id"] and e["type"].endswith("_overdue"))
    assert overdue == ["feedback.acknowledge_overdue", "feedback.resolve_overdue"]

    # A scheduler's key runs it too; acknowledging late announces nothing new; a reopen
    # gives the resolve clock a fresh start and its breach is announced anew, once.
    key = await c.post("/api/v1/api-keys", headers=own.admin.headers,
                       json={"name": "调度器", "scopes": ["jobs:run"]})
    assert key.status_code == 201, key.text
    scheduler = {"X-API-Key": key.json()["key"]}
    with pinned(clock, TODAY):
        both = await read(c, am, both)
        for action in ("acknowledge", "start", "resolve"):
            both = await moved(c, am, both, action)
        both = await moved(c, am, both, "reopen", {"reason": "问题复现"})
        assert near(both["sla"]["resolve_due_at"], local(2026, 12, 1, 10))
        assert (await c.post(ESCALATE, headers=scheduler)).json() == {"count": 0}
    # Tuesday 1 December 11:00: the reopened clock ran out at 10:00, and the item
    # acknowledged in time but never resolved ran out on Friday 27th 11:00.
    with pinned(clock, local(2026, 12, 1, 11)):
        assert (await c.post(ESCALATE, headers=scheduler)).json() == {"count": 2}
        assert (await c.post(ESCALATE, headers=scheduler)).json() == {"count": 0}
    assert len(await _outboxed(own.app, both, "feedback.resolve_overdue")) == 2
    assert len(await _outboxed(own.app, both, "feedback.acknowledge_overdue")) == 1
    [late] = await _outboxed(own.app, fine, "feedback.resolve_overdue")
    assert at(late.data["due_at"]) == local(2026, 11, 27, 11)
    assert await _outboxed(own.app, fine, "feedback.acknowledge_overdue") == []
    reader = await c.post("/api/v1/api-keys", headers=own.admin.headers,
                          json={"name": "只读", "scopes": ["customers:read"]})
    assert_problem(await c.post(ESCALATE, headers={"X-API-Key": reader.json()["key"]}), 403,
                   "forbidden")


async def test_a_policy_change_applies_to_new_feedback_only(own: Own,
                                                           clock: TestClock) -> None:
    c, am, admin = own.client, own.am, own.admin
    customer = await customer_of(c, am)
    current = await c.get(SLA, headers=am.headers)
    assert current.status_code == 200, current.text
    policy = current.json()
    assert policy == {"acknowledge_hours": 24.0, "acknowledge_urgent_hours": 4.0,
                      "resolve_working_days": 5, "urgent_types": ["complaint"],
                      "urgent_severities": ["critical", "high"], "version": policy["version"]}
    assert current.headers["etag"] == f'"{policy["version"]}"'
    received = local(2026, 11, 20, 16).isoformat()
    with pinned(clock, TODAY):
        before = await record(c, am, customer, **ROUTINE, received_at=received)
    change = {"acknowledge_hours": 8, "acknowledge_urgent_hours": 2,
              "resolve_working_days": 2, "urgent_types": ["complaint", "question"],
              "urgent_severities": ["critical", "high", "medium"]}
    assert_problem(await c.put(SLA, headers={**am.headers, **if_match(policy)}, json=change),
                   403, "forbidden")
    assert_problem(await c.put(SLA, headers=admin.headers, json=change), 428,
                   "precondition_required")
    assert_problem(await c.put(SLA, headers={**admin.headers, "If-Match": '"999"'},
                               json=change), 412, "precondition_failed")
    for bad in ({"acknowledge_hours": 0}, {"resolve_working_days": 0},
                {"urgent_types": ["rant"]}, {"colour": "red"}):
        refused = await c.put(SLA, headers={**admin.headers, **if_match(policy)},
                              json={**change, **bad})
        assert_problem(refused, 422, "validation_failed")
    assert (await c.get(SLA, headers=am.headers)).json() == policy
    changed = await c.put(SLA, headers={**admin.headers, **if_match(policy)}, json=change)
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == policy["version"] + 1
    assert changed.json()["acknowledge_hours"] == 8.0
    with pinned(clock, TODAY):
        after = await record(c, am, customer, **ROUTINE, received_at=received)
    # Friday 16:00 + 2 urgent hours (medium complaints are urgent now) → Friday 18:00;
    # resolve 2 days = 18 h = 2+9+7 → Tuesday 16:00.
    assert _dues(after) == (local(2026, 11, 20, 18), local(2026, 11, 24, 16))
    kept = await read(c, am, before)
    assert _dues(kept) == (local(2026, 11, 25, 13), local(2026, 11, 27, 16))
    [entry] = await list_all(c, "/api/v1/audit/entries", admin.headers,
                             entity_type="policy", entity_id="feedback_sla")
    assert entry["action"] == "policy.updated"
    assert entry["after"]["acknowledge_hours"] == 8.0


async def test_a_company_day_off_moves_the_due_times_of_new_feedback(
        own: Own, clock: TestClock) -> None:
    """Monday 23 November made a company day off: an urgent complaint of Friday 16:00 is
    then due to be acknowledged on Tuesday 11:00 (not Monday 11:00) and resolved on Monday
    30th 16:00 (not Friday 27th); feedback received before the change keeps its times."""
    c, am, admin = own.client, own.am, own.admin
    customer = await customer_of(c, am)
    received = local(2026, 11, 20, 16).isoformat()
    with pinned(clock, TODAY):
        before = await record(c, am, customer, **URGENT, received_at=received)
    calendar = (await c.get(CALENDAR, headers=admin.headers)).json()
    body = {k: v for k, v in calendar.items() if k != "version"}
    changed = await c.put(CALENDAR, headers={**admin.headers, **if_match(calendar)},
                          json={**body, "company_days_off": ["2026-11-23"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["company_days_off"] == ["2026-11-23"]
    with pinned(clock, TODAY):
        after = await record(c, am, customer, **URGENT, received_at=received)
    assert _dues(after) == (local(2026, 11, 24, 11), local(2026, 11, 30, 16))
    kept = await read(c, am, before)
    assert _dues(kept) == (local(2026, 11, 23, 11), local(2026, 11, 27, 16))
    with pinned(clock, TODAY):  # Tuesday 10:00: only the item due Monday is breached
        breached = {f["id"] for f in await list_all(c, FEEDBACK, am.headers, breached="true")}
    assert breached == {before["id"]}
    assert_problem(await c.get(path_of({"id": after["id"]}), headers={}), 401,
                   "not_authenticated")
