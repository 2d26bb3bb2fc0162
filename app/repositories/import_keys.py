"""The keys of the rows an import job accepted (``import_keys``): looked up a chunk at a
time, written a chunk at a time (a binary COPY on PostgreSQL), forgotten when the job
ends."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.repositories.tables_bulk import import_keys

# what a large import changes, whose statistics the customer list and search plan by
_ANALYZED = ("customers", "contacts", "contact_points", "customer_tags",
             "customer_external_refs", "customer_history")


class SqlImportKeys:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def seen(self, job_id: UUID, keys: Sequence[str]) -> dict[str, tuple[str, int]]:
        if not keys:
            return {}
        rows = await self._conn.execute(
            select(import_keys.c.key, import_keys.c.file, import_keys.c.line)
            .where(import_keys.c.job_id == job_id, import_keys.c.key.in_(list(keys))))
        return {r.key: (r.file, r.line) for r in rows}

    async def remember(self, job_id: UUID, keys: Sequence[tuple[str, str, int]]) -> None:
        if not keys:
            return
        if self._conn.dialect.name != "postgresql":
            await self._conn.execute(insert(import_keys), [
                {"job_id": job_id, "key": k, "file": f, "line": n} for k, f, n in keys])
            return
        raw = await self._conn.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            import_keys.name, records=[(job_id, k, f, n) for k, f, n in keys],
            columns=["job_id", "key", "file", "line"])

    async def forget(self, job_id: UUID) -> None:
        await self._conn.execute(delete(import_keys).where(import_keys.c.job_id == job_id))

    async def analyze(self) -> None:
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(text(f"ANALYZE {', '.join(_ANALYZED)}"))
