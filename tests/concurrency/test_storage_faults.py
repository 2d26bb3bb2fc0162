"""Faults of the database on PostgreSQL, injected under the real app (issue 14):

- the connection dies between the commit and the answer: the client gets 503, and the
  same request retried with its key after the claim expired replays the committed answer
  (the answer commits with the effect, ``app.services.ports.idempotency.PendingAnswer``);
- a deadlock or serialization failure (a test-only trigger raising its SQLSTATE on the
  first attempts) is retried (``app.api.retries``): the client sees one success, one row,
  one audit entry; when it persists, 503 with ``Retry-After`` and nothing written;
- the connection dropped mid-request (the backend terminated), or the server saying it
  shuts down or cannot take connections yet, is 503 with ``Retry-After``, never 500.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from app.repositories.tables import departments
from tests import conftest
from tests.db import row_count
from tests.support import Actors, TestClock, assert_problem, audit_entries, unique

pytestmark = pytest.mark.postgres_only
DEPARTMENTS = "/api/v1/departments"
FAULTY = "故障"  # departments named so meet the injected faults; the others never do


@pytest.fixture
async def database_sql(database: conftest.Database) -> AsyncIterator[Callable[..., Any]]:
    """Run SQL on the app's database through a connection of the test's own."""
    conn = await asyncpg.connect(conftest._pg_dsn(database.url), timeout=5)
    try:
        yield conn.execute
    finally:
        await conn.execute("DROP TRIGGER IF EXISTS inject_fault ON departments;"
                           "DROP FUNCTION IF EXISTS inject_fault(); "
                           "DROP SEQUENCE IF EXISTS inject_fault_calls")
        await conn.close()


async def inject(sql: Callable[..., Any], body: str) -> None:
    """Run ``body`` (PL/pgSQL; ``calls`` counts the attempts, across rollbacks: a
    sequence is not transactional) before each insert of a department named FAULTY…"""
    await sql(f"""
        CREATE SEQUENCE inject_fault_calls;
        CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE calls bigint := nextval('inject_fault_calls');
        BEGIN {body} RETURN NEW; END $$;
        CREATE TRIGGER inject_fault BEFORE INSERT ON departments FOR EACH ROW
            WHEN (NEW.name LIKE '{FAULTY}%') EXECUTE FUNCTION inject_fault();""")


def raising(sqlstate: str, *, attempts: int) -> str:
    return (f"IF calls <= {attempts} THEN RAISE EXCEPTION 'injected {sqlstate}' "
            f"USING ERRCODE = '{sqlstate}'; END IF;")


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed"])
async def test_deadlock_and_serialization_failure_are_retried_into_one_success(
        client, app: FastAPI, actors: Actors, database_sql, sqlstate: str,
        keyed: bool) -> None:
    await inject(database_sql, raising(sqlstate, attempts=2))
    name = unique(FAULTY)
    key = {"Idempotency-Key": str(uuid.uuid4())} if keyed else {}
    created = await client.post(DEPARTMENTS, json={"name": name},
                                headers={**actors.admin.headers, **key})
    assert created.status_code == 201, created.text
    assert await row_count(app, departments, name=name) == 1
    assert len(await audit_entries(client, actors.auditor, "department",
                                   created.json()["id"])) == 1
    if keyed:
        replay = await client.post(DEPARTMENTS, json={"name": name},
                                   headers={**actors.admin.headers, **key})
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == created.json()


async def test_a_lasting_deadlock_is_503_with_retry_after_and_writes_nothing(
        client, app: FastAPI, actors: Actors, database_sql) -> None:
    await inject(database_sql, raising("40P01", attempts=1000))
    name = unique(FAULTY)
    refused = await client.post(DEPARTMENTS, json={"name": name}, headers=actors.admin.headers)
    assert_problem(refused, 503, "database_unavailable")
    assert refused.headers["retry-after"] == "5"
    assert await row_count(app, departments, name=name) == 0


@pytest.mark.parametrize("sqlstate", ["57P01", "57P03", "08006"])
async def test_a_server_going_away_is_503_with_retry_after(
        client, app: FastAPI, actors: Actors, database_sql, sqlstate: str) -> None:
    """What the server says while it shuts down or starts (admin shutdown, cannot connect
    now) or when the link breaks (connection failure)."""
    await inject(database_sql, raising(sqlstate, attempts=1))
    name = unique(FAULTY)
    refused = await client.post(DEPARTMENTS, json={"name": name}, headers=actors.admin.headers)
    assert_problem(refused, 503, "database_unavailable")
    assert refused.headers["retry-after"] == "5"
    assert await row_count(app, departments, name=name) == 0


async def test_a_connection_dropped_mid_request_is_503_with_retry_after(
        client, app: FastAPI, actors: Actors, database_sql) -> None:
    await inject(database_sql, "IF calls = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid());"
                               " END IF;")
    name = unique(FAULTY)
    dropped = await client.post(DEPARTMENTS, json={"name": name}, headers=actors.admin.headers)
    assert_problem(dropped, 503, "database_unavailable")
    assert dropped.headers["retry-after"] == "5"
    assert await row_count(app, departments, name=name) == 0
    again = await client.post(DEPARTMENTS, json={"name": name}, headers=actors.admin.headers)
    assert again.status_code == 201, again.text


@pytest.fixture
def connection_killed_after_next_commit(
        monkeypatch: pytest.MonkeyPatch, database: conftest.Database) -> None:
    """The next unit-of-work commit reaches the database, then its connection is killed
    before the answer: the client never hears that it committed."""
    commit = AsyncConnection.commit

    async def commit_then_die(conn: AsyncConnection) -> None:
        monkeypatch.setattr(AsyncConnection, "commit", commit)  # once
        pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
        await commit(conn)
        await conftest._pg_admin(f"SELECT pg_terminate_backend({pid})")
        await conn.exec_driver_sql("SELECT 1")  # the dead connection's error, as the driver says it

    monkeypatch.setattr(AsyncConnection, "commit", commit_then_die)


async def test_an_answer_lost_after_commit_is_replayed_not_run_again(
        client, app: FastAPI, actors: Actors, clock: TestClock,
        connection_killed_after_next_commit: None) -> None:
    key, name = str(uuid.uuid4()), unique("失答部")
    headers = {**actors.admin.headers, "Idempotency-Key": key}
    lost = await client.post(DEPARTMENTS, json={"name": name}, headers=headers)
    assert_problem(lost, 503, "database_unavailable")
    assert lost.headers["retry-after"] == "5"
    assert await row_count(app, departments, name=name) == 1  # it did commit
    settings = conftest.test_settings("sqlite://")
    moved = timedelta(seconds=settings.idempotency_lock_s + 1)  # the claim expired
    clock.advance(seconds=moved.total_seconds())
    try:
        retried = await client.post(DEPARTMENTS, json={"name": name}, headers=headers)
    finally:
        clock.advance(seconds=-moved.total_seconds())
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["name"] == name
    assert await row_count(app, departments, name=name) == 1
    assert len(await audit_entries(client, actors.auditor, "department",
                                   retried.json()["id"])) == 1
