"""Change requests, their parts and delegations in memory (``ChangeRequestRepository``),
filtered and moved as ``repositories/change_requests.py`` does it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.access.scope import RecordScope
from app.domain.change_requests.approval_policy import Delegation, overdue
from app.domain.change_requests.model import (
    ApprovalStep,
    AssessmentEntry,
    ChangeRequest,
    CRState,
    StepStatus,
    Task,
    TaskStatus,
)
from app.domain.common.errors import WriteConflict
from app.domain.common.paging import Page, PageRequest
from app.services.ports.change_requests import ChangeRequestFilter
from tests.memory.store import Working, copied, page_of

CLOSED = frozenset({CRState.CLOSED, CRState.REJECTED, CRState.CANCELLED})
OPEN_TASK = frozenset({TaskStatus.OPEN, TaskStatus.IN_PROGRESS})


def in_scope(scope: RecordScope, cr: ChangeRequest) -> bool:
    """A change follows its customer's owner and department; it is never shared."""
    return scope.covers(owner_id=cr.owner_id, department_id=cr.department_id)


class MemoryChangeRequestRepository:
    def __init__(self, tables: Working) -> None:
        self._t = tables

    # the change itself ---------------------------------------------------------------

    async def add(self, cr: ChangeRequest) -> None:
        if cr.id in self._t.change_requests:
            raise WriteConflict()
        self._t.change_requests[cr.id] = self._row(cr)

    async def save(self, cr: ChangeRequest) -> None:
        """The row only: steps, assessments and tasks are written by their own methods."""
        assert cr.id in self._t.change_requests
        self._t.change_requests[cr.id] = self._row(cr)

    @staticmethod
    def _row(cr: ChangeRequest) -> ChangeRequest:
        return replace(copied(cr), assessments=[], steps=[], tasks=[])

    async def get(self, cr_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> ChangeRequest | None:
        row = self._t.change_requests.get(cr_id)
        if row is None or not in_scope(scope, row):
            return None
        assessments = sorted((a for c, a in self._t.assessments if c == cr_id),
                             key=lambda a: (a.created_at, a.id))
        steps = sorted((s for c, r, s in self._t.steps.values()
                        if c == cr_id and r == row.round), key=lambda s: s.position)
        tasks = sorted((t for c, t in self._t.tasks.values() if c == cr_id),
                       key=lambda t: (t.created_at, t.id))
        return replace(copied(row), assessments=copied(assessments), steps=copied(steps),
                       tasks=copied(tasks))

    async def list(self, scope: RecordScope, filters: ChangeRequestFilter,
                   page: PageRequest) -> Page[ChangeRequest]:
        def pending(cr: ChangeRequest) -> list[ApprovalStep]:
            return [s for c, r, s in self._t.steps.values()
                    if c == cr.id and r == cr.round and s.status is StepStatus.PENDING]

        found = [cr for cr in self._t.change_requests.values() if in_scope(scope, cr)
                 and all(v is None or getattr(cr, name) == v for name, v in (
                     ("state", filters.state), ("type", filters.type),
                     ("customer_id", filters.customer_id),
                     ("requester_id", filters.requester_id),
                     ("department_id", filters.department_id)))
                 and (filters.overdue_at is None
                      or any(overdue(s, filters.overdue_at) for s in pending(cr)))
                 and (filters.awaiting_role is None
                      or any(s.role == filters.awaiting_role for s in pending(cr)))]
        sorted_page = page_of(found, page, lambda cr: getattr(cr, page.sort.field),
                              lambda cr: cr.id)
        return Page(copied(sorted_page.items), sorted_page.next_after)

    # parts ---------------------------------------------------------------------------

    async def add_assessment(self, cr_id: UUID, entry: AssessmentEntry) -> None:
        self._t.assessments.append((cr_id, copied(entry)))

    async def replace_steps(self, cr_id: UUID, round_: int, steps: list[ApprovalStep]) -> None:
        for key in [k for k, (c, r, _) in self._t.steps.items() if c == cr_id and r == round_]:
            del self._t.steps[key]
        self._t.steps.update({s.id: (cr_id, round_, copied(s)) for s in steps})

    async def save_step(self, step: ApprovalStep) -> None:
        cr_id, round_, _ = self._t.steps[step.id]
        self._t.steps[step.id] = (cr_id, round_, copied(step))

    async def overdue_steps(self, now: datetime, limit: int) -> list[tuple[UUID, ApprovalStep]]:
        found = [(c, s) for c, r, s in self._t.steps.values()
                 if overdue(s, now) and s.escalated_at is None
                 and r == self._t.change_requests[c].round
                 and self._t.change_requests[c].state is CRState.AWAITING_APPROVAL]
        return copied(sorted(found, key=lambda cs: cs[1].due_at)[:limit])

    async def add_task(self, cr_id: UUID, task: Task) -> None:
        self._t.tasks[task.id] = (cr_id, copied(task))

    async def save_task(self, task: Task) -> None:
        cr_id, _ = self._t.tasks[task.id]
        self._t.tasks[task.id] = (cr_id, copied(task))

    async def add_customer_input(self, cr_id: UUID, round_: int, contact_id: UUID,
                                 opinion: str, recorded_by: UUID, input_id: UUID,
                                 now: datetime) -> None:
        self._t.cr_entries.append(("customer_input", cr_id, {
            "id": input_id, "change_request_id": cr_id, "round": round_,
            "contact_id": contact_id, "opinion": opinion, "recorded_by": recorded_by,
            "created_at": now}))

    async def customer_inputs(self, cr_id: UUID) -> list[dict[str, Any]]:
        return sorted(self._entries("customer_input", cr_id), key=lambda e: e["created_at"])

    async def add_progress(self, cr_id: UUID, values: dict[str, Any]) -> None:
        self._t.cr_entries.append(("progress", cr_id, {"change_request_id": cr_id, **values}))

    async def progress(self, cr_id: UUID) -> list[dict[str, Any]]:
        return sorted(self._entries("progress", cr_id), key=lambda e: e["created_at"],
                      reverse=True)

    async def add_communication(self, cr_id: UUID, values: dict[str, Any]) -> None:
        self._t.cr_entries.append(("communication", cr_id,
                                   {"change_request_id": cr_id, **values}))

    async def communications(self, cr_id: UUID) -> list[dict[str, Any]]:
        return sorted(self._entries("communication", cr_id), key=lambda e: e["reported_at"],
                      reverse=True)

    def _entries(self, kind: str, cr_id: UUID) -> list[dict[str, Any]]:
        return [copied(v) for k, c, v in self._t.cr_entries if k == kind and c == cr_id]

    # delegations ---------------------------------------------------------------------

    async def active_delegations(self, role: Role, next_role: Role | None,
                                 now: datetime) -> list[Delegation]:
        """In force now for either role, with what the delegator could decide (their
        roles and department as stored now, as the SQL join reads them)."""
        result = []
        for d in self._t.delegations.values():
            if d["role"] in (role, next_role or role) and d["starts_at"] <= now \
                    < d["ends_at"] and d["revoked_at"] is None:
                delegator = self._t.users[d["delegator_id"]]
                result.append(Delegation(d["delegator_id"], delegator.roles,
                                         delegator.department_id, d["deputy_id"],
                                         Role(d["role"]), d["starts_at"], d["ends_at"]))
        return result

    async def add_delegation(self, values: dict[str, Any]) -> None:
        self._t.delegations[values["id"]] = copied(values)

    async def delegation(self, delegation_id: UUID) -> dict[str, Any] | None:
        return copied(self._t.delegations.get(delegation_id))

    async def revoke_delegation(self, delegation_id: UUID, now: datetime) -> None:
        self._t.delegations[delegation_id]["revoked_at"] = now

    async def delegations_of(self, user_id: UUID | None) -> list[dict[str, Any]]:
        mine = [d for d in self._t.delegations.values()
                if user_id is None or user_id in (d["delegator_id"], d["deputy_id"])]
        return copied(sorted(mine, key=lambda d: d["starts_at"], reverse=True)[:200])

    # a handover's transfer -----------------------------------------------------------

    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        moved = []
        for cr in self._t.change_requests.values():
            if cr.customer_id != customer_id or cr.state in CLOSED:
                continue
            requester_moved = cr.requester_id == from_id
            cr.owner_id, cr.updated_at, cr.version = to_id, now, cr.version + 1
            if requester_moved:
                cr.requester_id = to_id
            moved.append({"id": str(cr.id), "requester_moved": requester_moved})
        return moved

    async def reassign_open_tasks(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                                  now: datetime) -> list[dict[str, Any]]:
        moved = []
        for cr_id, task in self._t.tasks.values():
            if self._t.change_requests[cr_id].customer_id == customer_id \
                    and task.assignee_id == from_id and task.status in OPEN_TASK:
                task.assignee_id, task.updated_at, task.version = to_id, now, task.version + 1
                moved.append({"id": str(task.id), "change_request_id": str(cr_id)})
        return moved
