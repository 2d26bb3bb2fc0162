"""Engines for both databases, with the per-engine settings that make writes safe.

SQLite: WAL (readers never block the writer), a busy timeout, and ``BEGIN IMMEDIATE`` for
write transactions, so concurrent writers queue for the lock instead of failing midway
with "database is locked". PostgreSQL: a pool sized by settings, and read units of work in
autocommit (see ``create_engines``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

WRITE_OPTION = "accord_write"


@dataclass(frozen=True)
class Engines:
    """Two views of one pool: ``write`` transactions take the write lock up front on SQLite."""

    read: AsyncEngine
    write: AsyncEngine

    @property
    def dialect(self) -> str:
        return self.read.dialect.name

    def pool_status(self) -> dict[str, int]:
        pool: Any = self.read.pool
        stats = {}
        for name in ("size", "checkedout", "overflow", "checkedin"):
            method = getattr(pool, name, None)
            if callable(method):
                stats[name] = int(method())
        return stats

    async def dispose(self) -> None:
        await self.read.dispose()


def create_engines(url: str, *, pool_size: int = 10, max_overflow: int = 10,
                   sqlite_busy_timeout_s: float = 30.0) -> Engines:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": sqlite_busy_timeout_s})
        _configure_sqlite(engine, sqlite_busy_timeout_s)
    else:
        # Reads need no transaction: at READ COMMITTED each statement takes its own snapshot,
        # inside a transaction or not. So connections rest in autocommit (a read unit of
        # work skips BEGIN and ROLLBACK, and the pool's pre-ping is one round trip instead
        # of three) and the write view opens READ COMMITTED transactions
        # (docs/performance.md: a customer read went from 14 round trips to 5).
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True,
            isolation_level="AUTOCOMMIT",
        )
        return Engines(read=engine, write=engine.execution_options(
            isolation_level="READ COMMITTED", **{WRITE_OPTION: True}))
    return Engines(read=engine, write=engine.execution_options(**{WRITE_OPTION: True}))


def _configure_sqlite(engine: AsyncEngine, busy_timeout_s: float) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling
        # would defer the lock until the first write).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
