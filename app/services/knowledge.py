"""知识库 use cases: write, find, change, archive and restore articles, and write one inside
another use case's transaction (a closed change request's lessons learned)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.scope import read_scope as customer_read_scope
from app.domain.change_requests.access import read_scope as change_request_read_scope
from app.domain.common.errors import FieldErrors, InvalidState, NotFound
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.partial import filled_in
from app.domain.common.versions import check_version
from app.domain.customers.history import FieldChange, changes
from app.domain.knowledge.access import read_scope, write_scope
from app.domain.knowledge.model import LINK_FIELDS, Article, ArticleKind
from app.domain.knowledge.validation import clean_text, unique_links
from app.services.ports import Clock, RequestContext
from app.services.ports.knowledge import KnowledgeFilter
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

ENTITY = "knowledge_article"


@dataclass(frozen=True)
class ArticleInput:
    """Fields a person sets; on update only the names in ``fields_set`` change."""

    kind: ArticleKind = ArticleKind.SOLUTION
    title: str = ""
    body: str = ""
    tags: list[str] = field(default_factory=list)
    change_request_ids: list[UUID] = field(default_factory=list)
    handover_ids: list[UUID] = field(default_factory=list)
    customer_ids: list[UUID] = field(default_factory=list)
    fields_set: frozenset[str] = frozenset()


class KnowledgeService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    # reading -------------------------------------------------------------------------

    async def get(self, ctx: RequestContext, article_id: UUID) -> Article:
        assert ctx.principal is not None
        async with self._uow(ctx, write=False) as uow:
            article = await uow.knowledge.get(article_id, read_scope(ctx.principal))
        if article is None:
            raise NotFound(entity=ENTITY)
        return article

    async def list(self, ctx: RequestContext, filters: KnowledgeFilter,
                   page: PageRequest) -> Page[Article]:
        assert ctx.principal is not None
        async with self._uow(ctx, write=False) as uow:
            return await uow.knowledge.list(read_scope(ctx.principal), filters, page)

    # writing -------------------------------------------------------------------------

    async def create(self, ctx: RequestContext, new: ArticleInput) -> Article:
        """The caller is the author; linked customers and change requests must be ones the
        caller can see (422 otherwise)."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            article = self._new(ctx.principal, new, now)
            await self._check_links(uow, ctx.principal, new, None)
            await self._add(uow, article, now)
            await uow.commit()
            return article

    async def create_from_change_request(self, uow: UnitOfWork, ctx: RequestContext,
                                         title: str, body: str, tags: list[str],
                                         change_request_id: UUID, customer_id: UUID | None,
                                         now: datetime, *,
                                         kind: ArticleKind = ArticleKind.LESSON) -> Article:
        """An article written by another use case in its own unit of work, which commits
        it (or rolls it back) with the rest. The caller has already reached the change
        request and its customer, so the links are not checked again; the text is."""
        assert ctx.principal is not None
        article = self._new(ctx.principal, ArticleInput(
            kind=kind, title=title, body=body, tags=tags,
            change_request_ids=[change_request_id],
            customer_ids=[customer_id] if customer_id is not None else []), now)
        await self._add(uow, article, now)
        return article

    async def update(self, ctx: RequestContext, article_id: UUID, expected_version: int,
                     patch: ArticleInput) -> Article:
        """A change that changes nothing writes nothing (same version, no audit entry)."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._writable(uow, ctx.principal, article_id, expected_version)
            if current.archived_at is not None:
                raise InvalidState(state="article_archived")
            merged = filled_in(patch, current, patch.fields_set)
            errors = FieldErrors()
            text = clean_text(merged.title, merged.body, merged.tags, errors)
            links = {name: unique_links(name, getattr(merged, name), errors)
                     for name in LINK_FIELDS}
            errors.raise_if_any()
            await self._check_links(uow, ctx.principal, patch, current)
            changed = replace(current, kind=merged.kind, title=text.title, body=text.body,
                              tags=text.tags, **links)
            diff = changes(current.snapshot(), changed.snapshot())
            if not diff:
                return current
            return await self._save(uow, current, changed, "knowledge_article.updated", now,
                                    diff)

    async def set_archived(self, ctx: RequestContext, article_id: UUID, expected_version: int,
                           archived: bool) -> Article:
        """Archived articles leave the default list and cannot change until restored."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._writable(uow, ctx.principal, article_id, expected_version)
            if (current.archived_at is not None) == archived:
                raise InvalidState(state="article_archived" if archived
                                   else "article_not_archived")
            changed = replace(current, archived_at=now if archived else None)
            action = "knowledge_article.archived" if archived else "knowledge_article.restored"
            return await self._save(uow, current, changed, action, now,
                                    changes(current.snapshot(), changed.snapshot()))

    # helpers -------------------------------------------------------------------------

    @staticmethod
    def _new(author: Principal, new: ArticleInput, now: datetime) -> Article:
        assert author.department_id is not None, "articles are written by people"
        errors = FieldErrors()
        text = clean_text(new.title, new.body, new.tags, errors)
        links = {name: unique_links(name, getattr(new, name), errors) for name in LINK_FIELDS}
        errors.raise_if_any()
        return Article(id=new_id(), kind=new.kind, title=text.title, body=text.body,
                       tags=text.tags, author_id=author.id, department_id=author.department_id,
                       version=1, created_at=now, updated_at=now, **links)

    @staticmethod
    async def _check_links(uow: UnitOfWork, principal: Principal, requested: ArticleInput,
                           current: Article | None) -> None:
        """Whoever adds a link must see what it points to: customers by the customer record
        scope, change requests by theirs. Links already on the article stay as they are
        (an editor need not see every customer the author linked). Handovers are taken as
        given until the handover feature stores them."""
        errors = FieldErrors()
        checks = (("customer_ids", uow.customers, customer_read_scope(principal),
                   "customer_unknown"),
                  ("change_request_ids", uow.change_requests,
                   change_request_read_scope(principal), "change_request_unknown"))
        for name, repository, scope, reason in checks:
            if current is not None and name not in requested.fields_set:
                continue
            known = set(getattr(current, name)) if current is not None else set()
            for i, target_id in enumerate(getattr(requested, name)):
                if target_id in known:
                    continue
                if await repository.get(target_id, scope) is None:
                    errors.add(f"/{name}/{i}", reason)
                known.add(target_id)
        errors.raise_if_any()

    @staticmethod
    async def _writable(uow: UnitOfWork, principal: Principal, article_id: UUID,
                        expected_version: int) -> Article:
        """Locked for the rest of the transaction. An article the caller may read but not
        change is "not found" for a write, as everywhere else."""
        article = await uow.knowledge.get(article_id, write_scope(principal), for_update=True)
        if article is None:
            raise NotFound(entity=ENTITY)
        check_version(article.version, expected_version)
        return article

    async def _add(self, uow: UnitOfWork, article: Article, now: datetime) -> None:
        await uow.knowledge.add(article)
        self._record(uow, "knowledge_article.created", article, now, {},
                     after=article.snapshot())

    async def _save(self, uow: UnitOfWork, before: Article, after: Article, action: str,
                    now: datetime, diff: list[FieldChange]) -> Article:
        after.version = before.version + 1
        after.updated_at = now
        await uow.knowledge.save(after)
        # Unlinking the one customer still tells that customer's timeline.
        self._record(uow, action, after, now, {"changed": [c.field for c in diff]},
                     before={c.field: c.old for c in diff},
                     after={c.field: c.new for c in diff},
                     customer_id=after.timeline_customer or before.timeline_customer)
        await uow.commit()
        return after

    @staticmethod
    def _record(uow: UnitOfWork, action: str, article: Article, now: datetime,
                data: dict[str, Any], *, before: dict[str, Any] | None = None,
                after: dict[str, Any], customer_id: UUID | None = None) -> None:
        uow.record_change(action, ENTITY, article.id, before=before, after=after,
                          event={"title": article.title, "kind": article.kind, **data},
                          at=now, customer_id=customer_id or article.timeline_customer)
