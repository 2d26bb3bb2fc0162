"""The audit log in SQL: append (inside the unit of work) and read. There is no update or
delete here, by design: entries are never changed by the service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.audit.chain import AuditRecord, entry_body, link_hash
from app.domain.audit.checkpoint import Checkpoint
from app.domain.common.paging import Page, PageRequest
from app.repositories.direct import Prepared
from app.repositories.paging import keyset, to_page
from app.repositories.tables import audit_checkpoints, audit_head, audit_log

AUDIT_SORTS = {"seq": audit_log.c.seq}
_LOCK_HEAD = Prepared(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
                     .with_for_update())
_MOVE_HEAD_STMT = (update(audit_head).where(audit_head.c.id == 1)
                   .values(seq=bindparam("head_seq"), hash=bindparam("head_hash")))
_MOVE_HEAD = Prepared(_MOVE_HEAD_STMT)
_INSERT = Prepared(insert(audit_log))
# One round trip fewer while the head is locked (PostgreSQL runs DML in a WITH clause).
_INSERT_ONE_MOVING_HEAD = Prepared(insert(audit_log).add_cte(_MOVE_HEAD_STMT.cte("moved_head")))


def _record(row: Row[Any]) -> AuditRecord:
    return AuditRecord(**row._mapping)


class SqlAuditLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(self, entries: list[dict[str, Any]], now: datetime) -> None:
        """Chain and insert entries. The head row's lock serialises every writer's commit,
        so the time it is held is kept short: the entries' canonical JSON is made before
        the lock, and on PostgreSQL the head moves in the statement that inserts."""
        bodies = [entry_body(occurred_at=now, **entry) for entry in entries]
        head = await _LOCK_HEAD.one_or_none(self._conn)
        assert head is not None, "the audit head is seeded by the first migration"
        seq, prev = head["seq"], head["hash"]
        rows = []
        for entry, body in zip(entries, bodies, strict=True):
            seq += 1
            digest = link_hash(prev, seq, body)
            rows.append({**entry, "seq": seq, "occurred_at": now, "prev_hash": prev,
                         "hash": digest})
            prev = digest
        moved = {"head_seq": seq, "head_hash": prev}
        if len(rows) == 1 and self._conn.dialect.name == "postgresql":
            await _INSERT_ONE_MOVING_HEAD.run(self._conn, {**rows[0], **moved})
            return
        await _INSERT.run_many(self._conn, rows)
        await _MOVE_HEAD.run(self._conn, moved)

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

    async def checkpoints(self) -> list[Checkpoint]:
        rows = (await self._conn.execute(
            select(audit_checkpoints).order_by(audit_checkpoints.c.seq))).all()
        return [Checkpoint(**row._mapping) for row in rows]

    async def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        await self._conn.execute(insert(audit_checkpoints).values(
            seq=checkpoint.seq, hash=checkpoint.hash, at=checkpoint.at,
            signature=checkpoint.signature))
