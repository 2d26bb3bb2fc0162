"""The conventions every endpoint shares (api-conventions.md): RFC 9457 problem details in
English and Chinese that leak nothing internal, body and query-parameter limits, and the
request id that ties a response, a log line and an audit entry together."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from app.api.dependants import routes_in_matching_order
from tests import conftest
from tests.support import (
    Actors,
    assert_problem,
    audit_entries,
    create_user,
    list_all,
    unique,
)

LIMIT = 1024 * 1024
CJK = re.compile(r"[\u4e00-\u9fff]")
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def assert_no_leak(response: httpx.Response) -> None:
    """No stack trace, SQL or internal module name in an error body."""
    text = response.text
    for marker in ("traceback", "sqlalchemy", "asyncpg", "aiosqlite", "app.", ".py"):
        assert marker not in text.lower(), text
    for marker in ("SELECT ", "INSERT INTO", "UPDATE ", 'File "', "Error:"):
        assert marker not in text, text


async def department_names(client: httpx.AsyncClient, actors: Actors) -> set[str]:
    return {d["name"] for d in await list_all(client, "/api/v1/departments",
                                               actors.admin.headers)}


async def usernames(client: httpx.AsyncClient, actors: Actors) -> set[str]:
    return {u["username"] for u in await list_all(client, "/api/v1/users",
                                                   actors.admin.headers)}


# problem details and languages -------------------------------------------------------------

@pytest.mark.parametrize(("accept_language", "chinese"), [
    ("zh-CN", True), ("en", False), (None, False), ("zh-CN;q=0.1, en;q=0.9", False),
    ("fr", False), ("fr, zh-CN;q=0.5", True)])
async def test_detail_follows_accept_language_and_title_does_not(
        client, actors: Actors, accept_language: str | None, chinese: bool) -> None:
    path = f"/api/v1/users/{uuid.uuid4()}"
    headers = dict(actors.admin.headers)
    if accept_language is not None:
        headers["Accept-Language"] = accept_language
    body = assert_problem(await client.get(path, headers=headers), 404, "not_found")
    english = assert_problem(await client.get(path, headers=actors.admin.headers), 404,
                             "not_found")
    assert body["title"] == english["title"] == "Resource not found"
    assert bool(CJK.search(body["detail"])) is chinese, body["detail"]
    assert body["detail"] == ("找不到该用户，或您无权查看。" if chinese
                              else "No user with this id is visible to you.")


async def test_validation_errors_point_at_each_field_in_the_callers_language(
        client, actors: Actors) -> None:
    username = unique("bad")
    payload = {"username": username, "display_name": "坏数据", "email": "not-an-email",
               "department_id": actors.east, "roles": ["account_manager", "pope"],
               "status": "active"}
    for lang, word in (("en", "is required"), ("zh-CN", "为必填项")):
        response = await client.post("/api/v1/users", json=payload, headers={
            **actors.admin.headers, "Accept-Language": lang})
        body = assert_problem(response, 422, "validation_failed")
        errors = {e["pointer"]: e for e in body["errors"]}
        assert set(errors) == {"/email", "/password", "/roles/1", "/status"}
        assert errors["/password"]["reason"] == "missing"
        assert errors["/password"]["detail"] == word
        assert errors["/status"]["reason"] == "extra_forbidden"
        assert all("parameter" not in e or e["parameter"] is None for e in body["errors"])
        assert_no_leak(response)
    assert username not in await usernames(client, actors)


@pytest.mark.parametrize(("value", "reason", "detail"), [
    ("0", "greater_than_equal", "must be ≥ 1"), ("201", "less_than_equal", "must be ≤ 200"),
    ("abc", "int_parsing", "must be an integer")])
async def test_bad_limit_is_422_naming_the_parameter(client, actors: Actors, value: str,
                                                     reason: str, detail: str) -> None:
    response = await client.get("/api/v1/users", params={"limit": value},
                                headers=actors.admin.headers)
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [{"parameter": "limit", "reason": reason, "detail": detail}]
    assert_no_leak(response)


async def test_unknown_query_parameter_is_400_naming_it(client, actors: Actors) -> None:
    response = await client.get("/api/v1/users", params={"limt": "5", "limit": "5"},
                                headers=actors.admin.headers)
    body = assert_problem(response, 400, "unknown_query_parameter")
    assert "limt" in body["detail"]
    zh = assert_problem(await client.get("/api/v1/departments?colour=red", headers={
        **actors.admin.headers, "Accept-Language": "zh-CN"}), 400, "unknown_query_parameter")
    assert zh["detail"] == "未知的查询参数：colour。"
    ok = await client.get("/api/v1/users", params={"limit": "5"}, headers=actors.admin.headers)
    assert ok.status_code == 200 and len(ok.json()["data"]) == 5


async def test_malformed_json_is_400(client, actors: Actors) -> None:
    name = unique("半截")
    response = await client.post("/api/v1/departments", content=f'{{"name": "{name}"',
                                 headers={**actors.admin.headers,
                                          "Content-Type": "application/json"})
    assert_problem(response, 400, "malformed_request")
    assert_no_leak(response)
    assert name not in await department_names(client, actors)


async def test_unknown_route_and_wrong_method(client, actors: Actors) -> None:
    missing = await client.get("/api/v1/no-such-thing", headers=actors.admin.headers)
    assert_problem(missing, 404, "route_not_found")
    wrong = await client.delete("/api/v1/me", headers=actors.admin.headers)
    body = assert_problem(wrong, 405, "method_not_allowed")
    assert "DELETE" in body["detail"]
    assert "GET" in wrong.headers["allow"]
    me = await client.get("/api/v1/me", headers=actors.admin.headers)
    assert me.status_code == 200 and me.json()["id"] == actors.admin.id


def methods_by_path(app: FastAPI) -> dict[str, set[str]]:
    """Each route path with a sample id in its parameters, and the methods of all the
    routes with that path."""
    sample = str(uuid.uuid4())
    methods: dict[str, set[str]] = {}
    for route in routes_in_matching_order(app.routes):
        if isinstance(route, Route | APIRoute) and route.methods:
            path = re.sub(r"\{[^}]+\}", sample, route.path)
            methods.setdefault(path, set()).update(route.methods)
    return methods


async def test_a_405_names_exactly_the_methods_its_path_answers(app: FastAPI,
                                                                client) -> None:
    wrong_allow = {}
    for path, allowed in methods_by_path(app).items():
        method = next(m for m in ("DELETE", "PUT", "PATCH", "POST", "GET") if m not in allowed)
        response = await client.request(method, path)
        assert_problem(response, 405, "method_not_allowed")
        if set(response.headers["allow"].split(", ")) != allowed:
            wrong_allow[f"{method} {path}"] = (response.headers["allow"], sorted(allowed))
    assert wrong_allow == {}


@pytest.mark.parametrize("path", ["/api/v2/customers", "/api/v0/me", "/api/v2"])
async def test_an_unknown_api_version_says_which_versions_exist(client, actors: Actors,
                                                                path: str) -> None:
    response = await client.get(path, headers=actors.admin.headers)
    body = assert_problem(response, 404, "api_version_unknown")
    assert "v1" in body["detail"] and body["versions"] == ["v1"]
    zh = await client.get(path, headers={**actors.admin.headers, "Accept-Language": "zh-CN"})
    assert "v1" in assert_problem(zh, 404, "api_version_unknown")["detail"]
    assert_problem(await client.get("/api/v1/no-such-thing"), 404, "route_not_found")


async def test_the_body_is_validated_before_if_match_is_required(client, actors: Actors) -> None:
    path = f"/api/v1/departments/{actors.east}"
    bad = await client.patch(path, json={"description": 7, "colour": "red"},
                             headers=actors.admin.headers)
    body = assert_problem(bad, 422, "validation_failed")
    assert {e.get("pointer") for e in body["errors"]} >= {"/description", "/colour"}
    for blank in ({}, {"If-Match": " "}):
        good = await client.patch(path, json={"description": "x"},
                                  headers={**actors.admin.headers, **blank})
        assert_problem(good, 428, "precondition_required")


async def test_errors_of_every_kind_leak_nothing_internal(client, actors: Actors) -> None:
    taken = (await client.get(f"/api/v1/departments/{actors.east}",
                              headers=actors.admin.headers)).json()["name"]
    cases: list[tuple[httpx.Response, int, str]] = [
        (await client.get("/api/v1/me"), 401, "not_authenticated"),
        (await client.get("/api/v1/me", headers={"Authorization": "Bearer x.y.z"}), 401,
         "invalid_token"),
        (await client.get("/api/v1/audit/entries", headers=actors.am_east.headers), 403,
         "forbidden"),
        (await client.get("/api/v1/users/not-a-uuid", headers=actors.admin.headers), 422,
         "validation_failed"),
        (await client.post("/api/v1/departments", json={"name": taken},
                           headers=actors.admin.headers), 409, "duplicate"),
        (await client.get("/api/v1/users?cursor=abc", headers=actors.admin.headers), 400,
         "invalid_cursor"),
        (await client.patch(f"/api/v1/departments/{actors.east}", json={"description": "x"},
                            headers=actors.admin.headers), 428, "precondition_required"),
    ]
    for response, status, code in cases:
        assert_problem(response, status, code)
        assert_no_leak(response)
    departments = await list_all(client, "/api/v1/departments", actors.admin.headers)
    assert [d["name"] for d in departments].count(taken) == 1


@pytest.fixture
async def exploding_client(database: conftest.Database) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database with one route that fails unexpectedly."""
    application: FastAPI = conftest.test_app(conftest.test_settings(database.url))

    async def explode() -> dict[str, Any]:
        raise RuntimeError("boom: SELECT password_hash FROM users -- sqlalchemy secret")

    application.add_api_route("/api/v1/explode", explode, methods=["GET"])
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as c:
        yield c
    await application.state.engines.dispose()


