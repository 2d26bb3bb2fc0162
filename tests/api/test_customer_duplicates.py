"""Duplicates (重复客户): a credit code, phone or e-mail that already belongs to a customer
is refused with a problem naming that customer, so the user opens or merges it instead of
creating a second record; a stated reason creates anyway and is kept. External ids of
other CRMs are unique per system and can never be forced."""

from __future__ import annotations

from typing import Any

import httpx

from tests.customer_support import (
    CUSTOMERS,
    contact,
    credit_code,
    customer_history,
    customer_ids,
    e164,
    if_match,
    make_customer,
    mobile,
    read_customer,
)
from tests.support import Actors, assert_problem, audit_entries, unique


def names_existing(body: dict[str, Any], existing: dict[str, Any], kind: str,
                   value: str) -> None:
    """The problem names the existing customer in ``duplicates`` and in its detail."""
    assert {"customer_id": existing["id"], "customer_name": existing["name"], "kind": kind,
            "value": value} in body["duplicates"]
    assert existing["name"] in body["detail"] and existing["id"] in body["detail"]


async def refused(client: httpx.AsyncClient, actors: Actors, tag: str,
                  response: httpx.Response) -> dict[str, Any]:
    """409 duplicate_customer, and no customer carrying ``tag`` was created."""
    body = assert_problem(response, 409, "duplicate_customer")
    assert await customer_ids(client, actors.admin, tag=tag) == set()
    return body


async def test_same_credit_code_is_refused_naming_the_existing_customer(
        client: httpx.AsyncClient, actors: Actors) -> None:
    code = credit_code()
    existing = await make_customer(client, actors.am_west, credit_code=code)
    tag = unique("dup")
    body = {"name": unique("重复客户"), "credit_code": code, "tags": [tag]}

    english = await client.post(CUSTOMERS, headers=actors.am_east.headers, json=body)
    chinese = await client.post(CUSTOMERS, json=body, headers={
        **actors.am_east.headers, "Accept-Language": "zh-CN"})

    names_existing(await refused(client, actors, tag, english), existing, "credit_code", code)
    problem = await refused(client, actors, tag, chinese)
    names_existing(problem, existing, "credit_code", code)
    assert f"客户「{existing['name']}」" in problem["detail"]
    assert problem["detail"] != english.json()["detail"]


async def test_same_phone_written_differently_is_a_duplicate(client: httpx.AsyncClient,
                                                             actors: Actors) -> None:
    digits = mobile().replace(" ", "")  # 139xxxxxxxx
    existing = await make_customer(client, actors.am_east,
                                   contacts=[contact(phones=[{"number": digits}])])
    spaced = f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    tag = unique("dup")

    response = await client.post(CUSTOMERS, headers=actors.am_east.headers, json={
        "name": unique("重复客户"), "tags": [tag],
        "contacts": [contact("张伟", phones=[{"number": spaced}])]})

    names_existing(await refused(client, actors, tag, response), existing, "phone",
                   e164(digits))


async def test_same_email_in_another_case_is_a_duplicate(client: httpx.AsyncClient,
                                                         actors: Actors) -> None:
    address = f"{unique('wang.fang')}@example.cn"
    existing = await make_customer(client, actors.am_east,
                                   contacts=[contact(emails=[{"address": address}])])
    tag = unique("dup")

    response = await client.post(CUSTOMERS, headers=actors.am_east.headers, json={
        "name": unique("重复客户"), "tags": [tag],
        "contacts": [contact(emails=[{"address": address.upper()}])]})

    names_existing(await refused(client, actors, tag, response), existing, "email",
                   address.lower())


async def test_force_reason_creates_anyway_and_keeps_the_reason(client: httpx.AsyncClient,
                                                                actors: Actors) -> None:
    code = credit_code()
    existing = await make_customer(client, actors.am_east, credit_code=code)
    reason = "集团下属独立法人，另行签约"

    created = await make_customer(client, actors.am_east, credit_code=code,
                                  force_reason=reason)

    assert created["id"] != existing["id"] and created["credit_code"] == code
    history = await customer_history(client, actors.am_east, created["id"])
    assert [(e["action"], e["new"]) for e in history
            if e["field"] == "forced_duplicate_reason"] == [("customer.created", reason)]
    [entry] = await audit_entries(client, actors.auditor, "customer", created["id"])
    assert entry["action"] == "customer.created"
    assert entry["after"]["forced_duplicate_reason"] == reason
    assert (await read_customer(client, actors.am_east, existing["id"]))["version"] == 1


