"""档案更新 and the timeline: every change of every field is kept with who, when and through
which request, and the timeline is a read model fed by the domain events committed with
the change (so it can never show something that did not happen)."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

import httpx
from fastapi import FastAPI

from app.repositories.tables import outbox
from app.repositories.tables_customers import customer_timeline
from tests.customer_support import (
    CUSTOMERS,
    contact,
    customer_history,
    e164,
    if_match,
    make_customer,
    mobile,
)
from tests.db import row_count, rows
from tests.support import Actors, assert_problem, list_all, list_pages


def request_id() -> str:
    return f"hist-{uuid.uuid4().hex}"


def is_utc_z(value: str) -> bool:
    return value.endswith("Z") and datetime.fromisoformat(value).utcoffset() is not None


async def test_a_patch_records_one_entry_per_changed_field_and_none_for_the_rest(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, industry="制造业", region="上海市",
                                     address="浦东新区张江路 1 号")
    rid = request_id()

    response = await client.patch(
        f"{CUSTOMERS}/{customer['id']}", headers={**am.headers, **if_match(customer),
                                                 "X-Request-ID": rid},
        json={"industry": "金融", "region": "北京市", "address": customer["address"],
              "name": customer["name"]})

    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == rid
    assert (response.json()["industry"], response.json()["region"]) == ("金融", "北京市")
    entries = [e for e in await customer_history(client, am, customer["id"])
               if e["request_id"] == rid]
    assert sorted((e["field"], e["old"], e["new"]) for e in entries) == [
        ("industry", "制造业", "金融"), ("region", "上海市", "北京市")]
    for entry in entries:
        assert entry["action"] == "customer.updated"
        assert entry["actor_id"] == am.id
        assert entry["contact_id"] is None
        assert entry["redacted"] is False
        assert is_utc_z(entry["occurred_at"])


async def test_a_patch_that_changes_nothing_adds_no_history(client: httpx.AsyncClient,
                                                            actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, industry="零售")
    before = await customer_history(client, am, customer["id"])
    rid = request_id()

    response = await client.patch(
        f"{CUSTOMERS}/{customer['id']}", headers={**am.headers, **if_match(customer),
                                                 "X-Request-ID": rid},
        json={"industry": "零售", "name": customer["name"], "tags": []})

    assert response.status_code == 200, response.text
    after = await customer_history(client, am, customer["id"])
    assert after == before
    assert not [e for e in after if e["request_id"] == rid]


async def test_contact_entries_carry_the_contact_id(client: httpx.AsyncClient,
                                                    actors: Actors) -> None:
    am = actors.am_east
    first_phone = mobile()
    customer = await make_customer(client, am, contacts=[
        contact("王磊", phones=[{"number": first_phone}], title="采购经理")])
    first_id = customer["contacts"][0]["id"]
    added = await client.post(f"{CUSTOMERS}/{customer['id']}/contacts", headers=am.headers,
                              json=contact("赵敏"))
    assert added.status_code == 201, added.text
    rid = request_id()

    changed = await client.patch(
        f"{CUSTOMERS}/{customer['id']}/contacts/{first_id}",
        headers={**am.headers, **if_match(customer["contacts"][0]), "X-Request-ID": rid},
        json={"title": "采购总监"})

    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "采购总监"
    history = await customer_history(client, am, customer["id"])
    first_added = {e["field"]: e for e in history
                   if e["action"] == "contact.added" and e["contact_id"] == first_id}
    assert first_added["name"]["new"] == "王磊" and first_added["name"]["old"] is None
    assert first_added["phones"]["new"] == [{"number": e164(first_phone), "verified": False}]
    second_added = [e for e in history if e["action"] == "contact.added"
                    and e["contact_id"] == added.json()["id"]]
    assert {e["field"] for e in second_added} >= {"name", "phones", "emails"}
    updates = [e for e in history if e["request_id"] == rid and e["contact_id"] is not None]
    assert [(e["action"], e["contact_id"], e["field"], e["old"], e["new"]) for e in updates] == [
        ("contact.updated", first_id, "title", "采购经理", "采购总监")]


async def test_history_is_newest_first_and_walks_in_pages_without_gaps(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am)
    version = customer["version"]
    for industry in ("能源", "物流", "教育"):
        response = await client.patch(f"{CUSTOMERS}/{customer['id']}",
                                      headers={**am.headers, **if_match(version)},
                                      json={"industry": industry})
        assert response.status_code == 200, response.text
        version = response.json()["version"]
    path = f"{CUSTOMERS}/{customer['id']}/history"

    pages = await list_pages(client, path, am.headers, limit=2)
    walked = [e for page in pages for e in page["data"]]

    assert len(pages) > 2 and all(len(p["data"]) <= 2 for p in pages)
    ids = [e["id"] for e in walked]
    times = [datetime.fromisoformat(e["occurred_at"]) for e in walked]
    assert times == sorted(times, reverse=True) and len(set(ids)) == len(ids)
    assert walked == await list_all(client, path, am.headers)
    industries = [e["new"] for e in walked if e["field"] == "industry"]
    assert industries[:3] == ["教育", "物流", "能源"]


async def test_timeline_lists_the_customers_events_newest_first(client: httpx.AsyncClient,
                                                                actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, contacts=[contact()])
    cid = customer["id"]
    updated = await client.patch(f"{CUSTOMERS}/{cid}", headers={**am.headers,
                                                                **if_match(customer)},
                                 json={"industry": "软件服务"})
    assert updated.status_code == 200, updated.text
    staged = await client.post(f"{CUSTOMERS}/{cid}/stage",
                               headers={**am.headers, **if_match(updated.json())},
                               json={"stage": "onboarding"})
    assert staged.status_code == 200, staged.text
    added = await client.post(f"{CUSTOMERS}/{cid}/contacts", headers=am.headers,
                              json=contact())
    assert added.status_code == 201, added.text

    events = await list_all(client, f"{CUSTOMERS}/{cid}/timeline", am.headers)

    assert [e["type"] for e in events] == [
        "contact.added", "customer.stage_changed", "customer.updated", "customer.created"]
    assert {e["actor_id"] for e in events} == {am.id}
    assert all(e["entity_type"] == "customer" and e["entity_id"] == cid for e in events)
    assert all(is_utc_z(e["occurred_at"]) for e in events)
    times = [e["occurred_at"] for e in events]
    assert times == sorted(times, reverse=True)
    by_type = {e["type"]: e["data"] for e in events}
    assert by_type["customer.created"]["name"] == customer["name"]
    assert "industry" in by_type["customer.updated"]["changed"]
    assert (by_type["customer.stage_changed"]["from"],
            by_type["customer.stage_changed"]["to"]) == ("prospect", "onboarding")
    assert by_type["contact.added"]["contact_id"] == added.json()["id"]
    one_by_one = await list_pages(client, f"{CUSTOMERS}/{cid}/timeline", am.headers, limit=1)
    assert [p["data"][0]["id"] for p in one_by_one if p["data"]] == [e["id"] for e in events]


async def test_timeline_row_is_committed_with_the_outbox_event(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am)
    cid = customer["id"]

    response = await client.patch(f"{CUSTOMERS}/{cid}", headers={**am.headers,
                                                                 **if_match(customer)},
                                  json={"region": "杭州市"})

    assert response.status_code == 200, response.text
    [event] = await rows(app, outbox, entity_id=cid, type="customer.updated")
    [line] = await rows(app, customer_timeline, customer_id=UUID(cid), type="customer.updated")
    assert event.request_id == response.headers["x-request-id"]
    assert (line.occurred_at, line.data, line.actor_id) == (event.occurred_at, event.data, am.id)
    assert "region" in line.data["changed"]


async def test_a_refused_change_leaves_no_event_and_no_timeline_row(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am)
    cid = customer["id"]
    before = (await row_count(app, outbox, entity_id=cid),
              await row_count(app, customer_timeline, customer_id=UUID(cid)))

    stale = await client.patch(f"{CUSTOMERS}/{cid}", headers={**am.headers,
                                                              **if_match(customer["version"] + 5)},
                               json={"region": "杭州市"})

    assert_problem(stale, 412, "precondition_failed")
    assert before == (1, 1)
    assert (await row_count(app, outbox, entity_id=cid),
            await row_count(app, customer_timeline, customer_id=UUID(cid))) == before


async def test_history_and_timeline_are_404_outside_the_record_scope(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east)

    for part in ("history", "timeline"):
        response = await client.get(f"{CUSTOMERS}/{customer['id']}/{part}",
                                    headers=actors.am_west.headers)
        assert_problem(response, 404, "not_found")
    assert await customer_history(client, actors.analyst, customer["id"])
