"""A change is recorded one way (``UnitOfWork.record_change``) and its data becomes JSON
by one rule: None stays null (the audit log once stored ``"on_behalf_of": "None"``), a
UUID and a Decimal their text, a time ISO 8601, an enum its value; on both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest_asyncio
from sqlalchemy import select

from app.adapters.clock import SystemClock
from app.domain.access.roles import Role
from app.repositories.database import Engines, create_engines
from app.repositories.search import Fts5Search, TrigramSearch
from app.repositories.tables import audit_log, outbox
from app.repositories.tables_customers import customer_timeline
from app.repositories.unit_of_work import SqlUnitOfWork
from app.services.ports import RequestContext
from tests.conftest import Database

MOMENT = datetime(2026, 10, 1, 8, 30, 15, 123456, tzinfo=UTC)


@pytest_asyncio.fixture(loop_scope="session")
async def engines(database: Database) -> AsyncIterator[Engines]:
    made = create_engines(database.url)
    yield made
    await made.dispose()


def unit_of_work(engines: Engines) -> SqlUnitOfWork:
    search = TrigramSearch() if engines.dialect == "postgresql" else Fts5Search()
    return SqlUnitOfWork(engines, SystemClock(), search,
                         RequestContext(None, request_id="r-recorded"), write=True)


async def stored(engines: Engines, table: Any, column: Any, value: Any) -> dict[str, Any]:
    async with engines.read.connect() as conn:
        row = (await conn.execute(select(table).where(column == value))).one()
    return dict(row._mapping)


async def test_an_audit_entry_stores_a_missing_deputy_as_json_null(engines: Engines) -> None:
    step = uuid4()
    async with unit_of_work(engines) as uow:
        uow.record_change("change_request.approved", "change_request", step,
                          before={"status": "pending"},
                          after={"status": "approved", "on_behalf_of": None})
        await uow.commit()
    entry = await stored(engines, audit_log, audit_log.c.entity_id, str(step))
    assert entry["after"] == {"status": "approved", "on_behalf_of": None}
    assert entry["after"]["on_behalf_of"] is None


async def test_audit_and_event_data_follow_one_rule(engines: Engines) -> None:
    entity, customer, deputy = uuid4(), uuid4(), UUID(int=7)
    data = {"on_behalf_of": None, "deputy": deputy, "cost": Decimal("500000.00"),
            "due_at": MOMENT, "role": Role.DEPARTMENT_HEAD, "tags": ("a", "b"),
            "nested": {"by": deputy, "when": [MOMENT]}, "count": 3, "flag": True}
    plain = {"on_behalf_of": None, "deputy": str(deputy), "cost": "500000.00",
             "due_at": "2026-10-01T08:30:15.123456+00:00", "role": "department_head",
             "tags": ["a", "b"], "nested": {"by": str(deputy),
                                            "when": ["2026-10-01T08:30:15.123456+00:00"]},
             "count": 3, "flag": True}
    async with unit_of_work(engines) as uow:
        uow.record_change("test.recorded", "test", entity, before=data, after=data,
                          event=data, at=MOMENT, customer_id=customer)
        await uow.commit()
    entry = await stored(engines, audit_log, audit_log.c.entity_id, str(entity))
    assert entry["before"] == entry["after"] == plain
    event = await stored(engines, outbox, outbox.c.entity_id, str(entity))
    assert (event["type"], event["occurred_at"], event["data"]) == (
        "test.recorded", MOMENT, plain)
    timeline = await stored(engines, customer_timeline, customer_timeline.c.customer_id,
                            customer)
    assert timeline["data"] == plain
