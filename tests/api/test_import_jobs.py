"""An import job's life (issue 17 item 3): a worker that dies mid-job leaves whole
chunks or nothing, and the next worker resumes from the last committed chunk once the
lease runs out, without duplicating a customer; cancel stops a job at its next chunk.

Crashes two ways: in-process, the worker's file reader raises ``WorkerStopped`` (a
``BaseException``, as a shutdown would be) in the middle of a chunk, so that chunk's
transaction is never committed; and a real worker process killed with SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, text

from app.repositories.tables_bulk import import_keys
from app.services.imports import ImportService, WorkerStopped
from tests.import_support import by_ref, csv_bytes, read_job, rejected_rows, submit
from tests.support import Actors, TestClock, assert_problem, unique

MAPPING = '{"id": "external_id", "name": "name"}'


class DyingFiles:
    """The job files, except that reading dies after ``rows`` rows."""

    def __init__(self, files: Any, rows: int) -> None:
        self._files, self._left = files, rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._files, name)

    def rows(self, key: str, name: str) -> Iterator[tuple[int, dict[str, str]]]:
        for row in self._files.rows(key, name):
            if self._left == 0:
                raise WorkerStopped
            self._left -= 1
            yield row


def worker(app: FastAPI, *, dies_after: int | None = None) -> ImportService:
    """Another worker process's import service on the same database and files."""
    real: ImportService = app.state.services.imports
    files = real._files if dies_after is None else DyingFiles(real._files, dies_after)
    return ImportService(real._uow, real._clock, files, real._customers, chunk_size=3)


def crm_file(refs: list[str], tag: str) -> bytes:
    return csv_bytes([["id", "name"]] + [[r, f"{tag}-{i}"] for i, r in enumerate(refs)])


async def test_a_killed_worker_resumes_from_its_last_chunk_without_duplicates(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock) -> None:
    refs = [uuid.uuid4().hex for _ in range(8)]
    tag = unique("断点续传")
    job = await submit(client, actors.am_east, ("big.csv", crm_file(refs, tag)),
                       mapping=MAPPING, system="crm", mode="upsert")
    with contextlib.suppress(WorkerStopped):  # chunk 1 (3 rows) commits, chunk 2 dies
        await worker(app, dies_after=4).run_queued()
    state = await read_job(client, actors.am_east, job["id"])
    assert (state["state"], state["position"], state["counts"]["created"]) == (
        "running", 3, 3)
    assert [await by_ref(client, actors.admin, "crm", r) is not None for r in refs] == \
        [True] * 3 + [False] * 5
    # while the dead worker's lease lasts, nobody takes the job
    assert await worker(app).run_queued() == 0
    clock.advance(minutes=6)
    assert await worker(app).run_queued() == 1
    done = await read_job(client, actors.am_east, job["id"])
    assert done["state"] == "completed" and done["position"] == 8
    assert {k: v for k, v in done["counts"].items() if v} == {
        "read": 8, "valid": 8, "created": 8}
    found = await client.get("/api/v1/customers", headers=actors.admin.headers,
                             params={"q": tag, "limit": 50})
    assert sorted(c["name"] for c in found.json()["data"]) == sorted(
        f"{tag}-{i}" for i in range(8))
    assert await rejected_rows(client, actors.am_east, job["id"]) == []


async def test_a_resumed_job_still_finds_duplicates_across_the_crash(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock) -> None:
    refs = [uuid.uuid4().hex for _ in range(5)]
    refs.append(refs[0])  # the last row repeats the first customer
    job = await submit(client, actors.am_east, ("dup.csv", crm_file(refs, unique("重"))),
                       mapping=MAPPING, system="crm", mode="upsert")
    with contextlib.suppress(WorkerStopped):
        await worker(app, dies_after=3).run_queued()
    clock.advance(minutes=6)
    await worker(app).run_queued()
    rows = await rejected_rows(client, actors.am_east, job["id"])
    assert [(r["line"], r["code"]) for r in rows] == [("7", "duplicate_in_file")]


