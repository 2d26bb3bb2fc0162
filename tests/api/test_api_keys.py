"""API keys for integrations: issued by admins only, the secret shown once, limited to
their scopes, refused once revoked or when the secret is wrong, revoked only once."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
import pytest

from app.domain.access.roles import Role
from tests.support import PASSWORD, Actors, assert_problem, unique

KEYS = "/api/v1/api-keys"


async def issue(client: httpx.AsyncClient, actors: Actors, scopes: list[str]) -> dict[str, Any]:
    response = await client.post(KEYS, headers=actors.admin.headers,
                                 json={"name": unique("纷享销客同步"), "scopes": scopes})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def with_key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


async def read(client: httpx.AsyncClient, actors: Actors, key_id: str) -> httpx.Response:
    response = await client.get(f"{KEYS}/{key_id}", headers=actors.admin.headers)
    assert response.status_code == 200, response.text
    return response


async def revoke(client: httpx.AsyncClient, actors: Actors, key_id: str,
                 etag: str | None) -> httpx.Response:
    headers = {**actors.admin.headers, **({"If-Match": etag} if etag else {})}
    return await client.post(f"{KEYS}/{key_id}/revoke", headers=headers)


async def test_admin_issues_a_key_whose_secret_is_shown_once(client, actors: Actors) -> None:
    response = await client.post(KEYS, headers=actors.admin.headers, json={
        "name": "纷享销客同步", "scopes": ["users:read", "departments:read"]})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["etag"] == '"1"'
    issued = response.json()
    assert response.headers["location"] == f"{KEYS}/{issued['id']}"
    assert issued["key"].startswith(f"acc_{issued['prefix']}_")
    assert len(issued["key"]) > 40
    assert issued["scopes"] == ["departments:read", "users:read"]
    assert issued["active"] is True and issued["revoked_at"] is None
    assert issued["created_by"] == actors.admin.id

    shown = (await read(client, actors, issued["id"])).json()
    assert "key" not in shown and issued["key"] not in str(shown)
    assert shown == {k: v for k, v in issued.items() if k != "key"}
    listed = await client.get(KEYS, headers=actors.admin.headers,
                              params={"sort": "-created_at", "limit": 200})
    assert issued["key"] not in listed.text
    assert issued["id"] in [k["id"] for k in listed.json()["data"]]


async def test_key_with_users_read_may_list_users_and_nothing_more(client,
                                                                   actors: Actors) -> None:
    key = (await issue(client, actors, ["users:read"]))["key"]
    listed = await client.get("/api/v1/users", headers=with_key(key),
                              params={"department_id": actors.west, "limit": 200})
    assert listed.status_code == 200, listed.text
    assert actors.am_west.id in [u["id"] for u in listed.json()["data"]]

    username = unique("via-key")
    new_user = {"username": username, "display_name": "密钥创建", "email": f"{username}@ex.cn",
                "password": PASSWORD, "department_id": actors.east, "roles": ["analyst"]}
    created = await client.post("/api/v1/users", headers=with_key(key), json=new_user)
    assert_problem(created, 403, "forbidden")
    assert_problem(await client.get("/api/v1/me", headers=with_key(key)), 403, "forbidden")
    # the refused create left nothing behind: the username is still free
    by_admin = await client.post("/api/v1/users", headers=actors.admin.headers, json=new_user)
    assert by_admin.status_code == 201, by_admin.text


async def test_key_without_users_read_may_not_list_users(client, actors: Actors) -> None:
    key = (await issue(client, actors, ["departments:read"]))["key"]
    assert_problem(await client.get("/api/v1/users", headers=with_key(key)), 403, "forbidden")
    control = await client.get("/api/v1/departments", headers=with_key(key))
    assert control.status_code == 200, control.text


async def test_revoked_key_is_refused(client, actors: Actors) -> None:
    issued = await issue(client, actors, ["users:read"])
    assert (await client.get("/api/v1/users", headers=with_key(issued["key"]))).status_code == 200
    etag = (await read(client, actors, issued["id"])).headers["etag"]
    revoked = await revoke(client, actors, issued["id"], etag)
    assert revoked.status_code == 200, revoked.text
    assert revoked.headers["etag"] == '"2"'
    body = revoked.json()
    assert body["active"] is False and body["revoked_at"] and body["version"] == 2
    assert (await read(client, actors, issued["id"])).json() == body

    refused = await client.get("/api/v1/users", headers=with_key(issued["key"]))
    assert_problem(refused, 401, "invalid_token")
    assert refused.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("key", ["garbage", "acc_", "acc__", "acc_a_b_c", "xyz_0000_secret",
                                 "acc_zzzzzzzz_" + "A" * 43])
async def test_malformed_or_unknown_key_is_refused(client, actors: Actors, key: str) -> None:
    assert_problem(await client.get("/api/v1/users", headers=with_key(key)), 401,
                   "invalid_token")


async def test_key_whose_secret_holds_an_underscore_works(client, actors: Actors) -> None:
    """Secrets are URL-safe base64, so about half of them hold the separator "_"."""
    for _ in range(30):
        issued = await issue(client, actors, ["users:read"])
        if "_" in issued["key"].split("_", 2)[2]:
            break
    else:
        pytest.fail("no issued secret held an underscore")
    response = await client.get("/api/v1/users", headers=with_key(issued["key"]))
    assert response.status_code == 200, response.text


async def test_right_prefix_with_wrong_secret_is_refused(client, actors: Actors) -> None:
    issued = await issue(client, actors, ["users:read"])
    forged = f"acc_{issued['prefix']}_{secrets.token_urlsafe(32)}"
    assert_problem(await client.get("/api/v1/users", headers=with_key(forged)), 401,
                   "invalid_token")
    control = await client.get("/api/v1/users", headers=with_key(issued["key"]))
    assert control.status_code == 200, control.text


@pytest.mark.parametrize("role", sorted(set(Role) - {Role.ADMIN}))
async def test_only_admins_issue_keys(client, actors: Actors, role: Role) -> None:
    name = f"not-allowed-{uuid.uuid4().hex[:8]}"
    response = await client.post(KEYS, headers=actors.by_role()[role].headers,
                                 json={"name": name, "scopes": ["users:read"]})
    assert_problem(response, 403, "forbidden")
    newest = await client.get(KEYS, headers=actors.admin.headers,
                              params={"sort": "-created_at", "limit": 200})
    assert name not in [k["name"] for k in newest.json()["data"]]


async def test_revoking_twice_is_a_state_conflict(client, actors: Actors) -> None:
    issued = await issue(client, actors, ["users:read"])
    first = await revoke(client, actors, issued["id"], '"1"')
    assert first.status_code == 200, first.text
    again = await revoke(client, actors, issued["id"], first.headers["etag"])
    assert_problem(again, 409, "invalid_state")
    assert (await read(client, actors, issued["id"])).json() == first.json()  # unchanged


async def test_revoking_needs_if_match(client, actors: Actors) -> None:
    issued = await issue(client, actors, ["users:read"])
    assert_problem(await revoke(client, actors, issued["id"], None), 428,
                   "precondition_required")
    assert (await read(client, actors, issued["id"])).json()["active"] is True
    still = await client.get("/api/v1/users", headers=with_key(issued["key"]))
    assert still.status_code == 200, still.text
