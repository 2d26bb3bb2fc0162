"""U+0000 in any text a client sends is a 422 naming the field, on both engines.

PostgreSQL text and JSONB cannot hold it, so without the check such a request failed
inside the database with a 500; SQLite stored it silently.
"""

from __future__ import annotations

import httpx

from tests.support import Actors, assert_problem, sign_in, unique


async def _last_audit_seq(client: httpx.AsyncClient, actors: Actors) -> int:
    response = await client.get("/api/v1/audit/entries", params={"sort": "-seq", "limit": 1},
                                headers=actors.auditor.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["data"][0]["seq"])


async def test_nul_in_a_json_field_is_refused_and_nothing_is_written(
        client: httpx.AsyncClient, actors: Actors) -> None:
    before = await _last_audit_seq(client, actors)
    name = unique("华东") + "\x00部"
    response = await client.post("/api/v1/departments", headers=actors.admin.headers,
                                  json={"name": name})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [{"pointer": "/name", "reason": "string_nul",
                               "detail": "must not contain NUL characters"}]
    listed = await client.get("/api/v1/departments", params={"limit": 200},
                              headers=actors.admin.headers)
    assert name not in {d["name"] for d in listed.json()["data"]}
    assert await _last_audit_seq(client, actors) == before


async def test_nul_in_a_user_field_is_refused_in_chinese_too(
        client: httpx.AsyncClient, actors: Actors) -> None:
    username = unique("nul")
    response = await client.post(
        "/api/v1/users", headers={**actors.admin.headers, "Accept-Language": "zh-CN"},
        json={"username": username, "display_name": "张\x00伟",
              "email": f"{username}@example.cn", "password": "correct-horse-battery-9",
              "department_id": actors.east, "roles": ["account_manager"]})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [{"pointer": "/display_name", "reason": "string_nul",
                               "detail": "不能包含 NUL 字符"}]
    assert (await sign_in(client, username)).status_code == 401


async def test_nul_in_a_query_parameter_is_refused(
        client: httpx.AsyncClient, actors: Actors) -> None:
    response = await client.get("/api/v1/audit/entries", params={"entity_type": "user\x00"},
                                headers=actors.auditor.headers)
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [{"parameter": "entity_type", "reason": "string_nul",
                               "detail": "must not contain NUL characters"}]


async def test_nul_in_the_sign_in_form_is_refused_before_any_attempt_is_counted(
        client: httpx.AsyncClient, actors: Actors) -> None:
    before = await _last_audit_seq(client, actors)
    response = await client.post("/api/v1/auth/token",
                                 data={"username": f"{actors.am_east.username}\x00",
                                       "password": "wrong"})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [{"pointer": "/username", "reason": "string_nul",
                               "detail": "must not contain NUL characters"}]
    assert await _last_audit_seq(client, actors) == before
    assert (await sign_in(client, actors.am_east.username)).status_code == 200
