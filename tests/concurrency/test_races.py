"""Races on PostgreSQL: two requests for the same change, truly in flight together (two
httpx clients on one app, each request on its own pooled connection). A transition that
lost the race gets 409 or 412, never a second success, and leaves no second audit entry
or outbox event. Each race runs several rounds so that a lost race would show."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import audit_log, outbox
from tests.db import row_count
from tests.race_support import Call, executed_once, race, split
from tests.support import (
    PASSWORD,
    Actor,
    Actors,
    actor,
    assert_problem,
    audit_entries,
    create_user,
    unique,
)

pytestmark = pytest.mark.postgres_only
ROUNDS = 5
LOSING = {(412, "precondition_failed"), (409, "invalid_state"), (409, "write_conflict")}

def deactivate(user_id: str, who: Actor, etag: str, key: str | None = None) -> Call:
    headers = {**who.headers, "If-Match": etag, **({"Idempotency-Key": key} if key else {})}
    return lambda c: c.post(f"/api/v1/users/{user_id}/deactivate", headers=headers)


def create(who: Actor, username: str, department_id: str) -> Call:
    body = {"username": username, "display_name": "双胞胎", "password": PASSWORD,
            "email": f"{unique('twin')}@example.cn", "department_id": department_id,
            "roles": ["account_manager"]}
    return lambda c: c.post("/api/v1/users", headers=who.headers, json=body)


async def target(client: httpx.AsyncClient, actors: Actors) -> tuple[str, str]:
    """A fresh active user to fight over, and the ETag an admin read."""
    user = await create_user(client, actors.admin, actors.east, ["account_manager"])
    read = await client.get(f"/api/v1/users/{user['id']}", headers=actors.admin.headers)
    return user["id"], read.headers["etag"]


async def assert_deactivated_once(app: FastAPI, client: httpx.AsyncClient, actors: Actors,
                                  user_id: str) -> None:
    actions = [e["action"] for e in await audit_entries(client, actors.auditor, "user",
                                                          user_id)]
    assert actions == ["user.created", "user.deactivated"]
    assert await row_count(app, outbox, entity_id=user_id, type="user.deactivated") == 1
    user = (await client.get(f"/api/v1/users/{user_id}", headers=actors.admin.headers)).json()
    assert (user["active"], user["version"]) == (False, 2)


async def test_two_admins_deactivating_the_same_user_one_wins(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    other_admin = await actor(client, actors.admin, actors.east, ["admin"])
    for _ in range(ROUNDS):
        user_id, etag = await target(client, actors)

        winner, loser = split(await race(app, deactivate(user_id, actors.admin, etag),
                                         deactivate(user_id, other_admin, etag)))

        assert winner.json()["active"] is False and winner.headers["etag"] == '"2"'
        code = loser.json()["code"]
        assert (loser.status_code, code) in LOSING
        assert_problem(loser, loser.status_code, code)
        await assert_deactivated_once(app, client, actors, user_id)


async def test_a_double_click_without_a_key_succeeds_once(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    for _ in range(ROUNDS):
        user_id, etag = await target(client, actors)
        click = deactivate(user_id, actors.admin, etag)

        winner, loser = split(await race(app, click, click))

        assert winner.json()["id"] == user_id
        code = loser.json()["code"]
        assert (loser.status_code, code) in LOSING
        assert_problem(loser, loser.status_code, code)
        await assert_deactivated_once(app, client, actors, user_id)


async def test_a_double_click_with_one_key_runs_once(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """The second request either waits out nothing (409 in flight) or replays the stored
    answer; either way the change runs once. A later retry replays it."""
    for _ in range(ROUNDS):
        user_id, etag = await target(client, actors)
        click = deactivate(user_id, actors.admin, etag, key=unique("key"))

        responses = await race(app, click, click)

        executed = executed_once(responses)
        retry = await click(client)
        assert retry.status_code == 200 and retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == executed.json()
        await assert_deactivated_once(app, client, actors, user_id)


async def test_two_creates_of_one_username_make_one_user(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """The loser fails on the username (checked, or the unique index at INSERT); its
    transaction, with whatever it staged, rolls back: one user, one entry, one event."""
    other_admin = await actor(client, actors.admin, actors.east, ["admin"])
    for _ in range(ROUNDS):
        username = unique("twin")
        entries = await row_count(app, audit_log, action="user.created")
        events = await row_count(app, outbox, type="user.created")

        responses = await race(app, create(actors.admin, username, actors.east),
                               create(other_admin, username, actors.east))

        [created] = [r for r in responses if r.status_code == 201]
        [refused] = [r for r in responses if r is not created]
        code = refused.json()["code"]
        assert code in {"duplicate", "write_conflict"}
        assert_problem(refused, 409, code)
        assert await row_count(app, audit_log, action="user.created") == entries + 1
        assert await row_count(app, outbox, type="user.created") == events + 1
        assert await row_count(app, outbox, entity_id=created.json()["id"]) == 1
        listed = (await client.get(f"/api/v1/users/{created.json()['id']}",
                                   headers=actors.admin.headers)).json()
        assert listed["username"] == username
