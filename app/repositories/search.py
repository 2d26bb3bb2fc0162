"""Substring search ("华为" finds "深圳市华为技术有限公司") where the engines differ:
a pg_trgm GIN index on PostgreSQL, an FTS5 trigram index on SQLite. Both index the
customers' ``search_text`` column and follow it by themselves (GIN index; SQLite triggers
from migration 0002), so writers do nothing extra. The composition root picks the adapter
for the engine in use."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement, Integer, bindparam, column, literal_column, text


def like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SubstringSearch(Protocol):
    def matches(self, text_column: ColumnElement[Any], q: str) -> ColumnElement[bool]: ...


class TrigramSearch:
    """PostgreSQL: ``LIKE '%q%'`` served by the gin_trgm_ops index (queries of three
    characters or more use it; two-character queries are answered by a scan)."""

    def matches(self, text_column: ColumnElement[Any], q: str) -> ColumnElement[bool]:
        return text_column.like(like_pattern(q), escape="\\")


class Fts5Search:
    """SQLite: the external-content FTS5 table ``customers_fts`` (trigram tokenizer) keyed
    by the customers' rowid. Trigrams need three characters; shorter queries use LIKE."""

    def matches(self, text_column: ColumnElement[Any], q: str) -> ColumnElement[bool]:
        if len(q) < 3:
            return text_column.like(like_pattern(q), escape="\\")
        phrase = '"' + q.replace('"', '""') + '"'
        hits = text("SELECT rowid FROM customers_fts WHERE customers_fts MATCH :fts_phrase"
                    ).bindparams(bindparam("fts_phrase", phrase)).columns(
                        column("rowid", Integer))
        return literal_column("customers.rowid").in_(hits)
