"""Bodies of the knowledge base (知识库)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, Field

from app.api.v1.schemas.base import Input, Output
from app.domain.knowledge.model import ArticleKind
from app.domain.knowledge.validation import BODY_MAX, LINKS_MAX, TAG_MAX, TAGS_MAX, TITLE_MAX

Tag = Annotated[str, Field(min_length=1, max_length=TAG_MAX)]
Links = Annotated[list[UUID], Field(max_length=LINKS_MAX)]
EXCERPT = 200


class ArticleFields(Input):
    kind: ArticleKind = Field(description="change_case 变更案例 · solution 解决方案 · "
                                          "faq 常见问题 · lesson 经验教训")
    title: str = Field(min_length=1, max_length=TITLE_MAX, examples=["项目延期风险的应对"])
    body: str = Field("", max_length=BODY_MAX, description="Markdown text")
    tags: list[Tag] = Field(default_factory=list, max_length=TAGS_MAX)
    change_request_ids: Links = Field(default_factory=list,
                                      description="Change requests it came from")
    handover_ids: Links = Field(default_factory=list, description="Handovers it came from")
    customer_ids: Links = Field(default_factory=list, description=(
        "Customers it came from; each must be one you can see. An article about exactly one "
        "customer appears on that customer's timeline"))


class ArticleCreate(ArticleFields):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "kind": "lesson", "title": "项目延期风险的应对",
        "body": "## 背景\n二期上线延期两周。\n\n## 经验\n- 每周与客户对齐里程碑",
        "tags": ["延期", "里程碑"], "customer_ids": [], "change_request_ids": []}]})


class ArticlePatch(ArticleFields):
    kind: ArticleKind = Field(None)  # type: ignore[assignment]
    title: str = Field(None, min_length=1, max_length=TITLE_MAX)  # type: ignore[assignment]
    body: str = Field(None, max_length=BODY_MAX)  # type: ignore[assignment]
    tags: list[Tag] = Field(None, max_length=TAGS_MAX)  # type: ignore[assignment]
    change_request_ids: Links = Field(None)  # type: ignore[assignment]
    handover_ids: Links = Field(None)  # type: ignore[assignment]
    customer_ids: Links = Field(None)  # type: ignore[assignment]


class _Article(Output):
    id: UUID
    kind: ArticleKind
    title: str
    tags: list[str]
    change_request_ids: list[UUID]
    handover_ids: list[UUID]
    customer_ids: list[UUID]
    author_id: UUID
    department_id: UUID = Field(description="The author's department when it was written")
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class ArticleSummary(_Article):
    """An article in a list: everything but the body, of which the start is shown."""

    excerpt: str = Field(description=f"The first {EXCERPT} characters of the body")


class ArticleOut(_Article):
    body: str
