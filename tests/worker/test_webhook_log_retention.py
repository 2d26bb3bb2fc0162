"""The webhook delivery log is kept for a retention period (``ACCORD_WEBHOOK_LOG_RETENTION_
DAYS``, 30 by default): the periodic ``prune_webhook_log`` job removes older attempts, but
keeps the latest attempt of a delivery that may still be sent again (pending, or failed
and open to a manual redelivery). Attempts are written through the real repository at
times set by the test clock."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from app.domain.webhooks.deliveries import AttemptOutcome, DeliveryState
from app.domain.webhooks.model import Delivery, DeliveryAttempt
from app.repositories.search import Fts5Search
from app.repositories.tables_worker import webhook_attempts
from app.repositories.unit_of_work import SqlUnitOfWorkFactory
from app.services.ports import RequestContext
from app.settings import Settings
from app.worker.registry import JOBS
from tests.db import rows
from tests.support import Actor, TestClock
from tests.worker.conftest import subscribe, unique_type
from tests.worker.receiver import Receiver

SYSTEM = RequestContext(None, "test-retention")


async def _log(app: FastAPI, endpoint_id: uuid.UUID, state: DeliveryState,
               days_ago: list[int]) -> list[uuid.UUID]:
    """A delivery in ``state`` with one attempt per entry, made that many days ago, in
    order (the last is the latest); the attempts' ids."""
    clock = app.state.services.clock
    now = clock.now()
    uow = SqlUnitOfWorkFactory(app.state.engines, clock, Fts5Search())
    delivery = Delivery(uuid.uuid4(), endpoint_id, None, "test.retention", "{}", state,
                        now + timedelta(days=400), now - timedelta(days=days_ago[0]),
                        attempts=len(days_ago))
    attempts = [DeliveryAttempt(uuid.uuid4(), delivery.id, endpoint_id, "test.retention",
                                now - timedelta(days=d), AttemptOutcome.FAILED, 500, 12,
                                number=n) for n, d in enumerate(days_ago, start=1)]
    async with uow(SYSTEM) as u:
        await u.webhooks.add_deliveries([delivery])
        await u.webhooks.record_attempts([], attempts)
        await u.commit()
    return [a.id for a in attempts]


async def _kept(app: FastAPI, endpoint_id: uuid.UUID) -> set[uuid.UUID]:
    return {r.id for r in await rows(app, webhook_attempts, endpoint_id=endpoint_id)}


async def test_old_attempts_are_pruned_but_a_retryable_delivery_keeps_its_latest(
        wapp: FastAPI, wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver,
        worker_clock: TestClock) -> None:
    assert Settings.model_fields["webhook_log_retention_days"].default == 30
    assert wapp.state.services.webhook_log.retention == timedelta(days=30)
    assert "prune_webhook_log" in [j.name for j in JOBS]
    endpoint = await subscribe(wclient, wadmin, receiver.url(f"/{unique_type()}"),
                               ["nothing.else"])
    eid = uuid.UUID(endpoint["id"])
    delivered_old = await _log(wapp, eid, DeliveryState.DELIVERED, [40, 35])
    pending = await _log(wapp, eid, DeliveryState.PENDING, [40, 33])
    failed = await _log(wapp, eid, DeliveryState.FAILED, [45, 40])
    recent = await _log(wapp, eid, DeliveryState.DELIVERED, [5])
    retention = wapp.state.services.webhook_log

    removed = await retention.prune(SYSTEM)

    assert removed >= 4  # other tests' old attempts may go too
    assert await _kept(wapp, eid) == {pending[1], failed[1], recent[0]}
    assert not set(delivered_old) & await _kept(wapp, eid)

    start = worker_clock.offset
    try:
        worker_clock.advance(days=26)  # the recent attempt is now 31 days old
        await retention.prune(SYSTEM)
        assert await _kept(wapp, eid) == {pending[1], failed[1]}
    finally:
        worker_clock.offset = start


async def test_the_prune_finds_old_attempts_by_their_time(wapp: FastAPI) -> None:
    """The attempts past the retention are reached through ``ix_webhook_attempts_time``
    (sequential scans off, so the plan shows what the index can answer at any size)."""
    async with wapp.state.engines.read.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SET enable_seqscan = off"))  # this connection only
            try:
                plan = "\n".join(r[0] for r in await conn.execute(text(
                    "EXPLAIN SELECT id FROM webhook_attempts WHERE attempted_at < now()")))
            finally:
                await conn.execute(text("RESET enable_seqscan"))
        else:
            plan = "\n".join(str(r[-1]) for r in await conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT id FROM webhook_attempts "
                "WHERE attempted_at < '2026-01-01'")))
    assert "ix_webhook_attempts_time" in plan, plan
