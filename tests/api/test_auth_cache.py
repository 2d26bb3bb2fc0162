"""The principal cache (app/services/principal_cache.py): a bearer token seen a moment ago
is served without decoding it or reading its user again, yet a change to the user made in
this process is in force for the very next request, and nothing outlives the token."""

from __future__ import annotations

import uuid

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import Role
from app.services.principal_cache import HOLD_S, PrincipalCache, user_changed
from tests.support import Actors, actor, assert_problem

ME = "/api/v1/me"
CUSTOMERS = "/api/v1/customers"


def principal(user_id: uuid.UUID | None = None) -> Principal:
    return Principal(id=user_id or uuid.uuid4(), kind=PrincipalKind.USER, name="someone",
                     department_id=None, roles=frozenset({Role.ANALYST}))


class Clocks:
    def __init__(self) -> None:
        self.monotonic = 1000.0
        self.wall = 1_800_000_000.0


def cache_with(clocks: Clocks, ttl_s: float = 5.0) -> PrincipalCache:
    return PrincipalCache(ttl_s, monotonic=lambda: clocks.monotonic, wall=lambda: clocks.wall)


# the cache on its own ------------------------------------------------------------------

def test_an_entry_lives_for_the_cache_lifetime_only() -> None:
    clocks = Clocks()
    cache = cache_with(clocks)
    who = principal()
    cache.put("token", int(clocks.wall) + 900, who)
    assert cache.get("token") is who
    clocks.monotonic += 4.9
    assert cache.get("token") is who
    clocks.monotonic += 0.1
    assert cache.get("token") is None
    assert cache.get("another token") is None


def test_an_entry_ends_with_its_token_as_the_codec_would() -> None:
    clocks = Clocks()
    cache = cache_with(clocks, ttl_s=60)
    who = principal()
    expires = int(clocks.wall) + 2
    cache.put("token", expires, who)
    clocks.wall = expires + 0.99  # the codec accepts a token through the second of its exp
    assert cache.get("token") is who
    clocks.wall = expires + 1
    assert cache.get("token") is None


def test_a_changed_user_is_forgotten_by_every_cache_and_held_out() -> None:
    clocks = Clocks()
    first, second = cache_with(clocks), cache_with(clocks)
    who, other = principal(), principal()
    for cache in (first, second):
        cache.put("a", int(clocks.wall) + 900, who)
        cache.put("b", int(clocks.wall) + 900, who)
        cache.put("c", int(clocks.wall) + 900, other)
    user_changed(who.id)
    for cache in (first, second):
        assert cache.get("a") is None and cache.get("b") is None
        assert cache.get("c") is other
        # A request that read the user before the change committed cannot put it back.
        cache.put("a", int(clocks.wall) + 900, who)
        assert cache.get("a") is None
    clocks.monotonic += HOLD_S
    first.put("a", int(clocks.wall) + 900, who)
    assert first.get("a") is who


def test_a_lifetime_of_zero_caches_nothing() -> None:
    clocks = Clocks()
    cache = cache_with(clocks, ttl_s=0)
    cache.put("token", int(clocks.wall) + 900, principal())
    assert cache.get("token") is None


# through the API: changes are in force for the next request ----------------------------

async def _change_user(client, admin_headers: dict[str, str], user_id: str,
                       body: dict[str, object]) -> dict[str, object]:
    read = await client.get(f"/api/v1/users/{user_id}", headers=admin_headers)
    changed = await client.patch(f"/api/v1/users/{user_id}", json=body, headers={
        **admin_headers, "If-Match": read.headers["etag"]})
    assert changed.status_code == 200, changed.text
    return changed.json()  # type: ignore[no-any-return]


async def test_a_removed_role_is_refused_on_the_next_request(client, actors: Actors) -> None:
    user = await actor(client, actors.admin, actors.east, ["analyst"])
    before = await client.get(CUSTOMERS, headers=user.headers)
    assert before.status_code == 200, before.text
    assert (await client.get(CUSTOMERS, headers=user.headers)).status_code == 200

    changed = await _change_user(client, actors.admin.headers, user.id, {"roles": ["finance"]})
    assert changed["roles"] == ["finance"]

    assert_problem(await client.get(CUSTOMERS, headers=user.headers), 403, "forbidden")
    me = await client.get(ME, headers=user.headers)
    assert me.status_code == 200 and me.json()["roles"] == ["finance"]


async def test_a_granted_role_is_in_force_on_the_next_request(client, actors: Actors) -> None:
    user = await actor(client, actors.admin, actors.east, ["finance"])
    assert_problem(await client.get(CUSTOMERS, headers=user.headers), 403, "forbidden")

    await _change_user(client, actors.admin.headers, user.id, {"roles": ["analyst"]})

    listed = await client.get(CUSTOMERS, headers=user.headers)
    assert listed.status_code == 200, listed.text
    assert "data" in listed.json()


async def test_a_moved_user_reads_with_the_new_departments_scope(client, actors: Actors
                                                                 ) -> None:
    head = await actor(client, actors.admin, actors.east, ["department_head"])
    created = await client.post(CUSTOMERS, headers=actors.head_east.headers, json={
        "name": f"缓存测试客户 {uuid.uuid4().hex[:6]}", "owner_id": actors.am_east.id})
    assert created.status_code == 201, created.text
    path = f"{CUSTOMERS}/{created.json()['id']}"
    seen = await client.get(path, headers=head.headers)
    assert seen.status_code == 200 and seen.json()["id"] == created.json()["id"]

    await _change_user(client, actors.admin.headers, head.id, {"department_id": actors.west})

    assert_problem(await client.get(path, headers=head.headers), 404, "not_found")


async def test_a_reactivated_user_is_let_in_again(client, actors: Actors) -> None:
    user = await actor(client, actors.admin, actors.east, ["account_manager"])
    assert (await client.get(ME, headers=user.headers)).status_code == 200
    for action, status in (("deactivate", 401), ("reactivate", 200)):
        read = await client.get(f"/api/v1/users/{user.id}", headers=actors.admin.headers)
        done = await client.post(f"/api/v1/users/{user.id}/{action}", headers={
            **actors.admin.headers, "If-Match": read.headers["etag"]})
        assert done.status_code == 200, done.text
        me = await client.get(ME, headers=user.headers)
        assert me.status_code == status, me.text
        if status == 200:
            assert me.json()["id"] == user.id and me.json()["active"] is True
        else:
            assert_problem(me, 401, "invalid_token")
