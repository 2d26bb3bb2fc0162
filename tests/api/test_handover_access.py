"""Who sees a handover (domain §4): the two managers, heads of the customer's department and
administrators; everybody else gets 404, on the handover, its report and in lists. Who may
start one; the list filters."""

from __future__ import annotations

import httpx
import pytest

from tests.handover_support import HANDOVERS, customer_of_tier, path_of, start
from tests.support import Actors, assert_problem, list_all

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_only_the_managers_the_departments_heads_and_admins_see_a_handover(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await customer_of_tier(client, actors.am_east, "B")
    h = await start(client, actors.am_east, customer, actors.am_east2)
    insiders = {"giver": actors.am_east, "taker": actors.am_east2,
                "head": actors.head_east, "admin": actors.admin}
    outsiders = {"head_west": actors.head_west, "am_west": actors.am_west}
    for name, who in insiders.items():
        seen = await client.get(path_of(h), headers=who.headers)
        assert seen.status_code == 200, (name, seen.text)
        assert seen.json()["id"] == h["id"]
        report = await client.get(path_of(h, "/report"), headers=who.headers)
        assert report.status_code == 200 and report.json()["handover"]["id"] == h["id"], name
        listed = await list_all(client, HANDOVERS, who.headers, customer_id=customer["id"])
        assert [x["id"] for x in listed] == [h["id"]], name
    for name, who in outsiders.items():
        for suffix in ("", "/report"):
            body = assert_problem(await client.get(path_of(h, suffix), headers=who.headers),
                                  404, "not_found")
            assert "handover" in body["detail"], name
        listed = await list_all(client, HANDOVERS, who.headers, customer_id=customer["id"])
        assert listed == [], name
        refused = await client.post(path_of(h, "/cancel"), json={"reason": "越权"},
                                    headers={**who.headers, "If-Match": f'"{h["version"]}"'})
        assert_problem(refused, 404, "not_found")
    assert (await client.get(path_of(h), headers=actors.admin.headers)).json()["state"] == \
        "draft"


async def test_other_roles_get_404_on_a_handover_like_any_outsider(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await customer_of_tier(client, actors.am_east, "C")
    h = await start(client, actors.am_east, customer, actors.am_east2)
    for who in (actors.executive, actors.analyst, actors.finance, actors.auditor):
        for suffix in ("", "/report"):
            assert_problem(await client.get(path_of(h, suffix), headers=who.headers),
                           404, "not_found")


async def test_who_may_start_a_handover_and_to_whom(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await customer_of_tier(client, actors.am_east, "C")
    body = {"customer_id": customer["id"], "to_manager_id": actors.am_east2.id,
            "reason": "reassignment"}
    # Someone who cannot write the customer does not see it at all.
    for who in (actors.am_west, actors.head_west, actors.am_east2):
        refused = await client.post(HANDOVERS, headers=who.headers, json=body)
        assert_problem(refused, 404, "not_found")
    for who in (actors.executive, actors.analyst):
        refused = await client.post(HANDOVERS, headers=who.headers, json=body)
        assert_problem(refused, 403, "forbidden")  # their roles never start one
    # The receiver must be another account manager.
    for to in (actors.am_east.id, actors.finance.id):
        wrong = await client.post(HANDOVERS, headers=actors.head_east.headers,
                                  json={**body, "to_manager_id": to})
        assert_problem(wrong, 422, "validation_failed")
    assert await list_all(client, HANDOVERS, actors.admin.headers,
                          customer_id=customer["id"]) == []
    h = await start(client, actors.head_east, customer, actors.am_east2)
    assert (h["from_manager_id"], h["to_manager_id"]) == (actors.am_east.id, actors.am_east2.id)


async def test_the_list_filters(client: httpx.AsyncClient, actors: Actors) -> None:
    giver, taker, head = actors.am_east, actors.am_east2, actors.head_east
    first = await start(client, giver, await customer_of_tier(client, giver, "C"), taker)
    second = await start(client, giver, await customer_of_tier(client, giver, "C"), taker)
    second_cancelled = await client.post(path_of(second, "/cancel"), json={"reason": "撤回"},
                                         headers={**giver.headers,
                                                  "If-Match": f'"{second["version"]}"'})
    assert second_cancelled.status_code == 200, second_cancelled.text
    ids = {first["id"], second["id"]}

    def ours(items: list[dict[str, object]]) -> set[object]:
        return {x["id"] for x in items} & ids

    assert ours(await list_all(client, HANDOVERS, head.headers)) == ids
    assert ours(await list_all(client, HANDOVERS, head.headers, open="true")) == {first["id"]}
    assert ours(await list_all(client, HANDOVERS, head.headers, state="cancelled")) == \
        {second["id"]}
    assert ours(await list_all(client, HANDOVERS, head.headers, manager_id=taker.id)) == ids
    assert ours(await list_all(client, HANDOVERS, head.headers,
                               manager_id=actors.am_west.id)) == set()
    assert ours(await list_all(client, HANDOVERS, head.headers,
                               department_id=actors.east)) == ids
    assert ours(await list_all(client, HANDOVERS, actors.admin.headers,
                               department_id=actors.west)) == set()
    pages = await list_all(client, HANDOVERS, head.headers, limit=1)
    assert len({x["id"] for x in pages}) == len(pages)  # keyset pages never repeat
    assert ids <= {x["id"] for x in pages}
