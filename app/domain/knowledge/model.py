"""A knowledge article (知识库文章): what was learnt, in Markdown, tagged and linked to the
change requests, handovers and customers it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

# The three kinds of record an article links to, by the field that lists them.
LINK_FIELDS = ("change_request_ids", "handover_ids", "customer_ids")


class ArticleKind(StrEnum):
    CHANGE_CASE = "change_case"  # 变更案例
    SOLUTION = "solution"  # 解决方案
    FAQ = "faq"  # 常见问题
    LESSON = "lesson"  # 经验教训


@dataclass
class Article:
    id: UUID
    kind: ArticleKind
    title: str
    body: str  # Markdown text
    tags: list[str]
    change_request_ids: list[UUID]
    handover_ids: list[UUID]
    customer_ids: list[UUID]
    author_id: UUID
    department_id: UUID  # the author's, when the article was written: heads edit it
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None

    @property
    def timeline_customer(self) -> UUID | None:
        """The customer whose timeline shows this article's events: only an article about
        exactly one customer belongs on a customer's timeline."""
        return self.customer_ids[0] if len(self.customer_ids) == 1 else None

    def snapshot(self) -> dict[str, Any]:
        """Every field a person can change, as JSON values, for the audit log."""
        return {
            "kind": self.kind, "title": self.title, "body": self.body, "tags": list(self.tags),
            "change_request_ids": [str(i) for i in self.change_request_ids],
            "handover_ids": [str(i) for i in self.handover_ids],
            "customer_ids": [str(i) for i in self.customer_ids],
            "archived": self.archived_at is not None,
        }
