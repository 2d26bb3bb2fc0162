"""The audit log in SQL: append (inside the unit of work) and read. There is no update or
delete here, by design: entries are never changed by the service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.audit.chain import AuditRecord, entry_hash
from app.domain.common.paging import Page, PageRequest
from app.repositories.paging import keyset, to_page
from app.repositories.tables import audit_head, audit_log

AUDIT_SORTS = {"seq": audit_log.c.seq}


def _record(row: Row[Any]) -> AuditRecord:
    return AuditRecord(**row._mapping)


class SqlAuditLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(self, entries: list[dict[str, Any]], now: datetime) -> None:
        """Chain and insert entries; the head row's lock serialises concurrent appends."""
        head = (await self._conn.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
            .with_for_update())).one()  # seeded by the first migration
        seq, prev = head.seq, head.hash
        rows = []
        for entry in entries:
            seq += 1
            content = {**entry, "seq": seq, "occurred_at": now}
            digest = entry_hash(prev, **content)
            rows.append({**content, "prev_hash": prev, "hash": digest})
            prev = digest
        await self._conn.execute(insert(audit_log), rows)
        await self._conn.execute(
            update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev))

    async def head(self) -> tuple[int, str]:
        row = (await self._conn.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1))).one()
        return row.seq, row.hash

    async def entries(self, batch_size: int = 1000) -> AsyncIterator[AuditRecord]:
        last = 0
        while True:
            rows = (await self._conn.execute(
                select(audit_log).where(audit_log.c.seq > last)
                .order_by(audit_log.c.seq).limit(batch_size))).all()
            for row in rows:
                yield _record(row)
            if len(rows) < batch_size:
                return
            last = rows[-1].seq

    async def list(self, page: PageRequest, entity_type: str | None,
                   entity_id: str | None) -> Page[AuditRecord]:
        stmt = select(audit_log)
        if entity_type is not None:
            stmt = stmt.where(audit_log.c.entity_type == entity_type)
        if entity_id is not None:
            stmt = stmt.where(audit_log.c.entity_id == entity_id)
        rows = (await self._conn.execute(keyset(stmt, AUDIT_SORTS, audit_log.c.seq, page))).all()
        return to_page(rows, page, _record, lambda r: (r.seq, r.seq))
