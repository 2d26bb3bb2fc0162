"""Keyset pagination in SQL: ``(sort_key, id) > (last_sort_key, last_id)``, never OFFSET."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Date, Select, Uuid, bindparam, tuple_

from app.domain.common.errors import InvalidCursor
from app.domain.common.paging import Page, PageRequest
from app.repositories.types import UTCDateTime

T = TypeVar("T")
R = TypeVar("R")


def _coerce(column: ColumnElement[Any], value: Any) -> Any:
    try:
        if isinstance(column.type, UTCDateTime):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError("cursor time without zone")
            return parsed
        if isinstance(column.type, Uuid):
            return UUID(value)
        if isinstance(column.type, Date):
            return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise InvalidCursor() from exc
    return value


def keyset(stmt: Select[Any], sortable: Mapping[str, ColumnElement[Any]],
           id_column: ColumnElement[Any], page: PageRequest) -> Select[Any]:
    """Order by the requested sort (then id), start after the cursor, fetch one extra row."""
    column = sortable[page.sort.field]
    if page.after is not None:
        if len(page.after) != 2:
            raise InvalidCursor()
        value = bindparam(None, _coerce(column, page.after[0]), type_=column.type)
        last_id = bindparam(None, _coerce(id_column, page.after[1]), type_=id_column.type)
        left, right = tuple_(column, id_column), tuple_(value, last_id)
        stmt = stmt.where(left < right if page.sort.descending else left > right)
    if page.sort.descending:
        stmt = stmt.order_by(column.desc(), id_column.desc())
    else:
        stmt = stmt.order_by(column.asc(), id_column.asc())
    return stmt.limit(page.limit + 1)


def to_page(rows: Sequence[R], page: PageRequest, to_item: Callable[[R], T],
            sort_key: Callable[[R], tuple[Any, Any]]) -> Page[T]:
    """Turn the limit+1 rows of ``keyset`` into a page and the cursor position after it."""
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_after = sort_key(rows[-1]) if more and rows else None
    return Page([to_item(r) for r in rows], next_after)