async def test_cancel_stops_the_job_at_its_next_chunk_and_keeps_what_committed(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock) -> None:
    refs = [uuid.uuid4().hex for _ in range(6)]
    job = await submit(client, actors.am_east, ("c.csv", crm_file(refs, unique("取消"))),
                       mapping=MAPPING, system="crm")
    with contextlib.suppress(WorkerStopped):
        await worker(app, dies_after=4).run_queued()
    cancelled = await client.post(f"/api/v1/imports/{job['id']}/cancel",
                                  headers=actors.am_east.headers)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    clock.advance(minutes=6)
    assert await worker(app).run_queued() == 0
    assert [await by_ref(client, actors.admin, "crm", r) is not None for r in refs] == \
        [True] * 3 + [False] * 3
    again = await client.post(f"/api/v1/imports/{job['id']}/cancel",
                              headers=actors.am_east.headers)
    assert_problem(again, 409, "transition_not_allowed")
    other = await client.post(f"/api/v1/imports/{job['id']}/cancel",
                              headers=actors.am_east2.headers)
    assert_problem(other, 404, "not_found")
    # a queued job cancelled before any worker saw it imports nothing
    queued = await submit(client, actors.am_east, ("q.csv", crm_file([uuid.uuid4().hex], "q")),
                          mapping=MAPPING, system="crm")
    await client.post(f"/api/v1/imports/{queued['id']}/cancel", headers=actors.admin.headers)
    assert await worker(app).run_queued() == 0
    assert (await read_job(client, actors.am_east, queued["id"]))["counts"]["read"] == 0


async def test_a_file_that_cannot_be_read_fails_the_job_visibly(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    job = await submit(client, actors.am_east, ("broken.xlsx", b"PK\x03\x04 not a workbook"),
                       preset="fxiaoke")
    await worker(app).run_queued()
    failed = await read_job(client, actors.am_east, job["id"])
    assert failed["state"] == "failed" and failed["error"], failed
    assert failed["finished_at"] is not None and failed["counts"]["read"] == 0


WORKER = """
import asyncio, sys, uuid
from app.main import create_app
from tests.conftest import test_settings
app = create_app(test_settings(sys.argv[1]))
service = app.state.services.imports
service.chunk_size = 5
print("ready", flush=True)
asyncio.run(service.run_queued(only=uuid.UUID(sys.argv[2])))
"""


async def test_a_worker_process_killed_with_sigkill_resumes_without_duplicates(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock,
        database: Any) -> None:
    """A real ``kill -9`` of a worker process in the middle of a job."""
    refs = [uuid.uuid4().hex for _ in range(300)]
    tag = unique("进程被杀")
    job = await submit(client, actors.am_east, ("kill.csv", crm_file(refs, tag)),
                       mapping=MAPPING, system="crm", mode="upsert")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, database.url, job["id"],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        for _ in range(1200):
            await asyncio.sleep(0.1)
            position = (await read_job(client, actors.am_east, job["id"]))["position"]
            if position >= 10 or process.returncode is not None:
                break
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
    killed = await read_job(client, actors.am_east, job["id"])
    assert killed["state"] == "running" and 0 < killed["position"] < len(refs), killed
    assert killed["counts"]["created"] == killed["position"]
    clock.advance(minutes=6)
    assert await worker(app).run_queued() == 1
    done = await read_job(client, actors.am_east, job["id"])
    assert done["state"] == "completed" and done["counts"]["created"] == len(refs), done
    total = 0
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"q": tag, "limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/customers", headers=actors.admin.headers,
                                 params=params)).json()
        total += len(page["data"])
        if (cursor := page["next_cursor"]) is None:
            break
    assert total == len(refs)


async def test_a_finished_job_forgets_its_keys_and_a_large_one_refreshes_statistics(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock) -> None:
    """The keys that find duplicates within the file live while the job runs; a job that
    wrote at least ``analyze_after`` customers leaves the planner fresh statistics of the
    customer tables for the list and search reads (PostgreSQL keeps them; SQLite not)."""
    refs = [uuid.uuid4().hex for _ in range(5)]
    job = await submit(client, actors.am_east, ("big.csv", crm_file(refs, unique("统计"))),
                       mapping=MAPPING, system="crm", mode="upsert")
    runner = worker(app)
    runner.analyze_after = 5

    async def analyzed() -> int:
        async with app.state.engines.read.connect() as conn:
            if conn.dialect.name != "postgresql":
                return 0
            return int(await conn.scalar(text(
                "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'customers'")))

    async def keys_held() -> int:
        async with app.state.engines.read.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(import_keys).where(
                import_keys.c.job_id == uuid.UUID(job["id"]))))

    before = await analyzed()
    with contextlib.suppress(WorkerStopped):  # the first chunk's keys are on record
        await worker(app, dies_after=4).run_queued()
    assert await keys_held() == 3
    clock.advance(minutes=6)
    assert await runner.run_queued() == 1
    assert (await read_job(client, actors.am_east, job["id"]))["counts"]["created"] == 5
    assert await keys_held() == 0
    async with app.state.engines.read.connect() as conn:
        postgresql = conn.dialect.name == "postgresql"
    assert await analyzed() == (before + 1 if postgresql else 0)
