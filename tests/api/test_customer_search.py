"""Customer search (``q``): any substring of two characters or more of a customer's name or
a contact's name finds it, Chinese or Latin, on both engines (pg_trgm / FTS5 trigram, LIKE
for two characters). Input is matched literally, the caller's record scope applies, and
the index follows renames and erasures."""

from __future__ import annotations

import httpx
import pytest

from tests.customer_support import (
    CUSTOMERS,
    contact,
    customer_ids,
    if_match,
    make_customer,
)
from tests.support import Actor, Actors, assert_problem, list_pages, unique


async def found(client: httpx.AsyncClient, who: Actor, q: str, tag: str) -> set[str]:
    """Ids ``who`` finds with ``q`` among the customers carrying ``tag``."""
    return await customer_ids(client, who, q=q, tag=tag)


async def test_chinese_substrings_of_two_or_more_characters_find_the_customer(
        client: httpx.AsyncClient, actors: Actors) -> None:
    tag = unique("search")
    huawei = await make_customer(client, actors.am_east, name="深圳市华为技术有限公司",
                                 tags=[tag])
    zte = await make_customer(client, actors.am_east, name="深圳市中兴通讯股份有限公司",
                              tags=[tag])
    am = actors.am_east

    assert await found(client, am, "华为", tag) == {huawei["id"]}
    assert await found(client, am, "华为技术", tag) == {huawei["id"]}
    assert await found(client, am, "为技", tag) == {huawei["id"]}
    assert await found(client, am, "深圳市", tag) == {huawei["id"], zte["id"]}
    assert await found(client, am, "有限公司", tag) == {huawei["id"], zte["id"]}
    assert await found(client, am, "华为通讯", tag) == set()


async def test_a_contacts_name_finds_its_customer(client: httpx.AsyncClient,
                                                  actors: Actors) -> None:
    tag = unique("search")
    customer = await make_customer(client, actors.am_east, name="杭州云帆科技有限公司",
                                   tags=[tag], contacts=[contact("欧阳娜娜")])

    assert await found(client, actors.am_east, "欧阳娜娜", tag) == {customer["id"]}
    assert await found(client, actors.am_east, "欧阳", tag) == {customer["id"]}


async def test_latin_names_match_case_insensitively(client: httpx.AsyncClient,
                                                    actors: Actors) -> None:
    tag = unique("search")
    acme = await make_customer(client, actors.am_east, name="Acme Robotics GmbH", tags=[tag],
                               contacts=[contact("Peter Miller")])

    for q in ("acme robotics", "ACME", "rObOt", "gm", "peter MILLER", "Mi"):
        assert await found(client, actors.am_east, q, tag) == {acme["id"]}, q
    assert await found(client, actors.am_east, "acme robotic gmbh", tag) == set()


@pytest.mark.parametrize(("q", "expected"), [
    ("0%", "percent"), ("% 满", "percent"), ("%%", None), ("_科", "underscore"),
    ("__", None), ("O'Brien", "quote"), ('"引号"', "quote"), ('"引', "quote"), ("''", None),
    ("' OR '1'='1", None), ("'; DROP TABLE customers; --", None), ("\\%", None),
    ("*", None), ("NEAR(满意", None), ('" OR "', None)])
async def test_wildcards_quotes_and_sql_are_matched_literally(
        client: httpx.AsyncClient, actors: Actors, q: str, expected: str | None) -> None:
    tag = unique("literal")
    made = {
        "percent": await make_customer(client, actors.am_east, name="百分之100% 满意科技",
                                       tags=[tag]),
        "underscore": await make_customer(client, actors.am_east, name="下划线_科技公司",
                                          tags=[tag]),
        "quote": await make_customer(client, actors.am_east, name="O'Brien \"引号\" 贸易",
                                     tags=[tag]),
        "decoy": await make_customer(client, actors.am_east, name="百分之一百满意下划线科技",
                                     tags=[tag]),
    }
    if len(q) < 2:
        response = await client.get(CUSTOMERS, headers=actors.am_east.headers,
                                    params={"q": q, "tag": tag})
        body = assert_problem(response, 422, "validation_failed")
        assert [e["parameter"] for e in body["errors"]] == ["q"]
        return

    hits = await found(client, actors.am_east, q, tag)
    everywhere = await client.get(CUSTOMERS, headers=actors.admin.headers, params={"q": q})

    assert hits == ({made[expected]["id"]} if expected else set())
    assert everywhere.status_code == 200, everywhere.text
    assert await customer_ids(client, actors.am_east, tag=tag) == {c["id"]
                                                                  for c in made.values()}


