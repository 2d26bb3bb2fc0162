"""The transactional outbox: a write's event row is committed together with the write and
its audit entry, or not at all. Webhook delivery relies on this (at-least-once, never an
event for a change that did not happen)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, insert

from app.domain.audit.chain import GENESIS_HASH
from app.repositories.tables import audit_log, departments, outbox
from tests.conftest import Database, client_for
from tests.db import row_count, rows, tamper
from tests.support import (
    Actors,
    admin_and_auditor,
    assert_problem,
    audit_entries,
    unique,
    verify_chain,
)


async def totals(app: FastAPI) -> tuple[int, int, int]:
    """(outbox rows, audit entries, departments) in the app's database."""
    return (await row_count(app, outbox), await row_count(app, audit_log),
            await row_count(app, departments))


async def test_a_created_department_writes_one_outbox_event(app: FastAPI,
                                                            client: httpx.AsyncClient,
                                                            actors: Actors) -> None:
    name = unique("华北区")
    response = await client.post("/api/v1/departments", headers=actors.admin.headers,
                                 json={"name": name})
    assert response.status_code == 201, response.text
    department_id = response.json()["id"]

    [event] = await rows(app, outbox, entity_id=department_id)

    assert (event.type, event.entity_type) == ("department.created", "department")
    assert event.entity_id == department_id
    assert event.data["after"]["name"] == name
    assert event.request_id == response.headers["x-request-id"]
    assert event.published_at is None
    assert event.occurred_at.tzinfo is not None
    [entry] = await audit_entries(client, actors.auditor, "department", department_id)
    assert entry["action"] == "department.created"
    assert entry["request_id"] == event.request_id


async def test_outbox_row_is_written_iff_the_transaction_commits(
        fresh_app: FastAPI, fresh_database: Database) -> None:
    """The unit of work inserts the write's rows, then (in ``commit``) its outbox rows,
    then its audit entries, then commits. We plant a foreign row in ``audit_log`` at the
    seq the next append will take (head + 1), so the next write fails on the audit INSERT:
    a real unique violation raised by the database *after* the department row and its
    outbox row were inserted in the same transaction. The request must end as a 409 and
    leave no department, no outbox row and no audit entry behind — the outbox row was
    rolled back with the write. Once the planted row is gone, the very same request
    commits and adds exactly one of each. So an event exists if and only if its write
    committed."""
    name = unique("华南区")
    async with client_for(fresh_app) as client:
        admin, auditor = await admin_and_auditor(client, fresh_app)
        head = (await verify_chain(client, auditor))["last_seq"]
        outboxed, audited, departments_before = await totals(fresh_app)
        planted = {"seq": head + 1, "occurred_at": datetime.now(UTC), "actor_roles": [],
                   "action": "test.planted", "entity_type": "test",
                   "prev_hash": GENESIS_HASH, "hash": GENESIS_HASH}
        await tamper(fresh_database.url, insert(audit_log).values(**planted))

        failed = await client.post("/api/v1/departments", headers=admin.headers,
                                   json={"name": name})

        assert_problem(failed, 409, "write_conflict")
        # The planted row is the only new audit row.
        assert await totals(fresh_app) == (outboxed, audited + 1, departments_before)
        assert await row_count(fresh_app, departments, name=name) == 0
        assert await rows(fresh_app, outbox, request_id=failed.headers["x-request-id"]) == []

        await tamper(fresh_database.url, delete(audit_log).where(audit_log.c.seq == head + 1))
        created = await client.post("/api/v1/departments", headers=admin.headers,
                                    json={"name": name})

        assert created.status_code == 201, created.text
        department_id = created.json()["id"]
        assert await totals(fresh_app) == (outboxed + 1, audited + 1, departments_before + 1)
        [event] = await rows(fresh_app, outbox, request_id=created.headers["x-request-id"])
        assert (event.type, event.entity_id) == ("department.created", department_id)
        [entry] = await audit_entries(client, auditor, "department", department_id)
        assert entry["seq"] == head + 1
        body = await verify_chain(client, auditor)
        assert body == {"intact": True, "entries_checked": head + 1, "last_seq": head + 1,
                        "breaks": [], "checkpoints_checked": 0, "anchored_seq": None}


async def test_a_refused_write_leaves_no_event(app: FastAPI, client: httpx.AsyncClient,
                                               actors: Actors) -> None:
    """A use case that fails before committing (a duplicate name) stages nothing durable."""
    name = unique("重名部")
    first = await client.post("/api/v1/departments", headers=actors.admin.headers,
                              json={"name": name})
    assert first.status_code == 201, first.text
    before = await totals(app)

    again = await client.post("/api/v1/departments", headers=actors.admin.headers,
                              json={"name": name})

    assert_problem(again, 409, "duplicate")
    assert await totals(app) == before
    assert await rows(app, outbox, request_id=again.headers["x-request-id"]) == []
