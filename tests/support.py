"""Builders that keep scenarios short: actors of every role, sign-in, common requests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from app.domain.access.roles import Role
from app.services.people import NewUser
from app.services.ports import RequestContext

PASSWORD = "correct-horse-battery-9"


class TestClock:
    """Real time plus an offset that tests may move forward."""

    __test__ = False

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class Actor:
    id: str
    username: str
    department_id: str
    roles: list[str]
    token: str = field(repr=False)
    refresh_token: str = field(repr=False, default="")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Actors:
    east: str  # department ids
    west: str
    admin: Actor
    head_east: Actor
    head_west: Actor
    am_east: Actor
    am_east2: Actor
    am_west: Actor
    finance: Actor
    executive: Actor
    pm: Actor
    tech: Actor
    analyst: Actor
    auditor: Actor

    def by_role(self) -> dict[str, Actor]:
        return {"admin": self.admin, "department_head": self.head_east,
                "account_manager": self.am_east, "finance": self.finance,
                "executive": self.executive, "project_manager": self.pm,
                "tech_expert": self.tech, "analyst": self.analyst, "auditor": self.auditor}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def sign_in(client: httpx.AsyncClient, username: str,
                  password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/token",
                             data={"username": username, "password": password})


async def create_user(client: httpx.AsyncClient, admin: Actor, department_id: str,
                      roles: list[str], username: str | None = None) -> dict[str, Any]:
    username = username or unique("user")
    response = await client.post("/api/v1/users", headers=admin.headers, json={
        "username": username, "display_name": f"测试 {username}",
        "email": f"{username}@example.cn", "password": PASSWORD,
        "department_id": department_id, "roles": roles})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def actor(client: httpx.AsyncClient, admin: Actor, department_id: str,
                roles: list[str], username: str | None = None) -> Actor:
    user = await create_user(client, admin, department_id, roles, username)
    tokens = await sign_in(client, user["username"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    return Actor(user["id"], user["username"], department_id, roles, body["access_token"],
                 body["refresh_token"])


async def first_admin(client: httpx.AsyncClient, app: FastAPI) -> Actor:
    """The first administrator (and a root department), made through the use cases as
    ``accord`` bootstrapping would, then signed in."""
    people = app.state.services.people
    system = RequestContext(None, "test-setup")
    root = await people.create_department(system, unique("总部"), "")
    admin_user = await people.create_user(system, NewUser(
        username=unique("admin"), display_name="管理员", email=f"{unique('a')}@example.cn",
        password=PASSWORD, department_id=root.id, roles=frozenset({Role.ADMIN})))
    tokens = (await sign_in(client, admin_user.username)).json()
    return Actor(str(admin_user.id), admin_user.username, str(root.id), ["admin"],
                 tokens["access_token"], tokens["refresh_token"])


async def admin_and_auditor(client: httpx.AsyncClient, app: FastAPI) -> tuple[Actor, Actor]:
    """Just an administrator and an auditor, for an app of its own (cheaper than
    ``build_actors``)."""
    admin = await first_admin(client, app)
    return admin, await actor(client, admin, admin.department_id, ["auditor"])


async def build_actors(client: httpx.AsyncClient, app: FastAPI) -> Actors:
    admin = await first_admin(client, app)
    east = (await client.post("/api/v1/departments", headers=admin.headers,
                              json={"name": unique("华东大客户部")})).json()["id"]
    west = (await client.post("/api/v1/departments", headers=admin.headers,
                              json={"name": unique("西南渠道部")})).json()["id"]
    return Actors(
        east=east, west=west, admin=admin,
        head_east=await actor(client, admin, east, ["department_head"]),
        head_west=await actor(client, admin, west, ["department_head"]),
        am_east=await actor(client, admin, east, ["account_manager"]),
        am_east2=await actor(client, admin, east, ["account_manager"]),
        am_west=await actor(client, admin, west, ["account_manager"]),
        finance=await actor(client, admin, east, ["finance"]),
        executive=await actor(client, admin, east, ["executive"]),
        pm=await actor(client, admin, east, ["project_manager"]),
        tech=await actor(client, admin, east, ["tech_expert"]),
        analyst=await actor(client, admin, west, ["analyst"]),
        auditor=await actor(client, admin, west, ["auditor"]),
    )


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is RFC 9457 problem+json with this status and stable code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] and body["detail"] and body["type"].endswith(code.replace("_", "-"))
    assert body["request_id"] == response.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


def versioned(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The body of an answer carrying one versioned resource: ``status`` expected, and the
    ETag is its version."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    return body


async def list_all(client: httpx.AsyncClient, path: str, headers: dict[str, str],
                   limit: int = 200, **params: str) -> list[dict[str, Any]]:
    """Every item of a list endpoint, walking ``next_cursor`` to the end."""
    items: list[dict[str, Any]] = []
    query: dict[str, str | int] = {**params, "limit": limit}
    while True:
        response = await client.get(path, headers=headers, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["data"])
        if body["next_cursor"] is None:
            return items
        query["cursor"] = body["next_cursor"]


async def list_pages(client: httpx.AsyncClient, path: str, headers: dict[str, str],
                     **params: Any) -> list[dict[str, Any]]:
    """Every page of a list endpoint, following ``next_cursor`` to the end."""
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, headers=headers, params=query)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages


async def audit_entries(client: httpx.AsyncClient, reader: Actor, entity_type: str,
                        entity_id: str) -> list[dict[str, Any]]:
    """The audit entries recorded about one entity, oldest first."""
    return await list_all(client, "/api/v1/audit/entries", reader.headers,
                          entity_type=entity_type, entity_id=entity_id)


async def verify_chain(client: httpx.AsyncClient, auditor: Actor) -> dict[str, Any]:
    """``GET /audit/verify`` as an auditor: intact, entries_checked, last_seq, breaks."""
    response = await client.get("/api/v1/audit/verify", headers=auditor.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def field_errors(response: httpx.Response) -> dict[str, str]:
    """A 422 ``validation_failed`` problem as {pointer: reason}."""
    body = assert_problem(response, 422, "validation_failed")
    return {e.get("pointer") or e.get("parameter"): e["reason"] for e in body["errors"]}
