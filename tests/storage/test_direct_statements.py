"""Statements run on the driver itself (app/repositories/direct.py) must be
indistinguishable from SQLAlchemy's execution: the same values and types back, inside the
unit of work's transaction, and the same exceptions on a conflict. On SQLite they go
through SQLAlchemy; the tests run on both engines all the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from sqlalchemy import Numeric, Uuid, bindparam, func, insert, literal, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.repositories.database import Engines, create_engines
from app.repositories.direct import Prepared
from app.repositories.tables import departments, outbox
from app.repositories.types import JSONType, UTCDateTime
from tests.conftest import Database

MOMENT = datetime(2026, 10, 1, 8, 30, 15, 123456, tzinfo=UTC)
INSERT_OUTBOX = Prepared(insert(outbox))
OUTBOX_BY_ID = Prepared(select(outbox).where(outbox.c.id == bindparam("event_id", type_=Uuid)))


@pytest_asyncio.fixture(loop_scope="session")
async def engines(database: Database) -> AsyncIterator[Engines]:
    made = create_engines(database.url)
    yield made
    await made.dispose()


def _event(**changes: object) -> dict[str, object]:
    return {"id": uuid4(), "type": "test.direct", "entity_type": "test", "entity_id": "华为-1",
            "occurred_at": MOMENT, "request_id": "r-1",
            "data": {"名称": "深圳市华为技术有限公司", "n": 3, "emoji": "🙂"}, **changes}


async def _outbox_row(engine: AsyncEngine, event_id: UUID) -> dict[str, object] | None:
    async with engine.connect() as conn:
        found = (await conn.execute(select(outbox).where(outbox.c.id == event_id))).one_or_none()
        return dict(found._mapping) if found is not None else None


async def test_rows_come_back_with_the_values_and_types_sqlalchemy_gives(
        engines: Engines) -> None:
    stmt = select(literal(Decimal("80000.50"), Numeric(14, 2)).label("cost"),
                  literal(MOMENT, UTCDateTime).label("at"),
                  literal(UUID(int=7), Uuid).label("id"),
                  literal({"标签": ["重要", "🙂"]}, JSONType).label("doc"),
                  bindparam("word", type_=JSONType).label("given"))
    params = {"word": {"q": "' OR 1=1 --"}}
    async with engines.read.connect() as conn:
        through_sqlalchemy = dict((await conn.execute(stmt, params)).one()._mapping)
        direct = await Prepared(stmt).rows(conn, params)
        again = await Prepared(stmt).rows(conn, params)  # a second plan, learnt types reused
    assert direct == [through_sqlalchemy] == again
    row = direct[0]
    assert row == {"cost": Decimal("80000.50"), "at": MOMENT, "id": UUID(int=7),
                   "doc": {"标签": ["重要", "🙂"]}, "given": {"q": "' OR 1=1 --"}}
    assert isinstance(row["at"], datetime) and row["at"].utcoffset() is not None


async def test_writes_belong_to_the_unit_of_works_transaction(engines: Engines) -> None:
    """The first statement of a transaction may be a direct one: it must open the
    transaction, so a rollback takes it back and a commit keeps it."""
    rolled_back, committed = _event(), _event()
    async with engines.write.connect() as conn:
        await conn.begin()
        await INSERT_OUTBOX.run(conn, rolled_back)
        assert await OUTBOX_BY_ID.one_or_none(conn, {"event_id": rolled_back["id"]})
        await conn.rollback()
    async with engines.write.connect() as conn:
        await conn.begin()
        await INSERT_OUTBOX.run_many(conn, [committed, _event(id=uuid4())])
        await conn.commit()
    assert await _outbox_row(engines.read, rolled_back["id"]) is None  # type: ignore[arg-type]
    kept = await _outbox_row(engines.read, committed["id"])  # type: ignore[arg-type]
    assert kept is not None and kept["data"] == committed["data"]
    assert kept["occurred_at"] == MOMENT and kept["published_at"] is None


async def test_a_conflict_raises_what_sqlalchemy_raises_and_undoes_the_transaction(
        engines: Engines) -> None:
    """The unit of work turns IntegrityError into 409 write_conflict; a direct statement
    must raise the same, and leave nothing of its transaction behind."""
    first = _event()
    async with engines.write.connect() as conn:
        await conn.begin()
        await INSERT_OUTBOX.run(conn, first)
        await conn.commit()
    second = _event()
    async with engines.write.connect() as conn:
        await conn.begin()
        await INSERT_OUTBOX.run(conn, second)
        with pytest.raises(IntegrityError):
            await INSERT_OUTBOX.run(conn, {**_event(), "id": first["id"]})
        await conn.rollback()
    assert await _outbox_row(engines.read, second["id"]) is None  # type: ignore[arg-type]
    kept = await _outbox_row(engines.read, first["id"])  # type: ignore[arg-type]
    assert kept is not None and kept["request_id"] == "r-1"


async def test_statements_that_need_sqlalchemys_execution_are_refused(
        engines: Engines) -> None:
    """Column defaults and expanding IN lists are filled in by SQLAlchemy at execution;
    on the direct path they would silently go missing, so they are refused outright."""
    async with engines.write.connect() as conn:
        if conn.dialect.name != "postgresql":
            pytest.skip("SQLite runs every statement through SQLAlchemy")
        await conn.begin()
        with pytest.raises(ValueError, match="column defaults"):
            await Prepared(insert(departments)).run(conn, {"id": uuid4(), "name": "华东"})
        expanding = select(func.count()).select_from(outbox).where(
            outbox.c.type.in_(bindparam("types", expanding=True)))
        with pytest.raises(ValueError, match="expanding"):
            await Prepared(expanding).rows(conn, {"types": ["a", "b"]})
        await conn.rollback()


@pytest.mark.postgres_only
async def test_a_connection_the_server_dropped_is_discarded_not_handed_out_again(
        database: Database) -> None:
    """As on SQLAlchemy's own path: the request that meets a dead connection fails as a
    disconnect (the unit of work answers 503) and the pool replaces the connection, so the
    next request works, even within the idle time after which connections are pinged."""
    engines = create_engines(database.url, pool_size=1, max_overflow=0)
    admin = create_engines(database.url)
    probe = Prepared(select(func.pg_backend_pid().label("pid")))
    try:
        async with engines.read.connect() as conn:
            (first,) = await probe.rows(conn)
        async with admin.read.connect() as conn:
            await conn.execute(select(func.pg_terminate_backend(first["pid"])))
        async with engines.read.connect() as conn:
            with pytest.raises(DBAPIError) as failed:
                await probe.rows(conn)
        assert failed.value.connection_invalidated
        async with engines.read.connect() as conn:
            (second,) = await probe.rows(conn)
        assert second["pid"] != first["pid"]
    finally:
        await engines.dispose()
        await admin.dispose()
