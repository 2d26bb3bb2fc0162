"""Merging duplicates (合并客户): the source's contacts, tags, needs and history move into
the target, the source is archived pointing at it, and both histories say so. A merge
that cannot be done cleanly (stale source, itself, out of scope, conflicting external
ids) changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from tests.customer_support import (
    CUSTOMERS,
    contact,
    customer_history,
    customer_ids,
    if_match,
    make_customer,
    read_customer,
)
from tests.support import Actor, Actors, assert_problem, audit_entries, unique


async def merge(client: httpx.AsyncClient, who: Actor, target: dict[str, Any],
                source: dict[str, Any], source_version: int | None = None) -> httpx.Response:
    return await client.post(
        f"{CUSTOMERS}/{target['id']}/merge", headers={**who.headers, **if_match(target)},
        json={"source_id": source["id"], "source_version": source_version or source["version"]})


async def unchanged(client: httpx.AsyncClient, who: Actor, *customers: dict[str, Any]) -> None:
    """Each customer is exactly as it was read before the refused merge."""
    for before in customers:
        after = await read_customer(client, who, before["id"])
        assert (after["version"], after["archived"], after["merged_into"], after["contacts"],
                after["external_refs"]) == (before["version"], False, None, before["contacts"],
                                            before["external_refs"])


async def test_merge_moves_contacts_unites_tags_and_archives_the_source(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    shared, only_target, only_source = unique("t"), unique("t"), unique("t")
    zoho, fxiaoke = unique("z"), unique("fx")
    target = await make_customer(client, am, tags=[shared, only_target], needs=["compliance"],
                                 contacts=[contact("李娜", is_primary=True)],
                                 external_refs={"zoho": zoho})
    source = await make_customer(client, am, tags=[shared, only_source], needs=["training"],
                                 contacts=[contact("王强", is_primary=True), contact("刘洋")],
                                 external_refs={"fxiaoke": fxiaoke})
    patched = await client.patch(f"{CUSTOMERS}/{source['id']}",
                                 headers={**am.headers, **if_match(source)},
                                 json={"industry": "物流"})
    assert patched.status_code == 200, patched.text
    target_patch = await client.patch(f"{CUSTOMERS}/{target['id']}",
                                      headers={**am.headers, **if_match(target)},
                                      json={"region": "南京市"})
    assert target_patch.status_code == 200, target_patch.text
    target = target_patch.json()

    response = await merge(client, am, target, patched.json())

    assert response.status_code == 200, response.text
    merged = response.json()
    assert {c["id"] for c in merged["contacts"]} == {
        c["id"] for c in target["contacts"] + source["contacts"]}
    assert [c["name"] for c in merged["contacts"] if c["is_primary"]] == ["李娜"]
    assert merged["tags"] == sorted({shared, only_target, only_source})
    assert merged["needs"] == ["compliance", "training"]
    assert merged["external_refs"] == {"zoho": zoho, "fxiaoke": fxiaoke}
    assert merged["version"] == target["version"] + 1
    assert response.headers["etag"] == f'"{merged["version"]}"'
    gone = await read_customer(client, am, source["id"])
    assert (gone["archived"], gone["merged_into"], gone["contacts"], gone["external_refs"]) == (
        True, target["id"], [], {})
    taken = await client.post(CUSTOMERS, headers=am.headers, json={
        "name": unique("外部"), "external_refs": {"fxiaoke": fxiaoke}})
    assert_problem(taken, 409, "external_ref_taken")
    assert source["id"] not in await customer_ids(client, am, tag=shared)
    target_history = await customer_history(client, am, target["id"])
    source_history = await customer_history(client, am, source["id"])
    assert "customer.merged" in {e["action"] for e in target_history}
    assert "customer.merged_away" in {e["action"] for e in source_history}
    moved = [(e["field"], e["old"], e["new"]) for e in target_history
             if e["request_id"] == patched.headers["x-request-id"]]
    assert moved == [("industry", "", "物流")]
    times = [datetime.fromisoformat(e["occurred_at"]) for e in target_history]
    assert times == sorted(times, reverse=True)  # newest first, copied entries included
    actions = {e["action"] for e in await audit_entries(client, actors.auditor, "customer",
                                                        target["id"])}
    assert "customer.merged" in actions
    assert "customer.merged_away" in {e["action"] for e in await audit_entries(
        client, actors.auditor, "customer", source["id"])}


async def test_both_histories_record_a_merge_that_changes_no_field_of_the_target(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    target = await make_customer(client, am)
    source = await make_customer(client, am)

    response = await merge(client, am, target, source)

    assert response.status_code == 200, response.text
    rid = response.headers["x-request-id"]
    into = [(e["action"], e["field"], e["new"], e["actor_id"])
            for e in await customer_history(client, am, target["id"]) if e["request_id"] == rid]
    assert into == [("customer.merged", "merged_from", source["id"], am.id)]
    away = {(e["action"], e["field"], e["old"], e["new"])
            for e in await customer_history(client, am, source["id"]) if e["request_id"] == rid}
    assert {("customer.merged_away", "merged_into", None, target["id"]),
            ("customer.merged_away", "archived", False, True)} <= away


async def test_stale_source_version_is_412_and_changes_nothing(client: httpx.AsyncClient,
                                                               actors: Actors) -> None:
    am = actors.am_east
    target = await make_customer(client, am, contacts=[contact()])
    source = await make_customer(client, am, contacts=[contact()])

    response = await merge(client, am, target, source, source_version=source["version"] + 1)

    assert_problem(response, 412, "precondition_failed")
    await unchanged(client, am, target, source)


async def test_merging_a_customer_into_itself_is_422(client: httpx.AsyncClient,
                                                    actors: Actors) -> None:
    target = await make_customer(client, actors.am_east)

    response = await merge(client, actors.am_east, target, target)

    body = assert_problem(response, 422, "validation_failed")
    assert [(e["pointer"], e["reason"]) for e in body["errors"]] == [
        ("/source_id", "merge_into_itself")]
    await unchanged(client, actors.am_east, target)


async def test_merging_a_customer_out_of_your_scope_is_404(client: httpx.AsyncClient,
                                                          actors: Actors) -> None:
    target = await make_customer(client, actors.am_east)
    foreign = await make_customer(client, actors.am_west, contacts=[contact()])

    response = await merge(client, actors.am_east, target, foreign)

    assert_problem(response, 404, "not_found")
    await unchanged(client, actors.admin, target, foreign)


async def test_conflicting_external_refs_are_409_and_change_nothing(client: httpx.AsyncClient,
                                                                   actors: Actors) -> None:
    am = actors.am_east
    target = await make_customer(client, am, external_refs={"zoho": unique("z")},
                                 contacts=[contact()])
    source = await make_customer(client, am, external_refs={"zoho": unique("z")},
                                 contacts=[contact()])

    response = await merge(client, am, target, source)

    body = assert_problem(response, 409, "external_ref_taken")
    assert source["external_refs"]["zoho"] in body["detail"]
    await unchanged(client, am, target, source)
    assert not [e for e in await customer_history(client, am, target["id"])
                if e["action"].startswith("customer.merged")]
