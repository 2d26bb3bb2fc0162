"""Tables of the knowledge base (知识库, domain §8). Tags and links are kept twice: as lists
on the article (read in one row) and one row each in side tables (indexed for filters)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, Uuid

from app.repositories.tables import metadata
from app.repositories.types import JSONType, UTCDateTime

knowledge_articles = Table(
    "knowledge_articles", metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("tags", JSONType, nullable=False),
    Column("change_request_ids", JSONType, nullable=False),
    Column("handover_ids", JSONType, nullable=False),
    Column("customer_ids", JSONType, nullable=False),
    Column("author_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("department_id", Uuid, ForeignKey("departments.id"), nullable=False),
    # Lower-cased title, body and tags: what `q` searches (trigram-indexed, migration 0005).
    Column("search_text", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("archived_at", UTCDateTime),
)
Index("ix_knowledge_articles_updated", knowledge_articles.c.updated_at, knowledge_articles.c.id)
Index("ix_knowledge_articles_created", knowledge_articles.c.created_at, knowledge_articles.c.id)
Index("ix_knowledge_articles_title", knowledge_articles.c.title, knowledge_articles.c.id)
Index("ix_knowledge_articles_kind_updated", knowledge_articles.c.kind,
      knowledge_articles.c.updated_at, knowledge_articles.c.id)

knowledge_article_tags = Table(
    "knowledge_article_tags", metadata,
    Column("article_id", Uuid, ForeignKey("knowledge_articles.id", ondelete="CASCADE"),
           primary_key=True),
    Column("tag", String(50), primary_key=True),
)
Index("ix_knowledge_article_tags_tag", knowledge_article_tags.c.tag)

# kind: "change_request" | "handover" | "customer"; no foreign key (it points at three tables).
knowledge_article_links = Table(
    "knowledge_article_links", metadata,
    Column("article_id", Uuid, ForeignKey("knowledge_articles.id", ondelete="CASCADE"),
           primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("target_id", Uuid, primary_key=True),
)
Index("ix_knowledge_article_links_target", knowledge_article_links.c.kind,
      knowledge_article_links.c.target_id)
