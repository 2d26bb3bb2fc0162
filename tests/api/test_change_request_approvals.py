"""Approvals (变更审批, domain §3): separation of duties, return and resubmit restarting
assessment and approval, the emergency and standard paths, delegation to a deputy, due
times in working hours with the overdue filter, and the administrator's approval policy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from app.domain.common.calendar import BusinessCalendar
from app.repositories.tables import outbox
from tests.change_request_support import (
    CHANGE_REQUESTS,
    SMALL,
    act,
    approve_all,
    assess,
    chain,
    conclude,
    customer_of,
    decide,
    draft,
    drive,
    events_of,
    headers,
    moved,
    panel,
    path_of,
    read_cr,
    review,
)
from tests.conftest import client_for
from tests.db import rows
from tests.support import (
    Actor,
    Actors,
    TestClock,
    actor,
    assert_problem,
    audit_entries,
    build_actors,
    field_errors,
    list_all,
    unique,
)

DELEGATIONS = "/api/v1/delegations"
POLICY = "/api/v1/settings/approval-policy"
CALENDAR = "/api/v1/settings/business-calendar"


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def listed(client: httpx.AsyncClient, who: Actor, **filters: Any) -> list[str]:
    return [c["id"] for c in await list_all(client, CHANGE_REQUESTS, who.headers, **filters)]


async def test_separation_of_duties_names_the_rule_that_refuses(
        client: httpx.AsyncClient, actors: Actors) -> None:
    """A department head requests; another head of the department, finance and an
    executive approve. Each refusal leaves the change exactly as it was."""
    head = actors.head_east
    head2 = await actor(client, actors.admin, actors.east, ["department_head"])
    both = await actor(client, actors.admin, actors.east, ["finance", "executive"])
    west_head_reading_all = await actor(client, actors.admin, actors.west,
                                        ["department_head", "analyst"])
    cr = await draft(client, head, await customer_of(client, actors.am_east))
    cr = await moved(client, head, cr, "submit")
    cr = await moved(client, actors.pm, cr, "start_assessment")
    cr = (await conclude(client, actors.pm, await panel(client, actors, cr))).json()
    assert chain(cr) == ["department_head", "finance", "executive"]
    first, second, third = cr["approval_steps"]

    for who, step, status, code in (
            (head, first, 403, "self_approval_forbidden"),  # holds the role, still refused
            (actors.executive, first, 403, "approver_role_mismatch"),
            (actors.pm, first, 403, "forbidden"),  # holds no approver's role at all
            (west_head_reading_all, first, 403, "approver_department_mismatch"),
            (actors.finance, second, 409, "approval_out_of_order"),
            (actors.head_west, first, 404, "not_found")):  # not even visible
        assert_problem(await decide(client, who, cr, step), status, code)
    missing = await decide(client, head2, cr, {"id": "00000000-0000-4000-8000-000000000000"})
    assert "approval_step" not in assert_problem(missing, 404, "not_found")["title"]
    assert await read_cr(client, head2, cr) == {**cr, "allowed_actions": [
        "approve", "reject", "return"]}
    assert (await read_cr(client, head, cr))["allowed_actions"] == ["cancel"]

    cr = (await decide(client, head2, cr, first)).json()
    again = await decide(client, head2, cr, first)
    assert_problem(again, 409, "step_already_decided")
    cr = (await decide(client, both, cr, second, comment="预算内")).json()
    assert [s["status"] for s in cr["approval_steps"]] == ["approved", "approved", "pending"]
    assert (await read_cr(client, both, cr))["allowed_actions"] == []
    assert_problem(await decide(client, both, cr, third), 403, "approver_already_decided")

    cr = (await decide(client, actors.executive, cr, third)).json()
    assert cr["state"] == "approved"
    assert [(s["decided_by"], s["on_behalf_of"]) for s in cr["approval_steps"]] == [
        (head2.id, None), (both.id, None), (actors.executive.id, None)]


async def test_return_and_resubmit_restart_assessment_and_approval(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    am, pm = actors.am_east, actors.pm
    cr = await drive(client, actors, "awaiting_approval", cost="80000.00", likelihood=4,
                     impact=4)
    first, second, _ = cr["approval_steps"]
    cr = (await decide(client, actors.head_east, cr, first)).json()
    returned = await decide(client, actors.finance, cr, second, "return", "请补充成本明细")
    assert returned.status_code == 200, returned.text
    cr = returned.json()
    assert (cr["state"], cr["round"]) == ("returned", 1)
    assert [(s["status"], s["comment"]) for s in cr["approval_steps"]] == [
        ("approved", ""), ("returned", "请补充成本明细"), ("pending", "")]
    assert cr["allowed_actions"] == []  # finance's own view
    assert (await read_cr(client, am, cr))["allowed_actions"] == ["cancel", "submit"]

    edited = await client.patch(path_of(cr), headers=headers(am, cr),
                                json={"description": "补充：报表模块成本明细见附件"})
    assert edited.status_code == 200, edited.text
    cr = await moved(client, am, edited.json(), "submit", "已补充")
    assert (cr["state"], cr["round"], cr["approval_steps"]) == ("submitted", 2, [])
    assert cr["description"] == "补充：报表模块成本明细见附件"
    cr = await moved(client, pm, cr, "start_assessment")
    # round 1's panel is kept but does not count for round 2
    assert [a["round"] for a in cr["assessments"]] == [1, 1]
    stale_panel = await conclude(client, pm, cr)
    assert "panel_needs_project_manager_and_tech_expert" in assert_problem(
        stale_panel, 409, "precondition_unmet")["detail"]
    assert (await read_cr(client, pm, cr)) == cr

    cr = await panel(client, actors, cr)  # the same people may assess the new round
    twice = await assess(client, pm, cr)
    assert_problem(twice, 409, "invalid_state")  # but once per round
    assert [a["round"] for a in cr["assessments"]] == [1, 1, 2, 2]
    cr = (await conclude(client, pm, cr, **SMALL)).json()
    assert (cr["state"], chain(cr)) == ("awaiting_approval", ["department_head"])
    [step] = cr["approval_steps"]
    assert step["id"] not in {first["id"], second["id"]} and step["status"] == "pending"
    cr = await approve_all(client, actors, cr)  # the same head decides the new round
    assert [s["decided_by"] for s in cr["approval_steps"]] == [actors.head_east.id]
    assert (await events_of(client, am, cr)).count("change_request.submitted") == 2
    [event] = [r for r in await rows(app, outbox, entity_id=cr["id"])
               if r.type == "change_request.returned"]
    assert (event.data["step"], event.data["role"], event.data["comment"]) == (
        2, "finance", "请补充成本明细")


async def test_an_emergency_needs_one_executive_then_the_heads_review_before_closing(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am, head = actors.am_east, actors.head_east
    cr = await drive(client, actors, "awaiting_approval", cr_type="emergency")
    assert (cr["type"], cr["state"], cr["round"], cr["assessments"]) == (
        "emergency", "awaiting_approval", 1, [])
    assert chain(cr) == ["executive"]
    assert (await read_cr(client, actors.pm, cr))["allowed_actions"] == []
    assert (await read_cr(client, actors.executive, cr))["allowed_actions"] == [
        "approve", "reject", "return"]
    assert_problem(await decide(client, head, cr, cr["approval_steps"][0]), 403,
                   "approver_role_mismatch")
    cr = await approve_all(client, actors, cr)
    cr = await moved(client, am, cr, "start_implementation")
    assert (await read_cr(client, head, cr))["allowed_actions"] == ["review_emergency"]
    cr = await moved(client, am, cr, "complete_implementation")
    cr = (await review(client, am, cr)).json()

    refused = await act(client, am, cr, "close")
    assert "emergency_review_by_department_head_missing" in assert_problem(
        refused, 409, "precondition_unmet")["detail"]
    assert_problem(await act(client, am, cr, "review_emergency"), 403, "forbidden")
    assert_problem(await act(client, actors.head_west, cr, "review_emergency"), 404,
                   "not_found")
    assert await read_cr(client, am, cr) == cr

    reviewed = await moved(client, head, cr, "review_emergency", "事后复核通过")
    assert (reviewed["state"], reviewed["emergency_reviewed_by"]) == ("implemented", head.id)
    assert reviewed["emergency_reviewed_at"] is not None
    closed = await moved(client, am, reviewed, "close")
    assert closed["state"] == "closed"
    assert await events_of(client, am, cr) == [
        "change_request.created", "change_request.submitted", "change_request.approved",
        "change_request.implementation_started", "change_request.implemented",
        "change_request.reviewed", "change_request.emergency_reviewed",
        "change_request.closed"]


async def test_a_standard_change_skips_assessment_and_approval(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    cr = await drive(client, actors, "approved", cr_type="standard")
    assert (cr["state"], cr["round"], cr["approval_steps"], cr["assessments"]) == (
        "approved", 1, [], [])
    assert cr["allowed_actions"] == ["cancel", "start_implementation"]
    body = assert_problem(await act(client, actors.pm, cr, "start_assessment"), 409,
                          "transition_not_allowed")
    assert body["detail"].endswith("possible now: cancel, start_implementation.")
    assert_problem(await assess(client, actors.pm, cr), 409, "invalid_state")
    assert await read_cr(client, am, cr) == cr
    closed = await drive(client, actors, "closed", cr_type="standard")
    assert (closed["state"], closed["approval_steps"]) == ("closed", [])
    assert await events_of(client, am, closed) == [
        "change_request.created", "change_request.submitted",
        "change_request.implementation_started", "change_request.implemented",
        "change_request.reviewed", "change_request.closed"]


async def awaiting(client: httpx.AsyncClient, actors: Actors, requester: Actor,
                   customer: dict[str, Any]) -> dict[str, Any]:
    """A change of ``customer`` awaiting its department head's single step."""
    cr = await moved(client, requester, await draft(client, requester, customer), "submit")
    cr = await moved(client, actors.pm, cr, "start_assessment")
    cr = (await conclude(client, actors.pm, await panel(client, actors, cr), **SMALL)).json()
    assert chain(cr) == ["department_head"]
    return cr


