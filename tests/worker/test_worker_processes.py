"""Real ``accord worker`` processes against one database: two of them deliver every event
exactly once per endpoint and stop gracefully on SIGTERM; one killed with SIGKILL in the
middle of a batch loses nothing (the batch is delivered after a restart)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.domain.common.events import DomainEvent
from app.repositories.tables_worker import webhook_deliveries, worker_heartbeats
from app.services.ports import RequestContext
from tests.conftest import Database, client_for, make_database
from tests.conftest import test_app as app_for
from tests.conftest import test_settings as settings_for
from tests.db import row_count, rows
from tests.support import TestClock, first_admin
from tests.worker.conftest import subscribe, unique_type
from tests.worker.receiver import Answer, Received, Receiver

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0  # a worker imports the whole app; the machine may be busy


@pytest.fixture(scope="module")
def process_database(db_engine: str, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[Database]:
    yield from make_database(db_engine, tmp_path_factory.mktemp(f"processes-{db_engine}"))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def papp(process_database: Database) -> AsyncIterator[FastAPI]:
    application = app_for(settings_for(process_database.url), clock=TestClock())
    yield application
    await application.state.webhook_transport.aclose()
    await application.state.engines.dispose()


def start_worker(url: str, log: Path, *args: str, **settings: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ACCORD_DATABASE_URL": url,
           "ACCORD_ENV": "development", "ACCORD_LOG_LEVEL": "INFO",
           "ACCORD_WORKER_POLL_S": "0.05",
           **{f"ACCORD_{k.upper()}": v for k, v in settings.items()}}
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-c", "from app.cli import main; main()", "worker", *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


async def emit_many(app: FastAPI, event_type: str, n: int) -> set[str]:
    uow = app.state.unit_of_work
    events = [DomainEvent(event_type, "test", uuid.uuid4(), app.state.services.clock.now(),
                          {"n": i}) for i in range(n)]
    async with uow(RequestContext(None, "test-emit")) as u:
        for event in events:
            u.emit(event)
        await u.commit()
    return {str(e.id) for e in events}


async def until(condition, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def event_ids(received: list[Received]) -> list[str]:
    """The events of complete requests (a killed worker may leave one half sent)."""
    ids = []
    for request in received:
        try:
            ids.append(json.loads(request.body)["data"]["event_id"])
        except ValueError:
            continue
    return ids


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout=60)


@pytest.mark.postgres_only
async def test_two_workers_deliver_each_event_once_per_endpoint_and_stop_on_sigterm(
        papp: FastAPI, process_database: Database, tmp_path: Path) -> None:
    family = unique_type()
    async with client_for(papp) as client:
        admin = await first_admin(client, papp)
        with Receiver() as receiver:
            secrets = [(await subscribe(client, admin, receiver.url(f"/{family}{path}"),
                                        [f"{family}.*"]))["secret"] for path in ("/a", "/b")]
            small = {"worker_batch_size": "25", "worker_delivery_batch": "20"}
            logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
            workers = [start_worker(process_database.url, log, **small) for log in logs]
            try:
                await until(lambda: _beating(papp, 2), START_TIMEOUT_S, "two heartbeats")
                emitted = await emit_many(papp, f"{family}.happened", 300)
                await until(lambda: _received(receiver, 600), 60, "600 deliveries")
                await asyncio.sleep(1.0)  # time for any duplicate to arrive
            finally:
                codes = [stop(w) for w in workers]

            assert codes == [0, 0]  # SIGTERM: each finished its batch and exited cleanly
            assert await row_count(papp, worker_heartbeats) == 0  # and said goodbye
            for path in ("/a", "/b"):
                got = receiver.at(f"/{family}{path}")
                assert sorted(event_ids(got)) == sorted(emitted)  # each once, none missed
                assert len({r.headers["webhook-id"] for r in got}) == 300
            texts = [log.read_text() for log in logs]
            lines = [text.count('"webhook.delivery"') for text in texts]
            assert sum(lines) == 600 and all(n > 0 for n in lines), lines  # both worked
            # One structured line per delivery, never with a secret or a signature.
            for text, secret in zip(texts, secrets, strict=True):
                assert secret not in text and secret[6:] not in text
                assert "v1," not in text and "signature" not in text


async def _beating(app: FastAPI, n: int) -> bool:
    return await row_count(app, worker_heartbeats) >= n


async def _received(receiver: Receiver, n: int) -> bool:
    return len(receiver.requests) >= n


async def test_a_worker_killed_mid_batch_loses_nothing(
        papp: FastAPI, process_database: Database, tmp_path: Path) -> None:
    family = unique_type()
    async with client_for(papp) as client:
        admin = await first_admin(client, papp)
        with Receiver() as receiver:
            path = f"/{family}"
            receiver.answers[path] = Answer(delay_s=3.0)  # slow: the batch is in flight
            endpoint = await subscribe(client, admin, receiver.url(path), [f"{family}.*"])
            emitted = await emit_many(papp, f"{family}.happened", 30)
            lease = {"worker_claim_lease_s": "2", "worker_delivery_batch": "10"}
            log = tmp_path / "worker.log"
            worker = start_worker(process_database.url, log, **lease)
            try:
                await until(lambda: _received(receiver, 1), START_TIMEOUT_S, "a first request")
            finally:
                assert stop(worker, signal.SIGKILL) == -signal.SIGKILL
            # Nothing was recorded for the batch in flight: it is still pending.
            assert await _pending(papp, endpoint["id"]) > 0
            receiver.answers[path] = Answer()
            await asyncio.sleep(2.5)  # the killed worker's claim runs out

            again = start_worker(process_database.url, log, "--once")
            assert again.wait(timeout=START_TIMEOUT_S) == 0, log.read_text()[-2000:]

            assert set(event_ids(receiver.at(path))) == emitted  # every event arrived
            assert await _pending(papp, endpoint["id"]) == 0


async def _pending(app: FastAPI, endpoint_id: str) -> int:
    found = await rows(app, webhook_deliveries, endpoint_id=uuid.UUID(endpoint_id))
    return sum(1 for d in found if d.state == "pending")


