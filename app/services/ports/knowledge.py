"""Ports of the knowledge base."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from app.domain.access.scope import RecordScope
from app.domain.common.paging import Page, PageRequest
from app.domain.knowledge.model import Article, ArticleKind


@dataclass(frozen=True)
class KnowledgeFilter:
    q: str | None = None  # any substring (two characters or more) of title, body or tags
    kind: ArticleKind | None = None
    tag: str | None = None
    change_request_id: UUID | None = None
    customer_id: UUID | None = None
    include_archived: bool = False


class KnowledgeRepository(Protocol):
    """Reads take a record scope; an article outside it is not found."""

    async def add(self, article: Article) -> None: ...
    async def save(self, article: Article) -> None: ...
    async def get(self, article_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Article | None: ...
    async def list(self, scope: RecordScope, filters: KnowledgeFilter,
                   page: PageRequest) -> Page[Article]: ...