async def test_a_one_character_query_is_422(client: httpx.AsyncClient, actors: Actors) -> None:
    for q in ("华", "a", " ", "华 ", "  b  "):  # surrounding spaces do not count
        response = await client.get(CUSTOMERS, headers=actors.am_east.headers,
                                    params={"q": q})
        body = assert_problem(response, 422, "validation_failed")
        assert [(e["parameter"], e["reason"]) for e in body["errors"]] == [
            ("q", "string_too_short")], q


async def test_search_respects_record_scope(client: httpx.AsyncClient, actors: Actors) -> None:
    tag = unique("scope")
    private = await make_customer(client, actors.am_east, name="宁波港口物流集团", tags=[tag])
    shared = await make_customer(client, actors.am_east, name="宁波港口贸易公司", tags=[tag],
                                 shared_with_department=True)
    both = {private["id"], shared["id"]}

    assert await found(client, actors.am_east, "宁波港口", tag) == both
    assert await found(client, actors.am_east2, "宁波港口", tag) == {shared["id"]}
    assert await found(client, actors.am_west, "宁波港口", tag) == set()
    assert await found(client, actors.head_west, "宁波港口", tag) == set()
    assert await found(client, actors.head_east, "宁波港口", tag) == both
    assert await found(client, actors.analyst, "宁波", tag) == both


async def test_q_combines_with_filters_sort_and_pagination(client: httpx.AsyncClient,
                                                           actors: Actors) -> None:
    tag = unique("combo")
    wanted = [await make_customer(client, actors.am_east, name=f"泰山机械{i}号厂",
                                  stage="onboarding", tags=[tag]) for i in (3, 1, 2)]
    await make_customer(client, actors.am_east, name="泰山机械4号厂", tags=[tag])
    await make_customer(client, actors.am_east, name="华山机械5号厂", stage="onboarding",
                        tags=[tag])
    await make_customer(client, actors.am_east, name="泰山机械6号厂", stage="onboarding",
                        tags=[unique("other")])

    pages = await list_pages(client, CUSTOMERS, actors.am_east.headers, q="泰山机械",
                             stage="onboarding", tag=tag, sort="name", limit=1)

    walked = [c for page in pages for c in page["data"]]
    assert [c["name"] for c in walked] == ["泰山机械1号厂", "泰山机械2号厂", "泰山机械3号厂"]
    assert {c["id"] for c in walked} == {c["id"] for c in wanted}
    assert all(len(p["data"]) <= 1 for p in pages)


async def test_a_renamed_customer_is_found_by_its_new_name_only(client: httpx.AsyncClient,
                                                                actors: Actors) -> None:
    tag = unique("rename")
    customer = await make_customer(client, actors.am_east, name="旧名称贸易有限公司",
                                   tags=[tag])
    assert await found(client, actors.am_east, "旧名称", tag) == {customer["id"]}

    renamed = await client.patch(f"{CUSTOMERS}/{customer['id']}",
                                 headers={**actors.am_east.headers, **if_match(customer)},
                                 json={"name": "新名字实业有限公司"})

    assert renamed.status_code == 200, renamed.text
    for q in ("旧名称", "旧名", "旧名称贸易"):
        assert await found(client, actors.am_east, q, tag) == set(), q
    for q in ("新名字", "新名", "实业有限"):
        assert await found(client, actors.am_east, q, tag) == {customer["id"]}, q


async def test_an_erased_contacts_name_is_no_longer_found(client: httpx.AsyncClient,
                                                          actors: Actors) -> None:
    tag = unique("erase")
    customer = await make_customer(client, actors.am_east, name="苏州园林设计院", tags=[tag],
                                   contacts=[contact("司马光明")])
    assert await found(client, actors.am_east, "司马光明", tag) == {customer["id"]}

    person = customer["contacts"][0]
    erased = await client.post(
        f"{CUSTOMERS}/{customer['id']}/contacts/{person['id']}/erase",
        headers={**actors.am_east.headers, **if_match(person)})

    assert erased.status_code == 200, erased.text
    for q in ("司马光明", "司马", "光明"):
        assert await found(client, actors.am_east, q, tag) == set(), q
    assert await found(client, actors.am_east, "园林设计", tag) == {customer["id"]}
