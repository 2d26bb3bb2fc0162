"""Handovers in SQL, and the read model of a customer's open work that a handover checks,
rates and moves."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, false, func, insert, or_, select, true, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.change_requests.model import CRState, TaskStatus
from app.domain.common.paging import Page, PageRequest
from app.domain.feedback.model import OPEN_STATES as FEEDBACK_OPEN
from app.domain.feedback.model import FeedbackType
from app.domain.handovers.access import HandoverReach
from app.domain.handovers.model import (
    OPEN_STATES,
    ChecklistItem,
    Finding,
    Handover,
    HandoverLevel,
    HandoverReason,
    HandoverRisk,
    HandoverState,
    Notification,
    RiskFactor,
    Signature,
    SignatureRole,
    Stakeholder,
)
from app.domain.risk.matrix import RiskLevel
from app.domain.risk.register import RiskStatus
from app.repositories.filters import where_given
from app.repositories.paging import keyset, to_page
from app.repositories.tables_change_requests import change_requests, cr_tasks
from app.repositories.tables_customers import customer_history, customers
from app.repositories.tables_feedback import feedback_items
from app.repositories.tables_handovers import (
    handover_batches,
    handover_findings,
    handover_items,
    handover_notifications,
    handover_signatures,
    handovers,
)
from app.repositories.tables_risks import risks
from app.services.ports.handovers import CustomerWork, HandoverFilter

SORTS = {"updated_at": handovers.c.updated_at, "created_at": handovers.c.created_at}
CLOSED_CR_STATES = (CRState.CLOSED, CRState.REJECTED, CRState.CANCELLED)
OPEN_TASK_STATES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)
_SCALARS = ("id", "batch_id", "customer_id", "customer_name", "department_id",
            "from_manager_id", "to_manager_id", "planned_date", "note", "state",
            "notified_at", "preparation_started_at", "meeting", "meeting_held_at", "signed_at",
            "transferred_at", "transfer", "follow_up_due", "follow_up", "followed_up_at",
            "follow_up_escalated_at", "pulse_due_on", "cancelled_at", "cancel_reason",
            "created_by", "created_at", "updated_at", "version", "level_reasons")


def _handover(row: Row[Any]) -> Handover:
    m = row._mapping
    values = {name: m[name] for name in _SCALARS}
    values.update(reason=HandoverReason(m["reason"]), level=HandoverLevel(m["level"]),
                  state=HandoverState(m["state"]),
                  risk=HandoverRisk(m["likelihood"], m["impact"], m["risk_level"],
                                    tuple(RiskFactor(**f) for f in m["risk_factors"])))
    return Handover(**values)


def _values(h: Handover) -> dict[str, Any]:
    values = {name: getattr(h, name) for name in _SCALARS}
    values.update(reason=h.reason.value, level=h.level.value, state=h.state.value,
                  likelihood=h.risk.likelihood, impact=h.risk.impact, risk_level=h.risk.level,
                  risk_factors=[{"name": f.name, "value": f.value, "points": f.points}
                                for f in h.risk.factors])
    return values


def _item_values(item: ChecklistItem) -> dict[str, Any]:
    return {"key": item.key, "position": item.position, "summary": item.summary,
            "handing_over_verified_by": item.handing_over_verified_by,
            "handing_over_verified_at": item.handing_over_verified_at,
            "receiving_verified_by": item.receiving_verified_by,
            "receiving_verified_at": item.receiving_verified_at}


def _reach(reach: HandoverReach) -> ColumnElement[bool]:
    if reach.everything:
        return true()
    mine = or_(handovers.c.from_manager_id == reach.user_id,
               handovers.c.to_manager_id == reach.user_id)
    if reach.head_of is not None:
        return or_(mine, handovers.c.department_id == reach.head_of)
    return mine if reach.user_id is not None else false()


class SqlHandoverRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_batch(self, values: dict[str, Any]) -> None:
        await self._conn.execute(insert(handover_batches).values(**values))

    async def add(self, handover: Handover) -> None:
        await self._conn.execute(insert(handovers).values(**_values(handover)))
        if handover.items:
            await self._conn.execute(insert(handover_items), [
                {"handover_id": handover.id, **_item_values(i)} for i in handover.items])

    async def save(self, handover: Handover) -> None:
        values = _values(handover)
        values.pop("id")
        await self._conn.execute(update(handovers).where(handovers.c.id == handover.id)
                                 .values(**values))

    async def get(self, handover_id: UUID, reach: HandoverReach, *,
                  for_update: bool = False) -> Handover | None:
        stmt = select(handovers).where(handovers.c.id == handover_id, _reach(reach))
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        if row is None:
            return None
        h = _handover(row)
        h.items = [ChecklistItem(**{k: v for k, v in r._mapping.items() if k != "handover_id"})
                   for r in await self._conn.execute(
                       select(handover_items).where(handover_items.c.handover_id == h.id)
                       .order_by(handover_items.c.position))]
        h.findings = [Finding(**{k: v for k, v in r._mapping.items() if k != "handover_id"})
                      for r in await self._conn.execute(
                          select(handover_findings)
                          .where(handover_findings.c.handover_id == h.id)
                          .order_by(handover_findings.c.raised_at, handover_findings.c.id))]
        h.signatures = [Signature(SignatureRole(r.role), r.signer_id, r.signed_at,
                                  r.on_behalf_of)
                        for r in await self._conn.execute(
                            select(handover_signatures)
                            .where(handover_signatures.c.handover_id == h.id)
                            .order_by(handover_signatures.c.signed_at))]
        h.notifications = [
            Notification(r.id, Stakeholder(r.stakeholder), r.user_id, r.contact_id, r.channel,
                         r.notified_at, r.recorded_by, r.note)
            for r in await self._conn.execute(
                select(handover_notifications)
                .where(handover_notifications.c.handover_id == h.id)
                .order_by(handover_notifications.c.notified_at, handover_notifications.c.id))]
        return h

    async def list(self, reach: HandoverReach, filters: HandoverFilter,
                   page: PageRequest) -> Page[Handover]:
        conditions = [_reach(reach)]
        conditions += where_given(((handovers.c.state, filters.state),
                                   (handovers.c.customer_id, filters.customer_id),
                                   (handovers.c.batch_id, filters.batch_id),
                                   (handovers.c.department_id, filters.department_id)))
        if filters.open_only:
            conditions.append(handovers.c.state.in_([s.value for s in OPEN_STATES]))
        if filters.manager_id is not None:
            conditions.append(or_(handovers.c.from_manager_id == filters.manager_id,
                                  handovers.c.to_manager_id == filters.manager_id))
        if filters.follow_up_overdue_on is not None:
            conditions.append(and_(handovers.c.state == HandoverState.TRANSFERRED.value,
                                   handovers.c.follow_up_due < filters.follow_up_overdue_on))
        stmt = keyset(select(handovers).where(*conditions), SORTS, handovers.c.id, page)
        rows = (await self._conn.execute(stmt)).all()
        column = page.sort.field
        return to_page(rows, page, _handover, lambda r: (getattr(r, column), r.id))

    async def open_for_customer(self, customer_id: UUID) -> UUID | None:
        return (await self._conn.execute(
            select(handovers.c.id).where(handovers.c.customer_id == customer_id,
                                         handovers.c.state.in_([s.value for s in OPEN_STATES]))
        )).scalar_one_or_none()

    async def receiving(self, customer_id: UUID, user_id: UUID) -> bool:
        found = (await self._conn.execute(
            select(handovers.c.id).where(handovers.c.customer_id == customer_id,
                                         handovers.c.to_manager_id == user_id,
                                         handovers.c.state.in_([s.value for s in OPEN_STATES]))
        )).first()
        return found is not None

    async def save_item(self, handover_id: UUID, item: ChecklistItem) -> None:
        values = _item_values(item)
        await self._conn.execute(update(handover_items).where(
            handover_items.c.handover_id == handover_id, handover_items.c.key == item.key)
            .values(**values))

    async def add_finding(self, handover_id: UUID, finding: Finding) -> None:
        await self._conn.execute(insert(handover_findings).values(
            handover_id=handover_id, **finding.__dict__))

    async def save_finding(self, finding: Finding) -> None:
        await self._conn.execute(update(handover_findings)
                                 .where(handover_findings.c.id == finding.id)
                                 .values(resolved_by=finding.resolved_by,
                                         resolution=finding.resolution,
                                         resolved_at=finding.resolved_at))

    async def add_signature(self, handover_id: UUID, signature: Signature) -> None:
        await self._conn.execute(insert(handover_signatures).values(
            handover_id=handover_id, role=signature.role.value, signer_id=signature.signer_id,
            on_behalf_of=signature.on_behalf_of, signed_at=signature.signed_at))

    async def add_notification(self, handover_id: UUID, notification: Notification) -> None:
        await self._conn.execute(insert(handover_notifications).values(
            handover_id=handover_id, id=notification.id,
            stakeholder=notification.stakeholder.value, user_id=notification.user_id,
            contact_id=notification.contact_id, channel=notification.channel,
            notified_at=notification.notified_at, recorded_by=notification.recorded_by,
            note=notification.note))

    async def customer_work(self, customer_id: UUID, owner_id: UUID) -> CustomerWork:
        conn = self._conn
        created = (await conn.execute(select(customers.c.created_at)
                                      .where(customers.c.id == customer_id))).scalar_one()
        owned = (await conn.execute(
            select(func.max(customer_history.c.occurred_at))
            .where(customer_history.c.customer_id == customer_id,
                   customer_history.c.field == "owner_id"))).scalar_one_or_none()
        crs = (await conn.execute(
            select(change_requests.c.id, change_requests.c.title, change_requests.c.state,
                   change_requests.c.risk_level, change_requests.c.requester_id,
                   change_requests.c.requested_completion_date)
            .where(change_requests.c.customer_id == customer_id)
            .order_by(change_requests.c.created_at, change_requests.c.id))).all()
        open_crs = [{"id": str(r.id), "title": r.title, "state": r.state,
                     "risk_level": r.risk_level,
                     "requested_completion_date": r.requested_completion_date.isoformat()
                     if r.requested_completion_date else None}
                    for r in crs if r.state not in CLOSED_CR_STATES]
        tasks = (await conn.execute(
            select(cr_tasks.c.id, cr_tasks.c.title, cr_tasks.c.assignee_id, cr_tasks.c.due_date,
                   cr_tasks.c.status, cr_tasks.c.change_request_id)
            .join(change_requests, change_requests.c.id == cr_tasks.c.change_request_id)
            .where(change_requests.c.customer_id == customer_id,
                   cr_tasks.c.status.in_(OPEN_TASK_STATES))
            .order_by(cr_tasks.c.created_at, cr_tasks.c.id))).all()
        open_risks = (await conn.execute(
            select(risks.c.id, risks.c.title, risks.c.level, risks.c.owner_id, risks.c.status)
            .where(risks.c.customer_id == customer_id, risks.c.status != RiskStatus.CLOSED)
            .order_by(risks.c.level.desc(), risks.c.id))).all()
        satisfaction = (await conn.execute(
            select(change_requests.c.customer_satisfaction)
            .where(change_requests.c.customer_id == customer_id,
                   change_requests.c.customer_satisfaction.is_not(None))
            .order_by(change_requests.c.reviewed_at.desc()).limit(1))).scalar_one_or_none()
        complaints = (await conn.execute(
            select(func.count()).where(feedback_items.c.customer_id == customer_id,
                                       feedback_items.c.type == FeedbackType.COMPLAINT.value,
                                       feedback_items.c.state.in_(
                                           [s.value for s in FEEDBACK_OPEN])))).scalar_one()
        return CustomerWork(
            owner_since=owned or created, open_complaints=int(complaints),
            open_change_requests=open_crs,
            open_tasks=[{"id": str(r.id), "title": r.title, "status": r.status,
                         "assignee_id": str(r.assignee_id),
                         "change_request_id": str(r.change_request_id),
                         "due_date": r.due_date.isoformat() if r.due_date else None}
                        for r in tasks],
            open_risks=[{"id": str(r.id), "title": r.title, "status": r.status,
                         "level": RiskLevel(r.level).label, "owner_id": str(r.owner_id)}
                        for r in open_risks],
            closed_change_requests=sum(1 for r in crs if r.state == CRState.CLOSED),
            latest_satisfaction=satisfaction)

    async def overdue_follow_ups(self, today: date, limit: int) -> list[Handover]:
        rows = (await self._conn.execute(
            select(handovers).where(handovers.c.state == HandoverState.TRANSFERRED.value,
                                    handovers.c.follow_up_due < today,
                                    handovers.c.follow_up_escalated_at.is_(None))
            .order_by(handovers.c.follow_up_due, handovers.c.id).limit(limit)
            .with_for_update(skip_locked=True))).all()
        return [_handover(r) for r in rows]