async def test_a_deputy_decides_while_the_delegation_is_in_force_and_not_after(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    """The head of a department of its own delegates to a head of another department,
    who otherwise never sees its changes."""
    north = (await client.post("/api/v1/departments", headers=actors.admin.headers,
                               json={"name": unique("华北事业部")})).json()["id"]
    head = await actor(client, actors.admin, north, ["department_head"])
    am = await actor(client, actors.admin, north, ["account_manager"])
    deputy = await actor(client, actors.admin, actors.west, ["department_head"])
    customer = await customer_of(client, am)
    ended, decided, revoked = [await awaiting(client, actors, am, customer) for _ in range(3)]

    def delegation(**fields: Any) -> dict[str, Any]:
        now = clock.now()
        return {"delegator_id": head.id, "deputy_id": deputy.id, "role": "department_head",
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(), **fields}

    assert_problem(await decide(client, deputy, decided, decided["approval_steps"][0]), 404,
                   "not_found")
    assert_problem(await client.post(DELEGATIONS, headers=deputy.headers, json=delegation()),
                   403, "action_not_permitted")
    assert field_errors(await client.post(DELEGATIONS, headers=head.headers,
                                          json=delegation(role="finance"))) == {
        "/delegator_id": "delegator_lacks_role"}
    assert field_errors(await client.post(DELEGATIONS, headers=head.headers,
                                          json=delegation(deputy_id=am.id))) == {
        "/deputy_id": "deputy_lacks_role"}
    created = await client.post(DELEGATIONS, headers=head.headers, json=delegation())
    assert created.status_code == 201, created.text
    first = created.json()
    assert (first["delegator_id"], first["deputy_id"], first["role"], first["created_by"],
            first["revoked_at"]) == (head.id, deputy.id, "department_head", head.id, None)
    for who in (head, deputy):
        assert [d["id"] for d in (await client.get(DELEGATIONS, headers=who.headers)).json()
                ] == [first["id"]]

    seen = await read_cr(client, deputy, decided)
    assert seen["allowed_actions"] == ["approve", "reject", "return"]
    approved = await decide(client, deputy, decided, decided["approval_steps"][0],
                            comment="代审批")
    assert approved.status_code == 200, approved.text
    [step] = approved.json()["approval_steps"]
    assert (approved.json()["state"], step["decided_by"], step["on_behalf_of"],
            step["comment"]) == ("approved", deputy.id, head.id, "代审批")
    entry = (await audit_entries(client, actors.auditor, "change_request", decided["id"]))[-1]
    assert (entry["action"], entry["actor_id"], entry["after"]["on_behalf_of"]) == (
        "change_request.approved", deputy.id, head.id)

    clock.advance(hours=2)  # past the delegation's end
    try:
        assert_problem(await client.get(path_of(ended), headers=deputy.headers), 404,
                       "not_found")
        assert_problem(await decide(client, deputy, ended, ended["approval_steps"][0]), 404,
                       "not_found")
    finally:
        clock.advance(hours=-2)
    assert (await read_cr(client, head, ended))["approval_steps"][0]["status"] == "pending"

    # back within the delegation's time: in force again until revoked
    assert (await read_cr(client, deputy, revoked))["allowed_actions"] == [
        "approve", "reject", "return"]
    revoke = f"{DELEGATIONS}/{first['id']}/revoke"
    assert_problem(await client.post(revoke, headers=deputy.headers), 404, "not_found")
    gone = await client.post(revoke, headers=head.headers)
    assert gone.status_code == 204, gone.text
    assert_problem(await client.post(revoke, headers=head.headers), 409, "invalid_state")
    assert_problem(await decide(client, deputy, revoked, revoked["approval_steps"][0]), 404,
                   "not_found")
    [listed_now] = (await client.get(DELEGATIONS, headers=head.headers)).json()
    assert listed_now["revoked_at"] is not None
    cr = (await decide(client, head, revoked, revoked["approval_steps"][0])).json()
    assert (cr["state"], cr["approval_steps"][0]["on_behalf_of"]) == ("approved", None)


async def test_a_step_is_due_after_48_working_hours_and_then_listed_as_overdue(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    cr = await drive(client, actors, "awaiting_approval")
    [step] = cr["approval_steps"]
    concluded, due = when(cr["concluded_at"]), when(step["due_at"])
    calendar = BusinessCalendar()  # the default: Mon–Fri 09:00–18:00 Asia/Shanghai
    assert due == calendar.add_working_time(concluded, timedelta(hours=48))
    assert calendar.working_time_between(concluded, due) == timedelta(hours=48)
    assert due - concluded > timedelta(days=5)  # 48 h at nine hours a day, not 48 h
    assert (cr["overdue"], step["overdue"]) == (False, False)
    mine = {"customer_id": cr["customer_id"]}
    assert await listed(client, actors.head_east, overdue="true", **mine) == []

    advanced = due - clock.now() - timedelta(minutes=1)
    clock.advance(seconds=advanced.total_seconds())
    try:
        assert (await read_cr(client, actors.head_east, cr))["overdue"] is False
        clock.advance(minutes=2)
        advanced += timedelta(minutes=2)
        late = await read_cr(client, actors.head_east, cr)
        assert (late["overdue"], late["approval_steps"][0]["overdue"]) == (True, True)
        assert await listed(client, actors.head_east, overdue="true", **mine) == [cr["id"]]
        assert await listed(client, actors.analyst, overdue="true",
                            awaiting_role="department_head", **mine) == [cr["id"]]
        assert await listed(client, actors.head_west, overdue="true", **mine) == []
        decided = (await decide(client, actors.head_east, late, late["approval_steps"][0])
                   ).json()
        assert (decided["state"], decided["overdue"]) == ("approved", False)
        assert decided["approval_steps"][0]["overdue"] is False
        assert await listed(client, actors.head_east, overdue="true", **mine) == []
    finally:
        clock.advance(seconds=-advanced.total_seconds())


async def test_each_steps_clock_starts_when_the_step_before_it_is_decided(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    """Domain §3: only the current step has a due time; the next one gets its 48 working
    hours from the moment the previous step was decided, and is judged late by its own."""
    cr = await drive(client, actors, "awaiting_approval", cost="80000.00", likelihood=4,
                     impact=4)
    assert chain(cr) == ["department_head", "finance", "executive"]
    first, *waiting = cr["approval_steps"]
    assert [s["due_at"] for s in waiting] == [None, None]
    calendar, hours = BusinessCalendar(), timedelta(hours=48)
    first_due = when(first["due_at"])
    advanced = first_due - clock.now() - timedelta(hours=1)  # the head decides just in time
    clock.advance(seconds=advanced.total_seconds())
    try:
        decided = (await decide(client, actors.head_east, cr, first)).json()
        head_step, finance_step, last = decided["approval_steps"]
        second_due = when(finance_step["due_at"])
        assert second_due == calendar.add_working_time(when(head_step["decided_at"]), hours)
        assert second_due > first_due + timedelta(days=5) and last["due_at"] is None
        clock.advance(hours=2)  # past the first step's due time, far from the second's
        advanced += timedelta(hours=2)
        now = await read_cr(client, actors.finance, decided)
        assert (now["overdue"], now["approval_steps"][1]["overdue"]) == (False, False)
        ran = await client.post("/api/v1/change-requests/escalations",
                                headers=actors.admin.headers)
        assert ran.status_code == 200, ran.text
        assert "change_request.approval_overdue" not in await events_of(
            client, actors.auditor, cr)
    finally:
        clock.advance(seconds=-advanced.total_seconds())


async def test_the_administrators_policy_and_calendar_shape_the_next_chain(
        fresh_app: FastAPI, clock: TestClock) -> None:
    """Global settings: on an app and database of its own."""
    async with client_for(fresh_app) as client:
        actors = await build_actors(client, fresh_app)
        default = await client.get(POLICY, headers=actors.finance.headers)
        assert default.status_code == 200, default.text
        assert default.headers["etag"] == '"0"'
        policy = default.json()
        assert (policy["finance_from"], policy["executive_from"], policy["version"],
                policy["step_due_hours"]) == ("50000", "500000", 0, 48.0)
        before = await drive(client, actors, "awaiting_approval")  # 10,000: the head only
        assert chain(before) == ["department_head"]

        lowered = {**{k: v for k, v in policy.items() if k != "version"},
                   "finance_from": "5000.00"}
        assert_problem(await client.put(POLICY, json=lowered, headers=actors.admin.headers),
                       428, "precondition_required")
        assert_problem(await client.put(POLICY, json=lowered,
                                        headers={**actors.admin.headers, "If-Match": '"1"'}),
                       412, "precondition_failed")
        assert_problem(await client.put(POLICY, json=lowered,
                                        headers={**actors.head_east.headers,
                                                 "If-Match": '"0"'}), 403, "forbidden")
        assert (await client.get(POLICY, headers=actors.admin.headers)).json() == policy
        put = await client.put(POLICY, json=lowered,
                               headers={**actors.admin.headers, "If-Match": '"0"'})
        assert put.status_code == 200, put.text
        assert (put.json()["finance_from"], put.json()["version"]) == ("5000.00", 1)
        assert put.headers["etag"] == '"1"'
        assert (await client.get(POLICY, headers=actors.pm.headers)).json() == put.json()

        assert chain(await read_cr(client, actors.admin, before)) == ["department_head"]
        after = await drive(client, actors, "awaiting_approval")
        assert (after["estimated_cost"], chain(after)) == ("10000.00",
                                                           ["department_head", "finance"])

        # company days off for the next three weeks push the next due time past them
        calendar = (await client.get(CALENDAR, headers=actors.pm.headers)).json()
        assert (calendar["timezone"], calendar["day_start"], calendar["day_end"],
                calendar["weekdays"], calendar["version"]) == (
            "Asia/Shanghai", "09:00", "18:00", [0, 1, 2, 3, 4], 0)
        today = clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
        days_off = [(today + timedelta(days=n)).isoformat() for n in range(21)]
        changed = {**{k: v for k, v in calendar.items() if k != "version"},
                   "company_days_off": days_off}
        assert_problem(await client.put(CALENDAR, json=changed,
                                        headers={**actors.head_east.headers,
                                                 "If-Match": '"0"'}), 403, "forbidden")
        put = await client.put(CALENDAR, json=changed,
                               headers={**actors.admin.headers, "If-Match": '"0"'})
        assert put.status_code == 200, put.text
        assert (put.json()["company_days_off"], put.json()["version"]) == (days_off, 1)
        later = await drive(client, actors, "awaiting_approval")
        concluded, due = when(later["concluded_at"]), when(later["approval_steps"][0]["due_at"])
        assert due == BusinessCalendar(company_days_off=frozenset(
            date.fromisoformat(d) for d in days_off)).add_working_time(
                concluded, timedelta(hours=48))
        assert due.astimezone(ZoneInfo("Asia/Shanghai")).date() > today + timedelta(days=21)
