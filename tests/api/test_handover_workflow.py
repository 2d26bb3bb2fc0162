"""The handover workflow through the API (domain §4): the actions of a state, stated here
as a table independent of the code (every state: tests/usecases/test_handover_workflow.py);
who may take each; notification requirements per
level; verification and findings; meeting minutes; signatures (order-free, nobody twice, a
head for a departed manager); cancelling; and what the last signature transfers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.change_request_support import draft, moved, read_cr, review
from tests.customer_support import (
    CUSTOMERS,
    contact,
    customer_history,
    if_match,
    make_customer,
    read_customer,
)
from tests.handover_support import (
    HANDOVERS,
    customer_of_tier,
    notify_all,
    ok,
    post,
    prepare,
    read,
    start,
)
from tests.handover_table import TABLE, UNMET, expected_actions, possible
from tests.risk_support import make_risk
from tests.support import Actor, Actors, actor, assert_problem, audit_entries, list_all

pytestmark = pytest.mark.asyncio(loop_scope="session")

MEETING = {"held_on": "2026-12-01", "attendees": ["交接人", "接收人"],
           "minutes": "逐项核对客户资料"}
FOLLOW_UP = {"contacted_on": "2027-06-01", "channel": "phone", "outcome": "客户认可新经理"}


def request_of(action: str) -> tuple[str, dict[str, Any], bool]:
    """(path suffix, body, needs If-Match) of each action's endpoint."""
    return {
        "record_notification": ("/notifications", {"stakeholder": "receiving_manager",
                                                   "channel": "email"}, False),
        "notify": ("/notify", {}, True),
        "start_preparation": ("/start-preparation", {}, True),
        "verify": ("/checklist/contacts/verify", {}, False),
        "raise_finding": ("/findings", {"item": "contacts", "text": "电话号码已停用"}, False),
        "resolve_finding": (f"/findings/{uuid.uuid4()}/resolve", {"resolution": "已核实"},
                            False),
        "hold_meeting": ("/meeting", MEETING, True),
        "sign": ("/sign", {}, True),
        "follow_up": ("/follow-up", FOLLOW_UP, True),
        "cancel": ("/cancel", {"reason": "客户合并"}, True),
    }[action]


async def attempt(client: httpx.AsyncClient, who: Actor, h: dict[str, Any],
                  action: str) -> httpx.Response:
    suffix, body, versioned = request_of(action)
    return await post(client, who, h, suffix, body, versioned=versioned)


def parties(actors: Actors) -> dict[str, Actor]:
    return {"giver": actors.am_east, "taker": actors.am_east2, "head": actors.head_east,
            "admin": actors.admin}


