"""``Idempotency-Key``: a retried POST has one side effect and replays the first answer;
a key reused for another request, or still running, is refused (api-conventions.md)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests import conftest
from tests.race_support import executed_once
from tests.support import (
    Actors,
    TestClock,
    actor,
    assert_problem,
    audit_entries,
    create_user,
    list_all,
    sign_in,
    unique,
)

DEPARTMENTS = "/api/v1/departments"


def keyed(headers: dict[str, str], key: str, **extra: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key, **extra}


async def departments_named(client: httpx.AsyncClient, actors: Actors,
                            name: str) -> list[dict[str, Any]]:
    return [d for d in await list_all(client, DEPARTMENTS, actors.admin.headers)
            if d["name"] == name]


async def test_repeat_replays_the_first_answer_with_one_side_effect(
        client, actors: Actors) -> None:
    key, body = str(uuid.uuid4()), {"name": unique("重放部"), "description": "一次"}
    first = await client.post(DEPARTMENTS, json=body, headers=keyed(actors.admin.headers, key))
    second = await client.post(DEPARTMENTS, json=body, headers=keyed(actors.admin.headers, key))
    assert first.status_code == second.status_code == 201, first.text
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"] == f'"{first.json()["version"]}"'
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert [d["id"] for d in await departments_named(client, actors, body["name"])] == [
        first.json()["id"]]
    assert len(await audit_entries(client, actors.auditor, "department",
                                   first.json()["id"])) == 1


async def test_same_key_with_another_body_is_422(client, actors: Actors) -> None:
    key, name, other = str(uuid.uuid4()), unique("原部门"), unique("另一部门")
    first = await client.post(DEPARTMENTS, json={"name": name},
                              headers=keyed(actors.admin.headers, key))
    assert first.status_code == 201, first.text
    reused = await client.post(DEPARTMENTS, json={"name": other},
                               headers=keyed(actors.admin.headers, key))
    assert_problem(reused, 422, "idempotency_key_reused")
    assert await departments_named(client, actors, other) == []
    assert len(await departments_named(client, actors, name)) == 1


async def test_same_key_from_another_caller_is_independent(client, actors: Actors) -> None:
    other_admin = await actor(client, actors.admin, actors.east, ["admin"])
    key, mine, theirs = str(uuid.uuid4()), unique("甲部"), unique("乙部")
    first = await client.post(DEPARTMENTS, json={"name": mine},
                              headers=keyed(actors.admin.headers, key))
    second = await client.post(DEPARTMENTS, json={"name": theirs},
                               headers=keyed(other_admin.headers, key))
    assert first.status_code == second.status_code == 201, second.text
    assert "idempotent-replayed" not in second.headers
    assert second.json()["name"] == theirs and second.json()["id"] != first.json()["id"]
    assert len(await departments_named(client, actors, mine)) == 1
    assert len(await departments_named(client, actors, theirs)) == 1


@pytest.mark.postgres_only
async def test_concurrent_duplicates_create_one_department(client, actors: Actors) -> None:
    key, body = str(uuid.uuid4()), {"name": unique("并发部")}
    responses = await asyncio.gather(*[
        client.post(DEPARTMENTS, json=body, headers=keyed(actors.admin.headers, key))
        for _ in range(2)])
    created = executed_once(responses, status=201)
    assert [d["id"] for d in await departments_named(client, actors, body["name"])] == [
        created.json()["id"]]
    assert len(await audit_entries(client, actors.auditor, "department",
                                   created.json()["id"])) == 1


async def test_request_that_failed_validation_releases_the_key(client, actors: Actors) -> None:
    """app/api/idempotency.py: a request that failed validation is not stored."""
    key, name = str(uuid.uuid4()), unique("更正部")
    invalid = await client.post(DEPARTMENTS, json={"name": name, "owner": "me"},
                                headers=keyed(actors.admin.headers, key))
    body = assert_problem(invalid, 422, "validation_failed")
    assert [e["pointer"] for e in body["errors"]] == ["/owner"]
    assert await departments_named(client, actors, name) == []
    corrected = await client.post(DEPARTMENTS, json={"name": name},
                                  headers=keyed(actors.admin.headers, key))
    assert corrected.status_code == 201, corrected.text
    assert "idempotent-replayed" not in corrected.headers
    replay = await client.post(DEPARTMENTS, json={"name": name},
                               headers=keyed(actors.admin.headers, key))
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == corrected.json()
    assert len(await departments_named(client, actors, name)) == 1


async def test_key_longer_than_255_characters_is_a_malformed_header(client,
                                                                     actors: Actors) -> None:
    name, longest = unique("长键部"), unique("k").ljust(255, "k")
    for bad in (longest + "k", ""):
        response = await client.post(DEPARTMENTS, json={"name": name},
                                     headers=keyed(actors.admin.headers, bad))
        body = assert_problem(response, 400, "malformed_header")
        assert body["detail"] == "The Idempotency-Key header must be 1 to 255 characters long."
    zh = await client.post(DEPARTMENTS, json={"name": name}, headers=keyed(
        {**actors.admin.headers, "Accept-Language": "zh-CN"}, longest + "k"))
    assert assert_problem(zh, 400, "malformed_header")["detail"] == (
        "请求头 Idempotency-Key 的长度必须为 1 到 255 个字符。")
    assert await departments_named(client, actors, name) == []
    accepted = await client.post(DEPARTMENTS, json={"name": name},
                                 headers=keyed(actors.admin.headers, longest))
    assert accepted.status_code == 201, accepted.text
    assert len(await departments_named(client, actors, name)) == 1


async def test_replayed_transition_returns_the_stored_200(client, actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["analyst"])
    path, key = f"/api/v1/users/{user['id']}/deactivate", str(uuid.uuid4())
    headers = keyed(actors.admin.headers, key, **{"If-Match": f'"{user["version"]}"'})
    first = await client.post(path, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["active"] is False
    replay = await client.post(path, headers=headers)
    assert replay.status_code == 200, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json() and replay.headers["etag"] == first.headers["etag"]
    unkeyed = await client.post(path, headers={**actors.admin.headers,
                                               "If-Match": f'"{user["version"]}"'})
    assert_problem(unkeyed, 412, "precondition_failed")
    now = await client.get(f"/api/v1/users/{user['id']}", headers=actors.admin.headers)
    assert now.json()["version"] == first.json()["version"] and now.json()["active"] is False
    actions = [e["action"] for e in await audit_entries(client, actors.auditor, "user",
                                                        user["id"])]
    assert len(actions) == 2, actions


async def test_a_key_replays_until_its_lifetime_ends_and_runs_afresh_after(
        client, actors: Actors, clock: TestClock) -> None:
    """The stored answer lives ``idempotency_ttl_hours`` from the first claim: a minute
    before that the key still replays, a minute after it the request runs again (here:
    the department exists by then, so the new run is refused as a duplicate)."""
    lifetime = timedelta(hours=conftest.test_settings("sqlite://").idempotency_ttl_hours)
    key, body = str(uuid.uuid4()), {"name": unique("期限部")}
    first = await client.post(DEPARTMENTS, json=body, headers=keyed(actors.admin.headers, key))
    assert first.status_code == 201, first.text
    moved = timedelta()
    try:
        for shift, replayed in ((lifetime - timedelta(minutes=1), True),
                                (lifetime + timedelta(minutes=1), False)):
            clock.advance(seconds=(shift - moved).total_seconds())
            moved = shift
            signed_in = await sign_in(client, actors.admin.username)  # tokens expired too
            headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            again = await client.post(DEPARTMENTS, json=body, headers=keyed(headers, key))
            if replayed:
                assert again.status_code == 201, again.text
                assert again.headers["idempotent-replayed"] == "true"
                assert again.json() == first.json()
            else:
                assert "idempotent-replayed" not in again.headers
                assert_problem(again, 409, "duplicate")
    finally:
        clock.advance(seconds=-moved.total_seconds())
    assert [d["id"] for d in await departments_named(client, actors, body["name"])] == [
        first.json()["id"]]
