"""The customer summaries (``tables_customer_summary``) recounted from ``customers``,
``customer_health`` and ``customer_timeline``: for a load that went around the triggers
that normally keep them (triggers disabled for speed, a restore), or to repair them.
Nothing in the request path needs it: every write to those tables, row by row or
set-based, is counted by the triggers in its own transaction."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import Date, Select, cast, delete, func, insert, select, text, true
from sqlalchemy.ext.asyncio import AsyncConnection

from app.repositories.tables_customer_summary import (
    customer_churn_days,
    customer_health_summary,
    customer_new_days,
    customer_summary,
)
from app.repositories.tables_customers import customer_timeline, customers
from app.repositories.tables_feedback import customer_health

_C, _H, _T = customers.c, customer_health.c, customer_timeline.c
_SCOPE = (_C.department_id, _C.owner_id, _C.shared_with_department)


def utc_day(t: Any, postgres: bool) -> Any:
    """The UTC day of a timestamp, as the summaries' triggers compute it."""
    return cast(func.timezone("UTC", t), Date) if postgres else func.date(t)


def _counts(postgres: bool) -> dict[Any, Select[Any]]:
    live = (_C.archived_at.is_(None), _C.merged_into.is_(None))
    day, churned_day = utc_day(_C.created_at, postgres), utc_day(_T.occurred_at, postgres)
    reason = func.coalesce(_T.data["churn_reason"].as_string(), "")
    return {
        customer_summary: select(*_SCOPE, _C.tier, _C.stage, _C.integrity_score, func.count())
        .where(*live).group_by(*_SCOPE, _C.tier, _C.stage, _C.integrity_score),
        customer_health_summary: select(*_SCOPE, _H.score, _H.below_threshold, func.count())
        .select_from(customers.join(customer_health, _H.customer_id == _C.id)).where(*live)
        .group_by(*_SCOPE, _H.score, _H.below_threshold),
        customer_new_days: select(*_SCOPE, day, func.count())
        .where(_C.merged_into.is_(None)).group_by(*_SCOPE, day),
        customer_churn_days: select(*_SCOPE, churned_day, reason, func.count())
        .select_from(customers.join(customer_timeline, _T.customer_id == _C.id))
        .where(_T.type == "customer.stage_changed", _T.data["to"].as_string() == "churned")
        .group_by(*_SCOPE, churned_day, reason)}


class SqlCustomerSummary:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def refresh(self, department_ids: Collection[UUID] | None = None) -> None:
        """Recounts every row, or only the given departments' (a row is keyed by its
        customer's department, so a department's rows depend on its customers alone).

        On PostgreSQL the source tables are locked against writes first (SHARE: the
        writers in flight finish, new ones wait until this transaction ends), so no
        trigger's change lands between the delete and the recount."""
        postgres = self._conn.dialect.name == "postgresql"
        if postgres:
            await self._conn.execute(text(
                "LOCK TABLE customers, customer_health, customer_timeline IN SHARE MODE"))
        departments = None if department_ids is None else list(department_ids)
        for summary, counted in _counts(postgres).items():
            await self._conn.execute(delete(summary).where(
                true() if departments is None else summary.c.department_id.in_(departments)))
            if departments is not None:
                counted = counted.where(_C.department_id.in_(departments))
            await self._conn.execute(insert(summary).from_select(
                [c.name for c in summary.c], counted))
