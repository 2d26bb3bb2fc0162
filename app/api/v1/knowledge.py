"""``/knowledge-articles``: the knowledge base (知识库): write, search, change, archive."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request, Response

from app.api.container import services
from app.api.etag import if_match, set_etag
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.problems import error_responses
from app.api.query import search_text
from app.api.security import allow, signed_in
from app.api.v1.routing import feature_router
from app.api.v1.schemas.knowledge import (
    EXCERPT,
    ArticleCreate,
    ArticleOut,
    ArticlePatch,
    ArticleSummary,
)
from app.domain.common.paging import PageRequest
from app.domain.knowledge.access import WRITERS
from app.domain.knowledge.model import Article, ArticleKind
from app.services.knowledge import ArticleInput
from app.services.ports import RequestContext
from app.services.ports.knowledge import KnowledgeFilter

router = feature_router("knowledge")
ArticleSearch = search_text("the title, the body or a tag, e.g. 延期 finds 项目延期风险")

Reader = Annotated[RequestContext, Depends(signed_in())]
Writer = Annotated[RequestContext, Depends(allow(*WRITERS))]
Version = Annotated[int, Depends(if_match)]
CHANGE_ERRORS = error_responses(404, 409, 412, 428)
ARTICLES = "/knowledge-articles"


def _out(response: Response, article: Article) -> ArticleOut:
    set_etag(response, article.version)
    return ArticleOut.model_validate(article.__dict__)


def _summary(article: Article) -> ArticleSummary:
    return ArticleSummary.model_validate({**article.__dict__,
                                          "excerpt": article.body[:EXCERPT]})


def _input(body: ArticleCreate | ArticlePatch) -> ArticleInput:
    sent = frozenset(body.model_fields_set)
    return ArticleInput(**{name: getattr(body, name) for name in sent}, fields_set=sent)


@router.post(ARTICLES, response_model=ArticleOut, status_code=201,
             summary="Write a knowledge article", responses=error_responses(409),
             dependencies=[Idempotent])
async def create_article(request: Request, response: Response, body: ArticleCreate,
                         ctx: Writer) -> ArticleOut:
    """You are the author. Every customer and change request you link must be one you can
    see (422 `customer_unknown` / `change_request_unknown` otherwise)."""
    article = await services(request).knowledge.create(ctx, _input(body))
    response.headers["Location"] = f"/api/v1{ARTICLES}/{article.id}"
    return _out(response, article)


@router.get(ARTICLES, response_model=ListPage[ArticleSummary],
            summary="Search and list knowledge articles")
async def list_articles(
    request: Request, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["updated_at", "created_at", "title"],
                                                     "-updated_at"))],
    q: ArticleSearch = None,
    kind: Annotated[ArticleKind | None, Query()] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    change_request_id: Annotated[UUID | None, Query(description="Linked to this change")]
    = None,
    customer_id: Annotated[UUID | None, Query(description="Linked to this customer")] = None,
    include_archived: Annotated[bool, Query()] = False,
) -> dict[str, object]:
    filters = KnowledgeFilter(q=q, kind=kind, tag=tag, change_request_id=change_request_id,
                              customer_id=customer_id, include_archived=include_archived)
    result = await services(request).knowledge.list(ctx, filters, page)
    return list_page(request, result, page, _summary)


@router.get(ARTICLES + "/{article_id}", response_model=ArticleOut,
            summary="Read a knowledge article", responses=error_responses(404))
async def get_article(request: Request, response: Response, article_id: UUID,
                      ctx: Reader) -> ArticleOut:
    return _out(response, await services(request).knowledge.get(ctx, article_id))


@router.patch(ARTICLES + "/{article_id}", response_model=ArticleOut,
              summary="Change a knowledge article", responses=CHANGE_ERRORS)
async def update_article(request: Request, response: Response, article_id: UUID,
                         body: ArticlePatch, ctx: Writer, version: Version) -> ArticleOut:
    """Authors change their own articles, department heads those of their department,
    administrators any (anyone else: 404). An archived article must be restored first
    (409). Author, department, version and dates are server-owned (sending them is a 422)."""
    article = await services(request).knowledge.update(ctx, article_id, version, _input(body))
    return _out(response, article)


@router.post(ARTICLES + "/{article_id}/archive", response_model=ArticleOut,
             summary="Archive a knowledge article", responses=CHANGE_ERRORS,
             dependencies=[Idempotent])
async def archive_article(request: Request, response: Response, article_id: UUID,
                          ctx: Writer, version: Version) -> ArticleOut:
    """Archived articles leave the list unless `include_archived=true`; they stay readable."""
    article = await services(request).knowledge.set_archived(ctx, article_id, version, True)
    return _out(response, article)


@router.post(ARTICLES + "/{article_id}/restore", response_model=ArticleOut,
             summary="Restore an archived knowledge article", responses=CHANGE_ERRORS,
             dependencies=[Idempotent])
async def restore_article(request: Request, response: Response, article_id: UUID,
                          ctx: Writer, version: Version) -> ArticleOut:
    article = await services(request).knowledge.set_archived(ctx, article_id, version, False)
    return _out(response, article)
