"""Live sync from a CRM, one record at a time (issue 17 item 5): the customer a CRM id
points to is found with ``?external_ref=``, and ``PUT /customers/by-external-ref`` creates
it, updates it (If-Match), leaves it alone when nothing differs, and refuses a reference
another customer holds, naming that customer."""

from __future__ import annotations

import uuid

import httpx

from tests.customer_support import CUSTOMERS, contact, credit_code, customer_history, if_match
from tests.support import Actors, assert_problem, unique


def crm_id() -> str:
    return f"4876876{uuid.uuid4().int % 10**12:012d}"


def by_ref(system: str, external_id: str) -> str:
    return f"{CUSTOMERS}/by-external-ref/{system}/{external_id}"


async def test_a_put_creates_the_customer_and_the_lookup_finds_it(
        client: httpx.AsyncClient, actors: Actors) -> None:
    ref = crm_id()
    body = {"name": unique("深圳同步客户"), "credit_code": credit_code(),
            "contacts": [contact("王芳")]}
    created = await client.put(by_ref("zoho", ref), json=body, headers=actors.am_east.headers)
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["external_refs"] == {"zoho": ref}
    assert created.headers["Location"] == f"{CUSTOMERS}/{customer['id']}"
    assert created.headers["ETag"] == '"1"'
    found = await client.get(CUSTOMERS, params={"external_ref": f"zoho:{ref}"},
                             headers=actors.am_east.headers)
    assert [c["id"] for c in found.json()["data"]] == [customer["id"]]
    # the lookup keeps record scope: another department's manager finds nothing
    hidden = await client.get(CUSTOMERS, params={"external_ref": f"zoho:{ref}"},
                              headers=actors.am_west.headers)
    assert hidden.json()["data"] == []
    other = await client.get(CUSTOMERS, params={"external_ref": f"fxiaoke:{ref}"},
                             headers=actors.admin.headers)
    assert other.json()["data"] == []


async def test_a_put_updates_with_if_match_and_an_unchanged_body_changes_nothing(
        client: httpx.AsyncClient, actors: Actors) -> None:
    ref = crm_id()
    body = {"name": unique("同步客户"), "industry": "制造业", "contacts": [contact("赵磊")]}
    customer = (await client.put(by_ref("zoho", ref), json=body,
                                 headers=actors.am_east.headers)).json()
    missing = await client.put(by_ref("zoho", ref), json=body, headers=actors.am_east.headers)
    assert_problem(missing, 428, "precondition_required")
    stale = await client.put(by_ref("zoho", ref), json=body,
                             headers={**actors.am_east.headers, **if_match(7)})
    assert_problem(stale, 412, "precondition_failed")

    same = await client.put(by_ref("zoho", ref), json=body,
                            headers={**actors.am_east.headers, **if_match(customer)})
    assert same.status_code == 200 and same.json()["version"] == 1
    assert same.json()["id"] == customer["id"]

    changed = {**body, "industry": "软件和信息技术服务业",
               "contacts": [{**body["contacts"][0], "title": "采购经理"}, contact("钱多")]}
    updated = await client.put(by_ref("zoho", ref), json=changed,
                               headers={**actors.am_east.headers, **if_match(customer)})
    assert updated.status_code == 200, updated.text
    out = updated.json()
    assert out["version"] == 2 and out["industry"] == "软件和信息技术服务业"
    assert sorted((c["name"], c["title"]) for c in out["contacts"]) == [
        ("赵磊", "采购经理"), ("钱多", "")]
    history = await customer_history(client, actors.am_east, customer["id"])
    assert {"industry", "title"} <= {e["field"] for e in history}
    again = await client.put(by_ref("zoho", ref), json=changed,
                             headers={**actors.am_east.headers, **if_match(out)})
    assert again.json()["version"] == 2


async def test_a_reference_held_by_another_customer_is_a_conflict_naming_it(
        client: httpx.AsyncClient, actors: Actors) -> None:
    held, ref = crm_id(), crm_id()
    holder = (await client.put(by_ref("zoho", held), json={"name": unique("持有者")},
                               headers=actors.am_east.headers)).json()
    # a new customer whose body claims another system's reference the holder has
    (await client.put(by_ref("fxiaoke", "FX-1" + held), json={"name": unique("x")},
                      headers=actors.am_east.headers)).raise_for_status()
    response = await client.put(
        by_ref("zoho", ref), json={"name": unique("新客户"),
                                   "external_refs": {"fxiaoke": "FX-1" + held}},
        headers=actors.am_east.headers)
    problem = assert_problem(response, 409, "external_ref_taken")
    assert problem["holder"]["name"].startswith("x-")
    assert (await client.get(CUSTOMERS, params={"external_ref": f"zoho:{ref}"},
                             headers=actors.admin.headers)).json()["data"] == []
    # a reference held by a customer the caller may not write: 409, holder not named
    outside = await client.put(by_ref("zoho", held), json={"name": "改名"},
                               headers={**actors.am_west.headers, **if_match(holder)})
    problem = assert_problem(outside, 409, "external_ref_taken")
    assert "holder" not in problem
    # the same body for POST /customers names the holder too
    posted = await client.post(CUSTOMERS, json={"name": unique("y"),
                                                 "external_refs": {"zoho": held},
                                                 "owner_id": actors.am_east2.id},
                               headers=actors.head_east.headers)
    assert assert_problem(posted, 409, "external_ref_taken")["holder"] == {
        "id": holder["id"], "name": holder["name"]}
    mismatch = await client.put(by_ref("zoho", ref), json={
        "name": "x", "external_refs": {"zoho": "other"}}, headers=actors.am_east.headers)
    assert_problem(mismatch, 422, "validation_failed")


async def test_an_idempotency_key_replays_the_create(
        client: httpx.AsyncClient, actors: Actors) -> None:
    ref = crm_id()
    headers = {**actors.am_east.headers, "Idempotency-Key": unique("sync")}
    body = {"name": unique("幂等客户")}
    first = await client.put(by_ref("salesforce", ref), json=body, headers=headers)
    second = await client.put(by_ref("salesforce", ref), json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    found = await client.get(CUSTOMERS, params={"external_ref": f"salesforce:{ref}"},
                             headers=actors.admin.headers)
    assert len(found.json()["data"]) == 1
