"""Listing customers: each filter returns exactly the matching customers, every sort walks
all pages with no duplicate or gap (also while customers are being added), unknown
filters are refused, and needs come from the vocabulary the administrator manages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.customer_support import (
    CUSTOMERS,
    contact,
    customer_ids,
    if_match,
    make_customer,
)
from tests.support import Actors, assert_problem, list_pages, unique

NEEDS = "/api/v1/settings/customer-needs"


def ids(*customers: dict[str, Any]) -> set[str]:
    return {c["id"] for c in customers}


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_owner_and_department_filters(client: httpx.AsyncClient, actors: Actors) -> None:
    tag = unique("f")
    mine = await make_customer(client, actors.am_east, tags=[tag])
    colleague = await make_customer(client, actors.am_east2, tags=[tag])
    west = await make_customer(client, actors.am_west, tags=[tag])
    admin = actors.admin

    assert await customer_ids(client, admin, tag=tag, owner_id=actors.am_east.id) == ids(mine)
    assert await customer_ids(client, admin, tag=tag, owner_id=actors.am_west.id) == ids(west)
    assert await customer_ids(client, admin, tag=tag, department_id=actors.east) == ids(
        mine, colleague)
    assert await customer_ids(client, admin, tag=tag, department_id=actors.west) == ids(west)
    assert await customer_ids(client, actors.head_east, tag=tag,
                              department_id=actors.west) == set()
    assert await customer_ids(client, admin, tag=tag) == ids(mine, colleague, west)


async def test_tier_and_stage_filters(client: httpx.AsyncClient, actors: Actors) -> None:
    am, tag = actors.am_east, unique("f")
    plain = await make_customer(client, am, tags=[tag])  # no value inputs: computed tier D
    top = await make_customer(client, am, tags=[tag], stage="active")
    raised = await client.put(f"{CUSTOMERS}/{top['id']}/tier-override",
                              headers={**am.headers, **if_match(top)},
                              json={"tier": "A", "reason": "集团战略合作伙伴"})
    assert raised.status_code == 200 and raised.json()["tier"]["effective"] == "A", raised.text
    onboarding = await make_customer(client, am, tags=[tag], stage="onboarding")

    assert plain["tier"]["effective"] == "D"
    assert await customer_ids(client, am, tag=tag, tier="A") == ids(top)
    assert await customer_ids(client, am, tag=tag, tier="D") == ids(plain, onboarding)
    assert await customer_ids(client, am, tag=tag, tier="B") == set()
    assert await customer_ids(client, am, tag=tag, stage="active") == ids(top)
    assert await customer_ids(client, am, tag=tag, stage="prospect") == ids(plain)
    assert await customer_ids(client, am, tag=tag, stage="onboarding", tier="D") == ids(
        onboarding)


async def test_tag_filter_matches_one_tag_exactly(client: httpx.AsyncClient,
                                                  actors: Actors) -> None:
    tag = unique("f")
    both = await make_customer(client, actors.am_east, tags=[tag, f"{tag}-x"])
    only = await make_customer(client, actors.am_east, tags=[tag])
    longer = await make_customer(client, actors.am_east, tags=[f"{tag}-x"])

    assert await customer_ids(client, actors.am_east, tag=tag) == ids(both, only)
    assert await customer_ids(client, actors.am_east, tag=f"{tag}-x") == ids(both, longer)
    assert await customer_ids(client, actors.am_east, tag=tag[:-1]) == set()


async def test_updated_since_returns_what_changed_from_then_on(client: httpx.AsyncClient,
                                                               actors: Actors) -> None:
    am, tag = actors.am_east, unique("f")
    early = await make_customer(client, am, tags=[tag])
    late = await make_customer(client, am, tags=[tag])
    assert when(late["updated_at"]) > when(early["updated_at"])

    assert await customer_ids(client, am, tag=tag, updated_since=late["updated_at"]) == ids(late)
    assert await customer_ids(client, am, tag=tag,
                              updated_since=early["updated_at"]) == ids(early, late)

    touched = await client.patch(f"{CUSTOMERS}/{early['id']}",
                                 headers={**am.headers, **if_match(early)},
                                 json={"industry": "医疗健康"})
    assert touched.status_code == 200, touched.text
    assert await customer_ids(client, am, tag=tag,
                              updated_since=touched.json()["updated_at"]) == ids(early)


async def test_integrity_below_returns_the_incomplete_customers(client: httpx.AsyncClient,
                                                                actors: Actors) -> None:
    am, tag = actors.am_east, unique("f")
    made = [await make_customer(client, am, tags=[tag]),
            await make_customer(client, am, tags=[tag], contacts=[contact()]),
            await make_customer(client, am, tags=[tag], industry="教育", region="成都市",
                                contacts=[contact()])]
    scores = sorted({c["integrity_score"] for c in made})
    assert len(scores) > 1, scores  # the scenario has complete and incomplete customers

    for limit in sorted({1, *(s for s in scores if s > 0), scores[-1] + 1, 101}):
        expected = {c["id"] for c in made if c["integrity_score"] < limit}
        assert await customer_ids(client, am, tag=tag, integrity_below=limit) == expected


@pytest.mark.parametrize("sort", ["name", "-name", "-updated_at", "created_at"])
async def test_every_sort_walks_all_pages_without_duplicates_or_gaps(
        client: httpx.AsyncClient, actors: Actors, sort: str) -> None:
    tag = unique("sort")
    prefix = f"排序{tag[-8:]}"
    made = [await make_customer(client, actors.am_east, name=f"{prefix}-{n}", tags=[tag])
            for n in ("07", "03", "11", "03", "05", "01", "03")]  # equal names tie on id

    pages = await list_pages(client, CUSTOMERS, actors.am_east.headers, tag=tag, sort=sort,
                             limit=2)

    walked = [c for page in pages for c in page["data"]]
    assert len(pages) == 4 and all(len(p["data"]) <= 2 for p in pages)
    assert [c["id"] for c in walked].count(walked[0]["id"]) == 1
    assert len(walked) == len(made) and ids(*walked) == ids(*made)
    if sort == "created_at":  # the summary has no created_at: made in that order
        assert [c["id"] for c in walked] == [c["id"] for c in made]
        return
    key = sort.lstrip("-")
    values = [c[key] if key == "name" else when(c[key]) for c in walked]
    assert values == sorted(values, reverse=sort.startswith("-"))


@pytest.mark.parametrize("sort", ["name", "-updated_at", "created_at"])
async def test_a_walk_while_customers_are_added_skips_nothing_that_existed(
        client: httpx.AsyncClient, actors: Actors, sort: str) -> None:
    tag = unique("walk")
    prefix = f"遍历{tag[-8:]}"
    existing = [await make_customer(client, actors.am_east, name=f"{prefix}-{n:02d}",
                                    tags=[tag]) for n in range(2, 20, 3)]
    seen: list[str] = []
    query: dict[str, Any] = {"tag": tag, "sort": sort, "limit": 2}
    added = 0
    while True:
        response = await client.get(CUSTOMERS, headers=actors.am_east.headers, params=query)
        assert response.status_code == 200, response.text
        seen += [c["id"] for c in response.json()["data"]]
        for n in (0, 10, 99)[:max(0, 9 - added)]:  # before, among, after the existing names
            await make_customer(client, actors.am_east, name=f"{prefix}-{n:02d}-{added}",
                                tags=[tag])
            added += 1
        if (cursor := response.json()["next_cursor"]) is None:
            break
        query["cursor"] = cursor

    assert added == 9
    assert len(seen) == len(set(seen))
    assert ids(*existing) <= set(seen)


async def test_an_unknown_filter_is_400(client: httpx.AsyncClient, actors: Actors) -> None:
    for params in ({"colour": "red"}, {"owner": actors.am_east.id}, {"Tag": "x", "tag": "x"}):
        response = await client.get(CUSTOMERS, headers=actors.am_east.headers, params=params)
        body = assert_problem(response, 400, "unknown_query_parameter")
        assert next(iter(params)) in body["detail"]


async def read_needs(client: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
    response = await client.get(NEEDS, headers=actors.am_east.headers)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    return response.json()  # type: ignore[no-any-return]


async def test_an_unknown_need_is_422(client: httpx.AsyncClient, actors: Actors) -> None:
    tag = unique("need")

    response = await client.post(CUSTOMERS, headers=actors.am_east.headers, json={
        "name": unique("需求客户"), "tags": [tag], "needs": ["compliance", "time_travel"]})

    body = assert_problem(response, 422, "validation_failed")
    assert [(e["pointer"], e["reason"]) for e in body["errors"]] == [("/needs", "need_unknown")]
    assert "time_travel" in body["errors"][0]["detail"]
    assert await customer_ids(client, actors.am_east, tag=tag) == set()


async def test_an_admin_adds_a_need_and_it_becomes_usable(client: httpx.AsyncClient,
                                                          actors: Actors) -> None:
    term = f"need_{unique('x')[-8:]}"
    current = await read_needs(client, actors)
    assert term not in current["terms"]
    wanted = {**current["terms"], term: "绿色低碳"}
    before = await client.post(CUSTOMERS, headers=actors.am_east.headers,
                               json={"name": unique("需求客户"), "needs": [term]})
    assert_problem(before, 422, "validation_failed")

    not_admin = await client.put(NEEDS, headers={**actors.head_east.headers,
                                                 **if_match(current)}, json={"terms": wanted})
    missing = await client.put(NEEDS, headers=actors.admin.headers, json={"terms": wanted})
    stale = await client.put(NEEDS, headers={**actors.admin.headers,
                                             **if_match(current["version"] + 1)},
                             json={"terms": wanted})
    assert_problem(not_admin, 403, "forbidden")
    assert_problem(missing, 428, "precondition_required")
    assert_problem(stale, 412, "precondition_failed")
    assert await read_needs(client, actors) == current

    saved = await client.put(NEEDS, headers={**actors.admin.headers, **if_match(current)},
                             json={"terms": wanted})

    assert saved.status_code == 200, saved.text
    assert saved.json() == {"terms": wanted, "version": current["version"] + 1}
    assert await read_needs(client, actors) == saved.json()
    customer = await make_customer(client, actors.am_east, needs=[term, "compliance"])
    assert customer["needs"] == sorted([term, "compliance"])


async def test_a_need_still_in_use_cannot_be_removed(client: httpx.AsyncClient,
                                                     actors: Actors) -> None:
    term = f"need_{unique('x')[-8:]}"
    current = await read_needs(client, actors)
    added = await client.put(NEEDS, headers={**actors.admin.headers, **if_match(current)},
                             json={"terms": {**current["terms"], term: "出海"}})
    assert added.status_code == 200, added.text
    user = await make_customer(client, actors.am_east, needs=[term])

    removed = await client.put(NEEDS, headers={**actors.admin.headers, **if_match(added.json())},
                               json={"terms": current["terms"]})

    body = assert_problem(removed, 409, "invalid_state")
    assert term in body["detail"]
    assert await read_needs(client, actors) == added.json()
    archived = await client.post(f"{CUSTOMERS}/{user['id']}/archive",
                                 headers={**actors.am_east.headers, **if_match(user)})
    assert archived.status_code == 200, archived.text
    unused = await client.put(NEEDS, headers={**actors.admin.headers, **if_match(added.json())},
                              json={"terms": current["terms"]})
    assert unused.status_code == 200, unused.text
    assert term not in (await read_needs(client, actors))["terms"]
