"""Periodic jobs, each run by one worker at a time: a lease row per job is taken in its
own short transaction (one UPDATE that only succeeds when nobody holds an unexpired lease
and the job is due), the job runs in its own units of work, and the lease is released with
the outcome. A worker killed mid-run leaves its lease to expire; the job runs again then."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.services.ports import Clock, RequestContext
from app.services.ports.unit_of_work import UnitOfWorkFactory
from app.services.ports.worker import Backlog, JobStatus

JOBS = RequestContext(principal=None, request_id="worker-jobs")
LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[RequestContext], Awaitable[int]]


@dataclass(frozen=True)
class JobRun:
    name: str
    outcome: str  # "ok" or "error"
    count: int | None
    error: str | None = None


class JobRunner:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, holder: str,
                 lease: timedelta = LEASE) -> None:
        self._uow = uow
        self._clock = clock
        self._holder = holder
        self._lease = lease

    async def run(self, job: Job, *, force: bool = False) -> JobRun | None:
        """Run ``job`` if it is due (or ``force``) and no other worker holds it; None when
        it was not this worker's turn. A job's error is the run's outcome, not raised."""
        now = self._clock.now()
        async with self._uow(JOBS) as uow:
            taken = await uow.jobs.acquire(job.name, self._holder, now, now + self._lease,
                                           None if force else now - job.every)
            await uow.commit()
        if not taken:
            return None
        outcome, count, error = "error", None, None
        try:
            count = await job.run(JOBS)
            outcome = "ok"
        except Exception as exc:  # the next run tries again; the worker logs this one
            error = f"{type(exc).__name__}: {exc}"
        finally:
            async with self._uow(JOBS) as uow:
                await uow.jobs.release(job.name, self._holder, self._clock.now(), outcome,
                                       count)
                await uow.commit()
        return JobRun(job.name, outcome, count, error)


@dataclass(frozen=True)
class WorkerHealth:
    status: str  # "ok", "stale" (no worker beat for too long) or "absent" (none ever ran)
    last_seen_at: datetime | None


@dataclass(frozen=True)
class WorkerSnapshot:
    """What /metrics shows of the worker's side, read from the database."""

    backlog: Backlog
    oldest_age_s: float
    deliveries: dict[str, int]
    attempts: dict[str, int]
    jobs: list[JobStatus]
    worker_seen_age_s: float | None


class WorkerStatusService:
    """Heartbeats of running workers, and what operations read about them."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, stale_after: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._stale_after = stale_after

    async def beat(self, worker_id: str) -> None:
        async with self._uow(JOBS) as uow:
            await uow.jobs.beat(worker_id, self._clock.now())
            await uow.commit()

    async def forget(self, worker_id: str) -> None:
        async with self._uow(JOBS) as uow:
            await uow.jobs.forget(worker_id)
            await uow.commit()

    async def health(self) -> WorkerHealth:
        async with self._uow(JOBS, write=False) as uow:
            seen = await uow.jobs.last_beat()
        if seen is None:
            return WorkerHealth("absent", None)
        stale = self._clock.now() - seen > self._stale_after
        return WorkerHealth("stale" if stale else "ok", seen)

    async def snapshot(self) -> WorkerSnapshot:
        async with self._uow(JOBS, write=False) as uow:
            backlog = await uow.outbox.backlog()
            deliveries = dict(await uow.webhooks.delivery_counts())
            attempts = dict(await uow.webhooks.attempt_counts())
            jobs = await uow.jobs.statuses()
            seen = await uow.jobs.last_beat()
        now = self._clock.now()
        oldest = backlog.oldest_occurred_at
        return WorkerSnapshot(
            backlog, max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
            deliveries, attempts, jobs,
            max(0.0, (now - seen).total_seconds()) if seen else None)
