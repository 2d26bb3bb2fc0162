"""SQL adapters of notifications, reminders and the e-mail outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.roles import Role
from app.domain.common.paging import Page, PageRequest
from app.domain.feedback.model import OPEN_STATES
from app.domain.notifications.rules import Holder
from app.repositories.paging import keyset, to_page
from app.repositories.tables import user_roles, users
from app.repositories.tables_change_requests import change_requests, cr_approval_steps
from app.repositories.tables_customers import customers
from app.repositories.tables_feedback import feedback_items
from app.repositories.tables_handovers import handovers
from app.repositories.tables_interactions import contact_schedules
from app.repositories.tables_notifications import (
    email_outbox,
    notification_preferences,
    notifications,
    reminders_sent,
)
from app.repositories.tables_plans import plans
from app.services.ports.notifications import (
    ContactDue,
    FeedbackDue,
    FollowUpDue,
    MilestoneDue,
    Notification,
    OutgoingEmail,
    Preferences,
    Recipient,
    StepDue,
)

SORTS = {"created_at": notifications.c.created_at}


class SqlNotificationRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, items: Sequence[Notification]) -> None:
        if items:
            await self._conn.execute(insert(notifications), [n.__dict__ for n in items])

    async def list(self, user_id: UUID, unread_only: bool,
                   page: PageRequest) -> Page[Notification]:
        stmt = select(notifications).where(notifications.c.user_id == user_id)
        if unread_only:
            stmt = stmt.where(notifications.c.read_at.is_(None))
        rows = (await self._conn.execute(keyset(stmt, SORTS, notifications.c.id, page))).all()
        return to_page(rows, page, lambda r: Notification(**r._mapping),
                       lambda r: (r.created_at, r.id))

    async def get(self, user_id: UUID, notification_id: UUID) -> Notification | None:
        row = (await self._conn.execute(select(notifications).where(
            notifications.c.id == notification_id,
            notifications.c.user_id == user_id))).one_or_none()
        return Notification(**row._mapping) if row else None

    async def mark_read(self, user_id: UUID, notification_ids: Sequence[UUID] | None,
                        now: datetime) -> int:
        stmt = update(notifications).where(notifications.c.user_id == user_id,
                                           notifications.c.read_at.is_(None))
        if notification_ids is not None:
            stmt = stmt.where(notifications.c.id.in_(list(notification_ids)))
        result = await self._conn.execute(stmt.values(read_at=now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def holders(self, role: Role, department_id: UUID | None) -> list[Holder]:
        stmt = select(users.c.id, users.c.department_id).join(
            user_roles, user_roles.c.user_id == users.c.id).where(
            user_roles.c.role == role, users.c.active.is_(True))
        if department_id is not None:
            stmt = stmt.where(users.c.department_id == department_id)
        return [Holder(r.id, r.department_id) for r in await self._conn.execute(stmt)]

    async def customer_owner(self, customer_id: UUID) -> UUID | None:
        return await self._conn.scalar(select(customers.c.owner_id).where(
            customers.c.id == customer_id))

    async def recipients(self, user_ids: Sequence[UUID]) -> list[Recipient]:
        if not user_ids:
            return []
        prefs = notification_preferences
        rows = await self._conn.execute(
            select(users.c.id, users.c.email, users.c.active, prefs.c.email.label("opt_in"),
                   prefs.c.language)
            .select_from(users.outerjoin(prefs, prefs.c.user_id == users.c.id))
            .where(users.c.id.in_(list(user_ids))))
        return [Recipient(r.id, r.email, r.active, bool(r.opt_in), r.language) for r in rows]

    async def preferences(self, user_id: UUID) -> Preferences | None:
        row = (await self._conn.execute(select(notification_preferences).where(
            notification_preferences.c.user_id == user_id))).one_or_none()
        return Preferences(**row._mapping) if row else None

    async def save_preferences(self, p: Preferences) -> None:
        values = {"email": p.email, "language": p.language, "version": p.version,
                  "updated_at": p.updated_at}
        if p.version == 1:
            await self._conn.execute(insert(notification_preferences).values(
                user_id=p.user_id, **values))
        else:
            await self._conn.execute(update(notification_preferences).where(
                notification_preferences.c.user_id == p.user_id).values(**values))


class SqlEmailOutbox:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, emails: Sequence[OutgoingEmail]) -> None:
        if emails:
            await self._conn.execute(insert(email_outbox), [
                {**e.__dict__, "next_attempt_at": e.created_at} for e in emails])

    async def claim(self, now: datetime, lease_until: datetime,
                    limit: int) -> list[OutgoingEmail]:
        t = email_outbox
        rows = (await self._conn.execute(
            select(t.c.id, t.c.to_address, t.c.kind, t.c.language, t.c.context,
                   t.c.created_at, t.c.attempts)
            .where(t.c.next_attempt_at <= now).order_by(t.c.next_attempt_at).limit(limit)
            .with_for_update(skip_locked=True))).all()
        if rows:
            await self._conn.execute(update(t).where(t.c.id.in_([r.id for r in rows]))
                                     .values(next_attempt_at=lease_until,
                                             attempts=t.c.attempts + 1))
        return [OutgoingEmail(**{**r._mapping, "attempts": r.attempts + 1}) for r in rows]

    async def sent(self, email_id: UUID, now: datetime) -> None:
        """The content goes once sent: a survey invitation's link is a secret."""
        await self._conn.execute(update(email_outbox).where(email_outbox.c.id == email_id)
                                 .values(sent_at=now, next_attempt_at=None, last_error=None,
                                         context={}))

    async def failed(self, email_id: UUID, error: str, next_attempt_at: datetime | None,
                     now: datetime) -> None:
        await self._conn.execute(update(email_outbox).where(email_outbox.c.id == email_id)
                                 .values(next_attempt_at=next_attempt_at, last_error=error[:500],
                                         failed_at=None if next_attempt_at else now))


class SqlReminderRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def steps_due_between(self, after: datetime, until: datetime,
                                limit: int) -> list[StepDue]:
        s, cr = cr_approval_steps, change_requests
        rows = await self._conn.execute(
            select(s.c.id, s.c.change_request_id, cr.c.title, cr.c.requester_id, s.c.position,
                   s.c.role, s.c.department_id, s.c.due_at)
            .join(cr, cr.c.id == s.c.change_request_id)
            .where(s.c.status == "pending", cr.c.state == "awaiting_approval",
                   s.c.due_at > after, s.c.due_at <= until)
            .order_by(s.c.due_at).limit(limit))
        return [StepDue(r.id, r.change_request_id, r.title, r.requester_id, r.position,
                        Role(r.role), r.department_id, r.due_at) for r in rows]

    async def follow_ups_due_between(self, first_day: date, last_day: date,
                                     limit: int) -> list[FollowUpDue]:
        h = handovers
        rows = await self._conn.execute(
            select(h.c.id, h.c.customer_name, h.c.to_manager_id, h.c.department_id,
                   h.c.follow_up_due)
            .where(h.c.state == "transferred", h.c.follow_up_due.is_not(None),
                   h.c.follow_up_due >= first_day, h.c.follow_up_due <= last_day)
            .order_by(h.c.follow_up_due).limit(limit))
        return [FollowUpDue(*r) for r in rows]

    async def feedback_due_between(self, after: datetime, until: datetime,
                                   limit: int) -> list[FeedbackDue]:
        f = feedback_items
        is_open = f.c.state.in_([str(s) for s in OPEN_STATES])
        acknowledge = and_(f.c.acknowledged_at.is_(None), f.c.acknowledge_due_at > after,
                           f.c.acknowledge_due_at <= until)
        resolve = and_(f.c.resolve_due_at > after, f.c.resolve_due_at <= until)
        rows = await self._conn.execute(
            select(f.c.id, f.c.owner_id, f.c.type, f.c.severity, f.c.acknowledged_at,
                   f.c.acknowledge_due_at, f.c.resolve_due_at)
            .where(is_open, or_(acknowledge, resolve)).order_by(f.c.resolve_due_at)
            .limit(limit))
        found: list[FeedbackDue] = []
        for r in rows:
            if r.acknowledged_at is None and after < r.acknowledge_due_at <= until:
                found.append(FeedbackDue(r.id, r.owner_id, r.type, r.severity, "acknowledge",
                                         r.acknowledge_due_at))
            if after < r.resolve_due_at <= until:
                found.append(FeedbackDue(r.id, r.owner_id, r.type, r.severity, "resolve",
                                         r.resolve_due_at))
        return found

    async def milestones_due_between(self, first_day: date, last_day: date,
                                     limit: int) -> list[MilestoneDue]:
        """Milestones are JSON on their plan's row: the active plans are read and their
        milestones picked here (a plan has a handful)."""
        found: list[MilestoneDue] = []
        rows = await self._conn.execute(
            select(plans.c.id, plans.c.title, plans.c.owner_id, plans.c.milestones)
            .where(plans.c.state == "active").order_by(plans.c.id))
        for r in rows:
            for m in r.milestones:
                planned = date.fromisoformat(m["planned_date"])
                if m.get("status") != "done" and first_day <= planned <= last_day:
                    owner = UUID(m["owner_id"]) if m.get("owner_id") else r.owner_id
                    found.append(MilestoneDue(r.id, r.title, UUID(m["id"]), m["title"],
                                              planned, owner))
        found.sort(key=lambda d: d.planned_date)
        return found[:limit]

    async def contacts_due_between(self, first_day: date, last_day: date,
                                   limit: int) -> list[ContactDue]:
        s, c = contact_schedules, customers
        rows = await self._conn.execute(
            select(s.c.customer_id, c.c.name, s.c.due_on).join(c, c.c.id == s.c.customer_id)
            .where(s.c.due_on >= first_day, s.c.due_on <= last_day,
                   c.c.archived_at.is_(None), c.c.merged_into.is_(None))
            .order_by(s.c.due_on).limit(limit))
        return [ContactDue(*r) for r in rows]

    async def claim(self, kind: str, record_id: UUID, due: str, now: datetime) -> bool:
        """One insert that does nothing on a key already taken: of two runs at once, the
        second waits for the first's commit and then finds the key taken."""
        dialect_insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        result = await self._conn.execute(dialect_insert(reminders_sent).values(
            kind=kind, record_id=str(record_id), due=due, sent_at=now).on_conflict_do_nothing())
        return bool(result.rowcount)  # type: ignore[attr-defined]
