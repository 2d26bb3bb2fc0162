"""Users and departments through the API (domain §1): an admin manages them with
validation, duplicates, If-Match and no mass assignment; callers see only the users in
their record scope; unusual text round-trips; every change is audited without secrets."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import client_for
from tests.support import (
    PASSWORD,
    Actor,
    Actors,
    actor,
    assert_problem,
    create_user,
    list_all,
    sign_in,
    unique,
)


def if_match(who: Actor, version: int) -> dict[str, str]:
    return {**who.headers, "If-Match": f'"{version}"'}


def new_user_body(department_id: str, **changes: Any) -> dict[str, Any]:
    name = unique("u")
    return {"username": name, "display_name": "李娜", "email": f"{name}@example.cn",
            "password": PASSWORD, "department_id": department_id,
            "roles": ["account_manager"], **changes}


async def read(client: httpx.AsyncClient, who: Actor, path: str) -> dict[str, Any]:
    response = await client.get(path, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def new_department(client: httpx.AsyncClient, admin: Actor,
                         name: str | None = None) -> dict[str, Any]:
    response = await client.post("/api/v1/departments", headers=admin.headers,
                                 json={"name": name or unique("部门")})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def field_errors(response: httpx.Response) -> dict[str, str]:
    body = assert_problem(response, 422, "validation_failed")
    return {e["pointer"]: e["reason"] for e in body["errors"]}


# users: create ------------------------------------------------------------------------

async def test_admin_creates_a_user(client: httpx.AsyncClient, actors: Actors) -> None:
    username = unique("Zhang.Wei")
    response = await client.post("/api/v1/users", headers=actors.admin.headers,
                                 json=new_user_body(actors.east, username=username,
                                                    roles=["project_manager", "analyst"]))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["username"] == username.lower()
    assert body["roles"] == ["analyst", "project_manager"]
    assert body["active"] is True and body["version"] == 1
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/api/v1/users/{body['id']}"
    assert not [k for k in body if "password" in k] and "$argon2" not in response.text
    assert await read(client, actors.admin, response.headers["location"]) == body
    assert (await sign_in(client, username.upper())).status_code == 200


@pytest.mark.parametrize("field", ["username", "email"])
async def test_duplicate_username_or_email_is_409_naming_the_field(
        client: httpx.AsyncClient, actors: Actors, field: str) -> None:
    department = (await new_department(client, actors.admin))["id"]
    first = await create_user(client, actors.admin, department, ["analyst"])
    again = new_user_body(department, **{field: first[field].upper()})
    response = await client.post("/api/v1/users", headers=actors.admin.headers, json=again)
    body = assert_problem(response, 409, "duplicate")
    assert f"this {field}:" in body["detail"]
    users = await list_all(client, "/api/v1/users", actors.admin.headers, department_id=department)
    assert [u["id"] for u in users] == [first["id"]]


@pytest.mark.parametrize(("changes", "pointer", "reason"), [
    ({"email": "not-an-email"}, "/email", "value_error"),
    ({"password": "short-pw"}, "/password", "string_too_short"),
    ({"roles": []}, "/roles", "too_short"),
    ({"roles": ["wizard"]}, "/roles/0", "enum"),
    ({"department_id": "unknown"}, "/department_id", "department_unknown"),
    ({"department_id": "inactive"}, "/department_id", "department_unknown"),
])
async def test_invalid_user_is_422_with_a_pointer(client: httpx.AsyncClient, actors: Actors,
                                                  changes: dict[str, Any], pointer: str,
                                                  reason: str) -> None:
    department = (await new_department(client, actors.admin))["id"]
    if changes.get("department_id") == "inactive":
        response = await client.post(f"/api/v1/departments/{department}/deactivate",
                                     headers=if_match(actors.admin, 1))
        assert response.json()["active"] is False
    body = {**new_user_body(department), **changes}
    if changes.get("department_id") in ("unknown", "inactive"):
        body["department_id"] = department if changes["department_id"] == "inactive" \
            else str(uuid.uuid4())
    response = await client.post("/api/v1/users", headers=actors.admin.headers, json=body)
    assert (await field_errors(response)) == {pointer: reason}
    everyone = await list_all(client, "/api/v1/users", actors.admin.headers)
    assert body["username"] not in {u["username"] for u in everyone}


# users: change -------------------------------------------------------------------------

async def test_patch_changes_only_the_fields_sent_and_bumps_the_version(
        client: httpx.AsyncClient, actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["account_manager"])
    path = f"/api/v1/users/{user['id']}"
    response = await client.patch(path, headers=if_match(actors.admin, 1),
                                  json={"display_name": "王芳"})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed == {**user, "display_name": "王芳", "version": 2,
                       "updated_at": changed["updated_at"]}
    assert response.headers["etag"] == '"2"'
    response = await client.patch(path, headers=if_match(actors.admin, 2), json={
        "roles": ["tech_expert", "finance"], "department_id": actors.west})
    assert response.json()["roles"] == ["finance", "tech_expert"]
    assert await read(client, actors.admin, path) == {
        **changed, "roles": ["finance", "tech_expert"], "department_id": actors.west,
        "version": 3, "updated_at": response.json()["updated_at"]}


async def test_patch_needs_a_current_if_match(client: httpx.AsyncClient,
                                              actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["analyst"])
    path = f"/api/v1/users/{user['id']}"
    missing = await client.patch(path, headers=actors.admin.headers, json={"display_name": "x"})
    assert_problem(missing, 428, "precondition_required")
    await client.patch(path, headers=if_match(actors.admin, 1), json={"display_name": "新"})
    stale = await client.patch(path, headers=if_match(actors.admin, 1), json={"display_name": "旧"})
    assert_problem(stale, 412, "precondition_failed")
    after = await read(client, actors.admin, path)
    assert (after["display_name"], after["version"]) == ("新", 2)


@pytest.mark.parametrize(("field", "value"), [
    ("version", 99), ("id", "6f1c2a4e-5b7d-4c3e-9a1f-2d8e0b6c4a10"),  # fixed: a test id
    ("created_at", "2000-01-01T00:00:00Z"),
    ("active", False), ("password_hash", "$argon2id$v=19$forged"), ("username", "root"),
])
async def test_patch_cannot_set_server_owned_fields(client: httpx.AsyncClient, actors: Actors,
                                                    field: str, value: Any) -> None:
    user = await create_user(client, actors.admin, actors.east, ["analyst"])
    path = f"/api/v1/users/{user['id']}"
    response = await client.patch(path, headers=if_match(actors.admin, 1),
                                  json={"display_name": "改名", field: value})
    assert (await field_errors(response)) == {f"/{field}": "extra_forbidden"}
    assert await read(client, actors.admin, path) == user


async def test_an_admin_cannot_lock_themselves_out(client: httpx.AsyncClient,
                                                   actors: Actors) -> None:
    me = await actor(client, actors.admin, actors.east, ["admin"])
    path = f"/api/v1/users/{me.id}"
    demote = await client.patch(path, headers=if_match(me, 1), json={"roles": ["analyst"]})
    assert "administrator access" in assert_problem(demote, 409, "invalid_state")["detail"]
    leave = await client.post(f"{path}/deactivate", headers=if_match(me, 1))
    assert_problem(leave, 409, "invalid_state")
    unchanged = await read(client, me, "/api/v1/me")
    assert (unchanged["roles"], unchanged["active"], unchanged["version"]) == (["admin"], True, 1)
    keep = await client.patch(path, headers=if_match(me, 1), json={"roles": ["auditor", "admin"]})
    assert keep.json()["roles"] == ["admin", "auditor"]


async def test_deactivation_signs_the_user_out_and_reactivation_lets_them_back(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    user = await actor(client, actors.admin, actors.east, ["account_manager"])
    path = f"/api/v1/users/{user.id}"
    response = await client.post(f"{path}/deactivate", headers=if_match(actors.admin, 1))
    assert (response.json()["active"], response.headers["etag"]) == (False, '"2"')
    async with client_for(app, f"10.9.{uuid.uuid4().int % 250}.7") as elsewhere:
        assert_problem(await sign_in(elsewhere, user.username), 401, "invalid_credentials")
    assert_problem(await client.get("/api/v1/me", headers=user.headers), 401, "invalid_token")
    refreshed = await client.post("/api/v1/auth/refresh",
                                  json={"refresh_token": user.refresh_token})
    assert refreshed.status_code == 401
    assert refreshed.json()["code"] == "invalid_token"
    response = await client.post(f"{path}/reactivate", headers=if_match(actors.admin, 2))
    assert (response.json()["active"], response.json()["version"]) == (True, 3)
    tokens = await sign_in(client, user.username)
    assert tokens.status_code == 200, tokens.text
    me = await client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert me.json()["id"] == user.id


# users: record scope -------------------------------------------------------------------

async def test_department_head_sees_only_their_department(client: httpx.AsyncClient,
                                                          actors: Actors) -> None:
    head = actors.head_east
    users = await list_all(client, "/api/v1/users", head.headers)
    assert {u["department_id"] for u in users} == {actors.east}
    assert {head.id, actors.am_east.id, actors.am_east2.id} <= {u["id"] for u in users}
    assert await list_all(client, "/api/v1/users", head.headers, department_id=actors.west) == []
    hidden = await client.get(f"/api/v1/users/{actors.am_west.id}", headers=head.headers)
    assert_problem(hidden, 404, "not_found")
    assert (await read(client, head, f"/api/v1/users/{actors.am_east.id}"))["id"] == \
        actors.am_east.id


@pytest.mark.parametrize("role", ["admin", "executive", "auditor", "analyst"])
async def test_cross_department_readers_see_everyone(client: httpx.AsyncClient, actors: Actors,
                                                     role: str) -> None:
    reader = actors.by_role()[role]
    for department, member in ((actors.east, actors.am_east), (actors.west, actors.am_west)):
        users = await list_all(client, "/api/v1/users", reader.headers, department_id=department)
        assert member.id in {u["id"] for u in users}
        assert {u["department_id"] for u in users} == {department}
        got = await read(client, reader, f"/api/v1/users/{member.id}")
        assert (got["username"], got["department_id"]) == (member.username, department)


async def test_user_list_filters(client: httpx.AsyncClient, actors: Actors) -> None:
    gone = await create_user(client, actors.admin, actors.east, ["account_manager"])
    await client.post(f"/api/v1/users/{gone['id']}/deactivate", headers=if_match(actors.admin, 1))
    filters = {"department_id": actors.east, "role": "account_manager"}
    active = await list_all(client, "/api/v1/users", actors.admin.headers, active="true",
                            **filters)
    ids = {u["id"] for u in active}
    assert {actors.am_east.id, actors.am_east2.id} <= ids
    assert not ids & {gone["id"], actors.head_east.id, actors.am_west.id}
    assert all(u["active"] and "account_manager" in u["roles"]
               and u["department_id"] == actors.east for u in active)
    inactive = await list_all(client, "/api/v1/users", actors.admin.headers, active="false",
                              **filters)
    assert gone["id"] in {u["id"] for u in inactive}
    assert not any(u["active"] for u in inactive)


@pytest.mark.parametrize("role", ["account_manager", "finance", "project_manager",
                                  "tech_expert"])
async def test_roles_without_user_access_get_403(client: httpx.AsyncClient, actors: Actors,
                                                 role: str) -> None:
    caller = actors.by_role()[role]
    for path in ("/api/v1/users", f"/api/v1/users/{caller.id}"):
        body = assert_problem(await client.get(path, headers=caller.headers), 403, "forbidden")
        assert "department_head" in body["detail"]


# departments ---------------------------------------------------------------------------

async def test_departments_create_rename_and_refuse_duplicates(client: httpx.AsyncClient,
                                                               actors: Actors) -> None:
    name = unique("华南大区")
    response = await client.post("/api/v1/departments", headers=actors.admin.headers,
                                 json={"name": name, "description": "广州、深圳"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["name"], created["active"], response.headers["etag"]) == (name, True, '"1"')
    assert response.headers["location"] == f"/api/v1/departments/{created['id']}"
    duplicate = await client.post("/api/v1/departments", headers=actors.admin.headers,
                                  json={"name": name})
    assert "this name:" in assert_problem(duplicate, 409, "duplicate")["detail"]
    path = response.headers["location"]
    assert_problem(await client.patch(path, headers=actors.admin.headers, json={"name": "x"}),
                   428, "precondition_required")
    renamed = await client.patch(path, headers=if_match(actors.admin, 1),
                                 json={"name": f"{name}-新"})
    assert (renamed.json()["name"], renamed.headers["etag"]) == (f"{name}-新", '"2"')
    assert await read(client, actors.admin, path) == {
        **created, "name": f"{name}-新", "version": 2, "updated_at": renamed.json()["updated_at"]}


async def test_departments_list_by_name_one_page_at_a_time(client: httpx.AsyncClient,
                                                           actors: Actors) -> None:
    tag = unique("排序")
    for suffix in ("c", "a", "b"):
        await new_department(client, actors.admin, f"{tag}-{suffix}")
    walked = await list_all(client, "/api/v1/departments", actors.am_west.headers, limit=1)
    whole = await list_all(client, "/api/v1/departments", actors.am_west.headers)
    assert [d["id"] for d in walked] == [d["id"] for d in whole]
    assert len({d["id"] for d in walked}) == len(walked)
    mine = [d["name"] for d in walked if d["name"].startswith(tag)]
    assert mine == [f"{tag}-a", f"{tag}-b", f"{tag}-c"]


async def test_a_department_with_active_users_cannot_be_deactivated(
        client: httpx.AsyncClient, actors: Actors) -> None:
    department = (await new_department(client, actors.admin))["id"]
    path = f"/api/v1/departments/{department}"
    member = await create_user(client, actors.admin, department, ["analyst"])
    refused = await client.post(f"{path}/deactivate", headers=if_match(actors.admin, 1))
    assert "active users" in assert_problem(refused, 409, "invalid_state")["detail"]
    assert (await read(client, actors.admin, path))["active"] is True
    await client.post(f"/api/v1/users/{member['id']}/deactivate",
                      headers=if_match(actors.admin, 1))
    response = await client.post(f"{path}/deactivate", headers=if_match(actors.admin, 1))
    assert (response.json()["active"], response.json()["version"]) == (False, 2)
    blocked = await client.post("/api/v1/users", headers=actors.admin.headers,
                                json=new_user_body(department))
    assert (await field_errors(blocked)) == {"/department_id": "department_unknown"}
    back = await client.post(f"/api/v1/users/{member['id']}/reactivate",
                             headers=if_match(actors.admin, 2))
    assert (await field_errors(back)) == {"/department_id": "department_unknown"}
    assert (await read(client, actors.admin, f"/api/v1/users/{member['id']}"))["active"] is False


async def test_any_signed_in_user_may_read_departments(client: httpx.AsyncClient,
                                                       actors: Actors) -> None:
    for role, who in actors.by_role().items():
        names = {d["id"]: d["name"] for d in await list_all(client, "/api/v1/departments",
                                                            who.headers)}
        assert {actors.east, actors.west} <= set(names), role
        department = await read(client, who, f"/api/v1/departments/{actors.west}")
        assert department["name"] == names[actors.west]


# text ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["张伟🚀", "Robert'); DROP TABLE users;--",
                                  "O'Brien \"引号\" \\ 100% _x_", "张" * 100])
async def test_unusual_text_round_trips_exactly(client: httpx.AsyncClient, actors: Actors,
                                                text: str) -> None:
    response = await client.post("/api/v1/users", headers=actors.admin.headers,
                                 json=new_user_body(actors.east, display_name=text))
    assert response.json()["display_name"] == text
    user = await read(client, actors.admin, response.headers["location"])
    assert user["display_name"] == text
    department = await new_department(client, actors.admin, f"{text[:80]}{unique('')}")
    assert (await read(client, actors.admin, f"/api/v1/departments/{department['id']}")
            )["name"] == department["name"]
    listed = await list_all(client, "/api/v1/users", actors.admin.headers,
                            department_id=actors.east)
    assert user in listed


async def test_oversize_strings_are_422_string_too_long(client: httpx.AsyncClient,
                                                        actors: Actors) -> None:
    long = "张" * 100 + "🚀"
    response = await client.post("/api/v1/users", headers=actors.admin.headers,
                                 json=new_user_body(actors.east, display_name=long))
    assert (await field_errors(response)) == {"/display_name": "string_too_long"}
    user = await create_user(client, actors.admin, actors.east, ["analyst"])
    path = f"/api/v1/users/{user['id']}"
    response = await client.patch(path, headers=if_match(actors.admin, 1),
                                  json={"display_name": long})
    assert (await field_errors(response)) == {"/display_name": "string_too_long"}
    assert await read(client, actors.admin, path) == user
    response = await client.post("/api/v1/departments", headers=actors.admin.headers,
                                 json={"name": "x" * 101})
    assert (await field_errors(response)) == {"/name": "string_too_long"}


# audit ---------------------------------------------------------------------------------

async def audit_of(client: httpx.AsyncClient, actors: Actors, entity_type: str,
                   entity_id: str) -> list[dict[str, Any]]:
    return await list_all(client, "/api/v1/audit/entries", actors.auditor.headers,
                          entity_type=entity_type, entity_id=entity_id)


async def test_user_changes_are_audited_without_secrets(client: httpx.AsyncClient,
                                                        actors: Actors) -> None:
    admin = actors.admin
    created = await client.post("/api/v1/users", headers=admin.headers,
                                json=new_user_body(actors.east, display_name="赵六"))
    user = created.json()
    path = f"/api/v1/users/{user['id']}"
    writes = [created,
              await client.patch(path, headers=if_match(admin, 1), json={"display_name": "赵七"}),
              await client.post(f"{path}/deactivate", headers=if_match(admin, 2)),
              await client.post(f"{path}/reactivate", headers=if_match(admin, 3))]
    entries = await audit_of(client, actors, "user", user["id"])
    assert [e["action"] for e in entries] == ["user.created", "user.updated",
                                              "user.deactivated", "user.reactivated"]
    for entry, write in zip(entries, writes, strict=True):
        assert write.status_code in (200, 201), write.text
        assert (entry["actor_id"], entry["actor_roles"]) == (admin.id, ["admin"])
        assert entry["request_id"] == write.headers["x-request-id"]
        assert not {k for k in {**(entry["before"] or {}), **entry["after"]} if "password" in k}
    assert entries[0]["before"] is None
    assert entries[0]["after"]["username"] == user["username"]
    assert (entries[1]["before"]["display_name"], entries[1]["after"]["display_name"]) == \
        ("赵六", "赵七")
    assert (entries[2]["before"]["active"], entries[2]["after"]["active"]) == (True, False)
    assert (entries[3]["before"]["active"], entries[3]["after"]["active"]) == (False, True)
    raw = str(entries)
    assert "$argon2" not in raw and PASSWORD not in raw


async def test_department_changes_are_audited(client: httpx.AsyncClient,
                                              actors: Actors) -> None:
    department = await new_department(client, actors.admin, unique("审计部"))
    path = f"/api/v1/departments/{department['id']}"
    await client.patch(path, headers=if_match(actors.admin, 1), json={"description": "新"})
    await client.post(f"{path}/deactivate", headers=if_match(actors.admin, 2))
    entries = await audit_of(client, actors, "department", department["id"])
    assert [e["action"] for e in entries] == ["department.created", "department.updated",
                                              "department.deactivated"]
    assert {e["actor_id"] for e in entries} == {actors.admin.id}
    assert entries[0]["after"] == {"name": department["name"], "description": "",
                                   "active": True}
    assert (entries[1]["before"]["description"], entries[1]["after"]["description"]) == ("", "新")
    assert entries[2]["after"]["active"] is False
