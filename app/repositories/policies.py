"""Administrator policies (tier weights, SLA, business calendar, …), one versioned JSON
document per name, in SQL; the services read them through ``app.services.policies``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.common.errors import WriteConflict
from app.repositories.tables import policies


class SqlPolicyRepository:
    """Read once per transaction: a use case that classifies many customers (an import
    chunk, a reclassification) reads each policy once, and sees one version throughout."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._read: dict[str, tuple[dict[str, Any], int] | None] = {}

    async def get(self, name: str) -> tuple[dict[str, Any], int] | None:
        if name in self._read:
            return self._read[name]
        row = (await self._conn.execute(select(policies.c.value, policies.c.version)
                                        .where(policies.c.name == name))).one_or_none()
        found = self._read[name] = (row.value, row.version) if row else None
        return found

    async def put(self, name: str, value: dict[str, Any], version: int, now: datetime,
                  actor_id: str | None) -> None:
        values = {"value": value, "version": version, "updated_at": now, "updated_by": actor_id}
        self._read.pop(name, None)
        if version == 1:
            await self._conn.execute(insert(policies).values(name=name, **values))
            return
        result = await self._conn.execute(
            update(policies).where(policies.c.name == name, policies.c.version == version - 1)
            .values(**values))
        if result.rowcount != 1:  # another administrator saved in between
            raise WriteConflict()

