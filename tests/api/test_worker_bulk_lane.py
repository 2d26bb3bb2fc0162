"""Imports and exports run on the worker's bulk lane, a task of their own (issue 15 item 1,
issue 17): while an import is in the middle of a chunk, the relay still publishes the
outbox on its schedule; a stop (SIGTERM) in the middle of a chunk rolls that chunk back
and releases the job, which the next worker resumes at once from its last committed
chunk; ``accord worker --once`` drains the
queued imports and exports with everything else.

The import is held in the middle of a chunk by a gate on the import service's chunk step
(the lane runs only this test's job, so jobs of other tests stay out of it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from app.worker.runner import Worker
from tests.api.test_import_jobs import MAPPING, crm_file
from tests.customer_support import make_customer
from tests.db import rows
from tests.import_support import EXPORTS, by_ref, read_job, submit
from tests.support import Actors, unique


def gated(app: FastAPI, monkeypatch: pytest.MonkeyPatch, step: str
          ) -> tuple[asyncio.Event, asyncio.Event]:
    """The import's ``step`` waits for ``release`` from its second call on (``held`` is
    set when it waits), as a long chunk of a million-row file keeps the lane busy:
    ``_chunk`` between two chunks, ``_advance`` inside a chunk's transaction, its rows
    written and not yet committed."""
    imports = app.state.services.imports
    real: Callable[..., Awaitable[bool]] = getattr(imports, step)
    held, release = asyncio.Event(), asyncio.Event()
    calls = 0

    async def waiting(*args: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls > 1:
            held.set()
            await release.wait()
        return await real(*args)

    monkeypatch.setattr(imports, step, waiting)
    monkeypatch.setattr(imports, "chunk_size", 3)
    return held, release


def lane_worker(app: FastAPI, job_id: str) -> Worker:
    worker: Worker = app.state.make_worker(f"lane-{uuid.uuid4().hex[:6]}")
    imports = app.state.services.imports
    worker.bulk = [lambda: imports.run_queued(limit=1, only=uuid.UUID(job_id))]
    worker.jobs = []  # the periodic jobs are not what these tests are about
    worker.poll_s = 0.05
    return worker


async def held_import(client: httpx.AsyncClient, app: FastAPI, actors: Actors,
                      monkeypatch: pytest.MonkeyPatch, refs: list[str], step: str
                      ) -> tuple[dict[str, Any], asyncio.Event, Worker, asyncio.Task[None]]:
    """An import of ``refs`` submitted and running in a worker, held at ``step`` of its
    second chunk: (the job, ``release``, the worker, its task)."""
    job = await submit(client, actors.am_east, ("held.csv", crm_file(refs, unique("长任务"))),
                       mapping=MAPPING, system="crm", mode="upsert")
    held, release = gated(app, monkeypatch, step)
    worker = lane_worker(app, job["id"])
    running = asyncio.create_task(worker.run())
    await asyncio.wait_for(held.wait(), 20)
    return job, release, worker, running


async def _published(app: FastAPI, entity_id: str) -> bool:
    found = await rows(app, outbox, entity_id=entity_id, type="customer.created")
    return bool(found) and all(r.published_at is not None for r in found)


async def test_the_relay_publishes_while_an_import_holds_the_bulk_lane(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors,
        monkeypatch: pytest.MonkeyPatch) -> None:
    refs = [uuid.uuid4().hex for _ in range(6)]
    # Held between chunks: on SQLite a chunk holds the only writer's lock while it runs.
    job, release, worker, running = await held_import(client, app, actors, monkeypatch,
                                                      refs, "_chunk")
    try:
        customer = await make_customer(client, actors.am_east, name=unique("导入期间新建"))
        for _ in range(200):
            if await _published(app, customer["id"]):
                break
            await asyncio.sleep(0.05)
        assert await _published(app, customer["id"]), "the relay waited for the import"
        state = await read_job(client, actors.am_east, job["id"])
        assert (state["state"], state["position"]) == ("running", 3)
    finally:
        release.set()
    for _ in range(200):
        if (await read_job(client, actors.am_east, job["id"]))["state"] == "completed":
            break
        await asyncio.sleep(0.05)
    worker.stop.set()
    await asyncio.wait_for(running, 20)
    done = await read_job(client, actors.am_east, job["id"])
    assert (done["state"], done["counts"]["created"]) == ("completed", 6)


async def test_a_stop_mid_chunk_rolls_the_chunk_back_and_the_job_resumes(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors,
        monkeypatch: pytest.MonkeyPatch) -> None:
    refs = [uuid.uuid4().hex for _ in range(8)]
    # Held inside chunk 2's transaction: its rows written, not committed.
    job, release, worker, running = await held_import(client, app, actors, monkeypatch,
                                                      refs, "_advance")
    worker.stop.set()  # what SIGTERM does
    await asyncio.wait_for(running, 20)  # the worker stops without finishing the job
    release.set()
    state = await read_job(client, actors.am_east, job["id"])
    assert (state["state"], state["position"], state["counts"]["created"]) == (
        "running", 3, 3)
    assert [await by_ref(client, actors.admin, "crm", r) is not None for r in refs] == \
        [True] * 3 + [False] * 5

    monkeypatch.undo()
    # the stop released the lease: the next worker goes on at once, the clock unmoved
    resumed = lane_worker(app, job["id"])
    assert (await resumed.drain())["jobs"] >= 1
    done = await read_job(client, actors.am_east, job["id"])
    assert (done["state"], done["counts"]["created"]) == ("completed", 8)  # 3 + 5
    for ref in refs:  # each CRM id is one customer, never two
        found = await client.get("/api/v1/customers", headers=actors.admin.headers,
                                 params={"external_ref": f"crm:{ref}"})
        assert len(found.json()["data"]) == 1


async def test_worker_once_drains_queued_imports_and_exports(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    refs = [uuid.uuid4().hex for _ in range(4)]
    job = await submit(client, actors.am_east, ("once.csv", crm_file(refs, unique("一次"))),
                       mapping=MAPPING, system="crm", mode="upsert")
    export = await client.post(EXPORTS, headers=actors.am_east.headers,
                               json={"entity": "customers", "format": "jsonl"})
    assert export.status_code == 202, export.text
    await app.state.make_worker("once").drain()
    assert (await read_job(client, actors.am_east, job["id"]))["state"] == "completed"
    exported = await client.get(f"{EXPORTS}/{export.json()['id']}",
                                headers=actors.am_east.headers)
    assert exported.json()["state"] == "completed"
