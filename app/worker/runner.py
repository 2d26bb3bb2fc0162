"""The worker's loops: relay the outbox, send due deliveries, run due jobs, beat.

Each loop finishes the unit it is in when asked to stop (SIGTERM), so a graceful stop
loses nothing and leaves nothing half-claimed; a killed worker loses nothing either,
because every step commits or rolls back as a whole and claims expire."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import structlog

from app.services.jobs import Job, JobRun, JobRunner, WorkerStatusService
from app.services.outbox_relay import OutboxRelay
from app.services.ports import Clock
from app.services.ports.unit_of_work import UnitOfWorkFactory
from app.services.ports.webhooks import SecretBox, WebhookTransport
from app.services.webhooks import AttemptReport, WebhookDispatcher
from app.settings import Settings
from app.worker import registry

if TYPE_CHECKING:
    from app.api.container import Services

log = structlog.get_logger("accord.worker")
HEARTBEAT_S = 10.0
JOB_CHECK_S = 10.0
ERROR_PAUSE_S = 5.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def log_attempt(report: AttemptReport) -> None:
    """One line per delivery attempt: never the secret, the signature or the full URL
    (its path or query may carry a receiver's token), only the host."""
    log.info("webhook.delivery", webhook_id=report.webhook_id,
             endpoint_id=str(report.endpoint_id), host=urlsplit(report.url).hostname,
             event_type=report.event_type, attempt=report.number,
             outcome=str(report.outcome), status_code=report.status_code,
             duration_ms=report.duration_ms, error=report.error, state=str(report.state),
             retry_at=report.retry_at.isoformat() if report.retry_at else None,
             endpoint_disabled=report.disabled)


@dataclass
class Worker:
    relay: OutboxRelay
    dispatcher: WebhookDispatcher
    job_runner: JobRunner
    jobs: Sequence[Job]
    status: WorkerStatusService
    id: str
    bulk: Sequence[Callable[[], Awaitable[int]]] = ()
    poll_s: float = 0.2
    senders: int = 2
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Until ``stop`` is set."""
        log.info("worker.started", worker_id=self.id, consumers=list(self.relay.consumers),
                 jobs=[j.name for j in self.jobs])
        loops = [self._loop("relay", self.relay.relay_batch, self.poll_s),
                 *(self._loop("deliveries", self.dispatcher.dispatch_due, self.poll_s)
                   for _ in range(self.senders)),
                 self._loop("jobs", self.run_due_jobs, JOB_CHECK_S, busy_again=False),
                 self._bulk_lane(),
                 self._loop("heartbeat", self._beat, HEARTBEAT_S, busy_again=False)]
        try:
            await asyncio.gather(*loops)
        finally:
            try:
                await self.status.forget(self.id)
            except Exception:  # the database may be what stopped us
                log.warning("worker.forget_failed", worker_id=self.id)
            log.info("worker.stopped", worker_id=self.id)

    async def _bulk_lane(self) -> None:
        """Imports and exports on a task of their own, so the relay, the deliveries and the
        periodic jobs keep their schedule while a long job runs. On stop, a job in the
        middle of a chunk is cancelled: that chunk's transaction rolls back, the job's lease
        is released, and the next worker to look resumes it from its last committed chunk
        (an export starts over)."""
        lane = asyncio.create_task(self._loop("bulk", self.run_bulk, self.poll_s))
        stopping = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait({lane, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            lane.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lane

    async def run_bulk(self) -> int:
        """One pass over the bulk jobs: each claims and runs at most one queued job."""
        ran = 0
        for step in self.bulk:
            ran += await step()
        return ran

    async def _beat(self) -> int:
        await self.status.beat(self.id)
        return 0

    async def _loop(self, name: str, step: Callable[[], Awaitable[int]], pause_s: float,
                    *, busy_again: bool = True) -> None:
        while not self.stop.is_set():
            try:
                done = await step()
            except Exception:
                log.exception("worker.step_failed", step=name, worker_id=self.id)
                done, pause = 0, ERROR_PAUSE_S
            else:
                pause = pause_s
            if done and busy_again:
                continue  # more may be waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), pause)

    async def run_due_jobs(self, *, force: bool = False) -> int:
        ran = 0
        for job in self.jobs:
            if self.stop.is_set():
                break
            run = await self.job_runner.run(job, force=force)
            if run is not None:
                ran += 1
                _log_run(run)
        return ran

    async def drain(self) -> dict[str, int]:
        """``accord worker --once``: relay everything, run the jobs that are due and every
        queued import and export, relay what they announced, send every delivery that
        is due, then return."""
        await self.status.beat(self.id)
        try:
            relayed = await self.relay.drain()
            jobs = await self.run_due_jobs()
            while ran := await self.run_bulk():
                jobs += ran
            relayed += await self.relay.drain()
            sent = await self.dispatcher.drain()
        finally:
            await self.status.forget(self.id)
        return {"events": relayed, "jobs": jobs, "deliveries": sent}


def _log_run(run: JobRun) -> None:
    if run.outcome == "ok":
        log.info("job.finished", job=run.name, count=run.count)
    else:
        log.error("job.failed", job=run.name, error=run.error)


def build_worker(services: Services, uow: UnitOfWorkFactory, clock: Clock,
                 transport: WebhookTransport, box: SecretBox, settings: Settings,
                 *, id: str | None = None) -> Worker:
    """A worker over the app's services, running what ``registry`` lists."""
    ident = id or worker_id()
    return Worker(
        relay=OutboxRelay(uow, clock, registry.consumers(services), settings.worker_batch_size),
        dispatcher=WebhookDispatcher(uow, clock, transport, box,
                                     batch_size=settings.worker_delivery_batch,
                                     claim_lease=timedelta(seconds=settings.worker_claim_lease_s),
                                     observe=log_attempt),
        job_runner=JobRunner(uow, clock, ident), jobs=registry.jobs(services),
        bulk=registry.bulk(services),
        status=services.worker_status, id=ident, poll_s=settings.worker_poll_s,
        senders=settings.worker_senders)
