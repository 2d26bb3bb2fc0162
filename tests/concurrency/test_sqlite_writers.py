"""SQLite under concurrent load: write transactions take the lock up front (BEGIN
IMMEDIATE) and wait for it (busy timeout), so concurrent writers queue instead of failing
with "database is locked"; WAL lets readers go on while a writer holds the lock."""

from __future__ import annotations

import asyncio
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text, update

from app.repositories.tables import audit_log, departments
from tests.conftest import client_for
from tests.db import row_count
from tests.support import Actors, list_all, unique, verify_chain

pytestmark = pytest.mark.sqlite_only
WRITERS = 20


async def test_twenty_concurrent_writers_all_succeed(app: FastAPI, client: httpx.AsyncClient,
                                                     actors: Actors) -> None:
    names = [unique("并发部门") for _ in range(WRITERS)]
    before = await row_count(app, audit_log)
    async with client_for(app) as c:
        responses = await asyncio.gather(*(
            c.post("/api/v1/departments", headers=actors.admin.headers, json={"name": name})
            for name in names))

    assert [r.status_code for r in responses] == [201] * WRITERS, [
        r.text for r in responses if r.status_code != 201]
    ids = {r.json()["id"]: r.json()["name"] for r in responses}
    assert sorted(ids.values()) == sorted(names)
    listed = await list_all(client, "/api/v1/departments", actors.admin.headers)
    assert {d["id"]: d["name"] for d in listed if d["id"] in ids} == ids
    new_entries = [e for e in await list_all(client, "/api/v1/audit/entries",
                                             actors.auditor.headers, entity_type="department")
                   if e["entity_id"] in ids]
    assert sorted(e["entity_id"] for e in new_entries) == sorted(ids)
    assert {e["action"] for e in new_entries} == {"department.created"}
    seqs = sorted(e["seq"] for e in new_entries)
    assert seqs == list(range(before + 1, before + WRITERS + 1))  # one after another
    chain = await verify_chain(client, actors.auditor)
    assert chain == {"intact": True, "entries_checked": before + WRITERS,
                     "last_seq": before + WRITERS, "breaks": [], "checkpoints_checked": 0,
                     "anchored_seq": None}


async def test_a_reader_is_not_blocked_by_an_open_write(app: FastAPI, client: httpx.AsyncClient,
                                                        actors: Actors) -> None:
    created = await client.post("/api/v1/departments", headers=actors.admin.headers,
                                json={"name": unique("读写部"), "description": "committed"})
    assert created.status_code == 201, created.text
    department_id = created.json()["id"]
    async with app.state.engines.read.connect() as conn:
        assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"

    async with app.state.engines.write.connect() as writer:
        await writer.begin()  # BEGIN IMMEDIATE: this connection now holds the write lock
        await writer.execute(update(departments).where(departments.c.id == UUID(department_id))
                             .values(description="uncommitted"))

        read = await asyncio.wait_for(client.get(f"/api/v1/departments/{department_id}",
                                                 headers=actors.analyst.headers), timeout=5)
        assert read.status_code == 200, read.text
        assert read.json()["description"] == "committed"  # the last committed state

        name = unique("排队部")
        queued = asyncio.create_task(client.post(
            "/api/v1/departments", headers=actors.admin.headers, json={"name": name}))
        await asyncio.sleep(0.5)
        assert not queued.done()  # a second writer waits for the lock, it does not fail
        await writer.rollback()

    response = await asyncio.wait_for(queued, timeout=10)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    after = await client.get(f"/api/v1/departments/{department_id}",
                             headers=actors.analyst.headers)
    assert after.json()["description"] == "committed"
