"""Direct database access for tests that check state behind the API (outbox, audit rows)
or corrupt it on purpose (tampering, planted conflicts)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import Executable, Table, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import create_async_engine


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


async def tamper(url: str, statement: Executable) -> None:
    """Change exactly one row behind the app's back, through a connection of our own."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(statement)).rowcount == 1
    finally:
        await engine.dispose()
