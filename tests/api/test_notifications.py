"""In-app notifications (issue 15 §4) through HTTP: who is told what, exactly, once the
outbox is relayed to the notification consumer; the inbox's unread filter, keyset pages and
marking read, each notification linking to its record."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.change_request_support import decide, drive
from tests.feedback_support import pinned, record
from tests.handover_support import start
from tests.handover_time import move_to
from tests.notification_support import (
    NOTIFICATIONS,
    SYSTEM,
    World,
    inbox,
    kinds,
    own_database,
    relay,
    world,
)
from tests.support import Actor, Actors, TestClock, actor, assert_problem, list_pages

__all__ = ["own_database", "world"]  # the fixtures


def everyone(actors: Actors, *extra: tuple[str, Actor]) -> dict[str, Actor]:
    people = {name: getattr(actors, name) for name in (
        "admin", "head_east", "head_west", "am_east", "am_east2", "am_west", "finance",
        "executive", "pm", "tech", "analyst", "auditor")}
    return {**people, **dict(extra)}


async def told(client: httpx.AsyncClient, people: dict[str, Actor],
               entity_id: str) -> dict[str, list[str]]:
    """Who has notifications about the record, and of which kinds (oldest first)."""
    result = {name: await kinds(client, who, entity_id) for name, who in people.items()}
    return {name: found for name, found in result.items() if found}


async def test_approvers_their_deputies_and_the_requester_are_told_each_step(
        world: World, clock: TestClock) -> None:
    fresh_app, client, actors = world.app, world.client, world.actors
    deputy = await actor(client, actors.admin, actors.east, ["finance"])
    now = clock.now()
    delegated = await client.post("/api/v1/delegations", headers=actors.finance.headers,
                                  json={"delegator_id": actors.finance.id,
                                        "deputy_id": deputy.id, "role": "finance",
                                        "starts_at": (now - timedelta(hours=1)).isoformat(),
                                        "ends_at": (now + timedelta(days=2)).isoformat()})
    assert delegated.status_code == 201, delegated.text
    people = everyone(actors, ("deputy", deputy))
    # 80,000 at high risk: the east head, then finance, then an executive.
    cr = await drive(client, actors, "awaiting_approval", cost="80000.00",
                     likelihood=4, impact=4)
    assert [s["role"] for s in cr["approval_steps"]] == [
        "department_head", "finance", "executive"]
    await relay(fresh_app)
    assert await told(client, people, cr["id"]) == {
        "head_east": ["approval_step_assigned"]}

    first, second, third = cr["approval_steps"]
    cr = (await decide(client, actors.head_east, cr, first)).json()
    await relay(fresh_app)
    assert await told(client, people, cr["id"]) == {
        "head_east": ["approval_step_assigned"],
        "am_east": ["change_request_decided"],
        "finance": ["approval_step_assigned"],
        "deputy": ["approval_step_assigned"]}

    approved = await decide(client, deputy, cr, second, comment="代审批")
    assert approved.status_code == 200, approved.text
    rejected = await decide(client, actors.executive, approved.json(), third, "reject",
                            "预算不足")
    assert rejected.status_code == 200, rejected.text
    await relay(fresh_app)
    assert await told(client, people, cr["id"]) == {
        "head_east": ["approval_step_assigned"],
        "am_east": ["change_request_decided"] * 3,
        "finance": ["approval_step_assigned"],
        "deputy": ["approval_step_assigned"],
        "executive": ["approval_step_assigned"]}

    newest, *_ = await inbox(client, actors.am_east)
    assert {k: newest[k] for k in ("kind", "entity_type", "entity_id", "path",
                                   "read_at")} == {
        "kind": "change_request_decided", "entity_type": "change_request",
        "entity_id": cr["id"], "path": f"/api/v1/change-requests/{cr['id']}",
        "read_at": None}
    assert newest["details"] == {"title": cr["title"], "decision": "rejected", "step": 3,
                                 "role": "executive", "comment": "预算不足"}
    [assigned] = await inbox(client, actors.executive)
    assert assigned["details"]["step"] == 3
    assert datetime.fromisoformat(assigned["details"]["due_at"]) == datetime.fromisoformat(
        approved.json()["approval_steps"][2]["due_at"])
    assert (await client.get(assigned["path"], headers=actors.executive.headers)
            ).status_code == 200


async def test_the_inbox_pages_filters_unread_and_marks_read(world: World) -> None:
    fresh_app, client, actors = world.app, world.client, world.actors
    am = actors.am_east
    await relay(fresh_app)
    await client.post(f"{NOTIFICATIONS}/read-all", headers=am.headers)
    for _ in range(3):
        await drive(client, actors, "rejected")
    await relay(fresh_app)
    pages = await list_pages(client, NOTIFICATIONS, am.headers, limit=1, unread="true")
    assert [len(p["data"]) for p in pages] == [1, 1, 1]
    listed = [p["data"][0] for p in pages]
    assert [n["created_at"] for n in listed] == sorted(
        (n["created_at"] for n in listed), reverse=True)
    assert len({n["entity_id"] for n in listed}) == 3

    one = listed[1]
    read = await client.post(f"{NOTIFICATIONS}/{one['id']}/read", headers=am.headers)
    assert read.status_code == 200, read.text
    read_at = read.json()["read_at"]
    assert read_at is not None
    again = await client.post(f"{NOTIFICATIONS}/{one['id']}/read", headers=am.headers)
    assert again.json()["read_at"] == read_at  # the first reading stays
    assert [n["id"] for n in await inbox(client, am, unread="true")] == [
        listed[0]["id"], listed[2]["id"]]
    # Someone else's notification does not exist for them.
    assert_problem(await client.post(f"{NOTIFICATIONS}/{one['id']}/read",
                                     headers=actors.am_east2.headers), 404, "not_found")

    marked = await client.post(f"{NOTIFICATIONS}/read-all", headers=am.headers)
    assert marked.json() == {"marked": 2}
    assert await inbox(client, am, unread="true") == []
    assert [n["id"] for n in (await inbox(client, am))[:3]] == [n["id"] for n in listed]
    assert (await client.post(f"{NOTIFICATIONS}/read-all", headers=am.headers)
            ).json() == {"marked": 0}


async def test_handover_steps_tell_both_managers_and_the_head_and_breaches_the_owner(
        world: World, clock: TestClock) -> None:
    fresh_app, client, actors = world.app, world.client, world.actors
    with pinned(clock, clock.now()):
        people = everyone(actors)
        customer = await make_customer_with_contact(client, actors.am_east)
        handover = await start(client, actors.head_east, customer, actors.am_east2)
        await relay(fresh_app)
        assert await told(client, people, handover["id"]) == {
            "head_east": ["handover_step"], "am_east": ["handover_step"],
            "am_east2": ["handover_step"]}
        [notice] = await inbox(client, actors.am_east2)
        assert notice["details"] == {"customer_name": customer["name"], "state": "draft",
                                     "step": "created"}
        assert notice["path"] == f"/api/v1/handovers/{handover['id']}"

        feedback = await record(client, actors.am_east, customer, severity="high")
        due = datetime.fromisoformat(feedback["sla"]["acknowledge_due_at"])
        move_to(clock, due + timedelta(minutes=1))
        assert await fresh_app.state.services.feedback.announce_breaches(SYSTEM) == 1
        await relay(fresh_app)
        owner = feedback["owner_id"]
        assert await told(client, people, feedback["id"]) == {
            name: ["feedback_sla_breached"] for name, who in people.items() if who.id == owner}
        [breach] = [n for n in await inbox(client, people_by_id(people)[owner])
                    if n["entity_id"] == feedback["id"]]
        assert breach["details"]["clock"] == "acknowledge"
        assert breach["path"] == f"/api/v1/feedback/{feedback['id']}"


def people_by_id(people: dict[str, Actor]) -> dict[str, Actor]:
    return {who.id: who for who in people.values()}


async def make_customer_with_contact(client: httpx.AsyncClient, owner: Actor) -> dict[str, Any]:
    from tests.customer_support import contact, make_customer
    return await make_customer(client, owner, contacts=[contact(is_primary=True)])


async def test_a_health_fall_tells_the_customers_owner(world: World) -> None:
    client, actors = world.client, world.actors
    people = everyone(actors)
    customer = await make_customer_with_contact(client, actors.am_west)
    for _ in range(4):  # four open complaints: a score below the threshold
        await record(client, actors.am_west, customer)
    assert await world.app.state.services.customer_health.check_health(SYSTEM) >= 1
    await relay(world.app)
    assert await told(client, people, customer["id"]) == {"am_west": ["customer_health_fell"]}
    [fall] = await inbox(client, actors.am_west)
    assert fall["path"] == f"/api/v1/customers/{customer['id']}"
    assert fall["details"]["score"] < fall["details"]["threshold"]


async def test_a_new_plans_owner_is_told(world: World) -> None:
    from tests.plan_support import draft_plan
    client, actors = world.client, world.actors
    people = everyone(actors)
    customer = await make_customer_with_contact(client, actors.am_west)
    plan = await draft_plan(client, actors.admin, customer, title="年度服务保障方案")
    await relay(world.app)
    assert await told(client, people, plan["id"]) == {"am_west": ["plan_arrived"]}
    [arrived] = [n for n in await inbox(client, actors.am_west) if n["entity_id"] == plan["id"]]
    assert arrived["path"] == f"/api/v1/plans/{plan['id']}"
    assert arrived["details"]["title"] == "年度服务保障方案"
