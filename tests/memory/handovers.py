"""Handovers, their parts, and the read model of a customer's open work, in memory
(``HandoverRepository``), as ``repositories/handovers.py`` reads and writes them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from app.domain.change_requests.model import CRState
from app.domain.common.errors import WriteConflict
from app.domain.common.paging import Page, PageRequest
from app.domain.feedback.model import FeedbackType
from app.domain.handovers.access import HandoverReach
from app.domain.handovers.model import (
    OPEN_STATES,
    ChecklistItem,
    Finding,
    Handover,
    HandoverState,
    Notification,
    Signature,
)
from app.domain.risk.register import RiskStatus
from app.services.ports.handovers import CustomerWork, HandoverFilter
from tests.memory.change_requests import CLOSED, OPEN_TASK
from tests.memory.store import Working, copied, page_of

PARTS = ("items", "findings", "signatures", "notifications")


def reaches(reach: HandoverReach, h: Handover) -> bool:
    """The SQL ``_reach``: everything, the two managers, and a head's department."""
    if reach.everything:
        return True
    mine = reach.user_id is not None and reach.user_id in (h.from_manager_id, h.to_manager_id)
    return mine or (reach.head_of is not None and h.department_id == reach.head_of)


class MemoryHandoverRepository:
    def __init__(self, tables: Working) -> None:
        self._t = tables

    async def add_batch(self, values: dict[str, Any]) -> None:
        self._t.handover_batches[values["id"]] = copied(values)

    async def add(self, handover: Handover) -> None:
        if handover.id in self._t.handovers or (
                handover.state in OPEN_STATES
                and await self.open_for_customer(handover.customer_id) is not None):
            raise WriteConflict()  # the key, and the partial unique index on open ones
        self._t.handovers[handover.id] = self._row(handover)
        self._t.handover_parts[handover.id] = {
            "items": copied(handover.items), "findings": [], "signatures": [],
            "notifications": []}

    async def save(self, handover: Handover) -> None:
        """The row only: items, findings, signatures and notifications have their own."""
        assert handover.id in self._t.handovers
        self._t.handovers[handover.id] = self._row(handover)

    @staticmethod
    def _row(h: Handover) -> Handover:
        return replace(copied(h), **{part: [] for part in PARTS})

    async def get(self, handover_id: UUID, reach: HandoverReach, *,
                  for_update: bool = False) -> Handover | None:
        row = self._t.handovers.get(handover_id)
        if row is None or not reaches(reach, row):
            return None
        parts = self._t.handover_parts[handover_id]
        return replace(copied(row),
                       items=sorted(copied(parts["items"]), key=lambda i: i.position),
                       findings=sorted(copied(parts["findings"]),
                                       key=lambda f: (f.raised_at, f.id)),
                       signatures=sorted(copied(parts["signatures"]),
                                         key=lambda s: s.signed_at),
                       notifications=sorted(copied(parts["notifications"]),
                                            key=lambda n: (n.notified_at, n.id)))

    async def list(self, reach: HandoverReach, filters: HandoverFilter,
                   page: PageRequest) -> Page[Handover]:
        found = [h for h in self._t.handovers.values() if reaches(reach, h)
                 and all(v is None or getattr(h, name) == v for name, v in (
                     ("state", filters.state), ("customer_id", filters.customer_id),
                     ("batch_id", filters.batch_id), ("department_id", filters.department_id)))
                 and (not filters.open_only or h.state in OPEN_STATES)
                 and (filters.manager_id is None
                      or filters.manager_id in (h.from_manager_id, h.to_manager_id))
                 and (filters.follow_up_overdue_on is None
                      or (h.state is HandoverState.TRANSFERRED and h.follow_up_due is not None
                          and h.follow_up_due < filters.follow_up_overdue_on))]
        sorted_page = page_of(found, page, lambda h: getattr(h, page.sort.field),
                              lambda h: h.id)
        return Page(copied(sorted_page.items), sorted_page.next_after)

    async def open_for_customer(self, customer_id: UUID) -> UUID | None:
        return next((h.id for h in self._t.handovers.values()
                     if h.customer_id == customer_id and h.state in OPEN_STATES), None)

    async def receiving(self, customer_id: UUID, user_id: UUID) -> bool:
        return any(h.customer_id == customer_id and h.to_manager_id == user_id
                   and h.state in OPEN_STATES for h in self._t.handovers.values())

    async def save_item(self, handover_id: UUID, item: ChecklistItem) -> None:
        items = self._t.handover_parts[handover_id]["items"]
        items[:] = [copied(item) if i.key == item.key else i for i in items]

    async def add_finding(self, handover_id: UUID, finding: Finding) -> None:
        self._t.handover_parts[handover_id]["findings"].append(copied(finding))

    async def save_finding(self, finding: Finding) -> None:
        for parts in self._t.handover_parts.values():
            parts["findings"][:] = [copied(finding) if f.id == finding.id else f
                                    for f in parts["findings"]]

    async def add_signature(self, handover_id: UUID, signature: Signature) -> None:
        self._t.handover_parts[handover_id]["signatures"].append(signature)

    async def add_notification(self, handover_id: UUID, notification: Notification) -> None:
        self._t.handover_parts[handover_id]["notifications"].append(notification)

    async def customer_work(self, customer_id: UUID, owner_id: UUID) -> CustomerWork:
        t = self._t
        owned = [h["occurred_at"] for h in t.customer_history
                 if h["customer_id"] == customer_id and h["field"] == "owner_id"]
        crs = sorted((cr for cr in t.change_requests.values() if cr.customer_id == customer_id),
                     key=lambda cr: (cr.created_at, cr.id))
        tasks = sorted(((c, task) for c, task in t.tasks.values()
                        if t.change_requests[c].customer_id == customer_id
                        and task.status in OPEN_TASK), key=lambda ct: (ct[1].created_at,
                                                                       ct[1].id))
        risks = sorted((r for r in t.risks.values()
                        if r.customer_id == customer_id and r.status is not RiskStatus.CLOSED),
                       key=lambda r: (-int(r.level), r.id))
        reviewed = sorted((cr for cr in crs if cr.customer_satisfaction is not None),
                          key=lambda cr: cr.reviewed_at or cr.created_at, reverse=True)
        return CustomerWork(
            owner_since=max(owned) if owned else t.customers[customer_id].created_at,
            open_change_requests=[{
                "id": str(cr.id), "title": cr.title, "state": cr.state,
                "risk_level": cr.risk_level.label if cr.risk_level else None,
                "requested_completion_date": cr.requested_completion_date.isoformat()
                if cr.requested_completion_date else None}
                for cr in crs if cr.state not in CLOSED],
            open_tasks=[{"id": str(task.id), "title": task.title, "status": task.status,
                         "assignee_id": str(task.assignee_id), "change_request_id": str(c),
                         "due_date": task.due_date.isoformat() if task.due_date else None}
                        for c, task in tasks],
            open_risks=[{"id": str(r.id), "title": r.title, "status": r.status,
                         "level": r.level.label, "owner_id": str(r.owner_id)} for r in risks],
            closed_change_requests=sum(1 for cr in crs if cr.state is CRState.CLOSED),
            latest_satisfaction=reviewed[0].customer_satisfaction if reviewed else None,
            open_complaints=sum(1 for f in t.feedback.values()
                                if f.item.customer_id == customer_id and f.item.is_open
                                and f.item.type is FeedbackType.COMPLAINT))

    async def overdue_follow_ups(self, today: date, limit: int) -> list[Handover]:
        found = [h for h in self._t.handovers.values()
                 if h.state is HandoverState.TRANSFERRED and h.follow_up_due is not None
                 and h.follow_up_due < today and h.follow_up_escalated_at is None]
        return copied(sorted(found, key=lambda h: (h.follow_up_due, h.id))[:limit])
