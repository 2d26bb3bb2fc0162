"""The PostgreSQL fast path of the customer export (issue 17): ``COPY (SELECT …) TO
STDOUT`` that writes the export's CSV or JSON Lines rows itself (split in ``created_at``
ranges over connections sharing one snapshot), streamed to the file in the blocks the
server sends, so the rate is the server's and memory stays flat. The
columns, record scope and filters are those of the page-by-page path
(``ExportService._customers``), which SQLite keeps."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from typing import IO, Any

from sqlalchemy import ColumnElement, Subquery, and_, case, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain.access.scope import RecordScope
from app.repositories.scope import ScopedColumns
from app.repositories.tables import users
from app.repositories.tables_customers import contacts, customer_tags, customers
from app.services.ports.customers import CustomerFilter

_SCOPE = ScopedColumns(customers.c.department_id, customers.c.owner_id,
                       customers.c.shared_with_department)
_DIALECT = postgresql.asyncpg.dialect(paramstyle="numeric_dollar")  # type: ignore[attr-defined]
# ISO 8601 in UTC, as ``datetime.isoformat`` writes an aware UTC time.
_ISO = "YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\""


def _sql(value: str) -> ColumnElement[Any]:
    """A constant written into the statement (an expression compiled inside another
    keeps no parameters of its own)."""
    return literal_column("'" + value.replace("'", "''") + "'")


def _iso(column: Any) -> ColumnElement[Any]:
    return func.to_char(func.timezone(_sql("UTC"), column), _sql(_ISO))


def _object(pairs: list[tuple[str, ColumnElement[Any]]],
            raw: frozenset[str] = frozenset()) -> ColumnElement[Any]:
    """A JSON object as text, spelled as ``json_build_object`` spells it (``{"key" :
    value, "key" : value}``) but concatenated from each value's own JSON text (``to_json``,
    or the column itself for those in ``raw``, already JSON text): no escaping of the
    keys a row, no JSON value built and then printed; cheaper per row, same bytes."""
    pieces: list[ColumnElement[Any]] = []
    for n, (name, column) in enumerate(pairs):
        pieces.append(_sql(("{" if n == 0 else ", ") + json.dumps(name) + " : "))
        pieces.append(column if name in raw else
                      func.coalesce(func.cast(func.to_json(column), postgresql.TEXT),
                                    _sql("null")))
    return func.concat(*pieces, _sql("}"))


Part = tuple[datetime | None, datetime | None]  # created_at from (inclusive), to (exclusive)


def _in_part(column: Any, part: Part) -> list[ColumnElement[bool]]:
    low, high = part
    return [*([] if low is None else [column >= low]),
            *([] if high is None else [column < high])]


def _contacts_by_customer(part: Part = (None, None)) -> Subquery:
    """Each customer's live contacts as one JSON array in ``contact_record``'s keys and
    order, aggregated for all customers in one pass and joined once: a subquery per
    customer (an index scan and an ordered aggregate a row) cost most of the export's
    time. The aggregate takes its rows in the inner query's order (a sorted input, not
    ``json_agg(… ORDER BY …)``, which sorts each customer's contacts on its own). A part
    of the export aggregates only its own customers' contacts."""
    c = contacts.c
    record = _object([("name", c.name), ("title", c.title), ("phones", c.phones),
                      ("emails", c.emails), ("im_handle", c.im_handle),
                      ("preferred_channel", c.preferred_channel),
                      ("is_primary", c.is_primary)])
    ordered = (select(c.customer_id, record.label("contact"))
               .where(c.erased_at.is_(None), *_part_customers(c.customer_id, part))
               .order_by(c.customer_id, c.is_primary.desc(), c.created_at, c.id)
               .subquery("live_contacts"))
    # json_agg's spelling (``[a, b]``) of the objects' text, without parsing it back.
    array = func.concat(_sql("["), func.string_agg(ordered.c.contact, _sql(", ")), _sql("]"))
    return (select(ordered.c.customer_id, array.label("contacts"))
            .group_by(ordered.c.customer_id).subquery("contacts_by_customer"))


def _part_customers(column: Any, part: Part) -> list[ColumnElement[bool]]:
    if part == (None, None):
        return []
    ranged = customers.alias("part_customers")
    return [column.in_(select(ranged.c.id).where(*_in_part(ranged.c.created_at, part)))]


