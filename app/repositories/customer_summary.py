"""The customer summaries (``tables_customer_summary``) recounted from ``customers`` and
``customer_health``: for a load that went around the triggers that normally keep them
(triggers disabled for speed, a restore), or to repair them. Nothing in the request path
needs it: every write to those two tables, row by row or set-based, is counted by the
triggers in its own transaction."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from sqlalchemy import ColumnElement, delete, func, insert, select, text, true
from sqlalchemy.ext.asyncio import AsyncConnection

from app.repositories.tables_customer_summary import customer_health_summary, customer_summary
from app.repositories.tables_customers import customers
from app.repositories.tables_feedback import customer_health

_C, _H = customers.c, customer_health.c
_SCOPE = (_C.department_id, _C.owner_id, _C.shared_with_department)
_KEYS = (*_SCOPE, _C.tier, _C.stage, _C.integrity_score)
_HEALTH_KEYS = (*_SCOPE, _H.score, _H.below_threshold)


class SqlCustomerSummary:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def refresh(self, department_ids: Collection[UUID] | None = None) -> None:
        """Recounts every row, or only the given departments' (a customer's row is keyed
        by its department, so a department's rows depend on its customers alone).

        On PostgreSQL the two source tables are locked against writes first (SHARE: the
        writers in flight finish, new ones wait until this transaction ends), so no
        trigger's change lands between the delete and the recount."""
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(text("LOCK TABLE customers, customer_health IN SHARE MODE"))
        live = [_C.archived_at.is_(None), _C.merged_into.is_(None)]

        def of(column: ColumnElement[UUID]) -> ColumnElement[bool]:
            return true() if department_ids is None else column.in_(list(department_ids))
        for summary, keys, source in (
                (customer_summary, _KEYS, customers),
                (customer_health_summary, _HEALTH_KEYS,
                 customers.join(customer_health, _H.customer_id == _C.id))):
            await self._conn.execute(delete(summary).where(of(summary.c.department_id)))
            counted = (select(*keys, func.count()).select_from(source)
                       .where(*live, of(_C.department_id)).group_by(*keys))
            await self._conn.execute(insert(summary).from_select(
                [k.name for k in keys] + ["n"], counted))
