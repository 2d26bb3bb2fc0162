"""The risk register in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.scope import RecordScope
from app.domain.common.paging import Page, PageRequest
from app.domain.risk.matrix import RiskLevel
from app.domain.risk.register import Risk, RiskStatus
from app.repositories.filters import where_given
from app.repositories.paging import keyset, to_page
from app.repositories.scope import scope_filter
from app.repositories.tables_risks import risks
from app.services.ports.risks import RiskFilter

RISK_SORTS = {"updated_at": risks.c.updated_at, "created_at": risks.c.created_at,
              "level": risks.c.level}
_FIELDS = [c.name for c in risks.columns]


def _risk(row: Row[Any]) -> Risk:
    values = dict(row._mapping)
    values["level"] = RiskLevel(values["level"])
    values["status"] = RiskStatus(values["status"])
    return Risk(**values)


def _values(risk: Risk) -> dict[str, Any]:
    values = {f: getattr(risk, f) for f in _FIELDS}
    values["level"] = int(risk.level)
    return values


class SqlRiskRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @staticmethod
    def _scope(scope: RecordScope) -> ColumnElement[bool]:
        return scope_filter(scope, department=risks.c.department_id, owner=risks.c.owner_id)

    def _filtered(self, scope: RecordScope, filters: RiskFilter) -> list[ColumnElement[bool]]:
        conditions = [self._scope(scope)]
        conditions += where_given(((risks.c.status, filters.status),
                                   (risks.c.owner_id, filters.owner_id),
                                   (risks.c.customer_id, filters.customer_id),
                                   (risks.c.plan_id, filters.plan_id),
                                   (risks.c.department_id, filters.department_id)))
        if filters.level is not None:
            conditions.append(risks.c.level == int(filters.level))
        if filters.open_only:
            conditions.append(risks.c.status != RiskStatus.CLOSED)
        if filters.review_due_by is not None:
            conditions.append(risks.c.next_review_date <= filters.review_due_by)
        return conditions

    async def add(self, risk: Risk) -> None:
        await self._conn.execute(insert(risks).values(**_values(risk)))

    async def save(self, risk: Risk) -> None:
        values = _values(risk)
        values.pop("id")
        await self._conn.execute(update(risks).where(risks.c.id == risk.id).values(**values))

    async def get(self, risk_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Risk | None:
        stmt = select(risks).where(risks.c.id == risk_id, self._scope(scope))
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return _risk(row) if row else None

    async def list(self, scope: RecordScope, filters: RiskFilter,
                   page: PageRequest) -> Page[Risk]:
        stmt = select(risks).where(and_(*self._filtered(scope, filters)))
        rows = (await self._conn.execute(keyset(stmt, RISK_SORTS, risks.c.id, page))).all()
        column = page.sort.field
        return to_page(rows, page, _risk, lambda r: (getattr(r, column), r.id))

    async def heatmap(self, scope: RecordScope, filters: RiskFilter) -> dict[tuple[int, int], int]:
        rows = await self._conn.execute(
            select(risks.c.likelihood, risks.c.impact, func.count())
            .where(and_(*self._filtered(scope, filters)))
            .group_by(risks.c.likelihood, risks.c.impact))
        return {(lk, im): n for lk, im, n in rows}

    async def ratings(self) -> list[tuple[UUID, int, int, RiskLevel]]:
        """Every risk's id, likelihood, impact and level, to re-rate after a matrix change."""
        rows = await self._conn.execute(
            select(risks.c.id, risks.c.likelihood, risks.c.impact, risks.c.level))
        return [(r.id, r.likelihood, r.impact, RiskLevel(r.level)) for r in rows]

    async def set_level(self, risk_id: UUID, level: RiskLevel) -> None:
        await self._conn.execute(update(risks).where(risks.c.id == risk_id)
                                 .values(level=int(level), version=risks.c.version + 1))

    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        moved = (await self._conn.execute(
            update(risks).where(risks.c.customer_id == customer_id, risks.c.owner_id == from_id,
                                risks.c.status != RiskStatus.CLOSED)
            .values(owner_id=to_id, updated_at=now, version=risks.c.version + 1)
            .returning(risks.c.id, risks.c.title))).all()
        return [{"id": str(r.id), "title": r.title} for r in moved]
