"""Record scope on customers (domain §1, an invariant): who reaches a customer of the east
department owned by ``am_east``, on every customer endpoint. Out of scope is 404 and never
403 (ids do not leak); readers without a write role get 403 on writes; a refusal leaves
the customer exactly as it was (read back as admin)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.customer_support import (
    CUSTOMERS,
    contact,
    customer_ids,
    if_match,
    make_customer,
    read_customer,
)
from tests.support import Actor, Actors, assert_problem, unique


@dataclass(frozen=True)
class Case:
    who: str  # an attribute of Actors
    shared: bool  # the customer's shared_with_department
    can_read: bool
    write: int | None  # None: writes succeed; else the refusal status (403 role, 404 scope)


CASES = [
    Case("am_east", False, True, None),  # the owner
    Case("am_east2", False, False, 404),  # same department, not shared
    Case("am_east2", True, True, None),  # same department, shared
    Case("am_west", True, False, 404),  # other department: sharing does not reach it
    Case("head_east", False, True, None),  # own department head
    Case("head_west", False, False, 404),  # other department head
    Case("admin", False, True, None),
    Case("analyst", False, True, 403),
    Case("executive", False, True, 403),
    Case("auditor", False, True, 403),
]
CODES = {403: "forbidden", 404: "not_found"}

Write = Callable[[httpx.AsyncClient, Actor, dict[str, Any]], Awaitable[httpx.Response]]


def _headers(who: Actor, version: int | dict[str, Any]) -> dict[str, str]:
    return {**who.headers, **if_match(version)}


async def _patch(client: httpx.AsyncClient, who: Actor, c: dict[str, Any]) -> httpx.Response:
    return await client.patch(f"{CUSTOMERS}/{c['id']}", json={"industry": "范围测试"},
                              headers=_headers(who, c))


async def _stage(client: httpx.AsyncClient, who: Actor, c: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{CUSTOMERS}/{c['id']}/stage", json={"stage": "onboarding"},
                             headers=_headers(who, c))


async def _add_contact(client: httpx.AsyncClient, who: Actor,
                       c: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{CUSTOMERS}/{c['id']}/contacts", json=contact("新联系人"),
                             headers=who.headers)


async def _erase_contact(client: httpx.AsyncClient, who: Actor,
                         c: dict[str, Any]) -> httpx.Response:
    first = next(x for x in c["contacts"] if x["name"] == "原联系人")
    return await client.post(f"{CUSTOMERS}/{c['id']}/contacts/{first['id']}/erase",
                             headers=_headers(who, first))


async def _archive(client: httpx.AsyncClient, who: Actor, c: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{CUSTOMERS}/{c['id']}/archive", headers=_headers(who, c))


# each write, and what it did once it succeeded (the customer as read back afterwards)
WRITES: list[tuple[Write, Callable[[dict[str, Any]], bool]]] = [
    (_patch, lambda c: c["industry"] == "范围测试"),
    (_stage, lambda c: c["stage"] == "onboarding"),
    (_add_contact, lambda c: "新联系人" in [x["name"] for x in c["contacts"]]),
    (_erase_contact, lambda c: "原联系人" not in [x["name"] for x in c["contacts"]]),
    (_archive, lambda c: c["archived"] is True),
]


@pytest.mark.parametrize("case", CASES,
                         ids=[f"{c.who}{'-shared' if c.shared else ''}" for c in CASES])
async def test_scope_matrix(client: httpx.AsyncClient, actors: Actors, case: Case) -> None:
    admin, who = actors.admin, getattr(actors, case.who)
    token = unique("范围")
    customer = await make_customer(client, actors.am_east, name=f"{token} 科技有限公司",
                                   tags=[token], shared_with_department=case.shared,
                                   contacts=[contact("原联系人")])
    path = f"{CUSTOMERS}/{customer['id']}"

    # reads
    for suffix in ("", "/history", "/timeline", "/integrity"):
        response = await client.get(path + suffix, headers=who.headers)
        if case.can_read:
            assert response.status_code == 200, (suffix, response.text)
        else:
            assert_problem(response, 404, "not_found")
    if case.can_read:
        body = (await client.get(path, headers=who.headers)).json()
        assert body["id"] == customer["id"] and body["name"] == customer["name"]
        assert body["allowed_stages"] == ([] if case.write else ["onboarding"])
    expected = {customer["id"]} if case.can_read else set()
    assert await customer_ids(client, who, tag=token) == expected
    assert await customer_ids(client, who, q=token) == expected
    assert await customer_ids(client, who, q=token[-6:]) == expected

    # writes, in an order that keeps each one possible
    for write, done in WRITES:
        current = await read_customer(client, admin, customer["id"])
        response = await write(client, who, current)
        after = await read_customer(client, admin, customer["id"])
        if case.write is None:
            assert response.status_code in (200, 201), (write.__name__, response.text)
            assert after["version"] == current["version"] + 1 and done(after), write.__name__
        else:
            assert_problem(response, case.write, CODES[case.write])
            assert after == current, write.__name__


async def test_an_account_manager_creates_only_for_themselves(
        client: httpx.AsyncClient, actors: Actors) -> None:
    for owner in (actors.am_west, actors.am_east2, actors.head_east):
        name = unique("越权负责人")
        response = await client.post(CUSTOMERS, headers=actors.am_east.headers,
                                     json={"name": name, "owner_id": owner.id})
        assert_problem(response, 422, "owner_not_allowed")
        assert await customer_ids(client, actors.admin, q=name) == set()
    own = await make_customer(client, actors.am_east, owner_id=actors.am_east.id)
    assert (own["owner_id"], own["department_id"]) == (actors.am_east.id, actors.east)


async def test_a_department_head_assigns_an_account_manager_of_their_department(
        client: httpx.AsyncClient, actors: Actors) -> None:
    head = actors.head_east
    name = unique("主管新建")
    response = await client.post(CUSTOMERS, headers=head.headers, json={"name": name})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["pointer"] == "/owner_id"
    for owner in (actors.am_west, actors.head_east):
        response = await client.post(CUSTOMERS, headers=head.headers,
                                     json={"name": name, "owner_id": owner.id})
        assert_problem(response, 422, "owner_not_allowed")
    assert await customer_ids(client, actors.admin, q=name) == set()
    created = await make_customer(client, head, owner_id=actors.am_east2.id)
    assert (created["owner_id"], created["department_id"]) == (actors.am_east2.id, actors.east)
    by_admin = await make_customer(client, actors.admin, owner_id=actors.am_west.id)
    assert (by_admin["owner_id"], by_admin["department_id"]) == (actors.am_west.id, actors.west)


@pytest.mark.parametrize("who", ["analyst", "executive", "auditor"])
async def test_readers_cannot_create(client: httpx.AsyncClient, actors: Actors,
                                     who: str) -> None:
    name = unique("只读新建")
    response = await client.post(CUSTOMERS, headers=getattr(actors, who).headers,
                                 json={"name": name, "owner_id": actors.am_east.id})
    assert_problem(response, 403, "forbidden")
    assert await customer_ids(client, actors.admin, q=name) == set()
