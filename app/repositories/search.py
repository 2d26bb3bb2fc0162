"""Substring search ("华为" finds "深圳市华为技术有限公司") where the engines differ:
a pg_trgm GIN index on PostgreSQL, an FTS5 trigram index on SQLite. Both index a table's
``search_text`` column (customers: migration 0002; knowledge articles: 0005) and follow it
by themselves (GIN index; SQLite triggers), so writers do nothing extra. The composition
root picks the adapter for the engine in use; every searchable table shares it."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Column, ColumnElement, Integer, column, literal_column, select, table


def like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SubstringSearch(Protocol):
    def matches(self, text_column: Column[Any], q: str) -> ColumnElement[bool]:
        """Rows whose ``text_column`` (a table's lower-cased ``search_text``) contains
        ``q`` (lower-cased, two characters or more) literally."""
        ...


class TrigramSearch:
    """PostgreSQL: ``LIKE '%q%'`` served by the gin_trgm_ops index (queries of three
    characters or more use it; two-character queries are answered by a scan)."""

    def matches(self, text_column: Column[Any], q: str) -> ColumnElement[bool]:
        return text_column.like(like_pattern(q), escape="\\")


class Fts5Search:
    """SQLite: the external-content FTS5 table ``<table>_fts`` (trigram tokenizer) that the
    migrations keep beside each searchable table (``customers_fts``,
    ``knowledge_articles_fts``), keyed by the table's rowid. Trigrams need three
    characters; shorter queries use LIKE."""

    def matches(self, text_column: Column[Any], q: str) -> ColumnElement[bool]:
        if len(q) < 3:
            return text_column.like(like_pattern(q), escape="\\")
        name = text_column.table.name
        phrase = '"' + q.replace('"', '""') + '"'
        fts = table(f"{name}_fts", column("rowid", Integer))
        hits = select(fts.c.rowid).where(literal_column(fts.name).op("MATCH")(phrase))
        return literal_column(f"{name}.rowid").in_(hits)
