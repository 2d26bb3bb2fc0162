"""Engines for both databases, with the per-engine settings that make writes safe.

SQLite: WAL (readers never block the writer), a busy timeout, and ``BEGIN IMMEDIATE`` for
write transactions, so concurrent writers queue for the lock instead of failing midway
with "database is locked". PostgreSQL: a pool sized by settings, read units of work in
autocommit (see ``create_engines``), and a liveness ping only for connections that rested.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

WRITE_OPTION = "accord_write"
# A pooled PostgreSQL connection that rested longer than this is pinged before use.
PING_AFTER_IDLE_S = 2.0


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


def create_engines(url: str, *, pool_size: int = 20, max_overflow: int = 10,
                   sqlite_busy_timeout_s: float = 30.0,
                   ping_after_idle_s: float = PING_AFTER_IDLE_S) -> Engines:
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
        # JSON columns are decoded by pydantic-core's parser (the same values as the
        # standard library's, in a fraction of the time: a page decodes 200 of them).
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=max_overflow,
            isolation_level="AUTOCOMMIT", json_deserializer=from_json,
        )
        _ping_rested_connections(engine, ping_after_idle_s)
        return Engines(read=engine, write=engine.execution_options(
            isolation_level="READ COMMITTED", **{WRITE_OPTION: True}))
    return Engines(read=engine, write=engine.execution_options(**{WRITE_OPTION: True}))


def _ping_rested_connections(engine: AsyncEngine, idle_s: float) -> None:
    """Pre-ping, but only connections that rested in the pool for ``idle_s`` or more.

    A connection returned a moment ago is alive: under load, pinging it on every check-out
    was a round trip per unit of work for nothing. A connection that rested is pinged as
    SQLAlchemy's ``pool_pre_ping`` would, and replaced if the server dropped it (e.g. after
    a database restart). If the server goes away while connections are busy, the request
    using one fails (503) and SQLAlchemy recycles the whole pool; requests after it connect
    afresh.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["accord_rested_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        rested_at = record.info.get("accord_rested_at")
        if rested_at is None or time.monotonic() - rested_at < idle_s:
            return  # new, or returned just now
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise InvalidatePoolError() from exc


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
