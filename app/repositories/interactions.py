"""Customer interactions and the contact schedule in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.common.paging import Page, PageRequest
from app.domain.interactions.model import Interaction, InteractionKind
from app.repositories.paging import keyset, to_page
from app.repositories.tables_interactions import contact_schedules, customer_interactions
from app.services.ports.interactions import Schedule

SORTS = {"occurred_at": customer_interactions.c.occurred_at}


def _interaction(row: Row[Any]) -> Interaction:
    values = dict(row._mapping)
    values["kind"] = InteractionKind(values["kind"])
    values["contact_ids"] = [UUID(c) for c in values["contact_ids"]]
    return Interaction(**values)


class SqlInteractionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, interaction: Interaction) -> None:
        values = dict(interaction.__dict__)
        values["kind"] = interaction.kind.value
        values["contact_ids"] = [str(c) for c in interaction.contact_ids]
        await self._conn.execute(insert(customer_interactions).values(**values))

    async def list(self, customer_id: UUID, page: PageRequest) -> Page[Interaction]:
        stmt = select(customer_interactions).where(
            customer_interactions.c.customer_id == customer_id)
        rows = (await self._conn.execute(keyset(stmt, SORTS, customer_interactions.c.id,
                                                page))).all()
        column = page.sort.field
        return to_page(rows, page, _interaction, lambda r: (getattr(r, column), r.id))

    async def latest_at(self, customer_id: UUID) -> datetime | None:
        return (await self._conn.execute(
            select(func.max(customer_interactions.c.occurred_at))
            .where(customer_interactions.c.customer_id == customer_id))).scalar_one_or_none()

    async def schedule(self, customer_id: UUID) -> Schedule | None:
        row = (await self._conn.execute(select(contact_schedules).where(
            contact_schedules.c.customer_id == customer_id))).one_or_none()
        return Schedule(**row._mapping) if row else None

    async def save_schedule(self, schedule: Schedule) -> None:
        values = dict(schedule.__dict__)
        done = await self._conn.execute(
            update(contact_schedules)
            .where(contact_schedules.c.customer_id == schedule.customer_id)
            .values(**{k: v for k, v in values.items() if k != "customer_id"}))
        if done.rowcount == 0:
            await self._conn.execute(insert(contact_schedules).values(**values))