async def test_an_archived_customers_credit_code_does_not_block(client: httpx.AsyncClient,
                                                                actors: Actors) -> None:
    code = credit_code()
    old = await make_customer(client, actors.am_east, credit_code=code)
    archived = await client.post(f"{CUSTOMERS}/{old['id']}/archive",
                                 headers={**actors.am_east.headers, **if_match(old)})
    assert archived.status_code == 200 and archived.json()["archived"] is True, archived.text

    created = await make_customer(client, actors.am_east, credit_code=code)

    assert created["credit_code"] == code and created["id"] != old["id"]
    assert not [e for e in await customer_history(client, actors.am_east, created["id"])
                if e["field"] == "forced_duplicate_reason"]


async def test_external_ref_is_unique_per_system_even_with_a_reason(
        client: httpx.AsyncClient, actors: Actors) -> None:
    zoho_id = unique("4150868")
    existing = await make_customer(client, actors.am_east, external_refs={"zoho": zoho_id})
    tag = unique("ext")

    taken = await client.post(CUSTOMERS, headers=actors.am_east.headers, json={
        "name": unique("外部编号"), "tags": [tag], "external_refs": {"zoho": zoho_id},
        "force_reason": "试图强制"})
    other_system = await make_customer(client, actors.am_east,
                                       external_refs={"fxiaoke": zoho_id})

    body = assert_problem(taken, 409, "external_ref_taken")
    assert zoho_id in body["detail"] and "zoho" in body["detail"]
    assert await customer_ids(client, actors.admin, tag=tag) == set()
    assert other_system["external_refs"] == {"fxiaoke": zoho_id}
    assert (await read_customer(client, actors.am_east, existing["id"]))["external_refs"] == {
        "zoho": zoho_id}


async def test_a_patch_cannot_take_another_customers_external_ref(
        client: httpx.AsyncClient, actors: Actors) -> None:
    zoho_id = unique("4150868")
    await make_customer(client, actors.am_east, external_refs={"zoho": zoho_id})
    mine = await make_customer(client, actors.am_east)

    response = await client.patch(f"{CUSTOMERS}/{mine['id']}",
                                  headers={**actors.am_east.headers, **if_match(mine)},
                                  json={"external_refs": {"zoho": zoho_id},
                                        "force_reason": "试图强制"})

    assert_problem(response, 409, "external_ref_taken")
    after = await read_customer(client, actors.am_east, mine["id"])
    assert (after["external_refs"], after["version"]) == ({}, mine["version"])


async def test_a_contact_whose_phone_belongs_to_another_customer_needs_a_reason(
        client: httpx.AsyncClient, actors: Actors) -> None:
    number = mobile()
    existing = await make_customer(client, actors.am_east,
                                   contacts=[contact(phones=[{"number": number}])])
    mine = await make_customer(client, actors.am_east)
    path = f"{CUSTOMERS}/{mine['id']}/contacts"

    refused_add = await client.post(path, headers=actors.am_east.headers,
                                    json=contact("周杰", phones=[{"number": number}]))
    body = assert_problem(refused_add, 409, "duplicate_customer")
    names_existing(body, existing, "phone", e164(number))
    assert (await read_customer(client, actors.am_east, mine["id"]))["contacts"] == []

    forced = await client.post(path, headers=actors.am_east.headers, json=contact(
        "周杰", phones=[{"number": number}], force_reason="同一联系人负责两家公司"))

    assert forced.status_code == 201, forced.text
    [added] = (await read_customer(client, actors.am_east, mine["id"]))["contacts"]
    assert (added["id"], added["phones"][0]["number"]) == (forced.json()["id"], e164(number))
