"""The PostgreSQL fast path of the customer export (issue 17): one ``COPY (SELECT …) TO
STDOUT`` that writes the export's CSV or JSON Lines rows itself, streamed to the file in
the blocks the server sends, so the rate is the server's and memory stays flat. The
columns, record scope and filters are those of the page-by-page path
(``ExportService._customers``), which SQLite keeps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

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


def _object(pairs: list[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
    return func.json_build_object(*[x for name, col in pairs for x in (_sql(name), col)])


def _contacts_by_customer() -> Subquery:
    """Each customer's live contacts as one JSON array in ``contact_record``'s keys and
    order, aggregated for all customers in one pass and joined once: a subquery per
    customer (an index scan and an ordered aggregate a row) cost most of the export's
    time. The aggregate takes its rows in the inner query's order (a sorted input, not
    ``json_agg(… ORDER BY …)``, which sorts each customer's contacts on its own)."""
    c = contacts.c
    record = _object([("name", c.name), ("title", c.title), ("phones", c.phones),
                      ("emails", c.emails), ("im_handle", c.im_handle),
                      ("preferred_channel", c.preferred_channel),
                      ("is_primary", c.is_primary)])
    ordered = (select(c.customer_id, record.label("contact"))
               .where(c.erased_at.is_(None))
               .order_by(c.customer_id, c.is_primary.desc(), c.created_at, c.id)
               .subquery("live_contacts"))
    return (select(ordered.c.customer_id, func.json_agg(ordered.c.contact).label("contacts"))
            .group_by(ordered.c.customer_id).subquery("contacts_by_customer"))


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
        ("contacts", func.coalesce(grouped.c.contacts, literal_column("'[]'::json"))
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
    """``copy_customers`` on PostgreSQL; other engines answer None (no fast path)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def copy_customers(self, scope: RecordScope, filters: CustomerFilter, *,
                             fmt: str, with_contacts: bool,
                             sink: Callable[[bytes], Awaitable[None]]) -> int | None:
        """Write the rows to ``sink`` (CSV with its header, or JSON Lines); the number of
        rows written."""
        if self._conn.dialect.name != "postgresql":
            return None
        sql, args, options = copy_statement(scope, filters, fmt=fmt,
                                            with_contacts=with_contacts)
        raw = await self._conn.get_raw_connection()
        driver: Any = raw.driver_connection
        for setting in COPY_SETTINGS:  # for this transaction only
            await driver.execute(setting)
        # asyncpg writes the arguments into the statement (COPY takes no parameters).
        status = await driver.copy_from_query(sql, *args, output=sink, **options)
        return int(str(status).rsplit(" ", 1)[-1])


# One statement over every row: JIT compilation costs about a second before the first row
# and saves little on these expressions; the final sort of the rows stays in memory
# instead of spilling the whole file to temporary files.
COPY_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '256MB'")


def copy_statement(scope: RecordScope, filters: CustomerFilter, *, fmt: str,
                   with_contacts: bool) -> tuple[str, list[Any], dict[str, Any]]:
    """The export's query as ``COPY`` runs it: its text, its arguments and COPY's
    options (CSV with a header, or JSON Lines)."""
    grouped = _contacts_by_customer() if with_contacts else None
    fields = _fields(grouped)
    joined = customers.outerjoin(users, users.c.id == customers.c.owner_id)
    if grouped is not None:
        joined = joined.outerjoin(grouped, grouped.c.customer_id == customers.c.id)
    if fmt == "jsonl":
        stmt = select(func.cast(_object(fields), postgresql.TEXT)).select_from(joined)
        # One JSON value a line: CSV whose quote and delimiter never occur in JSON
        # text (JSON escapes control characters), so the server writes it as it is.
        options: dict[str, Any] = {"format": "csv", "delimiter": "\x02", "quote": "\x01"}
    else:
        stmt = select(*[_cell(name, col).label(name) for name, col in fields]) \
            .select_from(joined)
        options = {"format": "csv", "header": True}
    stmt = stmt.where(and_(*_conditions(scope, filters))) \
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
