"""Bulk jobs and the rows an import rejected, in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.scope import RecordScope
from app.domain.bulk.model import BulkJob, JobKind, JobState, RowProblem
from app.repositories.scope import ScopedColumns
from app.repositories.tables import users
from app.repositories.tables_bulk import bulk_job_problems, bulk_jobs
from app.repositories.tables_customers import customers

_FIELDS = ("id", "kind", "state", "created_by", "principal", "options", "files", "position",
           "counts", "result_key", "expires_at", "error", "lease_until", "lease_owner",
           "version", "created_at", "started_at", "finished_at")
_SCOPE = ScopedColumns(customers.c.department_id, customers.c.owner_id,
                       customers.c.shared_with_department)


def _job(row: Any) -> BulkJob:
    values = dict(row._mapping)
    values["kind"] = JobKind(values["kind"])
    values["state"] = JobState(values["state"])
    return BulkJob(**values)


class SqlBulkJobRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _row(self, job: BulkJob) -> dict[str, Any]:
        return {f: getattr(job, f) for f in _FIELDS}

    async def add(self, job: BulkJob) -> None:
        await self._conn.execute(insert(bulk_jobs).values(**self._row(job)))

    async def save(self, job: BulkJob) -> None:
        values = self._row(job)
        values.pop("id")
        await self._conn.execute(update(bulk_jobs).where(bulk_jobs.c.id == job.id)
                                 .values(**values))

    async def get(self, job_id: UUID, *, for_update: bool = False) -> BulkJob | None:
        stmt = select(bulk_jobs).where(bulk_jobs.c.id == job_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return None if row is None else _job(row)

    async def next_claimable(self, kind: JobKind, now: datetime,
                             only: UUID | None = None) -> BulkJob | None:
        stmt = (select(bulk_jobs)
                .where(bulk_jobs.c.kind == kind,
                       or_(bulk_jobs.c.state == JobState.QUEUED,
                           and_(bulk_jobs.c.state == JobState.RUNNING,
                                bulk_jobs.c.lease_until < now)))
                .order_by(bulk_jobs.c.created_at, bulk_jobs.c.id).limit(1)
                .with_for_update(skip_locked=True))
        if only is not None:
            stmt = stmt.where(bulk_jobs.c.id == only)
        row = (await self._conn.execute(stmt)).one_or_none()
        return None if row is None else _job(row)

    async def expired(self, now: datetime, limit: int) -> list[BulkJob]:
        stmt = (select(bulk_jobs).where(bulk_jobs.c.expires_at < now,
                                        bulk_jobs.c.result_key.is_not(None))
                .order_by(bulk_jobs.c.expires_at).limit(limit))
        return [_job(r) for r in await self._conn.execute(stmt)]

    async def add_problems(self, job_id: UUID, problems: list[RowProblem]) -> None:
        if problems:
            await self._conn.execute(insert(bulk_job_problems), [
                {"job_id": job_id, "file": p.file, "line": p.line, "column": p.column[:200],
                 "code": p.code, "params": p.params} for p in problems])

    async def problems(self, job_id: UUID, after: int,
                       limit: int) -> list[tuple[int, RowProblem]]:
        rows = await self._conn.execute(
            select(bulk_job_problems).where(bulk_job_problems.c.job_id == job_id,
                                            bulk_job_problems.c.id > after)
            .order_by(bulk_job_problems.c.id).limit(limit))
        return [(r.id, RowProblem(r.file, r.line, r.column, r.code, r.params)) for r in rows]

    async def user_by_login(self, login: str) -> UUID | None:
        return await self._conn.scalar(select(users.c.id).where(
            users.c.active.is_(True),
            or_(users.c.username == login, func.lower(users.c.email) == login.lower())))

    async def customer_by_name(self, name: str, scope: RecordScope) -> UUID | None:
        return await self._conn.scalar(
            select(customers.c.id).where(customers.c.name == name,
                                         customers.c.archived_at.is_(None),
                                         _SCOPE.filter(scope))
            .order_by(customers.c.created_at).limit(1))
