"""The feedback loop (反馈闭环, domain §6) through the API on both engines: every action in
every state (the workflow table: 200 with the target state, its timestamp, an event and an
audit entry, or 409 transition_not_allowed naming what is possible now, leaving the item
untouched), every party (owner, head of the customer's department, administrator; another
manager or another department's head 404; read-only roles 403), record scope on read and
list, what resolve / confirm / reopen need, If-Match, and refused input storing nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from app.repositories.tables_feedback import feedback_items
from tests.change_request_support import customer_of
from tests.customer_support import make_customer
from tests.db import row_count, rows
from tests.feedback_support import (
    ACTIONS,
    BODIES,
    FEEDBACK,
    PATH,
    act,
    at,
    drive,
    events,
    local,
    moved,
    near,
    path_of,
    pinned,
    read,
    record,
)
from tests.support import (
    Actor,
    Actors,
    TestClock,
    assert_problem,
    audit_entries,
    field_errors,
    list_all,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

# The workflow table: from each state, the actions possible and where each leads.
TABLE: dict[str, dict[str, str]] = {
    "received": {"acknowledge": "acknowledged"},
    "acknowledged": {"start": "in_progress"},
    "in_progress": {"resolve": "resolved"},
    "resolved": {"confirm": "confirmed", "reopen": "in_progress"},
    "confirmed": {"reopen": "in_progress"},
}
# The timestamp each action sets.
STAMPS = {"acknowledge": "acknowledged_at", "resolve": "resolved_at",
          "confirm": "confirmed_at", "reopen": "reopened_at"}
EVENTS = {"acknowledge": "feedback.acknowledged", "start": "feedback.started",
          "resolve": "feedback.resolved", "confirm": "feedback.confirmed",
          "reopen": "feedback.reopened"}


@pytest.mark.parametrize("state", PATH)
async def test_every_action_in_every_state(client: httpx.AsyncClient, app: FastAPI,
                                           actors: Actors, state: str) -> None:
    """Refused actions answer 409 naming the possible ones and change nothing; the possible
    ones lead where the table says, stamp their time, announce and audit the step."""
    am = actors.am_east
    customer = await customer_of(client, am)
    fb = await drive(client, am, customer, state)
    assert fb["state"] == state
    assert fb["allowed_actions"] == sorted(TABLE[state])
    announced = await events(app, fb)
    for action in ACTIONS:
        if action in TABLE[state]:
            continue
        problem = assert_problem(await act(client, am, fb, action), 409,
                                 "transition_not_allowed")
        assert f"{action} is not possible in state {state}" in problem["detail"]
        assert problem["detail"].endswith(f"possible now: {', '.join(sorted(TABLE[state]))}.")
    if state != "received":
        chinese = await client.post(path_of(fb, "/acknowledge"), headers={
            **am.headers, "If-Match": f'"{fb["version"]}"', "Accept-Language": "zh-CN"},
            json={})
        assert assert_problem(chinese, 409, "transition_not_allowed")["detail"] == (
            f"当前状态为 {state}，不能执行 acknowledge；"
            f"当前可执行：{', '.join(sorted(TABLE[state]))}。")
    assert await read(client, am, fb) == fb
    assert await events(app, fb) == announced

    for action, target in TABLE[state].items():
        item = await drive(client, am, customer, state)
        after = await moved(client, am, item, action)
        assert after["state"] == target
        assert after["allowed_actions"] == sorted(TABLE[target])
        if action in STAMPS:
            assert at(after[STAMPS[action]]) == at(after["updated_at"])
        assert await read(client, am, after) == after
        [stored] = [r for r in await rows(app, outbox, entity_id=item["id"])
                    if r.type == EVENTS[action]]
        assert stored.data["state"] == target and stored.data["type"] == "complaint"
        entries = await audit_entries(client, actors.auditor, "feedback", item["id"])
        assert entries[-1]["action"] == EVENTS[action]
        assert entries[-1]["before"] == {"state": state}
        assert entries[-1]["after"]["state"] == target
        assert entries[-1]["after"]["version"] == after["version"]


async def test_recording_starts_the_loop_with_the_customers_manager_as_owner(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    customer = await customer_of(client, actors.am_east)
    fb = await record(client, actors.head_east, customer, type="suggestion", channel="visit",
                      severity="low")
    assert (fb["state"], fb["owner_id"], fb["created_by"]) == (
        "received", actors.am_east.id, actors.head_east.id)
    assert (fb["department_id"], fb["reopen_count"], fb["resolution"]) == (
        actors.east, 0, "")
    assert fb["received_at"] == fb["created_at"]
    assert fb["sla"]["breaches"] == [] and not fb["sla"]["acknowledge_breached"]
    assert await events(app, fb) == ["feedback.received"]
    [stored] = await rows(app, feedback_items, id=uuid.UUID(fb["id"]))
    assert (stored.state, stored.owner_id, stored.summary) == (
        "received", uuid.UUID(actors.am_east.id), fb["summary"])
    entries = await audit_entries(client, actors.auditor, "feedback", fb["id"])
    assert [e["action"] for e in entries] == ["feedback.received"]


def _parties(actors: Actors) -> dict[str, Actor]:
    return {"owner": actors.am_east, "department_head": actors.head_east,
            "admin": actors.admin}


@pytest.mark.parametrize("party", ["owner", "department_head", "admin"])
async def test_each_party_walks_the_whole_loop(client: httpx.AsyncClient, actors: Actors,
                                               party: str) -> None:
    who = _parties(actors)[party]
    customer = await customer_of(client, actors.am_east)
    fb = await record(client, actors.am_east, customer)
    assert (await read(client, who, fb))["allowed_actions"] == ["acknowledge"]
    for action in ("acknowledge", "start", "resolve", "confirm", "reopen", "resolve"):
        fb = await moved(client, who, fb, action)
        assert fb["allowed_actions"] == sorted(TABLE[fb["state"]])
        assert (await read(client, actors.am_east, fb))["allowed_actions"] == \
            fb["allowed_actions"]
    assert (fb["state"], fb["reopen_count"], fb["resolution"]) == (
        "resolved", 1, BODIES["resolve"]["resolution"])
    assert fb["allowed_actions"] == ["confirm", "reopen"]


async def test_who_else_may_not_act_and_what_they_hear(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    """Another manager of the department and another department's head do not see the item
    (404, as for the customer); read-only roles read it with no actions and are refused
    every action (403); nothing moves."""
    customer = await customer_of(client, actors.am_east)
    fb = await drive(client, actors.am_east, customer, "resolved")
    for outsider in (actors.am_east2, actors.head_west, actors.am_west):
        assert_problem(await client.get(path_of(fb), headers=outsider.headers), 404,
                       "not_found")
        for action in ACTIONS:
            assert_problem(await act(client, outsider, fb, action), 404, "not_found")
    for reader in (actors.analyst, actors.executive, actors.auditor):
        seen = await read(client, reader, fb)
        assert seen["allowed_actions"] == [] and seen["state"] == "resolved"
        for action in ACTIONS:
            assert_problem(await act(client, reader, fb, action), 403, "forbidden")
    for other in (actors.finance, actors.pm, actors.tech):
        assert_problem(await act(client, other, fb, "reopen"), 403, "forbidden")
    assert await read(client, actors.am_east, fb) == fb
    assert await events(app, fb) == ["feedback.received", "feedback.acknowledged",
                                     "feedback.started", "feedback.resolved"]


async def test_a_shared_customers_feedback_is_read_by_the_department_but_moved_by_the_owner(
        client: httpx.AsyncClient, actors: Actors) -> None:
    """A customer shared with the department: its other managers record and read its
    feedback (the customer record scope), but only the owner, heads and admins act."""
    shared = await make_customer(client, actors.am_east, shared_with_department=True)
    fb = await record(client, actors.am_east2, shared)
    assert fb["owner_id"] == actors.am_east.id
    seen = await read(client, actors.am_east2, fb)
    assert seen["allowed_actions"] == []
    listed = await list_all(client, FEEDBACK, actors.am_east2.headers,
                            customer_id=shared["id"])
    assert [f["id"] for f in listed] == [fb["id"]]
    refused = assert_problem(await act(client, actors.am_east2, fb, "acknowledge"), 403,
                             "action_not_permitted")
    assert "acknowledge" in refused["detail"]
    assert (await read(client, actors.am_east, fb))["version"] == fb["version"]
    assert_problem(await client.get(path_of(fb), headers=actors.am_west.headers), 404,
                   "not_found")


async def test_lists_follow_the_record_scope(client: httpx.AsyncClient,
                                             actors: Actors) -> None:
    east = await customer_of(client, actors.am_east)
    west = await customer_of(client, actors.am_west)
    mine = await record(client, actors.am_east, east)
    theirs = await record(client, actors.am_west, west)
    both = {mine["id"], theirs["id"]}

    async def seen(who: Actor) -> set[str]:
        found = set()
        for customer in (east, west):
            found |= {f["id"] for f in await list_all(client, FEEDBACK, who.headers,
                                                      customer_id=customer["id"])}
        return found

    assert await seen(actors.am_east) == {mine["id"]}
    assert await seen(actors.am_east2) == set()
    assert await seen(actors.head_east) == {mine["id"]}
    assert await seen(actors.head_west) == {theirs["id"]}
    for everyone in (actors.admin, actors.analyst, actors.executive):
        assert await seen(everyone) == both
    listed = await list_all(client, FEEDBACK, actors.head_east.headers,
                            customer_id=east["id"])
    assert listed[0]["allowed_actions"] == ["acknowledge"]
    assert listed[0]["sla"] == mine["sla"]


async def test_list_filters(client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await customer_of(client, am)
    praise = await record(client, am, customer, type="praise", severity="low", channel="im")
    done = await drive(client, am, customer, "confirmed", type="question", severity="high")
    going = await drive(client, am, customer, "in_progress")

    async def ids(**params: str) -> list[str]:
        return [f["id"] for f in await list_all(client, FEEDBACK, am.headers,
                                                customer_id=customer["id"], **params)]

    assert sorted(await ids()) == sorted([praise["id"], done["id"], going["id"]])
    assert await ids(type="praise") == [praise["id"]]
    assert await ids(severity="high") == [done["id"]]
    assert await ids(state="confirmed") == [done["id"]]
    assert sorted(await ids(open="true")) == sorted([praise["id"], going["id"]])
    assert await ids(owner_id=actors.am_east2.id) == []
    assert await ids(sort="received_at") == [praise["id"], done["id"], going["id"]]
    assert_problem(await client.get(FEEDBACK, headers=am.headers, params={"state": "closed"}),
                   422, "validation_failed")
    assert_problem(await client.get(FEEDBACK, headers=am.headers, params={"colour": "red"}),
                   400, "unknown_query_parameter")


async def test_resolve_needs_a_resolution(client: httpx.AsyncClient, app: FastAPI,
                                          actors: Actors) -> None:
    am = actors.am_east
    fb = await drive(client, am, await customer_of(client, am), "in_progress")
    for payload, pointer, reason in (({}, "/resolution", "missing"),
                                     ({"resolution": ""}, "/resolution", "string_too_short"),
                                     ({"resolution": "   "}, "/resolution", "string_too_short"),
                                     ({"resolution": "长" * 5001}, "/resolution",
                                      "string_too_long")):
        assert field_errors(await act(client, am, fb, "resolve", payload)) == {
            pointer: reason}, payload
    assert await read(client, am, fb) == fb
    assert "feedback.resolved" not in await events(app, fb)
    done = await moved(client, am, fb, "resolve", {"resolution": "  已补发对账单  "})
    assert done["resolution"] == "已补发对账单"


async def test_confirm_needs_a_contact_of_the_customer_or_a_note(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    am = actors.am_east
    customer = await customer_of(client, am)
    other = await customer_of(client, am)
    fb = await drive(client, am, customer, "resolved")
    resolved_at = at(fb["resolved_at"])
    assert resolved_at is not None
    refusals = [
        ({}, {"/contact_id": "missing"}),
        ({"note": "   "}, {"/contact_id": "missing"}),
        ({"contact_id": other["contacts"][0]["id"]}, {"/contact_id": "contact_unknown"}),
        ({"contact_id": str(uuid.uuid4())}, {"/contact_id": "contact_unknown"}),
        ({"note": "电话", "agreed_at": (resolved_at - timedelta(hours=1)).isoformat()},
         {"/agreed_at": "out_of_range"}),
        ({"note": "电话", "agreed_at": (resolved_at + timedelta(days=3)).isoformat()},
         {"/agreed_at": "out_of_range"}),
        ({"note": "长" * 5001}, {"/note": "string_too_long"}),
        ({"contact_id": "not-a-uuid"}, {"/contact_id": "uuid_parsing"}),
        ({"note": "电话", "agreed_at": "2026-11-20T10:00:00"}, {"/agreed_at": "timezone_aware"}),
    ]
    for payload, expected in refusals:
        assert field_errors(await act(client, am, fb, "confirm", payload)) == expected, \
            payload
    assert await read(client, am, fb) == fb
    assert "feedback.confirmed" not in await events(app, fb)

    contact_id = customer["contacts"][0]["id"]
    done = await moved(client, am, fb, "confirm", {"contact_id": contact_id,
                                                   "agreed_at": fb["resolved_at"]})
    assert done["confirmed_at"] == fb["resolved_at"]
    confirmation = done["confirmation"]
    assert (confirmation["contact_id"], confirmation["recorded_by"], confirmation["note"]) == (
        contact_id, am.id, "")
    assert at(confirmation["recorded_at"]) == at(done["updated_at"])

    by_note = await drive(client, am, customer, "resolved")
    noted = await moved(client, actors.head_east, by_note, "confirm",
                        {"note": "  周例会上客户口头确认  "})
    assert noted["confirmation"]["note"] == "周例会上客户口头确认"
    assert noted["confirmation"]["contact_id"] is None
    assert noted["confirmation"]["recorded_by"] == actors.head_east.id
    assert noted["confirmed_at"] == noted["confirmation"]["recorded_at"]


async def test_reopen_needs_a_reason_and_restarts_the_resolve_clock(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock) -> None:
    """Received Monday 2026-11-02 10:00; resolve due 45 working hours on, Monday 11-09
    10:00. Confirmed, then reopened on Wednesday 11-11 15:00 (past that due): the resolve
    clock starts again there, due Wednesday 11-18 15:00, and no breach is shown for it;
    the resolution, its time and the confirmation are cleared, the reason is announced."""
    am = actors.am_east
    customer = await customer_of(client, am)
    with pinned(clock, local(2026, 11, 2, 10)):
        fb = await drive(client, am, customer, "confirmed")
    assert near(fb["sla"]["resolve_due_at"], local(2026, 11, 9, 10))
    with pinned(clock, local(2026, 11, 11, 15)):
        for payload, reason in (({}, "missing"), ({"reason": " "}, "string_too_short"),
                                ({"reason": "长" * 5001}, "string_too_long")):
            assert field_errors(await act(client, am, fb, "reopen", payload)) == {
                "/reason": reason}
        assert await read(client, am, fb) == fb
        reopened = await moved(client, am, fb, "reopen", {"reason": "本月对账单再次延迟"})
    assert (reopened["state"], reopened["reopen_count"]) == ("in_progress", 1)
    assert near(reopened["reopened_at"], local(2026, 11, 11, 15))
    assert (reopened["resolution"], reopened["resolved_at"], reopened["confirmed_at"],
            reopened["confirmation"]) == ("", None, None, None)
    assert near(reopened["sla"]["resolve_due_at"], local(2026, 11, 18, 15))
    assert at(reopened["sla"]["acknowledge_due_at"]) == at(fb["sla"]["acknowledge_due_at"])
    [stored] = await rows(app, feedback_items, id=uuid.UUID(fb["id"]))
    assert stored.resolve_due_at == at(reopened["sla"]["resolve_due_at"])
    assert stored.reopen_count == 1 and stored.resolution == ""
    [event] = [r for r in await rows(app, outbox, entity_id=fb["id"])
               if r.type == "feedback.reopened"]
    assert event.data["reason"] == "本月对账单再次延迟"
    entries = await audit_entries(client, actors.auditor, "feedback", fb["id"])
    assert entries[-1]["action"] == "feedback.reopened"
    assert entries[-1]["before"] == {"state": "confirmed"}
    assert entries[-1]["after"]["reason"] == "本月对账单再次延迟"
    again = await moved(client, am, reopened, "resolve", {"resolution": "更换出账系统"})
    again = await moved(client, am, again, "reopen", {"reason": "仍未解决"})
    assert again["reopen_count"] == 2


async def test_actions_need_the_version_read(client: httpx.AsyncClient, app: FastAPI,
                                             actors: Actors) -> None:
    am = actors.am_east
    fb = await record(client, am, await customer_of(client, am))
    missing = await client.post(path_of(fb, "/acknowledge"), headers=am.headers, json={})
    assert_problem(missing, 428, "precondition_required")
    stale = await client.post(path_of(fb, "/acknowledge"),
                              headers={**am.headers, "If-Match": '"7"'}, json={})
    assert_problem(stale, 412, "precondition_failed")
    assert await read(client, am, fb) == fb
    done = await moved(client, am, fb, "acknowledge")
    assert_problem(await act(client, am, fb, "start"), 412, "precondition_failed")
    assert (await read(client, am, fb))["state"] == done["state"] == "acknowledged"
    assert await events(app, fb) == ["feedback.received", "feedback.acknowledged"]


async def test_an_unknown_or_malformed_id_is_not_found(client: httpx.AsyncClient,
                                                       actors: Actors) -> None:
    ghost = {"id": str(uuid.uuid4()), "version": 1}
    assert_problem(await client.get(path_of(ghost), headers=actors.admin.headers), 404,
                   "not_found")
    assert_problem(await act(client, actors.admin, ghost, "acknowledge"), 404, "not_found")
    bad = await client.get(f"{FEEDBACK}/not-a-uuid", headers=actors.admin.headers)
    assert assert_problem(bad, 422, "validation_failed")["errors"][0]["reason"] == \
        "uuid_parsing"


# Bad input on recording: refused with the field named, and nothing stored.

def _bad_bodies(customer: dict[str, Any], now_plus: str, too_old: str
                ) -> list[tuple[dict[str, Any], str, str]]:
    return [
        ({"colour": "red"}, "/colour", "extra_forbidden"),
        ({"owner_id": str(uuid.uuid4())}, "/owner_id", "extra_forbidden"),
        ({"state": "confirmed"}, "/state", "extra_forbidden"),
        ({"channel": "fax"}, "/channel", "enum"),
        ({"type": "rant"}, "/type", "enum"),
        ({"severity": "urgent"}, "/severity", "enum"),
        ({"summary": ""}, "/summary", "string_too_short"),
        ({"summary": "长" * 5001}, "/summary", "string_too_long"),
        ({"customer_id": "not-a-uuid"}, "/customer_id", "uuid_parsing"),
        ({"customer_id": str(uuid.uuid4())}, "/customer_id", "customer_unknown"),
        ({"change_request_id": "123"}, "/change_request_id", "uuid_parsing"),
        ({"change_request_id": str(uuid.uuid4())}, "/change_request_id",
         "change_request_unknown"),
        ({"handover_id": str(uuid.uuid4())}, "/handover_id", "handover_unknown"),
        ({"received_at": now_plus}, "/received_at", "out_of_range"),
        ({"received_at": too_old}, "/received_at", "out_of_range"),
        ({"received_at": "yesterday"}, "/received_at", "datetime_from_date_parsing"),
        # A wall-clock time without an offset is ambiguous (it used to be a 500).
        ({"received_at": "2026-11-20T10:00:00"}, "/received_at", "timezone_aware"),
    ]


async def test_bad_input_is_refused_and_nothing_is_stored(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock) -> None:
    am = actors.am_east
    customer = await customer_of(client, am)
    now = clock.now()
    cases = _bad_bodies(customer, (now + timedelta(hours=1)).isoformat(),
                        (now - timedelta(days=367)).isoformat())
    for fields, pointer, reason in cases:
        body = {"customer_id": customer["id"], "channel": "phone", "type": "complaint",
                "severity": "medium", "summary": "对账单延迟", **fields}
        errors = field_errors(await client.post(FEEDBACK, headers=am.headers, json=body))
        assert errors == {pointer: reason}, fields
    for missing in ("customer_id", "channel", "type", "severity", "summary"):
        body = {"customer_id": customer["id"], "channel": "phone", "type": "complaint",
                "severity": "medium", "summary": "对账单延迟"}
        del body[missing]
        assert field_errors(await client.post(FEEDBACK, headers=am.headers, json=body)) == {
            f"/{missing}": "missing"}
    # A customer the caller may not write, and a change of another customer.
    west = await customer_of(client, actors.am_west)
    errors = field_errors(await client.post(FEEDBACK, headers=am.headers,
                                            json={**_minimal(west)}))
    assert errors == {"/customer_id": "customer_unknown"}
    for reader in (actors.analyst, actors.executive, actors.finance):
        assert_problem(await client.post(FEEDBACK, headers=reader.headers,
                                         json=_minimal(customer)), 403, "forbidden")
    assert await row_count(app, feedback_items, customer_id=uuid.UUID(customer["id"])) == 0
    assert await row_count(app, feedback_items, customer_id=uuid.UUID(west["id"])) == 0
    timeline = await list_all(client, f"/api/v1/customers/{customer['id']}/timeline",
                              am.headers)
    assert not [e for e in timeline if e["type"].startswith("feedback.")]


def _minimal(customer: dict[str, Any]) -> dict[str, Any]:
    return {"customer_id": customer["id"], "channel": "web", "type": "question",
            "severity": "low", "summary": "发票如何开具"}


async def test_text_is_stored_verbatim(client: httpx.AsyncClient, app: FastAPI,
                                       actors: Actors) -> None:
    """Chinese with emoji, SQL-looking text and a summary at the 5000 limit round-trip
    unchanged, in the body and in the database."""
    am = actors.am_east
    customer = await customer_of(client, am)
    texts = ["客户很满意新版报表 👍🎉，但希望增加导出 Excel 功能 🙏",
             "'; DROP TABLE feedback_items; -- \" OR 1=1 /* 反馈 */",
             "长" * 4999 + "😀"]
    for text in texts:
        fb = await record(client, am, customer, summary=text)
        assert fb["summary"] == text
        assert (await read(client, am, fb))["summary"] == text
        [stored] = await rows(app, feedback_items, id=uuid.UUID(fb["id"]))
        assert stored.summary == text
    assert await row_count(app, feedback_items, customer_id=uuid.UUID(customer["id"])) == 3
    fb = await drive(client, am, customer, "in_progress")
    done = await moved(client, am, fb, "resolve", {"resolution": texts[1]})
    assert (await read(client, am, done))["resolution"] == texts[1]


async def test_back_dated_feedback_keeps_its_receipt_and_links(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    """``received_at`` may lie in the past (up to 366 days); a linked change request must be
    about the same customer."""
    am = actors.am_east
    customer = await customer_of(client, am)
    received = local(2026, 9, 28, 10)
    with pinned(clock, local(2026, 11, 24, 10)):
        fb = await record(client, am, customer, received_at=received.isoformat())
        oldest = await record(client, am, customer,
                              received_at=local(2025, 11, 23, 11).isoformat())
    assert at(fb["received_at"]) == received
    assert near(fb["created_at"], local(2026, 11, 24, 10))
    assert at(oldest["received_at"]) == local(2025, 11, 23, 11)  # just inside 366 days
    cr = await client.post("/api/v1/change-requests", headers=am.headers, json={
        "customer_id": customer["id"], "title": "报表口径调整", "description": "调整",
        "reason": "客户投诉", "expected_effect": "口径一致", "category": "scope",
        "type": "normal", "priority": "high", "requested_completion_date": "2027-03-31"})
    assert cr.status_code == 201, cr.text
    linked = await record(client, am, customer, change_request_id=cr.json()["id"])
    assert linked["change_request_id"] == cr.json()["id"]
    found = await list_all(client, FEEDBACK, am.headers, change_request_id=cr.json()["id"])
    assert [f["id"] for f in found] == [linked["id"]]
    elsewhere = await customer_of(client, am)
    errors = field_errors(await client.post(FEEDBACK, headers=am.headers, json={
        **_minimal(elsewhere), "change_request_id": cr.json()["id"]}))
    assert errors == {"/change_request_id": "change_request_unknown"}


async def test_an_archived_customer_takes_no_feedback(client: httpx.AsyncClient,
                                                      app: FastAPI, actors: Actors) -> None:
    am = actors.am_east
    customer = await customer_of(client, am)
    archived = await client.post(f"/api/v1/customers/{customer['id']}/archive",
                                 headers={**am.headers, "If-Match": f'"{customer["version"]}"'},
                                 json={"reason": "客户已注销"})
    assert archived.status_code == 200, archived.text
    refused = await client.post(FEEDBACK, headers=am.headers, json=_minimal(customer))
    assert field_errors(refused) == {"/customer_id": "customer_unknown"}
    assert await row_count(app, feedback_items, customer_id=uuid.UUID(customer["id"])) == 0


async def test_recording_with_an_idempotency_key_stores_one_item(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    am = actors.am_east
    customer = await customer_of(client, am)
    headers = {**am.headers, "Idempotency-Key": f"fb-{uuid.uuid4()}"}
    first = await client.post(FEEDBACK, headers=headers, json=_minimal(customer))
    again = await client.post(FEEDBACK, headers=headers, json=_minimal(customer))
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json()
    assert await row_count(app, feedback_items, customer_id=uuid.UUID(customer["id"])) == 1
    assert await events(app, first.json()) == ["feedback.received"]
