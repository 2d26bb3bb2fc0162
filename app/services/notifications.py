"""In-app notifications (issue 15 §4): the outbox consumer that stages them (and the
e-mails of users who opted in) in the relay's transaction, and the signed-in user's inbox
and preferences. Who is told what is the domain's rule (``app.domain.notifications``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.common.errors import NotFound
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.versions import AnyOf, check_version
from app.domain.notifications.rules import (
    Approvers,
    Audience,
    CustomerOwner,
    DepartmentHeads,
    Occurred,
    Person,
    approvers,
    notices_for,
)
from app.services.ports import Clock, RequestContext
from app.services.ports.notifications import (
    EmailLinks,
    Notification,
    OutgoingEmail,
    Preferences,
)
from app.services.ports.outbox import PublishedEvent
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

LANGUAGES = ("zh-CN", "en")
NOTIFICATION_EMAIL = "notification"  # the e-mail template of every notification kind


class NotificationConsumer:
    """Turns announced events into notifications for the people the rule names, and an
    e-mail each for those who opted in; only stages rows in the unit of work it is given
    (it reads who holds a role, who stands in, who owns a customer)."""

    name = "notifications"

    def __init__(self, clock: Clock, links: EmailLinks = EmailLinks()) -> None:
        self._clock = clock
        self._links = links

    async def consume(self, uow: UnitOfWork, events: Sequence[PublishedEvent]) -> None:
        now = self._clock.now()
        resolved: dict[Audience, frozenset[UUID]] = {}
        staged: list[Notification] = []
        for event in events:
            for notice in notices_for(Occurred(event.type, event.entity_type,
                                               event.entity_id, event.data)):
                told: set[UUID] = set()
                for audience in notice.audiences:
                    if audience not in resolved:
                        resolved[audience] = await self._resolve(uow, audience, now)
                    told |= resolved[audience]
                staged += [Notification(new_id(), user_id, notice.kind, notice.entity_type,
                                        notice.entity_id, notice.path, notice.details,
                                        event.id, event.occurred_at)
                           for user_id in sorted(told)]
        people = {r.user_id: r for r in await uow.notifications.recipients(
            sorted({n.user_id for n in staged}))}
        staged = [n for n in staged if n.user_id in people and people[n.user_id].active]
        await uow.notifications.add(staged)
        await uow.emails.add([OutgoingEmail(
            new_id(), people[n.user_id].email, NOTIFICATION_EMAIL,
            people[n.user_id].language or self._links.default_language,
            {"kind": n.kind, "details": n.details, "entity_type": n.entity_type,
             "url": self._links.base_url.rstrip("/") + n.path}, now)
            for n in staged if people[n.user_id].email_opt_in])

    @staticmethod
    async def _resolve(uow: UnitOfWork, audience: Audience, now: datetime) -> frozenset[UUID]:
        if isinstance(audience, Person):
            return frozenset({audience.user_id})
        if isinstance(audience, DepartmentHeads):
            return frozenset(h.user_id for h in await uow.notifications.holders(
                Role.DEPARTMENT_HEAD, audience.department_id))
        if isinstance(audience, CustomerOwner):
            owner = await uow.notifications.customer_owner(audience.customer_id)
            return frozenset({owner}) if owner else frozenset()
        assert isinstance(audience, Approvers)
        holders = await uow.notifications.holders(audience.role, audience.department_id)
        deputies = await uow.change_requests.active_delegations(audience.role, None, now)
        return approvers(audience, holders, deputies, now)


class NotificationService:
    """The signed-in user's own notifications and preferences; nobody reads another's."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def list(self, ctx: RequestContext, unread_only: bool,
                   page: PageRequest) -> Page[Notification]:
        async with self._uow(ctx, write=False) as uow:
            return await uow.notifications.list(ctx.actor.id, unread_only, page)

    async def mark_read(self, ctx: RequestContext, notification_id: UUID) -> Notification:
        """Idempotent: a notification read already keeps its first reading time."""
        async with self._uow(ctx) as uow:
            await uow.notifications.mark_read(ctx.actor.id, [notification_id],
                                              self._clock.now())
            found = await uow.notifications.get(ctx.actor.id, notification_id)
            if found is None:
                raise NotFound(entity="notification")
            await uow.commit()
            return found

    async def mark_all_read(self, ctx: RequestContext) -> int:
        async with self._uow(ctx) as uow:
            marked = await uow.notifications.mark_read(ctx.actor.id, None, self._clock.now())
            await uow.commit()
            return marked

    async def preferences(self, ctx: RequestContext, fallback_language: str) -> Preferences:
        """Stored ones, or the defaults (no e-mail; the language the caller reads) at
        version 0."""
        async with self._uow(ctx, write=False) as uow:
            return await self._current(uow, ctx.actor.id, fallback_language)

    async def set_preferences(self, ctx: RequestContext, expected_version: int | AnyOf,
                              changes: dict[str, Any], fallback_language: str) -> Preferences:
        """``changes``: ``email`` and/or ``language`` (one of ``LANGUAGES``, which the
        route's schema enforces); the first save also fixes the language (the caller's
        ``Accept-Language`` unless named)."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._current(uow, ctx.actor.id, fallback_language)
            check_version(current.version, expected_version)
            saved = replace(current, **changes, version=current.version + 1, updated_at=now)
            await uow.notifications.save_preferences(saved)
            uow.record_change("notification_preferences.updated", "user", ctx.actor.id,
                              before=_audited(current), after=_audited(saved))
            await uow.commit()
            return saved

    @staticmethod
    async def _current(uow: UnitOfWork, user_id: UUID, fallback_language: str) -> Preferences:
        stored = await uow.notifications.preferences(user_id)
        return stored or Preferences(user_id, email=False, language=fallback_language,
                                     version=0)


def _audited(p: Preferences) -> dict[str, Any]:
    return {"email": p.email, "language": p.language}
