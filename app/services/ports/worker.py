"""What the worker's use cases need from storage: the outbox as the relay reads it, the
leases that keep each periodic job to one worker, and the workers' heartbeats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

if TYPE_CHECKING:  # the outbox port names the unit of work, which names this port
    from app.services.ports.outbox import PublishedEvent


@dataclass(frozen=True)
class Backlog:
    unpublished: int
    oldest_occurred_at: datetime | None


@dataclass(frozen=True)
class JobStatus:
    name: str
    runs: int
    failures: int
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_outcome: str | None


class OutboxStore(Protocol):
    async def claim(self, limit: int) -> list[PublishedEvent]:
        """The oldest unpublished events, locked for this transaction (rows another relay
        holds are skipped on PostgreSQL; SQLite has one writer at a time)."""
        ...
    async def mark_published(self, event_ids: Sequence[UUID], at: datetime) -> None: ...
    async def backlog(self) -> Backlog: ...


class JobLeases(Protocol):
    async def acquire(self, name: str, holder: str, now: datetime, until: datetime,
                      started_before: datetime | None) -> bool:
        """Take the job's lease if nobody holds it (or theirs ran out) and, when
        ``started_before`` is given, the job last started no later than that."""
        ...
    async def release(self, name: str, holder: str, now: datetime, outcome: str,
                      count: int | None) -> None: ...
    async def statuses(self) -> list[JobStatus]: ...
    async def beat(self, worker_id: str, now: datetime) -> None: ...
    async def forget(self, worker_id: str) -> None: ...
    async def last_beat(self) -> datetime | None: ...