def _fields(grouped: Subquery | None) -> list[tuple[str, ColumnElement[Any]]]:
    c = customers.c
    fields: list[tuple[str, ColumnElement[Any] | None]] = [
        ("id", c.id), ("name", c.name), ("kind", c.kind), ("credit_code", c.credit_code),
        ("industry", c.industry), ("region", c.region), ("address", c.address),
        ("owner", func.coalesce(users.c.username, func.cast(c.owner_id, postgresql.TEXT))),
        ("annual_revenue", func.cast(c.annual_revenue, postgresql.TEXT)),
        ("currency", c.currency), ("tags", c.tags), ("needs", c.needs),
        ("preferred_channel", c.preferred_channel), ("preferred_time", c.preferred_time),
        ("strategic_importance", c.strategic_importance),
        ("growth_potential", c.growth_potential),
        ("shared_with_department", c.shared_with_department),
        ("custom_attributes", c.custom_attributes), ("external_refs", c.external_refs),
        ("contacts", func.coalesce(grouped.c.contacts, _sql("[]"))
         if grouped is not None else None),
        ("tier", c.tier), ("stage", c.stage), ("integrity_score", c.integrity_score),
        ("created_at", _iso(c.created_at)), ("updated_at", _iso(c.updated_at))]
    return [(name, col) for name, col in fields if col is not None]


def _conditions(scope: RecordScope, filters: CustomerFilter) -> list[ColumnElement[bool]]:
    c = customers.c
    found: list[ColumnElement[bool]] = [_SCOPE.filter(scope)]
    if not filters.include_archived:
        found.append(c.archived_at.is_(None))
    for column, value in ((c.owner_id, filters.owner_id),
                          (c.department_id, filters.department_id),
                          (c.tier, filters.tier), (c.stage, filters.stage)):
        if value is not None:
            found.append(column == value)
    if filters.updated_since is not None:
        found.append(c.updated_at >= filters.updated_since)
    if filters.tag is not None:
        found.append(c.id.in_(select(customer_tags.c.customer_id)
                              .where(customer_tags.c.tag == filters.tag)))
    return found


class PostgresCustomerCopy:
    """``copy_customers`` on PostgreSQL; other engines answer None (no fast path).

    The statement is split in ``parts`` ranges of ``created_at`` run at once on their own
    connections (the server then uses both cores), all reading one snapshot, the first's
    exported with ``pg_export_snapshot()``: the file is one consistent picture, as one
    statement would write it. The first part streams to ``sink``; the others are kept in
    temporary files and follow it in order."""

    def __init__(self, conn: AsyncConnection, engine: AsyncEngine | None = None, *,
                 parts: int = 2) -> None:
        self._conn = conn
        self._engine = engine
        self.parts = parts

    async def copy_customers(self, scope: RecordScope, filters: CustomerFilter, *,
                             fmt: str, with_contacts: bool,
                             sink: Callable[[bytes], Awaitable[None]]) -> int | None:
        """Write the rows to ``sink`` (CSV with its header, or JSON Lines); the number of
        rows written."""
        if self._conn.dialect.name != "postgresql":
            return None
        raw = await self._conn.get_raw_connection()
        first: Any = raw.driver_connection
        async with first.transaction(isolation="repeatable_read", readonly=True):
            for setting in COPY_SETTINGS:  # for this transaction only
                await first.execute(setting)
            snapshot = await first.fetchval("SELECT pg_export_snapshot()")
            bounds = [] if self._engine is None else \
                await part_bounds(first, scope, filters, self.parts)
            ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
            async with AsyncExitStack() as stack:
                others = [await stack.enter_async_context(self._part_connection(snapshot))
                          for _ in ranges[1:]]
                async with asyncio.TaskGroup() as group:  # one fails: the others stop
                    copies = [group.create_task(_copy(
                        first, scope, filters, fmt, with_contacts, ranges[0], sink,
                        header=True))]
                    copies += [group.create_task(_copy(
                        driver, scope, filters, fmt, with_contacts, part, _spooled(spool),
                        header=False))
                        for (driver, spool), part in zip(others, ranges[1:], strict=True)]
                rows = sum(copy.result() for copy in copies)
                for _, spool in others:
                    spool.seek(0)
                    while block := spool.read(_BLOCK):
                        await sink(block)
        return rows

    @asynccontextmanager
    async def _part_connection(self, snapshot: str) -> AsyncIterator[tuple[Any, IO[bytes]]]:
        """Another connection, in a transaction that reads the first one's snapshot, and
        the temporary file its part waits in."""
        assert self._engine is not None
        with tempfile.TemporaryFile() as spool:
            async with self._part_in_snapshot(snapshot) as driver:
                yield driver, spool

    @asynccontextmanager
    async def _part_in_snapshot(self, snapshot: str) -> AsyncIterator[Any]:
        assert self._engine is not None
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            async with driver.transaction(isolation="repeatable_read", readonly=True):
                await driver.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                for setting in COPY_SETTINGS:
                    await driver.execute(setting)
                yield driver