async def test_unexpected_failure_is_a_bare_500_problem(exploding_client) -> None:
    response = await exploding_client.get("/api/v1/explode",
                                          headers={"X-Request-ID": "crash-1"})
    body = assert_problem(response, 500, "internal_error")
    assert body["request_id"] == "crash-1"
    assert_no_leak(response)
    for secret in ("boom", "password_hash", "secret", "RuntimeError"):
        assert secret not in response.text
    assert (await exploding_client.get("/healthz")).json() == {"status": "ok"}


# body limits and media types ---------------------------------------------------------------

def padded(payload: dict[str, Any], size: int) -> bytes:
    """``payload`` as JSON, padded with trailing whitespace to exactly ``size`` bytes."""
    raw = json.dumps(payload, ensure_ascii=False).encode()
    return raw + b" " * (size - len(raw))


async def test_body_of_exactly_the_limit_is_accepted(client, actors: Actors) -> None:
    name = unique("满额")
    response = await client.post("/api/v1/departments", content=padded({"name": name}, LIMIT),
                                 headers={**actors.admin.headers,
                                          "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    assert name in await department_names(client, actors)


async def test_body_over_the_limit_is_413_by_content_length(client, actors: Actors) -> None:
    name = unique("超限")
    response = await client.post("/api/v1/departments",
                                 content=padded({"name": name}, LIMIT + 1),
                                 headers={**actors.admin.headers,
                                          "Content-Type": "application/json"})
    body = assert_problem(response, 413, "payload_too_large")
    assert str(LIMIT) in body["detail"]
    assert name not in await department_names(client, actors)


async def test_streamed_body_over_the_limit_is_413(client, actors: Actors) -> None:
    name = unique("流式")
    raw = padded({"name": name}, LIMIT + 64 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 64 * 1024):
            yield raw[start:start + 64 * 1024]

    response = await client.post("/api/v1/departments", content=chunks(),
                                 headers={**actors.admin.headers,
                                          "Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")
    assert name not in await department_names(client, actors)


async def test_non_json_body_is_415(client, actors: Actors) -> None:
    name = unique("纯文本")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = dict(actors.admin.headers)
        if content_type:
            headers["Content-Type"] = content_type
        response = await client.post("/api/v1/departments", content=f"name={name}".encode(),
                                     headers=headers)
        body = assert_problem(response, 415, "unsupported_media_type")
        assert "application/json" in body["detail"]
    assert name not in await department_names(client, actors)


# request ids -------------------------------------------------------------------------------

async def test_callers_request_id_is_echoed_and_in_problems(client, actors: Actors) -> None:
    ok = await client.get("/api/v1/me", headers={**actors.am_east.headers,
                                                 "X-Request-ID": "trace-42.a:b_c"})
    assert ok.status_code == 200 and ok.json()["id"] == actors.am_east.id
    assert ok.headers["x-request-id"] == "trace-42.a:b_c"
    failed = await client.get("/api/v1/me", headers={"X-Request-ID": "trace-43"})
    assert assert_problem(failed, 401, "not_authenticated")["request_id"] == "trace-43"


@pytest.mark.parametrize("given", [None, "has spaces in it", "x" * 500, "semi;colon", ""])
async def test_missing_or_unsafe_request_id_is_replaced(client, given: str | None) -> None:
    headers = {} if given is None else {"X-Request-ID": given}
    first = await client.get("/api/v1/no-such-thing", headers=headers)
    second = await client.get("/api/v1/no-such-thing", headers=headers)
    body = assert_problem(first, 404, "route_not_found")
    assert GENERATED_ID.match(first.headers["x-request-id"])
    assert body["request_id"] == first.headers["x-request-id"] != given
    assert second.headers["x-request-id"] != first.headers["x-request-id"]


async def test_request_id_is_recorded_on_the_audit_entry(client, actors: Actors) -> None:
    request_id = f"audit-{uuid.uuid4().hex}"
    user = await create_user(client, actors.admin, actors.east, ["analyst"])
    response = await client.patch(f"/api/v1/users/{user['id']}", json={"display_name": "新名字"},
                                  headers={**actors.admin.headers, "X-Request-ID": request_id,
                                           "If-Match": f'"{user["version"]}"'})
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == request_id
    entries = await audit_entries(client, actors.auditor, "user", user["id"])
    assert [e["request_id"] == request_id for e in entries] == [False, True]
    changed = entries[-1]
    assert changed["actor_id"] == actors.admin.id
    assert changed["after"]["display_name"] == "新名字"
    assert changed["client_addr"] == "127.0.0.1"
