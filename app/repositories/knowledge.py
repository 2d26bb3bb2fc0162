"""Knowledge articles in SQL: the article row (with its search text) and the tag and link
rows its filters use."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.scope import RecordScope
from app.domain.common.paging import Page, PageRequest
from app.domain.knowledge.model import LINK_FIELDS, Article, ArticleKind
from app.repositories.paging import keyset, to_page
from app.repositories.scope import scope_filter
from app.repositories.search import SubstringSearch
from app.repositories.tables_knowledge import (
    knowledge_article_links,
    knowledge_article_tags,
    knowledge_articles,
)
from app.services.ports.knowledge import KnowledgeFilter

_FIELDS = ("id", "kind", "title", "body", "tags", *LINK_FIELDS, "author_id", "department_id",
           "version", "created_at", "updated_at", "archived_at")
_COLUMNS = [knowledge_articles.c[f] for f in _FIELDS]
# The link table's kind for each list of the article.
_LINK_KINDS = {"change_request_ids": "change_request", "handover_ids": "handover",
               "customer_ids": "customer"}
ARTICLE_SORTS = {"updated_at": knowledge_articles.c.updated_at,
                 "created_at": knowledge_articles.c.created_at,
                 "title": knowledge_articles.c.title}


def search_text(article: Article) -> str:
    return "\n".join([article.title, article.body, *article.tags]).lower()


def _article(row: Row[Any]) -> Article:
    values = dict(row._mapping)
    values["kind"] = ArticleKind(values["kind"])
    for name in LINK_FIELDS:
        values[name] = [UUID(i) for i in values[name]]
    return Article(**values)


def _row(article: Article) -> dict[str, Any]:
    values = {f: getattr(article, f) for f in _FIELDS}
    for name in LINK_FIELDS:
        values[name] = [str(i) for i in values[name]]
    values["search_text"] = search_text(article)
    return values


class SqlKnowledgeRepository:
    def __init__(self, conn: AsyncConnection, search: SubstringSearch) -> None:
        self._conn = conn
        self._search = search

    @staticmethod
    def _scope(scope: RecordScope) -> ColumnElement[bool]:
        return scope_filter(scope, department=knowledge_articles.c.department_id,
                            owner=knowledge_articles.c.author_id)

    async def add(self, article: Article) -> None:
        await self._conn.execute(insert(knowledge_articles).values(**_row(article)))
        await self._write_side_tables(article)

    async def save(self, article: Article) -> None:
        values = _row(article)
        values.pop("id")
        await self._conn.execute(update(knowledge_articles)
                                 .where(knowledge_articles.c.id == article.id).values(**values))
        for table in (knowledge_article_tags, knowledge_article_links):
            await self._conn.execute(delete(table).where(table.c.article_id == article.id))
        await self._write_side_tables(article)

    async def _write_side_tables(self, article: Article) -> None:
        if article.tags:
            await self._conn.execute(insert(knowledge_article_tags), [
                {"article_id": article.id, "tag": t} for t in article.tags])
        links = [{"article_id": article.id, "kind": kind, "target_id": target}
                 for name, kind in _LINK_KINDS.items() for target in getattr(article, name)]
        if links:
            await self._conn.execute(insert(knowledge_article_links), links)

    async def get(self, article_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Article | None:
        stmt = select(*_COLUMNS).where(knowledge_articles.c.id == article_id,
                                       self._scope(scope))
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return _article(row) if row else None

    async def list(self, scope: RecordScope, filters: KnowledgeFilter,
                   page: PageRequest) -> Page[Article]:
        articles = knowledge_articles
        conditions = [self._scope(scope)]
        if not filters.include_archived:
            conditions.append(articles.c.archived_at.is_(None))
        if filters.kind is not None:
            conditions.append(articles.c.kind == filters.kind)
        if filters.tag is not None:
            conditions.append(articles.c.id.in_(
                select(knowledge_article_tags.c.article_id)
                .where(knowledge_article_tags.c.tag == filters.tag)))
        for kind, target in (("change_request", filters.change_request_id),
                             ("customer", filters.customer_id)):
            if target is not None:
                conditions.append(articles.c.id.in_(
                    select(knowledge_article_links.c.article_id)
                    .where(knowledge_article_links.c.kind == kind,
                           knowledge_article_links.c.target_id == target)))
        if filters.q:
            conditions.append(self._search.matches(articles.c.search_text, filters.q.lower()))
        stmt = select(*_COLUMNS).where(and_(*conditions))
        rows = (await self._conn.execute(keyset(stmt, ARTICLE_SORTS, articles.c.id, page))
                ).all()
        column = page.sort.field
        return to_page(rows, page, _article, lambda r: (getattr(r, column), r.id))