_BLOCK = 1 << 20


async def part_bounds(driver: Any, scope: RecordScope, filters: CustomerFilter,
                      parts: int) -> list[datetime]:
    """Where the parts meet: ``created_at`` values cutting the time the exported rows
    span into equal lengths (two index reads, not a pass over the rows)."""
    if parts < 2:
        return []
    c = customers.c
    stmt = select(func.min(c.created_at), func.max(c.created_at)) \
        .where(and_(*_conditions(scope, filters)))
    compiled = stmt.compile(dialect=_DIALECT)
    low, high = await driver.fetchrow(
        compiled.string, *[compiled.params[n] for n in compiled.positiontup or ()])
    if low is None or low == high:
        return []
    step = (high - low) / parts
    return [low + step * k for k in range(1, parts)]


def _spooled(spool: IO[bytes]) -> Callable[[bytes], Awaitable[None]]:
    async def write(block: bytes) -> None:
        spool.write(block)
    return write


async def _copy(driver: Any, scope: RecordScope, filters: CustomerFilter, fmt: str,
                with_contacts: bool, part: Part,
                sink: Callable[[bytes], Awaitable[None]], *, header: bool) -> int:
    sql, args, options = copy_statement(scope, filters, fmt=fmt, with_contacts=with_contacts,
                                        part=part)
    if not header:
        options.pop("header", None)
    # asyncpg writes the arguments into the statement (COPY takes no parameters).
    status = await driver.copy_from_query(sql, *args, output=sink, **options)
    return int(str(status).rsplit(" ", 1)[-1])


# One statement over every row: JIT compilation costs about a second before the first row
# and saves little on these expressions; the final sort of the rows stays in memory
# instead of spilling the whole file to temporary files.
COPY_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '256MB'")


def copy_statement(scope: RecordScope, filters: CustomerFilter, *, fmt: str,
                   with_contacts: bool, part: Part = (None, None),
                   ) -> tuple[str, list[Any], dict[str, Any]]:
    """The export's query as ``COPY`` runs it (or the rows of one ``created_at`` range
    of it): its text, its arguments and COPY's options (CSV with a header, or JSON
    Lines)."""
    grouped = _contacts_by_customer(part) if with_contacts else None
    fields = _fields(grouped)
    joined = customers.outerjoin(users, users.c.id == customers.c.owner_id)
    if grouped is not None:
        joined = joined.outerjoin(grouped, grouped.c.customer_id == customers.c.id)
    if fmt == "jsonl":
        stmt = select(_object(fields, raw=frozenset({"contacts"}))).select_from(joined)
        # One JSON value a line: CSV whose quote and delimiter never occur in JSON
        # text (JSON escapes control characters), so the server writes it as it is.
        options: dict[str, Any] = {"format": "csv", "delimiter": "\x02", "quote": "\x01"}
    else:
        stmt = select(*[_cell(name, col).label(name) for name, col in fields]) \
            .select_from(joined)
        options = {"format": "csv", "header": True}
    conditions = [*_conditions(scope, filters), *_in_part(customers.c.created_at, part)]
    stmt = stmt.where(and_(*conditions)) \
        .order_by(customers.c.created_at, customers.c.id)
    compiled = stmt.compile(dialect=_DIALECT)
    return compiled.string, [compiled.params[n] for n in compiled.positiontup or ()], options


_JSON_COLUMNS = frozenset({"tags", "needs", "custom_attributes", "external_refs", "contacts"})


def _cell(name: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A cell as the page-by-page path writes it: lists and objects as JSON text,
    booleans as Python spells them."""
    if name in _JSON_COLUMNS:
        return func.cast(column, postgresql.TEXT)
    if name == "shared_with_department":
        return case((column, _sql("True")), else_=_sql("False"))
    return column
