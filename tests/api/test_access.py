"""Who may call what: every route declares its access, anonymous callers are turned away
with 401, and only an administrator gets through the admin endpoints (a refused call
leaves the database exactly as it was)."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

from app.api.dependants import api_routes, declared_access
from app.api.security import allow
from app.domain.access.roles import Role, Scope
from tests.conftest import client_for
from tests.support import Actor, Actors, assert_problem, create_user, list_all, unique

PUBLIC = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh"),
          ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/docs"),
          ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc"), ("GET", "/docs-redoc.js"),
          # a survey's respondent has no account: the token in the path is the key
          ("GET", "/api/v1/public/surveys/{token}"),
          ("POST", "/api/v1/public/surveys/{token}/responses"),
          ("POST", "/api/v1/public/surveys/{token}"),  # the same answer as a form post
          # so has a customer reading the progress report a plan's team shared
          ("GET", "/api/v1/public/plan-reports/{token}"),
          ("POST", "/api/v1/public/plan-reports/{token}/acknowledge"),
          ("POST", "/api/v1/public/plan-reports/{token}/comments")}


def undeclared(routes: list[Any]) -> list[str]:
    return [f"{','.join(sorted(r.methods))} {r.path}" for r in api_routes(routes)
            if declared_access(r) is None]


def operations(routes: list[Any]) -> list[tuple[str, APIRoute]]:
    return [(method, r) for r in api_routes(routes) for method in sorted(r.methods)]


# 1. declarations -----------------------------------------------------------------------

def test_every_route_declares_who_may_call_it(app: FastAPI) -> None:
    assert len(list(api_routes(app.routes))) >= 25
    assert undeclared(app.routes) == []


def test_the_declaration_check_catches_a_route_without_one() -> None:
    probe = FastAPI()
    probe.get("/open")(lambda: None)
    probe.get("/admin", dependencies=[Depends(allow(Role.ADMIN))])(lambda: None)
    assert undeclared(probe.routes) == ["GET /open"]


def test_only_sign_in_docs_and_the_customers_token_pages_are_public(app: FastAPI) -> None:
    public = {(m, r.path) for m, r in operations(app.routes)
              if declared_access(r).public}  # type: ignore[union-attr]
    assert public == PUBLIC


async def test_openapi_states_who_may_call_every_operation(client: httpx.AsyncClient,
                                                           app: FastAPI) -> None:
    document = (await client.get("/openapi.json")).json()
    missing = []
    for method, route in operations(app.routes):
        if not route.include_in_schema:
            continue
        description = document["paths"][route.path][method.lower()].get("description", "")
        access = declared_access(route)
        assert access is not None
        if f"**Who may call:** {access.describe()}." not in description:
            missing.append(f"{method} {route.path}: {description!r}")
    assert missing == []
    admin_only = document["paths"]["/api/v1/users"]["post"]["description"]
    assert "Who may call:** roles: admin." in admin_only


async def test_anonymous_callers_get_401_on_every_protected_route(
        client: httpx.AsyncClient, app: FastAPI) -> None:
    failures, checked = [], 0
    for method, route in operations(app.routes):
        if declared_access(route).public:  # type: ignore[union-attr]
            continue
        path = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), route.path)
        response = await client.request(method, path,
                                        json={} if route.body_field is not None else None)
        checked += 1
        try:
            assert_problem(response, 401, "not_authenticated")
            assert response.headers.get("www-authenticate") == "Bearer"
        except (AssertionError, KeyError, ValueError) as exc:
            failures.append(f"{method} {route.path} -> {response.status_code}: {exc}")
    assert checked >= 20
    assert failures == []


# 2. role boundaries on the admin endpoints ---------------------------------------------

@dataclass(frozen=True)
class Targets:
    """Records the admin endpoints act on: users in east, an empty department, a key."""

    user: str
    inactive_user: str
    department: str
    inactive_department: str
    key: str


READS = {"user": "users", "inactive_user": "users", "department": "departments",
         "inactive_department": "departments", "key": "api-keys"}


async def make_targets(client: httpx.AsyncClient, actors: Actors) -> Targets:
    admin = actors.admin
    ids = {}
    for name in ("department", "inactive_department"):
        response = await client.post("/api/v1/departments", headers=admin.headers,
                                     json={"name": unique("边界部门")})
        ids[name] = response.json()["id"]
    for name in ("user", "inactive_user"):
        ids[name] = (await create_user(client, admin, actors.east, ["account_manager"]))["id"]
    for name in ("inactive_user", "inactive_department"):
        kind = READS[name]
        response = await client.post(f"/api/v1/{kind}/{ids[name]}/deactivate",
                                     headers={**admin.headers, "If-Match": '"1"'})
        assert response.status_code == 200, response.text
    response = await client.post("/api/v1/api-keys", headers=admin.headers,
                                 json={"name": unique("同步"), "scopes": ["users:read"]})
    assert response.status_code == 201, response.text
    return Targets(key=response.json()["id"], **ids)


async def state(client: httpx.AsyncClient, admin: Actor, t: Targets) -> dict[str, Any]:
    """Everything an admin endpoint could have changed, read back as admin."""
    out: dict[str, Any] = {}
    for name, kind in READS.items():
        response = await client.get(f"/api/v1/{kind}/{getattr(t, name)}", headers=admin.headers)
        assert response.status_code == 200, response.text
        out[name] = response.json()
    out["users_in_department"] = await list_all(client, "/api/v1/users", admin.headers,
                                                department_id=t.department)
    out["departments"] = await list_all(client, "/api/v1/departments", admin.headers)
    out["api_keys"] = await list_all(client, "/api/v1/api-keys", admin.headers)
    tail = await client.get("/api/v1/audit/entries", headers=admin.headers,
                            params={"sort": "-seq", "limit": 1})
    out["audit_tail"] = tail.json()["data"][0]["seq"]
    return out


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # formatted with the Targets' ids
    target: str | None = None  # whose ETag goes into If-Match
    body: dict[str, Any] | None = None
    status: int = 200
    expect: dict[str, Any] = field(default_factory=dict)  # part of the admin's response


def _new_user(t: Targets) -> dict[str, Any]:
    name = unique("boundary")
    return {"username": name, "display_name": "越权测试", "email": f"{name}@example.cn",
            "password": "correct-horse-battery-9", "department_id": t.department,
            "roles": ["analyst"]}


ENDPOINTS = {
    "create_user": Endpoint("POST", "/api/v1/users", status=201,
                            expect={"roles": ["analyst"], "active": True}),
    "update_user": Endpoint("PATCH", "/api/v1/users/{user}", "user",
                            {"display_name": "改名"}, expect={"display_name": "改名"}),
    "deactivate_user": Endpoint("POST", "/api/v1/users/{user}/deactivate", "user",
                                expect={"active": False}),
    "reactivate_user": Endpoint("POST", "/api/v1/users/{inactive_user}/reactivate",
                                "inactive_user", expect={"active": True}),
    "create_department": Endpoint("POST", "/api/v1/departments", body={"name": "新部门"},
                                  status=201, expect={"active": True}),
    "update_department": Endpoint("PATCH", "/api/v1/departments/{department}", "department",
                                  {"description": "改过"}, expect={"description": "改过"}),
    "deactivate_department": Endpoint("POST", "/api/v1/departments/{department}/deactivate",
                                      "department", expect={"active": False}),
    "reactivate_department": Endpoint(
        "POST", "/api/v1/departments/{inactive_department}/reactivate",
        "inactive_department", expect={"active": True}),
    "issue_api_key": Endpoint("POST", "/api/v1/api-keys", status=201,
                              body={"name": "越权密钥", "scopes": ["customers:read"]},
                              expect={"scopes": ["customers:read"], "active": True}),
    "list_api_keys": Endpoint("GET", "/api/v1/api-keys?sort=-created_at&limit=5"),
    "read_api_key": Endpoint("GET", "/api/v1/api-keys/{key}", expect={"active": True}),
    "revoke_api_key": Endpoint("POST", "/api/v1/api-keys/{key}/revoke", "key",
                               expect={"active": False}),
}
NON_ADMIN = [r.value for r in Role if r is not Role.ADMIN] + ["api_key"]


async def call(client: httpx.AsyncClient, endpoint: Endpoint, t: Targets,
               before: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    body = endpoint.body
    if endpoint.path == "/api/v1/users":
        body = _new_user(t)
    elif endpoint.path == "/api/v1/departments":
        body = {"name": unique("新部门")}
    if endpoint.target:
        headers = {**headers, "If-Match": f'"{before[endpoint.target]["version"]}"'}
    return await client.request(endpoint.method, endpoint.path.format(**asdict(t)),
                                headers=headers, json=body)


Boundary = tuple[Targets, dict[str, dict[str, str]]]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def boundary(app: FastAPI, actors: Actors) -> Boundary:
    """Shared targets (refused calls must not change them) and each caller's credentials:
    a user per role, plus an integration key holding every scope."""
    async with client_for(app) as c:
        targets = await make_targets(c, actors)
        response = await c.post("/api/v1/api-keys", headers=actors.admin.headers,
                                json={"name": unique("全权限"), "scopes": [s.value for s in Scope]})
        assert response.status_code == 201, response.text
    callers = {role: a.headers for role, a in actors.by_role().items()}
    return targets, {**callers, "api_key": {"X-API-Key": response.json()["key"]}}


@pytest.mark.parametrize("role", NON_ADMIN)
@pytest.mark.parametrize("name", list(ENDPOINTS))
async def test_only_admin_may_call_admin_endpoints(client: httpx.AsyncClient, actors: Actors,
                                                   boundary: Boundary, name: str,
                                                   role: str) -> None:
    targets, callers = boundary
    before = await state(client, actors.admin, targets)
    response = await call(client, ENDPOINTS[name], targets, before, callers[role])
    body = assert_problem(response, 403, "forbidden")
    assert "admin" in body["detail"]
    after = await state(client, actors.admin, targets)
    # nothing changed but the audit log, which keeps the refusal (one access.denied entry)
    assert after.pop("audit_tail") == before.pop("audit_tail") + 1
    assert after == before


@pytest.mark.parametrize("name", list(ENDPOINTS))
async def test_admin_may_call_admin_endpoints(client: httpx.AsyncClient, actors: Actors,
                                              name: str) -> None:
    endpoint = ENDPOINTS[name]
    targets = await make_targets(client, actors)
    before = await state(client, actors.admin, targets)
    response = await call(client, endpoint, targets, before, actors.admin.headers)
    assert response.status_code == endpoint.status, response.text
    body = response.json()
    if "data" in body:
        assert targets.key in {k["id"] for k in body["data"]}
    else:
        assert {k: body[k] for k in endpoint.expect} == endpoint.expect
    after = await state(client, actors.admin, targets)
    if endpoint.method == "GET":
        assert after == before
    else:
        assert after["audit_tail"] > before["audit_tail"]
        if endpoint.target:
            assert after[endpoint.target]["version"] == before[endpoint.target]["version"] + 1
            assert response.headers["etag"] == f'"{after[endpoint.target]["version"]}"'
