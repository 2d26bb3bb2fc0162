"""Direct database access for tests that check state behind the API (outbox, audit rows)
or corrupt it on purpose (tampering, planted conflicts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Executable, Table, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine


async def row_count(app: FastAPI, table: Table, **where: Any) -> int:
    """Rows of ``table`` (matching column == value for each of ``where``) in the app's DB."""
    stmt = select(func.count()).select_from(table).where(
        *(table.c[name] == value for name, value in where.items()))
    async with app.state.engines.read.connect() as conn:
        return int(await conn.scalar(stmt))


async def rows(app: FastAPI, table: Table, **where: Any) -> list[Row[Any]]:
    """Rows of ``table`` (column == value for each of ``where``), read with the app's engine."""
    stmt = select(table).where(*(table.c[name] == value for name, value in where.items()))
    async with app.state.engines.read.connect() as conn:
        return list((await conn.execute(stmt)).all())


@asynccontextmanager
async def tampering(url: str) -> AsyncIterator[AsyncConnection]:
    """A transaction of our own as the database's owner would have it: the append-only
    triggers lifted (PostgreSQL: replica mode, which a superuser may set and the service's
    role may not; SQLite: dropped and put back) — what an attacker with full access does."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            restore: list[str] = []
            if conn.dialect.name == "postgresql":
                await conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            else:
                triggers = (await conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name "
                    "IN ('audit_log', 'audit_checkpoints')")).all()
                for name, sql in triggers:
                    await conn.exec_driver_sql(f"DROP TRIGGER {name}")
                    restore.append(sql)
            yield conn
            for sql in restore:
                await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


async def tamper(url: str, statement: Executable) -> None:
    """Change exactly one row behind the app's back, through a connection of our own."""
    async with tampering(url) as conn:
        assert (await conn.execute(statement)).rowcount == 1
