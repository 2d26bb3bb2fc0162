"""Statements on the hottest paths, compiled once and, on PostgreSQL, run on asyncpg itself.

SQLAlchemy's execution machinery costs about 75 µs of CPU per statement on top of asyncpg's
own 25 µs (the greenlet hop, the execution context, the cursor adapter and the result
object; docs/performance.md). An approval runs about a dozen statements, so that overhead
was a third of its CPU. A ``Prepared`` statement is compiled by SQLAlchemy once per set of
parameter names, with SQLAlchemy's own bind and result processors for its column types,
and then sent by asyncpg on the unit of work's connection, inside the transaction
SQLAlchemy opened for it. On SQLite (in-process, no such cost) it runs through SQLAlchemy.
Either way a row comes back as a plain dict of column name to value.

This relies on internals of SQLAlchemy's asyncpg adapter (its lock, its transaction and how
it starts one, the asyncpg connection, its error translation) and of the connection (its
error handling, which invalidates dropped connections);
``tests/storage/test_framework_internals.py`` names each one that moves and
``tests/storage/test_direct_statements.py`` pins the behaviour that depends on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.util import greenlet_spawn

Processor = Callable[[Any], Any] | None
Row = dict[str, Any]


@dataclass
class _Plan:
    """One compilation: the SQL, where each argument comes from, and how results map."""

    sql: str
    arguments: list[tuple[str, Any, Processor]]  # name, value when not given, bind processor
    columns: list[tuple[str, Any]]  # result column name, its SQLAlchemy type
    processors: list[Processor] | None = None  # known after the first execution

    def bind(self, params: Mapping[str, Any]) -> list[Any]:
        """Processors see None too, as in SQLAlchemy: a JSON column stores it as JSON null."""
        args = []
        for name, default, process in self.arguments:
            value = params.get(name, default)
            args.append(process(value) if process is not None else value)
        return args


def _plan(compiled: Compiled) -> _Plan:
    """What SQLAlchemy would do at each execution, worked out once: the value or the
    parameter behind each positional argument and the processor its type binds with."""
    if compiled.insert_prefetch or compiled.update_prefetch or \
            "POSTCOMPILE" in compiled.string:  # type: ignore[attr-defined]
        raise ValueError("column defaults and expanding parameters need SQLAlchemy's "
                         "execution; run this statement with conn.execute")
    binds = compiled.binds  # type: ignore[attr-defined]
    processors = compiled._bind_processors  # type: ignore[attr-defined]
    arguments = [(name, binds[name].value, processors.get(name))
                 for name in compiled.positiontup or []]  # type: ignore[attr-defined]
    columns = [(entry.keyname, entry.type)
               for entry in compiled._result_columns]  # type: ignore[attr-defined]
    return _Plan(compiled.string, arguments, columns)


class Prepared:
    """A Core statement for the hot paths. ``rows`` returns its rows as dicts, ``run``
    executes it for its effect. Statements whose SET or VALUES follow the parameters
    (an UPDATE or INSERT without ``.values()``) compile once per set of names given."""

    def __init__(self, statement: Executable) -> None:
        self._statement = statement
        self._plans: dict[frozenset[str], _Plan] = {}

    @property
    def statement(self) -> Executable:
        """The Core statement it runs (the benchmark's raw baseline sends the same SQL)."""
        return self._statement

    async def rows(self, conn: AsyncConnection,
                   params: Mapping[str, Any] | None = None) -> list[Row]:
        params = params or {}
        if conn.dialect.name != "postgresql":
            result = await conn.execute(self._statement, dict(params))
            return [dict(row._mapping) for row in result] if result.returns_rows else []
        plan = self._plan_for(conn.dialect, params)
        return await _on_asyncpg(conn, plan, plan.bind(params))

    async def run(self, conn: AsyncConnection, params: Mapping[str, Any] | None = None) -> None:
        await self.rows(conn, params)

    async def run_many(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        """Execute once per parameter set (all with the same names), e.g. rows to insert."""
        if conn.dialect.name != "postgresql":
            await conn.execute(self._statement, rows)
        elif len(rows) == 1:
            await self.run(conn, rows[0])
        else:
            plan = self._plan_for(conn.dialect, rows[0])
            await _on_asyncpg(conn, plan, [plan.bind(row) for row in rows], many=True)

    async def one_or_none(self, conn: AsyncConnection,
                          params: Mapping[str, Any] | None = None) -> Row | None:
        found = await self.rows(conn, params)
        return found[0] if found else None

    def _plan_for(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        key = frozenset(params)
        plan = self._plans.get(key)
        if plan is None:
            compiled = self._statement.compile(  # type: ignore[attr-defined]
                dialect=dialect, column_keys=sorted(params))
            plan = self._plans[key] = _plan(compiled)
        return plan


async def _on_asyncpg(conn: AsyncConnection, plan: _Plan, args: list[Any], *,
                      many: bool = False) -> list[Row]:
    """Run ``plan`` on the asyncpg connection under SQLAlchemy's adapter: inside the
    transaction the unit of work began (started here, as the adapter would, if this is its
    first statement) and under the adapter's lock, so nothing else interleaves."""
    adapter: Any = conn.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    failed: Exception | None = None
    async with adapter._execute_mutex:
        try:
            if adapter._transaction is None:
                await adapter._start_transaction()
            records = await _send(adapter._connection, plan, args, many, conn.dialect)
        except Exception as error:
            failed = error
    if failed is not None:
        await _raise_as_sqlalchemy(conn, adapter, plan.sql, failed)
    if not records:
        return []
    names = [name for name, _ in plan.columns]
    processors = plan.processors
    if not any(processors):
        return [dict(zip(names, record, strict=True)) for record in records]
    return [{name: process(value) if process is not None else value
             for name, process, value in zip(names, processors, record, strict=True)}
            for record in records]


async def _send(driver: Any, plan: _Plan, args: list[Any], many: bool,
                dialect: Dialect) -> list[Any]:
    if many:
        await driver.executemany(plan.sql, args)
        return []
    if plan.processors is None:  # the first time: learn the result types the server sends
        statement = await driver.prepare(plan.sql)
        oids = [attr.type.oid for attr in statement.get_attributes()]
        plan.processors = [type_._cached_result_processor(dialect, oid)
                           for (_, type_), oid in zip(plan.columns, oids, strict=True)]
        return list(await statement.fetch(*args))
    if plan.columns:
        return list(await driver.fetch(plan.sql, *args))
    await driver.execute(plan.sql, *args)
    return []


async def _raise_as_sqlalchemy(conn: AsyncConnection, adapter: Any, sql: str,
                              error: Exception) -> NoReturn:
    """Raise what SQLAlchemy would have raised, through its own handling: the adapter
    turns the asyncpg error into its DB-API error, and the connection then wraps it and,
    for a dropped connection, invalidates it (and the pool's older connections), so the
    unit of work answers 503 once and the next request gets a live connection."""
    try:
        adapter._handle_exception(error)
    except Exception as dbapi_error:
        await greenlet_spawn(conn.sync_connection._handle_dbapi_exception,  # type: ignore[union-attr]
                             dbapi_error, sql, None, None, None)
    raise error  # both calls above always raise
