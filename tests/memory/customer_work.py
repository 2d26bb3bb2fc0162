"""What else a customer's owner answers for, in memory: risks, feedback and survey
invitations (``RiskRepository``, ``FeedbackRepository``, ``SurveyRepository``), enough to
read them in scope and to move their open ones with a handed-over customer."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.access.scope import RecordScope
from app.domain.plans.access import PlanReach
from app.domain.plans.model import OPEN_STATES, Plan
from app.domain.risk.register import Risk, RiskStatus
from app.domain.surveys.model import Invitation
from app.services.ports.feedback import FeedbackRecord
from tests.memory.store import Rows, Working, copied


class MemoryRiskRepository(Rows[Risk]):
    async def get(self, risk_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Risk | None:
        risk = self._rows.get(risk_id)
        if risk is None or not scope.covers(owner_id=risk.owner_id,
                                            department_id=risk.department_id):
            return None
        return copied(risk)

    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        moved = []
        for risk in self._rows.values():
            if risk.customer_id == customer_id and risk.owner_id == from_id \
                    and risk.status is not RiskStatus.CLOSED:
                risk.owner_id, risk.updated_at, risk.version = to_id, now, risk.version + 1
                moved.append({"id": str(risk.id), "title": risk.title})
        return moved


class MemoryPlanRepository(Rows[Plan]):
    """Enough of ``PlanRepository`` for a handover: read a plan in its customer's scope,
    list and move a customer's open plans."""

    def _with_customer(self, plan: Plan) -> Plan:
        customer = self._tables.customers[plan.customer_id]
        found = copied(plan)
        found.customer_owner_id, found.department_id = customer.owner_id, customer.department_id
        return found

    async def get(self, plan_id: UUID, reach: PlanReach, *,
                  for_update: bool = False) -> Plan | None:
        plan = self._rows.get(plan_id)
        if plan is None:
            return None
        customer = self._tables.customers[plan.customer_id]
        if not reach.covers(plan_owner_id=plan.owner_id, customer_owner_id=customer.owner_id,
                            department_id=customer.department_id,
                            shared_with_department=customer.shared_with_department):
            return None
        return self._with_customer(plan)

    async def open_of_customer(self, customer_id: UUID) -> list[Plan]:
        return [self._with_customer(p) for p in self._rows.values()
                if p.customer_id == customer_id and p.state in OPEN_STATES]

    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        moved = []
        for plan in self._rows.values():
            if plan.customer_id == customer_id and plan.owner_id == from_id \
                    and plan.state in OPEN_STATES:
                plan.owner_id, plan.updated_at, plan.version = to_id, now, plan.version + 1
                moved.append({"id": str(plan.id), "title": plan.title})
        return moved


class MemoryFeedbackRepository:
    def __init__(self, tables: Working) -> None:
        self._t = tables

    async def add(self, record: FeedbackRecord) -> None:
        self._t.feedback[record.item.id] = copied(record)

    async def save(self, record: FeedbackRecord) -> None:
        assert record.item.id in self._t.feedback
        self._t.feedback[record.item.id] = copied(record)

    async def get(self, feedback_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> FeedbackRecord | None:
        """The customer's scope: feedback about a customer shared with the department
        reaches its account managers too."""
        record = self._t.feedback.get(feedback_id)
        if record is None:
            return None
        item = record.item
        shared = self._t.customers[item.customer_id].shared_with_department
        if not scope.covers(owner_id=item.owner_id, department_id=item.department_id,
                            shared_with_department=shared):
            return None
        return copied(record)

    async def open_of_customer(self, customer_id: UUID) -> list[FeedbackRecord]:
        return copied(sorted((r for r in self._t.feedback.values()
                              if r.item.customer_id == customer_id and r.item.is_open),
                             key=lambda r: (r.item.received_at, r.item.id)))

    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        moved = []
        for record in self._t.feedback.values():
            item = record.item
            if item.customer_id == customer_id and item.owner_id == from_id and item.is_open:
                record.item = replace(item, owner_id=to_id)
                record.updated_at, record.version = now, record.version + 1
                moved.append({"id": str(item.id), "type": item.type})
        return moved


class MemorySurveyRepository:
    def __init__(self, tables: Working) -> None:
        self._t = tables

    async def add_invitation(self, invitation: Invitation) -> None:
        self._t.invitations[invitation.id] = copied(invitation)

    async def get_invitation(self, invitation_id: UUID, scope: RecordScope, *,
                             for_update: bool = False) -> Invitation | None:
        found = self._t.invitations.get(invitation_id)
        if found is None or not scope.covers(owner_id=found.owner_id,
                                             department_id=found.department_id):
            return None
        return copied(found)

    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        """Not answered, not revoked, not expired."""
        moved = []
        for invitation in self._t.invitations.values():
            if invitation.customer_id == customer_id and invitation.owner_id == from_id \
                    and invitation.responded_at is None and invitation.revoked_at is None \
                    and invitation.expires_at > now:
                invitation.owner_id = to_id
                moved.append({"id": str(invitation.id)})
        return moved