async def drive(client: httpx.AsyncClient, actors: Actors, to: str, tier: str = "B"
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh handover of a new customer of am_east's to am_east2, taken to ``to``."""
    giver, taker = actors.am_east, actors.am_east2
    customer = await customer_of_tier(client, giver, tier)
    h = await start(client, giver, customer, taker)
    if to == "cancelled":
        return await ok(client, giver, h, "/cancel", {"reason": "客户合并"}), customer
    if to == "draft":
        return h, customer
    h = await notify_all(client, giver, h, customer)
    if to == "notified":
        return h, customer
    h = await ok(client, giver, h, "/start-preparation")
    if to == "preparing":
        return h, customer
    h = await ok(client, giver, h, "/meeting", MEETING)
    if to == "meeting_held":
        return h, customer
    for item in h["checklist"]:
        for who in (giver, taker):
            h = await ok(client, who, h, f"/checklist/{item['key']}/verify", versioned=False)
    for who in (giver, taker):
        h = await ok(client, who, h, "/sign")
    assert h["state"] == "transferred", h
    if to == "transferred":
        return h, customer
    h = await ok(client, taker, h, "/follow-up", FOLLOW_UP)
    assert h["state"] == to == "followed_up"
    return h, customer


async def test_a_state_offers_its_actions_to_their_parties_and_refuses_the_rest(
        client: httpx.AsyncClient, actors: Actors) -> None:
    """How the answers look, in a state that has all three refusals; every state is
    checked through the use cases (tests/usecases/test_handover_workflow.py)."""
    state = "preparing"
    h, _ = await drive(client, actors, state)
    assert h["state"] == state
    people = parties(actors)
    for name, who in people.items():
        assert (await read(client, who, h))["allowed_actions"] == \
            expected_actions(name, state), name
    before = await read(client, actors.admin, h)

    for action, (sources, entitled) in TABLE.items():
        if state not in sources:
            response = await attempt(client, people["giver"], before, action)
            body = assert_problem(response, 409, "transition_not_allowed")
            assert body["detail"] == (
                f"{action} is not possible in state {state}; possible now: "
                f"{', '.join(possible(state)) or 'none'}."), body
            continue
        for name, who in people.items():
            if name not in entitled:
                response = await attempt(client, who, before, action)
                assert_problem(response, 403, "action_not_permitted")
        if (action, state) in UNMET:
            who = people[sorted(entitled)[0]]
            response = await attempt(client, who, before, action)
            body = assert_problem(response, 409, "precondition_unmet")
            assert UNMET[action, state] in body["detail"], body
    assert await read(client, actors.admin, before) == before


async def test_light_handovers_skip_notification_and_need_only_the_receiver(
        client: httpx.AsyncClient, actors: Actors) -> None:
    giver, taker, head = actors.am_east, actors.am_east2, actors.head_east
    customer = await customer_of_tier(client, giver, "C")
    h = await start(client, giver, customer, taker)
    assert (h["level"], h["missing_signatures"]) == ("light", ["receiving"])
    assert h["allowed_actions"] == ["cancel", "notify", "record_notification",
                                    "start_preparation"]
    h = await ok(client, giver, h, "/start-preparation")
    assert (h["state"], h["notified_at"]) == ("preparing", None)
    # Nothing must be verified, no meeting held: the receiver's signature transfers.
    assert "sign" in (await read(client, taker, h))["allowed_actions"]
    assert_problem(await post(client, giver, h, "/sign"), 403, "action_not_permitted")
    assert_problem(await post(client, head, h, "/sign"), 403, "action_not_permitted")
    h = await ok(client, taker, h, "/sign")
    assert h["state"] == "transferred"
    assert [(s["role"], s["signer_id"]) for s in h["signatures"]] == [("receiving", taker.id)]
    assert (await read_customer(client, taker, customer["id"]))["owner_id"] == taker.id


async def test_notify_needs_every_stakeholder_of_the_level(
        client: httpx.AsyncClient, actors: Actors) -> None:
    giver, taker = actors.am_east, actors.am_east2
    customer = await customer_of_tier(client, giver, "A")
    h = await start(client, giver, customer, taker)
    assert h["level"] == "strict"
    for stakeholder in ("handing_over_manager", "receiving_manager", "department_head"):
        h = await ok(client, giver, h, "/notifications",
                     {"stakeholder": stakeholder, "channel": "email"}, versioned=False)
    refused = await post(client, giver, h, "/notify")
    body = assert_problem(refused, 409, "precondition_unmet")
    assert "stakeholders_not_notified: customer_contact" in body["detail"]
    # The customer is told through a live contact of its own, never someone else's.
    other = await customer_of_tier(client, giver, "C")
    for contact_id in (other["contacts"][0]["id"], None):
        wrong = await post(client, giver, h, "/notifications", {
            "stakeholder": "customer_contact", "channel": "phone", "contact_id": contact_id},
            versioned=False)
        problem = assert_problem(wrong, 422, "validation_failed")
        assert [(e["pointer"], e["reason"]) for e in problem["errors"]] == [
            ("/contact_id", "contact_unknown")]
    misplaced = await post(client, giver, h, "/notifications", {
        "stakeholder": "receiving_manager", "channel": "email",
        "contact_id": customer["contacts"][0]["id"]}, versioned=False)
    assert [e["reason"] for e in assert_problem(misplaced, 422, "validation_failed")[
        "errors"]] == ["only_for_customer_contact"]
    assert len((await read(client, giver, h))["notifications"]) == 3
    h = await ok(client, giver, h, "/notifications", {
        "stakeholder": "customer_contact", "channel": "phone",
        "contact_id": customer["contacts"][0]["id"]}, versioned=False)
    told = {n["stakeholder"]: n for n in h["notifications"]}
    assert told["customer_contact"]["contact_id"] == customer["contacts"][0]["id"]
    assert told["receiving_manager"]["user_id"] == taker.id
    h = await ok(client, giver, h, "/notify")
    assert h["state"] == "notified" and h["notified_at"] is not None


async def test_standard_needs_the_three_people_but_not_the_customer(
        client: httpx.AsyncClient, actors: Actors) -> None:
    giver = actors.am_east
    customer = await customer_of_tier(client, giver, "B")
    h = await start(client, giver, customer, actors.am_east2)
    for stakeholder in ("handing_over_manager", "receiving_manager"):
        h = await ok(client, giver, h, "/notifications",
                     {"stakeholder": stakeholder, "channel": "wechat"}, versioned=False)
    body = assert_problem(await post(client, giver, h, "/notify"), 409, "precondition_unmet")
    assert "stakeholders_not_notified: department_head" in body["detail"]
    h = await ok(client, actors.head_east, h, "/notifications",
                 {"stakeholder": "department_head", "channel": "email"}, versioned=False)
    h = await ok(client, actors.head_east, h, "/notify")
    assert h["state"] == "notified"


async def test_a_finding_clears_its_item_blocks_verifying_and_resolves_once(
        client: httpx.AsyncClient, actors: Actors) -> None:
    giver, taker, head = actors.am_east, actors.am_east2, actors.head_east
    h, _ = await drive(client, actors, "preparing")
    for who in (giver, taker):
        h = await ok(client, who, h, "/checklist/contacts/verify", versioned=False)
    again = await post(client, taker, h, "/checklist/contacts/verify", versioned=False)
    assert_problem(again, 409, "already_signed")
    item = next(i for i in h["checklist"] if i["key"] == "contacts")
    assert (item["handing_over_verified_by"], item["receiving_verified_by"],
            item["verified_by_both"]) == (giver.id, taker.id, True)
    unknown = await post(client, giver, h, "/checklist/no_such_item/verify", versioned=False)
    assert "checklist item" in assert_problem(unknown, 404, "not_found")["detail"]

    h = await ok(client, head, h, "/findings", {"item": "contacts", "text": "缺少财务联系人"},
                 versioned=False)
    item = next(i for i in h["checklist"] if i["key"] == "contacts")
    assert (item["handing_over_verified_at"], item["receiving_verified_at"],
            item["verified_by_both"]) == (None, None, False)
    [finding] = h["findings"]
    assert (finding["item_key"], finding["raised_by"], finding["resolved_at"]) == (
        "contacts", head.id, None)
    blocked = await post(client, giver, h, "/checklist/contacts/verify", versioned=False)
    assert "open_findings" in assert_problem(blocked, 409, "precondition_unmet")["detail"]

    h = await ok(client, taker, h, f"/findings/{finding['id']}/resolve",
                 {"resolution": "已补充"}, versioned=False)
    [finding] = h["findings"]
    assert (finding["resolved_by"], finding["resolution"]) == (taker.id, "已补充")
    twice = await post(client, giver, h, f"/findings/{finding['id']}/resolve",
                       {"resolution": "再次"}, versioned=False)
    assert "finding_already_resolved" in assert_problem(
        twice, 409, "precondition_unmet")["detail"]
    missing = await post(client, giver, h, f"/findings/{uuid.uuid4()}/resolve",
                         {"resolution": "无"}, versioned=False)
    assert_problem(missing, 404, "not_found")
    h = await ok(client, giver, h, "/checklist/contacts/verify", versioned=False)
    assert (await read(client, giver, h))["findings"][0]["resolution"] == "已补充"


async def test_a_strict_meeting_needs_minutes(
        client: httpx.AsyncClient, actors: Actors) -> None:
    h, _ = await drive(client, actors, "preparing", tier="A")
    assert h["level"] == "strict"
    assert "sign" not in (await read(client, actors.am_east, h))["allowed_actions"]
    refused = await post(client, actors.am_east, h, "/meeting", {**MEETING, "minutes": "  "})
    problem = assert_problem(refused, 422, "validation_failed")
    assert [(e["pointer"], e["reason"]) for e in problem["errors"]] == [
        ("/minutes", "minutes_required")]
    assert (await read(client, actors.am_east, h))["state"] == "preparing"
    h = await ok(client, actors.head_east, h, "/meeting", MEETING)
    assert h["state"] == "meeting_held" and h["meeting"]["minutes"] == MEETING["minutes"]
    assert h["meeting"]["recorded_by"] == actors.head_east.id


async def test_a_standard_meeting_may_have_no_minutes(
        client: httpx.AsyncClient, actors: Actors) -> None:
    h, _ = await drive(client, actors, "preparing")
    h = await ok(client, actors.am_east2, h, "/meeting", {**MEETING, "minutes": ""})
    assert (h["state"], h["meeting"]["minutes"]) == ("meeting_held", "")


async def test_signatures_in_any_order_once_each_and_strict_waits_for_the_head(
        client: httpx.AsyncClient, actors: Actors) -> None:
    giver, taker, head = actors.am_east, actors.am_east2, actors.head_east
    customer = await customer_of_tier(client, giver, "A")
    h = await prepare(client, actors, await start(client, giver, customer, taker), customer,
                      giver, taker)
    assert h["missing_signatures"] == ["handing_over", "receiving", "department_head"]
    h = await ok(client, taker, h, "/sign")  # the receiver first
    assert_problem(await post(client, taker, h, "/sign"), 409, "already_signed")
    assert_problem(await post(client, actors.head_west, h, "/sign"), 404, "not_found")
    assert_problem(await post(client, actors.admin, h, "/sign"), 403, "action_not_permitted")
    h = await ok(client, head, h, "/sign")
    assert h["state"] == "meeting_held" and h["missing_signatures"] == ["handing_over"]
    assert h["transfer"] is None and h["signed_at"] is None
    assert (await read_customer(client, giver, customer["id"]))["owner_id"] == giver.id
    h = await ok(client, giver, h, "/sign")
    assert (h["state"], h["missing_signatures"]) == ("transferred", [])
    assert [(s["role"], s["signer_id"], s["on_behalf_of"]) for s in h["signatures"]] == [
        ("receiving", taker.id, None), ("department_head", head.id, None),
        ("handing_over", giver.id, None)]
    assert h["signed_at"] is not None and h["transferred_at"] is not None
    assert h["pulse_due_on"] is not None  # strict: a satisfaction pulse after 30 days


async def test_a_head_signs_for_a_deactivated_handing_over_manager(
        client: httpx.AsyncClient, actors: Actors) -> None:
    admin, taker, head = actors.admin, actors.am_east2, actors.head_east
    leaving = await actor(client, admin, actors.east, ["account_manager"])
    customer = await customer_of_tier(client, leaving, "B")
    h = await prepare(client, actors, await start(client, leaving, customer, taker), customer,
                      leaving, taker)
    # While the manager is active the head has no signature on a standard handover.
    assert_problem(await post(client, head, h, "/sign"), 403, "action_not_permitted")
    gone = await client.post(f"/api/v1/users/{leaving.id}/deactivate",
                             headers={**admin.headers, **if_match(1)})
    assert gone.status_code == 200, gone.text
    assert "sign" in (await read(client, head, h))["allowed_actions"]
    h = await ok(client, head, h, "/sign")
    assert [(s["role"], s["signer_id"], s["on_behalf_of"]) for s in h["signatures"]] == [
        ("handing_over", head.id, leaving.id)]
    h = await ok(client, taker, h, "/sign")
    assert h["state"] == "transferred"
    assert (await read_customer(client, taker, customer["id"]))["owner_id"] == taker.id


async def test_the_only_head_signs_a_strict_handover_in_both_capacities_on_resignation(
        client: httpx.AsyncClient, actors: Actors) -> None:
    """Spec §4's resignation story: the manager leaves before signing; the department's one
    head signs as the head and for them, each recorded as such, and a third try is told
    whose signature is still missing."""
    admin, taker, head = actors.admin, actors.am_east2, actors.head_east
    leaving = await actor(client, admin, actors.east, ["account_manager"])
    customer = await customer_of_tier(client, leaving, "A")
    h = await prepare(client, actors, await start(client, leaving, customer, taker), customer,
                      leaving, taker)
    assert h["level"] == "strict"
    gone = await client.post(f"/api/v1/users/{leaving.id}/deactivate",
                             headers={**admin.headers, **if_match(1)})
    assert gone.status_code == 200, gone.text
    h = await ok(client, head, h, "/sign")
    assert h["missing_signatures"] == ["handing_over", "receiving"]
    assert "sign" in (await read(client, head, h))["allowed_actions"]
    h = await ok(client, head, h, "/sign")
    assert [(s["role"], s["signer_id"], s["on_behalf_of"]) for s in h["signatures"]] == [
        ("department_head", head.id, None), ("handing_over", head.id, leaving.id)]
    assert "sign" not in (await read(client, head, h))["allowed_actions"]
    again = assert_problem(await post(client, head, h, "/sign"), 409, "already_signed")
    assert "department_head, handing_over" in again["detail"]
    assert "receiving" in again["detail"]
    h = await ok(client, taker, h, "/sign")
    assert h["state"] == "transferred"
    assert (await read_customer(client, taker, customer["id"]))["owner_id"] == taker.id


async def test_cancel_needs_a_reason_and_is_refused_after_the_transfer(
        client: httpx.AsyncClient, actors: Actors) -> None:
    h, customer = await drive(client, actors, "notified")
    blank = await post(client, actors.head_east, h, "/cancel", {"reason": " "})
    assert_problem(blank, 422, "validation_failed")
    assert (await read(client, actors.head_east, h))["state"] == "notified"
    h = await ok(client, actors.head_east, h, "/cancel", {"reason": "客户合并"})
    assert (h["state"], h["cancel_reason"], h["allowed_actions"]) == (
        "cancelled", "客户合并", [])
    assert (await read_customer(client, actors.am_east, customer["id"]))["owner_id"] == \
        actors.am_east.id
    # The customer is free again: a new handover may start.
    again = await start(client, actors.am_east, customer, actors.am_east2)
    assert again["state"] == "draft"

    done, _ = await drive(client, actors, "transferred")
    late = await post(client, actors.admin, done, "/cancel", {"reason": "太晚"})
    body = assert_problem(late, 409, "transition_not_allowed")
    assert "possible now: follow_up" in body["detail"]


async def test_a_second_open_handover_for_one_customer_is_refused(
        client: httpx.AsyncClient, actors: Actors) -> None:
    h, customer = await drive(client, actors, "draft")
    second = await client.post(HANDOVERS, headers=actors.head_east.headers, json={
        "customer_id": customer["id"], "to_manager_id": actors.am_east2.id,
        "reason": "reassignment"})
    assert_problem(second, 409, "handover_already_open")
    listed = await list_all(client, HANDOVERS, actors.admin.headers,
                            customer_id=customer["id"])
    assert [x["id"] for x in listed] == [h["id"]]


async def _closed_change(client: httpx.AsyncClient, am: Actor,
                         customer: dict[str, Any]) -> dict[str, Any]:
    cr = await moved(client, am, await draft(client, am, customer, type="standard"), "submit")
    cr = await moved(client, am, cr, "start_implementation")
    cr = await moved(client, am, cr, "complete_implementation")
    reviewed = await review(client, am, cr)
    assert reviewed.status_code == 200, reviewed.text
    return await moved(client, am, reviewed.json(), "close")


async def test_the_last_signature_moves_the_customer_and_its_open_work(
        client: httpx.AsyncClient, actors: Actors) -> None:
    admin, taker = actors.admin, actors.am_east2
    leaving = await actor(client, admin, actors.east, ["account_manager"])
    customer = await customer_of_tier(client, leaving, "C")
    closed = await _closed_change(client, leaving, customer)
    open_cr = await moved(client, leaving, await draft(client, leaving, customer,
                                                       type="standard"), "submit")
    open_cr = await moved(client, leaving, open_cr, "start_implementation")
    task = await client.post(f"/api/v1/change-requests/{open_cr['id']}/tasks",
                             headers=leaving.headers,
                             json={"title": "交接客户资料", "assignee_id": leaving.id})
    assert task.status_code == 201, task.text
    [task_id] = [t["id"] for t in task.json()["tasks"]]  # the answer is the change
    risk = await make_risk(client, leaving, customer_id=customer["id"])
    others = await make_risk(client, actors.head_east, customer_id=customer["id"])

    h = await start(client, leaving, customer, taker)
    # Before the transfer the receiver reads the customer but may not change it.
    assert (await read_customer(client, taker, customer["id"]))["owner_id"] == leaving.id
    for path in ("/history", "/timeline", "/integrity"):
        seen = await client.get(f"{CUSTOMERS}/{customer['id']}{path}", headers=taker.headers)
        assert seen.status_code == 200, (path, seen.text)
    refused = await client.patch(f"{CUSTOMERS}/{customer['id']}", headers={
        **taker.headers, **if_match(customer)}, json={"industry": "制造业"})
    assert_problem(refused, 404, "not_found")

    h = await ok(client, leaving, h, "/start-preparation")
    h = await ok(client, taker, h, "/sign")
    assert h["state"] == "transferred"
    moved_ids = {k: [x["id"] for x in v] for k, v in h["transfer"].items()
                 if isinstance(v, list)}
    assert moved_ids["change_requests"] == [open_cr["id"]]
    assert moved_ids["tasks"] == [task_id]
    assert h["transfer"]["change_requests"][0]["requester_moved"] is True
    assert moved_ids["risks"] == [risk["id"]]

    after = await read_customer(client, taker, customer["id"])
    assert (after["owner_id"], after["version"]) == (taker.id, customer["version"] + 1)
    owners = [(e["old"], e["new"]) for e in await customer_history(client, taker, customer["id"])
              if e["field"] == "owner_id"]
    assert owners[0] == (leaving.id, taker.id), owners  # newest first
    cr_after = await read_cr(client, taker, open_cr)
    assert (cr_after["owner_id"], cr_after["requester_id"]) == (taker.id, taker.id)
    assert [t["assignee_id"] for t in cr_after["tasks"]] == [taker.id]
    closed_after = await read_cr(client, admin, closed)
    assert closed_after["requester_id"] == leaving.id
    risks = {r["id"]: r for r in await list_all(client, "/api/v1/risks", admin.headers,
                                                customer_id=customer["id"])}
    assert risks[risk["id"]]["owner_id"] == taker.id
    assert risks[others["id"]]["owner_id"] == actors.head_east.id  # not the leaver's

    timeline = await list_all(client, f"{CUSTOMERS}/{customer['id']}/timeline",
                              taker.headers)
    types = [e["type"] for e in timeline]
    for event in ("handover.transferred", "customer.handed_over",
                  "change_request.reassigned", "task.reassigned", "risk.reassigned"):
        assert event in types, event
    actions = [e["action"] for e in await audit_entries(client, actors.auditor, "customer",
                                                        customer["id"])]
    assert "customer.handed_over" in actions
    for path in (f"{CUSTOMERS}/{customer['id']}", f"/api/v1/change-requests/{open_cr['id']}"):
        assert_problem(await client.get(path, headers=leaving.headers), 404, "not_found")
    # Writes now belong to the receiver.
    changed = await client.patch(f"{CUSTOMERS}/{customer['id']}", headers={
        **taker.headers, **if_match(after)}, json={"industry": "制造业"})
    assert changed.status_code == 200, changed.text


async def test_follow_up_is_the_receivers_and_not_before_the_transfer_day(
        client: httpx.AsyncClient, actors: Actors) -> None:
    h, _ = await drive(client, actors, "transferred")
    early = await post(client, actors.am_east2, h, "/follow-up",
                       {**FOLLOW_UP, "contacted_on": "2020-01-01"})
    problem = assert_problem(early, 422, "validation_failed")
    assert [e["reason"] for e in problem["errors"]] == ["before_transfer"]
    h = await ok(client, actors.am_east2, h, "/follow-up", FOLLOW_UP)
    assert h["state"] == "followed_up"
    assert (h["follow_up"]["outcome"], h["follow_up"]["on_time"]) == (
        FOLLOW_UP["outcome"], False)  # 2027-06-01 is long after the due day


async def test_a_batch_starts_one_handover_per_customer_and_skips_open_ones(
        client: httpx.AsyncClient, actors: Actors) -> None:
    admin, head, taker = actors.admin, actors.head_east, actors.am_east2
    leaving = await actor(client, admin, actors.east, ["account_manager"])
    batch_path = f"{HANDOVERS}/batches"
    body = {"from_manager_id": leaving.id, "to_manager_id": taker.id, "reason": "resignation"}
    empty = await client.post(batch_path, headers=head.headers, json=body)
    assert_problem(empty, 422, "validation_failed")

    customers = [await make_customer(client, leaving, contacts=[contact(is_primary=True)])
                 for _ in range(3)]
    busy = await start(client, leaving, customers[0], actors.am_east)
    batch = await client.post(batch_path, headers=head.headers, json=body)
    assert batch.status_code == 201, batch.text
    result = batch.json()
    assert sorted(x["customer_id"] for x in result["handovers"]) == sorted(
        c["id"] for c in customers[1:])
    assert [s["customer_id"] for s in result["skipped"]] == [customers[0]["id"]]
    assert all(x["batch_id"] == result["id"] and x["from_manager_id"] == leaving.id
               for x in result["handovers"])
    listed = await list_all(client, HANDOVERS, head.headers, batch_id=result["id"])
    assert sorted(x["id"] for x in listed) == sorted(x["id"] for x in result["handovers"])
    assert busy["id"] not in {x["id"] for x in listed}
