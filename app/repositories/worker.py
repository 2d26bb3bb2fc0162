"""The outbox as the relay reads it, job leases and worker heartbeats, in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.repositories.tables import outbox
from app.repositories.tables_worker import job_leases, worker_heartbeats
from app.services.ports.outbox import PublishedEvent
from app.services.ports.worker import Backlog, JobStatus


def _insert(conn: AsyncConnection, table: Any) -> Any:
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


class SqlOutboxStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, limit: int) -> list[PublishedEvent]:
        stmt = (select(outbox).where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.occurred_at, outbox.c.id).limit(limit)
                .with_for_update(skip_locked=True))  # SQLite: no-op, BEGIN IMMEDIATE
        rows = (await self._conn.execute(stmt)).mappings().all()
        return [PublishedEvent(id=r["id"], type=r["type"], entity_type=r["entity_type"],
                               entity_id=r["entity_id"], occurred_at=r["occurred_at"],
                               data=r["data"], request_id=r["request_id"]) for r in rows]

    async def mark_published(self, event_ids: Sequence[UUID], at: datetime) -> None:
        if event_ids:
            await self._conn.execute(update(outbox).where(outbox.c.id.in_(list(event_ids)))
                                     .values(published_at=at))

    async def backlog(self) -> Backlog:
        row = (await self._conn.execute(
            select(func.count(), func.min(outbox.c.occurred_at))
            .where(outbox.c.published_at.is_(None)))).one()
        return Backlog(int(row[0]), row[1])


class SqlJobLeases:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def acquire(self, name: str, holder: str, now: datetime, until: datetime,
                      started_before: datetime | None) -> bool:
        await self._conn.execute(_insert(self._conn, job_leases).values(
            name=name, runs=0, failures=0).on_conflict_do_nothing())
        conditions = [job_leases.c.name == name,
                      or_(job_leases.c.leased_until.is_(None), job_leases.c.leased_until <= now)]
        if started_before is not None:
            conditions.append(or_(job_leases.c.last_started_at.is_(None),
                                  job_leases.c.last_started_at <= started_before))
        # One statement: on PostgreSQL a second worker's UPDATE waits for the first's row
        # lock, then re-reads the row and finds the lease taken.
        result = await self._conn.execute(update(job_leases).where(*conditions).values(
            holder=holder, leased_until=until, last_started_at=now))
        return result.rowcount == 1

    async def release(self, name: str, holder: str, now: datetime, outcome: str,
                      count: int | None) -> None:
        failed = 1 if outcome != "ok" else 0
        await self._conn.execute(
            update(job_leases).where(job_leases.c.name == name, job_leases.c.holder == holder)
            .values(holder=None, leased_until=None, last_finished_at=now, last_outcome=outcome,
                    last_count=count, runs=job_leases.c.runs + 1,
                    failures=job_leases.c.failures + failed))

    async def statuses(self) -> list[JobStatus]:
        rows = (await self._conn.execute(select(job_leases).order_by(job_leases.c.name))
                ).mappings().all()
        return [JobStatus(r["name"], r["runs"], r["failures"], r["last_started_at"],
                          r["last_finished_at"], r["last_outcome"]) for r in rows]

    async def beat(self, worker_id: str, now: datetime) -> None:
        stmt = _insert(self._conn, worker_heartbeats).values(
            worker_id=worker_id, started_at=now, seen_at=now)
        await self._conn.execute(stmt.on_conflict_do_update(
            index_elements=[worker_heartbeats.c.worker_id], set_={"seen_at": now}))

    async def forget(self, worker_id: str) -> None:
        await self._conn.execute(delete(worker_heartbeats)
                                 .where(worker_heartbeats.c.worker_id == worker_id))

    async def last_beat(self) -> datetime | None:
        return await self._conn.scalar(select(func.max(worker_heartbeats.c.seen_at)))  # type: ignore[no-any-return]

