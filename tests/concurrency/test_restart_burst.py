"""The database's backends all terminated, twice, during a burst of writes (issue 14, must
show; what a PostgreSQL restart does to the service's connections, without restarting the
server other databases share): no answer is a 500 (503 with ``Retry-After`` at most),
every acknowledged write is stored exactly once, nothing is half-written (the audit chain
verifies, every stored department has its one audit entry), and every refused request
retried with its Idempotency-Key ends in one stored write."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.repositories.tables import audit_log, departments
from tests import conftest
from tests.conftest import client_for
from tests.db import rows
from tests.support import Actor, admin_and_auditor, unique, verify_chain

pytestmark = pytest.mark.postgres_only
WRITES = 60
IN_FLIGHT = 12


async def _terminate_backends(database: conftest.Database) -> int:
    """Every connection to the app's database, as a restart would end them."""
    conn = await asyncpg.connect(conftest._pg_dsn(conftest.PG_ADMIN_URL), timeout=5)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()", database.name))
    finally:
        await conn.close()


async def _create(client: httpx.AsyncClient, admin: Actor, name: str,
                  key: str) -> httpx.Response:
    return await client.post("/api/v1/departments", json={"name": name},
                             headers={**admin.headers, "Idempotency-Key": key})


async def test_no_500_and_no_lost_write_when_every_backend_dies_during_a_burst(
        fresh_app: FastAPI, fresh_database: conftest.Database) -> None:
    async with client_for(fresh_app) as client:
        admin, auditor = await admin_and_auditor(client, fresh_app)
        requests = {unique("突发部"): str(uuid.uuid4()) for _ in range(WRITES)}
        gate = asyncio.Semaphore(IN_FLIGHT)
        answered = 0
        milestones = {WRITES // 4: asyncio.Event(), WRITES // 2: asyncio.Event()}

        async def send(name: str, key: str) -> httpx.Response:
            nonlocal answered
            async with gate:
                response = await _create(client, admin, name, key)
                answered += 1
                if answered in milestones:
                    milestones[answered].set()
                return response

        async def kill_twice() -> list[int]:
            killed = []
            for reached in milestones.values():  # a quarter, then half of the burst answered
                await reached.wait()
                killed.append(await _terminate_backends(fresh_database))
            return killed

        *answers, killed = await asyncio.gather(
            *(send(name, key) for name, key in requests.items()), kill_twice())

        assert all(k > 0 for k in killed), killed  # the app's connections were there
        statuses = [a.status_code for a in answers]
        assert set(statuses) <= {201, 503}, statuses
        for answer in answers:
            if answer.status_code == 503:
                assert answer.headers["retry-after"] == "5"
                assert answer.json()["code"] == "database_unavailable"

        acknowledged = {a.json()["name"]: a.json()["id"] for a in answers
                        if a.status_code == 201}
        stored = {r.name: str(r.id) for r in await rows(fresh_app, departments)
                  if r.name in requests}
        assert acknowledged.items() <= stored.items()  # every acknowledged write is there

        # Retried with their keys, the refused ones end in one stored write each (replayed
        # when the refused attempt had committed after all).
        for name, key in requests.items():
            if name not in acknowledged:
                retried = await _create(client, admin, name, key)
                assert retried.status_code == 201, retried.text
        final = [r.name for r in await rows(fresh_app, departments) if r.name in requests]
        assert sorted(final) == sorted(requests)

        chain = await verify_chain(client, auditor)
        assert chain["intact"] is True, chain["breaks"]
        async with fresh_app.state.engines.read.connect() as conn:
            audited = (await conn.execute(
                select(audit_log.c.entity_id).where(audit_log.c.action == "department.created")
            )).scalars().all()
        ids = {str(r.id) for r in await rows(fresh_app, departments) if r.name in requests}
        assert sorted(i for i in audited if i in ids) == sorted(ids)  # one entry each
