"""Refusals of a signed-in caller are audited (issue 14, item 6): a 403, and a 404 on a
record that exists outside the caller's scope, each leave one ``access.denied`` entry
saying who was refused what, where and when. A 404 on a record that does not exist, and a
caller who never signed in, leave nothing. The refused request changes nothing else."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from app.repositories.tables import audit_log
from tests.conftest import client_for
from tests.customer_support import make_customer
from tests.db import row_count, rows
from tests.support import Actors, assert_problem


async def _denials(app: FastAPI, response: httpx.Response) -> list[dict[str, object]]:
    found = await rows(app, audit_log, request_id=response.headers["x-request-id"])
    return [dict(r._mapping) for r in found]


async def test_a_403_is_audited_with_who_what_and_where(app: FastAPI,
                                                        actors: Actors) -> None:
    async with client_for(app, "198.51.100.23") as remote:
        refused = await remote.get("/api/v1/audit/verify", headers=actors.analyst.headers)
    assert_problem(refused, 403, "forbidden")

    [entry] = await _denials(app, refused)
    assert entry["action"] == "access.denied"
    assert (entry["actor_id"], entry["actor_roles"]) == (actors.analyst.id, ["analyst"])
    assert (entry["entity_type"], entry["entity_id"]) == ("route", None)
    assert entry["after"] == {"status": 403, "code": "forbidden", "method": "GET",
                              "route": "/api/v1/audit/verify"}
    assert entry["client_addr"] == "198.51.100.23"


async def test_a_404_on_a_record_outside_the_scope_is_audited_a_missing_one_is_not(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east)
    before = await row_count(app, audit_log)

    hidden = await client.get(f"/api/v1/customers/{customer['id']}",
                              headers=actors.am_west.headers)
    assert_problem(hidden, 404, "not_found")
    [entry] = await _denials(app, hidden)
    assert (entry["action"], entry["actor_id"]) == ("access.denied", actors.am_west.id)
    assert (entry["entity_type"], entry["entity_id"]) == ("customer", customer["id"])
    assert entry["after"] == {"status": 404, "code": "not_found", "method": "GET",
                              "route": "/api/v1/customers/{customer_id}"}

    missing = await client.get(f"/api/v1/customers/{uuid.uuid4()}",
                               headers=actors.am_west.headers)
    assert_problem(missing, 404, "not_found")
    anonymous = await client.get(f"/api/v1/customers/{customer['id']}")
    assert_problem(anonymous, 401, "not_authenticated")
    assert await _denials(app, missing) == await _denials(app, anonymous) == []
    assert await row_count(app, audit_log) == before + 1


async def test_a_refused_write_is_audited_and_changes_nothing(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """A refused POST carrying an Idempotency-Key: the refusal is kept in a transaction of
    its own; the department it asked for does not exist."""
    refused = await client.post("/api/v1/departments", json={"name": "不该存在的部门"},
                                headers={**actors.analyst.headers,
                                         "Idempotency-Key": str(uuid.uuid4())})
    assert_problem(refused, 403, "forbidden")
    [entry] = await _denials(app, refused)
    assert entry["after"] == {"status": 403, "code": "forbidden", "method": "POST",
                              "route": "/api/v1/departments"}
    names = [d["name"] for d in (await client.get(
        "/api/v1/departments", headers=actors.admin.headers, params={"limit": 200})
    ).json()["data"]]
    assert "不该存在的部门" not in names
