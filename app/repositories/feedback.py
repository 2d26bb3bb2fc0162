"""Feedback items in SQL, and the reads customer health needs (open complaints, SLA
breaches, the last contact, open high risks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, union_all, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.scope import RecordScope
from app.domain.common.paging import Page, PageRequest
from app.domain.feedback.model import (
    OPEN_STATES,
    Confirmation,
    FeedbackChannel,
    FeedbackItem,
    FeedbackState,
    FeedbackType,
    Severity,
)
from app.domain.risk.matrix import RiskLevel
from app.domain.risk.register import RiskStatus
from app.repositories.filters import where_given, within_period
from app.repositories.paging import keyset, to_page
from app.repositories.scope import scope_filter
from app.repositories.tables_change_requests import change_requests, cr_communications
from app.repositories.tables_customers import customers
from app.repositories.tables_feedback import customer_health, feedback_items, survey_responses
from app.repositories.tables_handovers import handovers
from app.repositories.tables_risks import risks
from app.services.ports.feedback import CustomerSignals, FeedbackFilter, FeedbackRecord

SORTS = {"updated_at": feedback_items.c.updated_at, "received_at": feedback_items.c.received_at}
_OPEN = [s.value for s in OPEN_STATES]
_ITEM_FIELDS = ("id", "customer_id", "department_id", "owner_id", "summary", "received_at",
                "change_request_id", "plan_id", "handover_id", "acknowledged_at",
                "resolved_at", "confirmed_at", "resolution", "reopened_at", "reopen_count")
_RECORD_FIELDS = ("acknowledge_due_at", "resolve_due_at", "created_by", "created_at",
                  "updated_at", "version", "acknowledge_breached_at", "resolve_breached_at")


def _record(row: Row[Any]) -> FeedbackRecord:
    m = row._mapping
    confirmation = m["confirmation"]
    item = FeedbackItem(
        **{f: m[f] for f in _ITEM_FIELDS}, channel=FeedbackChannel(m["channel"]),
        type=FeedbackType(m["type"]), severity=Severity(m["severity"]),
        state=FeedbackState(m["state"]),
        confirmation=None if confirmation is None else Confirmation(
            recorded_by=UUID(confirmation["recorded_by"]),
            recorded_at=datetime.fromisoformat(confirmation["recorded_at"]),
            contact_id=UUID(confirmation["contact_id"]) if confirmation["contact_id"] else None,
            note=confirmation["note"]))
    return FeedbackRecord(item, **{f: m[f] for f in _RECORD_FIELDS})


def _values(record: FeedbackRecord) -> dict[str, Any]:
    item = record.item
    c = item.confirmation
    return {**{f: getattr(item, f) for f in _ITEM_FIELDS},
            **{f: getattr(record, f) for f in _RECORD_FIELDS},
            "channel": item.channel.value, "type": item.type.value,
            "severity": item.severity.value, "state": item.state.value,
            "confirmation": None if c is None else {
                "recorded_by": str(c.recorded_by), "recorded_at": c.recorded_at.isoformat(),
                "contact_id": str(c.contact_id) if c.contact_id else None, "note": c.note}}


def _due(now: datetime) -> ColumnElement[bool]:
    """Past a due time now: not acknowledged in time, or still open past the resolve due."""
    return or_(and_(feedback_items.c.acknowledged_at.is_(None),
                    feedback_items.c.acknowledge_due_at < now),
               and_(feedback_items.c.state.in_(_OPEN), feedback_items.c.resolve_due_at < now))


class SqlFeedbackRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @staticmethod
    def _scope(scope: RecordScope) -> ColumnElement[bool]:
        """The customer record scope: an account manager also reaches feedback about a
        customer shared with their department (as they reach the customer itself)."""
        shared = (select(customers.c.shared_with_department)
                  .where(customers.c.id == feedback_items.c.customer_id).scalar_subquery())
        return scope_filter(scope, department=feedback_items.c.department_id,
                            owner=feedback_items.c.owner_id, shared_with_department=shared)

    async def add(self, record: FeedbackRecord) -> None:
        await self._conn.execute(insert(feedback_items).values(**_values(record)))

    async def save(self, record: FeedbackRecord) -> None:
        values = _values(record)
        values.pop("id")
        await self._conn.execute(update(feedback_items)
                                 .where(feedback_items.c.id == record.item.id).values(**values))

    async def get(self, feedback_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> FeedbackRecord | None:
        stmt = select(feedback_items).where(feedback_items.c.id == feedback_id,
                                            self._scope(scope))
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return _record(row) if row else None

    async def list(self, scope: RecordScope, filters: FeedbackFilter,
                   page: PageRequest) -> Page[FeedbackRecord]:
        conditions = [self._scope(scope)]
        conditions += where_given(((feedback_items.c.state, filters.state),
                                   (feedback_items.c.type, filters.type),
                                   (feedback_items.c.severity, filters.severity),
                                   (feedback_items.c.customer_id, filters.customer_id),
                                   (feedback_items.c.owner_id, filters.owner_id),
                                   (feedback_items.c.department_id, filters.department_id),
                                   (feedback_items.c.change_request_id, filters.change_request_id),
                                   (feedback_items.c.handover_id, filters.handover_id)))
        if filters.open_only:
            conditions.append(feedback_items.c.state.in_(_OPEN))
        if filters.breached_at is not None:
            conditions.append(_due(filters.breached_at))
        stmt = keyset(select(feedback_items).where(*conditions), SORTS, feedback_items.c.id,
                      page)
        rows = (await self._conn.execute(stmt)).all()
        column = page.sort.field
        return to_page(rows, page, _record, lambda r: (getattr(r, column), r.id))

    async def breaches_to_announce(self, now: datetime, limit: int) -> list[FeedbackRecord]:
        ack = and_(feedback_items.c.acknowledged_at.is_(None),
                   feedback_items.c.acknowledge_due_at < now,
                   feedback_items.c.acknowledge_breached_at.is_(None))
        resolve = and_(feedback_items.c.state.in_(_OPEN),
                       feedback_items.c.resolve_due_at < now,
                       feedback_items.c.resolve_breached_at.is_(None))
        rows = await self._conn.execute(
            select(feedback_items).where(or_(ack, resolve))
            .order_by(feedback_items.c.acknowledge_due_at, feedback_items.c.id).limit(limit)
            .with_for_update(skip_locked=True))
        return [_record(r) for r in rows]

    async def open_of_customer(self, customer_id: UUID) -> list[FeedbackRecord]:
        rows = await self._conn.execute(
            select(feedback_items).where(feedback_items.c.customer_id == customer_id,
                                         feedback_items.c.state.in_(_OPEN))
            .order_by(feedback_items.c.received_at, feedback_items.c.id))
        return [_record(r) for r in rows]

    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        moved = (await self._conn.execute(
            update(feedback_items).where(feedback_items.c.customer_id == customer_id,
                                         feedback_items.c.owner_id == from_id,
                                         feedback_items.c.state.in_(_OPEN))
            .values(owner_id=to_id, updated_at=now, version=feedback_items.c.version + 1)
            .returning(feedback_items.c.id, feedback_items.c.type))).all()
        return [{"id": str(r.id), "type": r.type} for r in moved]

    async def in_period(self, scope: RecordScope, since: datetime | None,
                        until: datetime | None,
                        department_id: UUID | None) -> list[FeedbackRecord]:
        stmt = select(feedback_items).where(
            self._scope(scope), *within_period(feedback_items.c.received_at, since, until),
            *where_given([(feedback_items.c.department_id, department_id)]))
        return [_record(r) for r in await self._conn.execute(
            stmt.order_by(feedback_items.c.received_at))]

    async def signals(self, customer_id: UUID, since: datetime) -> CustomerSignals:
        conn = self._conn
        mine = feedback_items.c.customer_id == customer_id
        complaints = (await conn.execute(select(func.count()).where(
            mine, feedback_items.c.type == FeedbackType.COMPLAINT.value,
            feedback_items.c.state.in_(_OPEN)))).scalar_one()
        breaches = (await conn.execute(select(func.count()).where(
            mine, or_(feedback_items.c.acknowledge_breached_at >= since,
                      feedback_items.c.resolve_breached_at >= since)))).scalar_one()
        contacts = union_all(
            select(func.max(cr_communications.c.reported_at).label("at"))
            .join(change_requests, change_requests.c.id == cr_communications.c.change_request_id)
            .where(change_requests.c.customer_id == customer_id),
            select(func.max(feedback_items.c.received_at).label("at")).where(mine),
            select(func.max(survey_responses.c.submitted_at).label("at"))
            .where(survey_responses.c.customer_id == customer_id),
            select(func.max(handovers.c.followed_up_at).label("at"))
            .where(handovers.c.customer_id == customer_id)).subquery()
        last = (await conn.execute(select(func.max(contacts.c.at)))).scalar_one_or_none()
        high = (await conn.execute(select(func.count()).where(
            risks.c.customer_id == customer_id, risks.c.status != RiskStatus.CLOSED.value,
            risks.c.level >= int(RiskLevel.HIGH)))).scalar_one()
        if isinstance(last, str):  # SQLite returns the MAX of a UNION as text
            last = datetime.fromisoformat(last)
        return CustomerSignals(int(complaints), int(breaches), last, int(high))

    async def customers_to_check(self, after: UUID | None, limit: int) -> list[UUID]:
        stmt = select(customers.c.id).where(customers.c.archived_at.is_(None))
        if after is not None:
            stmt = stmt.where(customers.c.id > after)
        return list((await self._conn.execute(stmt.order_by(customers.c.id).limit(limit)))
                    .scalars())

    async def last_health(self, customer_id: UUID) -> bool | None:
        return (await self._conn.execute(
            select(customer_health.c.below_threshold)
            .where(customer_health.c.customer_id == customer_id))).scalar_one_or_none()

    async def store_health(self, customer_id: UUID, score: float, below: bool,
                           now: datetime) -> None:
        values = {"score": round(score * 10), "below_threshold": below, "computed_at": now}
        done = await self._conn.execute(update(customer_health)
                                        .where(customer_health.c.customer_id == customer_id)
                                        .values(**values))
        if done.rowcount == 0:
            await self._conn.execute(insert(customer_health)
                                     .values(customer_id=customer_id, **values))
