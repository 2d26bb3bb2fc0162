"""Erasing a contact's personal data (个人信息删除, PIPL): the contact is blanked, every
earlier value of it in the customer's history is redacted, the append-only audit log only
ever held the fact and time, and the erased phone stops counting as a duplicate."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx

from tests.customer_support import (
    CUSTOMERS,
    contact,
    customer_history,
    e164,
    if_match,
    make_customer,
    mobile,
    read_customer,
)
from tests.support import Actor, Actors, assert_problem, audit_entries, list_all, unique


def personal(c: dict[str, Any]) -> list[str]:
    """The strings that identify the person behind a contact body."""
    phones = [p["number"] for p in c["phones"]]
    return [c["name"], c["im_handle"], *phones, *(e164(p) for p in phones),
            *(e["address"] for e in c["emails"])]


def leaks(values: list[str], items: list[dict[str, Any]]) -> list[str]:
    text = json.dumps(items, ensure_ascii=False)
    return [v for v in values if v and v in text]


async def erase(client: httpx.AsyncClient, who: Actor, customer_id: str,
                person: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{CUSTOMERS}/{customer_id}/contacts/{person['id']}/erase",
                             headers={**who.headers, **if_match(person)})


async def two_contacts(client: httpx.AsyncClient, who: Actor) -> tuple[dict[str, Any], ...]:
    """A customer with a contact to erase (whose title was changed once, so it has more
    than one history entry) and one to keep."""
    gone = contact(unique("陈静"), title="财务经理", im_handle=unique("wx"))
    kept = contact(unique("黄勇"), title="总经理")
    customer = await make_customer(client, who, contacts=[gone, kept])
    [erasable] = [c for c in customer["contacts"] if c["name"] == gone["name"]]
    changed = await client.patch(f"{CUSTOMERS}/{customer['id']}/contacts/{erasable['id']}",
                                 headers={**who.headers, **if_match(erasable)},
                                 json={"title": "财务总监"})
    assert changed.status_code == 200, changed.text
    return customer, changed.json(), next(c for c in customer["contacts"] if c is not erasable)


async def test_erasure_blanks_the_contact_and_redacts_its_history(client: httpx.AsyncClient,
                                                                  actors: Actors) -> None:
    am = actors.am_east
    customer, gone, kept = await two_contacts(client, am)

    response = await erase(client, am, customer["id"], gone)

    assert response.status_code == 200, response.text
    erased = response.json()
    assert (erased["phones"], erased["emails"], erased["im_handle"], erased["title"]) == (
        [], [], "", "")
    assert erased["name"] != gone["name"] and erased["is_primary"] is False
    assert erased["erased_at"].endswith("Z") and erased["version"] == gone["version"] + 1
    assert response.headers["etag"] == f'"{erased["version"]}"'
    stored = {c["id"]: c for c in (await read_customer(client, am, customer["id"]))["contacts"]}
    assert stored[gone["id"]] == erased and stored[kept["id"]] == kept
    history = await customer_history(client, am, customer["id"])
    earlier = [e for e in history if e["contact_id"] == gone["id"]
               and e["action"] != "contact.erased"]
    assert {e["action"] for e in earlier} == {"contact.added", "contact.updated"}
    assert all((e["old"], e["new"], e["redacted"]) == (None, None, True) for e in earlier)
    [mark] = [e for e in history if e["action"] == "contact.erased"]
    assert (mark["contact_id"], mark["field"], mark["redacted"]) == (gone["id"], "erased_at",
                                                                     False)
    others = {e["field"]: e for e in history if e["contact_id"] == kept["id"]}
    assert (others["name"]["new"], others["name"]["redacted"]) == (kept["name"], False)
    assert others["phones"]["new"] == kept["phones"]
    assert leaks(personal(gone), history) == []


async def test_the_audit_log_keeps_the_fact_and_time_but_no_personal_data(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer, gone, _ = await two_contacts(client, am)

    response = await erase(client, am, customer["id"], gone)

    assert response.status_code == 200, response.text
    [entry] = [e for e in await audit_entries(client, actors.auditor, "customer",
                                              customer["id"])
               if e["action"] == "contact.erased"]
    assert entry["actor_id"] == am.id
    assert entry["request_id"] == response.headers["x-request-id"]
    assert entry["before"]["contact_id"] == gone["id"]
    assert datetime.fromisoformat(entry["before"]["erased_at"]) == datetime.fromisoformat(
        response.json()["erased_at"])
    everything = await list_all(client, "/api/v1/audit/entries", actors.auditor.headers)
    assert len(everything) > 3
    assert leaks(personal(gone), everything) == []


async def test_an_erased_phone_no_longer_blocks_a_new_customer(client: httpx.AsyncClient,
                                                               actors: Actors) -> None:
    am = actors.am_east
    number, address = mobile(), f"{unique('gone')}@example.cn"
    owner = await make_customer(client, am, contacts=[
        contact(phones=[{"number": number}], emails=[{"address": address}])])
    blocked = await client.post(CUSTOMERS, headers=am.headers, json={
        "name": unique("新客户"), "contacts": [contact(phones=[{"number": number}])]})
    assert_problem(blocked, 409, "duplicate_customer")

    erased = await erase(client, am, owner["id"], owner["contacts"][0])
    assert erased.status_code == 200, erased.text

    created = await make_customer(client, am, contacts=[
        contact(phones=[{"number": number}], emails=[{"address": address}])])
    assert created["contacts"][0]["phones"][0]["number"] == e164(number)


async def test_an_erased_contact_cannot_be_erased_again_or_changed(client: httpx.AsyncClient,
                                                                   actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, contacts=[contact()])
    erased = (await erase(client, am, customer["id"], customer["contacts"][0])).json()
    before = await read_customer(client, am, customer["id"])
    history = await customer_history(client, am, customer["id"])

    again = await erase(client, am, customer["id"], erased)
    patched = await client.patch(f"{CUSTOMERS}/{customer['id']}/contacts/{erased['id']}",
                                 headers={**am.headers, **if_match(erased)},
                                 json={"name": "恢复的名字"})

    assert assert_problem(again, 409, "invalid_state")["detail"].endswith("erased.")
    assert_problem(patched, 409, "invalid_state")
    assert await read_customer(client, am, customer["id"]) == before
    assert await customer_history(client, am, customer["id"]) == history


async def test_erasure_needs_the_contacts_version_and_your_scope(client: httpx.AsyncClient,
                                                                 actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east, contacts=[contact()])
    person = customer["contacts"][0]
    path = f"{CUSTOMERS}/{customer['id']}/contacts/{person['id']}/erase"

    missing = await client.post(path, headers=actors.am_east.headers)
    stale = await client.post(path, headers={**actors.am_east.headers,
                                             **if_match(person["version"] + 1)})
    foreign = await erase(client, actors.am_west, customer["id"], person)
    read_only = await erase(client, actors.analyst, customer["id"], person)

    assert_problem(missing, 428, "precondition_required")
    assert_problem(stale, 412, "precondition_failed")
    assert_problem(foreign, 404, "not_found")
    assert_problem(read_only, 403, "forbidden")
    assert (await read_customer(client, actors.am_east, customer["id"]))["contacts"] == [person]


async def test_erasure_after_a_merge_redacts_the_copies_in_both_histories(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    target = await make_customer(client, am)
    source = await make_customer(client, am, contacts=[contact(unique("孙丽"))])
    person = source["contacts"][0]
    merged = await client.post(f"{CUSTOMERS}/{target['id']}/merge",
                               headers={**am.headers, **if_match(target)},
                               json={"source_id": source["id"],
                                     "source_version": source["version"]})
    assert merged.status_code == 200, merged.text
    [moved] = merged.json()["contacts"]

    response = await erase(client, am, target["id"], moved)

    assert response.status_code == 200, response.text
    for customer_id in (target["id"], source["id"]):
        history = await customer_history(client, am, customer_id)
        assert [e for e in history if e["contact_id"] == person["id"]
                and e["action"] == "contact.added"]
        assert leaks(personal(person), history) == []
