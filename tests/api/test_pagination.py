"""Keyset pagination as a client sees it: every row exactly once and in order, stable while
rows are being inserted, and a cursor that cannot be forged or reused for another sort."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime
from typing import Any

import pytest

from tests.support import Actors, assert_problem, create_user, list_all, list_pages

USERS = "/api/v1/users"


def sort_key(sort: str, user: dict[str, Any]) -> tuple[Any, str]:
    field = sort.removeprefix("-")
    value = datetime.fromisoformat(user[field]) if field == "created_at" else user[field]
    return value, user["id"]


async def enough_users(client, actors: Actors, count: int = 10) -> list[dict[str, Any]]:
    """At least ``count`` users, so that limit=3 needs several pages."""
    users = await list_all(client, USERS, actors.admin.headers)
    for _ in range(count - len(users)):
        users.append(await create_user(client, actors.admin, actors.west, ["analyst"]))
    return users


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "username", "-username"])
async def test_walking_all_pages_returns_every_user_once_in_order(
        client, actors: Actors, sort: str) -> None:
    everyone = await enough_users(client, actors)
    pages = await list_pages(client, USERS, actors.admin.headers, limit=3, sort=sort)
    assert len(pages) >= 4
    assert all(len(page["data"]) == 3 for page in pages[:-1])
    assert 1 <= len(pages[-1]["data"]) <= 3 and pages[-1]["next_cursor"] is None
    walked = [user for page in pages for user in page["data"]]
    assert len({u["id"] for u in walked}) == len(walked)
    assert {u["id"] for u in walked} == {u["id"] for u in everyone}
    keys = [sort_key(sort, u) for u in walked]
    assert keys == sorted(keys, reverse=sort.startswith("-"))


@pytest.mark.parametrize("sort", ["created_at", "-username"])
async def test_walk_during_inserts_has_no_duplicate_and_skips_nothing(
        client, actors: Actors, sort: str) -> None:
    before = {u["id"] for u in await enough_users(client, actors)}
    walk_done, inserted, stream_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    created_during_walk: list[str] = []

    async def walk() -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        query: dict[str, Any] = {"limit": 3, "sort": sort}
        try:
            while True:
                inserted.clear()
                response = await client.get(USERS, headers=actors.admin.headers, params=query)
                assert response.status_code == 200, response.text
                seen.extend(response.json()["data"])
                if response.json()["next_cursor"] is None:
                    return seen
                query["cursor"] = response.json()["next_cursor"]
                if not stream_done.is_set():  # an insert lands between pages while they last
                    await asyncio.wait_for(inserted.wait(), 60)
        finally:
            walk_done.set()

    async def insert_stream() -> None:
        try:
            while not walk_done.is_set() and len(created_during_walk) < 30:
                user = await create_user(client, actors.admin, actors.east, ["tech_expert"])
                if not walk_done.is_set():
                    created_during_walk.append(user["id"])
                inserted.set()
        finally:
            stream_done.set()
            inserted.set()  # never leave the walk waiting once the stream stops

    seen, _ = await asyncio.gather(walk(), insert_stream())
    ids = [u["id"] for u in seen]
    assert len(created_during_walk) >= 3, "the inserts did not interleave with the walk"
    assert len(ids) == len(set(ids))
    assert before <= set(ids)
    keys = [sort_key(sort, u) for u in seen]
    assert keys == sorted(keys, reverse=sort.startswith("-"))
    after = {u["id"] for u in await list_all(client, USERS, actors.admin.headers)}
    assert set(created_during_walk) <= after


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1:]


async def test_tampered_cursor_is_400(client, actors: Actors) -> None:
    await enough_users(client, actors)
    first = await client.get(USERS, params={"limit": 3}, headers=actors.admin.headers)
    cursor = first.json()["next_cursor"]
    payload, mac = cursor.split(".")
    by_name = (await client.get(USERS, params={"limit": 3, "sort": "username"},
                                headers=actors.admin.headers)).json()["next_cursor"]
    forged = _b64(json.dumps({"s": "created_at", "a": ["1970-01-01T00:00:00+00:00",
                                                       actors.admin.id]}).encode())
    tampered = {
        "payload character flipped": f"{_flip(payload, len(payload) // 2)}.{mac}",
        "signature character flipped": f"{payload}.{_flip(mac, len(mac) // 2)}",
        "forged payload": f"{forged}.{mac}",
        "unsigned": payload,
        "cursor of another sort": by_name,
        "garbage": "not a cursor at all",
        "extra part": f"{cursor}.x",
    }
    for name, bad in tampered.items():
        response = await client.get(USERS, params={"limit": 3, "cursor": bad},
                                    headers=actors.admin.headers)
        body = assert_problem(response, 400, "invalid_cursor")
        assert "data" not in body, name
    again = await client.get(USERS, params={"limit": 3, "cursor": cursor},
                             headers=actors.admin.headers)
    assert again.status_code == 200 and len(again.json()["data"]) == 3


async def test_next_cursor_is_null_exactly_on_the_last_page(client, actors: Actors) -> None:
    await enough_users(client, actors)
    east = await list_all(client, USERS, actors.admin.headers, department_id=actors.east)
    exact = await client.get(USERS, params={"limit": len(east), "department_id": actors.east},
                             headers=actors.admin.headers)
    assert [u["id"] for u in exact.json()["data"]] == [u["id"] for u in east]
    assert exact.json()["next_cursor"] is None
    short = await client.get(USERS, params={"limit": len(east) - 1,
                                            "department_id": actors.east},
                             headers=actors.admin.headers)
    assert len(short.json()["data"]) == len(east) - 1
    rest = await client.get(USERS, headers=actors.admin.headers, params={
        "limit": len(east) - 1, "department_id": actors.east,
        "cursor": short.json()["next_cursor"]})
    assert [u["id"] for u in rest.json()["data"]] == [east[-1]["id"]]
    assert rest.json()["next_cursor"] is None
