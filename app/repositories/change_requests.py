"""Change requests and their parts in SQL."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Uuid,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.roles import Role
from app.domain.access.scope import Reach, RecordScope
from app.domain.change_requests.approval_policy import Delegation
from app.domain.change_requests.model import (
    ApprovalStep,
    AssessmentEntry,
    ChangeRequest,
    CRCategory,
    CRState,
    CRType,
    GoalsMet,
    Priority,
    Recommendation,
    StepStatus,
    Task,
    TaskStatus,
)
from app.domain.common.paging import Page, PageRequest
from app.domain.risk.matrix import RiskLevel
from app.repositories.direct import Prepared
from app.repositories.filters import where_given
from app.repositories.paging import keyset, to_page
from app.repositories.scope import ScopedColumns
from app.repositories.tables import user_roles, users
from app.repositories.tables_change_requests import (
    change_requests,
    cr_approval_steps,
    cr_assessments,
    cr_communications,
    cr_customer_inputs,
    cr_progress,
    cr_tasks,
    delegations,
)
from app.services.ports.change_requests import ChangeRequestFilter

CR_SORTS = {"updated_at": change_requests.c.updated_at,
            "created_at": change_requests.c.created_at}
_CR_FIELDS = [c.name for c in change_requests.columns]
_ENUMS: dict[str, Any] = {"category": CRCategory, "type": CRType, "priority": Priority,
                          "state": CRState, "recommendation": Recommendation,
                          "goals_met": GoalsMet}


# A change is read, locked, on every action taken on it: its statements are built once,
# with the id and the record scope's values as parameters (docs/performance.md).
_CR_ID = bindparam("cr_id", type_=Uuid)
_ASSESSMENTS_OF = Prepared(
    select(cr_assessments).where(cr_assessments.c.change_request_id == _CR_ID)
    .order_by(cr_assessments.c.created_at, cr_assessments.c.id))
_STEPS_OF = Prepared(select(cr_approval_steps)
                     .where(cr_approval_steps.c.change_request_id == _CR_ID,
                            cr_approval_steps.c.round == bindparam("cr_round"))
                     .order_by(cr_approval_steps.c.position))
_TASKS_OF = Prepared(select(cr_tasks).where(cr_tasks.c.change_request_id == _CR_ID)
                     .order_by(cr_tasks.c.created_at, cr_tasks.c.id))
_SCOPE = ScopedColumns(change_requests.c.department_id, change_requests.c.owner_id)
_CR_BY_ID: dict[tuple[Reach, bool], Prepared] = {}
# Updates name the row by a parameter no column is called, and take the columns to set
# from the parameters: SQLAlchemy compiles each set of columns once (and caches it).
_UPDATE_CR = Prepared(
    update(change_requests).where(change_requests.c.id == bindparam("where_id")))
_UPDATE_STEP = Prepared(
    update(cr_approval_steps).where(cr_approval_steps.c.id == bindparam("where_id")))
_NOW = bindparam("now", type_=delegations.c.starts_at.type)
_ACTIVE_DELEGATIONS = Prepared(
    select(delegations, users.c.department_id)
    .join(users, users.c.id == delegations.c.delegator_id)
    .where(delegations.c.role.in_([bindparam("role"), bindparam("next_role")]),
           delegations.c.starts_at <= _NOW,
           delegations.c.ends_at > _NOW, delegations.c.revoked_at.is_(None)))
_ROLES_OF = Prepared(select(user_roles.c.role)
                     .where(user_roles.c.user_id == bindparam("user_id", type_=Uuid)))


def _cr_by_id(scope: RecordScope, for_update: bool) -> tuple[Prepared, dict[str, Any]] | None:
    """The statement reading one change in ``scope`` and the scope's parameters; None for a
    scope whose SQL is built per call (``ScopedColumns.parameters``)."""
    params = _SCOPE.parameters(scope)
    if params is None:
        return None
    key = (scope.reach, for_update)
    prepared = _CR_BY_ID.get(key)
    if prepared is None:
        stmt = select(change_requests).where(change_requests.c.id == _CR_ID)
        condition = _SCOPE.condition(scope.reach)
        if condition is not None:
            stmt = stmt.where(condition)
        if for_update:
            stmt = stmt.with_for_update()
        prepared = _CR_BY_ID[key] = Prepared(stmt)
    return prepared, params


def _cr(values: dict[str, Any]) -> ChangeRequest:
    for name, enum in _ENUMS.items():
        if values[name] is not None:
            values[name] = enum(values[name])
    if values["risk_level"] is not None:
        values["risk_level"] = RiskLevel.parse(values["risk_level"])
    return ChangeRequest(**values)


def _cr_values(cr: ChangeRequest) -> dict[str, Any]:
    values = {f: getattr(cr, f) for f in _CR_FIELDS}
    values["risk_level"] = cr.risk_level.label if cr.risk_level else None
    return values


def _step(values: dict[str, Any]) -> ApprovalStep:
    values.pop("change_request_id")
    values.pop("round")
    values["role"] = Role(values["role"])
    values["status"] = StepStatus(values["status"])
    return ApprovalStep(**values)


class SqlChangeRequestRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        # The columns of each change as last read or written in this transaction, so that
        # saving one writes only what the action changed (an approval: 3 of ~50 columns).
        self._stored: dict[UUID, dict[str, Any]] = {}

    def _remember(self, values: dict[str, Any]) -> None:
        self._stored[values["id"]] = {k: deepcopy(v) if isinstance(v, (list, dict)) else v
                                      for k, v in values.items()}

    async def add(self, cr: ChangeRequest) -> None:
        values = _cr_values(cr)
        await self._conn.execute(insert(change_requests).values(**values))
        self._remember(values)

    async def save(self, cr: ChangeRequest) -> None:
        values = _cr_values(cr)
        stored = self._stored.get(cr.id)
        changed = values if stored is None else \
            {k: v for k, v in values.items() if k not in stored or stored[k] != v}
        changed.pop("id", None)
        if changed:
            await _UPDATE_CR.run(self._conn, {**changed, "where_id": cr.id})
        self._remember(values)

    async def get(self, cr_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> ChangeRequest | None:
        prebuilt = _cr_by_id(scope, for_update)
        if prebuilt is None:
            stmt = select(change_requests).where(change_requests.c.id == cr_id,
                                                 _SCOPE.filter(scope))
            if for_update:
                stmt = stmt.with_for_update()
            found = (await self._conn.execute(stmt)).one_or_none()
            row = dict(found._mapping) if found is not None else None
        else:
            prepared, params = prebuilt
            row = await prepared.one_or_none(self._conn, {"cr_id": cr_id, **params})
        if row is None:
            return None
        cr = _cr(row)
        self._remember(_cr_values(cr))
        of_cr = {"cr_id": cr_id}
        cr.assessments = [AssessmentEntry(**{
            **{k: v for k, v in r.items() if k != "change_request_id"},
            "assessor_role": Role(r["assessor_role"]),
            "recommendation": Recommendation(r["recommendation"])})
            for r in await _ASSESSMENTS_OF.rows(self._conn, of_cr)]
        cr.steps = [_step(r) for r in await _STEPS_OF.rows(
            self._conn, {**of_cr, "cr_round": cr.round})]
        cr.tasks = [Task(**{**{k: v for k, v in r.items() if k != "change_request_id"},
                            "status": TaskStatus(r["status"])})
                    for r in await _TASKS_OF.rows(self._conn, of_cr)]
        return cr

    async def list(self, scope: RecordScope, filters: ChangeRequestFilter,
                   page: PageRequest) -> Page[ChangeRequest]:
        conditions = [_SCOPE.filter(scope)]
        conditions += where_given(((change_requests.c.state, filters.state),
                                   (change_requests.c.type, filters.type),
                                   (change_requests.c.customer_id, filters.customer_id),
                                   (change_requests.c.requester_id, filters.requester_id),
                                   (change_requests.c.department_id, filters.department_id)))
        if filters.overdue_at is not None:
            conditions.append(exists().where(
                cr_approval_steps.c.change_request_id == change_requests.c.id,
                cr_approval_steps.c.round == change_requests.c.round,
                cr_approval_steps.c.status == StepStatus.PENDING,
                cr_approval_steps.c.due_at < filters.overdue_at))
        if filters.awaiting_role is not None:
            conditions.append(exists().where(
                cr_approval_steps.c.change_request_id == change_requests.c.id,
                cr_approval_steps.c.round == change_requests.c.round,
                cr_approval_steps.c.status == StepStatus.PENDING,
                cr_approval_steps.c.role == filters.awaiting_role))
        stmt = select(change_requests).where(and_(*conditions))
        rows = (await self._conn.execute(keyset(stmt, CR_SORTS, change_requests.c.id, page))
                ).all()
        column = page.sort.field
        return to_page(rows, page, lambda r: _cr(dict(r._mapping)),
                       lambda r: (getattr(r, column), r.id))

    async def add_assessment(self, cr_id: UUID, entry: AssessmentEntry) -> None:
        await self._conn.execute(insert(cr_assessments).values(
            change_request_id=cr_id, **entry.__dict__))

    async def add_customer_input(self, cr_id: UUID, round_: int, contact_id: UUID,
                                 opinion: str, recorded_by: UUID, input_id: UUID,
                                 now: datetime) -> None:
        await self._conn.execute(insert(cr_customer_inputs).values(
            id=input_id, change_request_id=cr_id, round=round_, contact_id=contact_id,
            opinion=opinion, recorded_by=recorded_by, created_at=now))

    async def customer_inputs(self, cr_id: UUID) -> list[dict[str, Any]]:
        rows = await self._conn.execute(
            select(cr_customer_inputs).where(cr_customer_inputs.c.change_request_id == cr_id)
            .order_by(cr_customer_inputs.c.created_at))
        return [dict(r._mapping) for r in rows]

    async def replace_steps(self, cr_id: UUID, round_: int, steps: list[ApprovalStep]) -> None:
        await self._conn.execute(delete(cr_approval_steps).where(
            cr_approval_steps.c.change_request_id == cr_id, cr_approval_steps.c.round == round_))
        if steps:
            await self._conn.execute(insert(cr_approval_steps), [
                {**s.__dict__, "change_request_id": cr_id, "round": round_} for s in steps])

    async def overdue_steps(self, now: datetime, limit: int) -> list[tuple[UUID, ApprovalStep]]:
        """Pending steps of the current round past their due time and not yet escalated,
        locked (skipping rows another escalation run holds)."""
        rows = (await self._conn.execute(
            select(cr_approval_steps)
            .join(change_requests, change_requests.c.id == cr_approval_steps.c.change_request_id)
            .where(cr_approval_steps.c.status == StepStatus.PENDING,
                   cr_approval_steps.c.due_at < now, cr_approval_steps.c.escalated_at.is_(None),
                   cr_approval_steps.c.round == change_requests.c.round,
                   change_requests.c.state == CRState.AWAITING_APPROVAL)
            .order_by(cr_approval_steps.c.due_at).limit(limit)
            .with_for_update(skip_locked=True, of=cr_approval_steps))).all()
        return [(r.change_request_id, _step(dict(r._mapping))) for r in rows]

    async def save_step(self, step: ApprovalStep) -> None:
        values = dict(step.__dict__)
        values["where_id"] = values.pop("id")
        await _UPDATE_STEP.run(self._conn, values)

    async def add_task(self, cr_id: UUID, task: Task) -> None:
        await self._conn.execute(insert(cr_tasks).values(change_request_id=cr_id,
                                                         **task.__dict__))

    async def save_task(self, task: Task) -> None:
        values = dict(task.__dict__)
        values.pop("id")
        await self._conn.execute(update(cr_tasks).where(cr_tasks.c.id == task.id)
                                 .values(**values))

    async def add_progress(self, cr_id: UUID, values: dict[str, Any]) -> None:
        await self._conn.execute(insert(cr_progress).values(change_request_id=cr_id, **values))

    async def progress(self, cr_id: UUID) -> list[dict[str, Any]]:
        rows = await self._conn.execute(select(cr_progress).where(
            cr_progress.c.change_request_id == cr_id).order_by(cr_progress.c.created_at.desc()))
        return [dict(r._mapping) for r in rows]

    async def add_communication(self, cr_id: UUID, values: dict[str, Any]) -> None:
        await self._conn.execute(insert(cr_communications).values(change_request_id=cr_id,
                                                                  **values))

    async def communications(self, cr_id: UUID) -> list[dict[str, Any]]:
        rows = await self._conn.execute(select(cr_communications).where(
            cr_communications.c.change_request_id == cr_id)
            .order_by(cr_communications.c.reported_at.desc()))
        return [dict(r._mapping) for r in rows]

    async def active_delegations(self, role: Role, next_role: Role | None,
                                 now: datetime) -> list[Delegation]:
        """Delegations for ``role`` and ``next_role`` in force now, with what the
        delegator could decide."""
        rows = await _ACTIVE_DELEGATIONS.rows(
            self._conn, {"role": role, "next_role": next_role or role, "now": now})
        result = []
        for r in rows:
            held = frozenset(Role(x["role"]) for x in await _ROLES_OF.rows(
                self._conn, {"user_id": r["delegator_id"]}))
            result.append(Delegation(r["delegator_id"], held, r["department_id"],
                                     r["deputy_id"], Role(r["role"]), r["starts_at"],
                                     r["ends_at"]))
        return result

    async def add_delegation(self, values: dict[str, Any]) -> None:
        await self._conn.execute(insert(delegations).values(**values))

    async def delegation(self, delegation_id: UUID) -> dict[str, Any] | None:
        row = (await self._conn.execute(select(delegations).where(
            delegations.c.id == delegation_id))).one_or_none()
        return dict(row._mapping) if row else None

    async def revoke_delegation(self, delegation_id: UUID, now: datetime) -> None:
        await self._conn.execute(update(delegations).where(delegations.c.id == delegation_id)
                                 .values(revoked_at=now))

    async def delegations_of(self, user_id: UUID | None) -> list[dict[str, Any]]:
        stmt = select(delegations).order_by(delegations.c.starts_at.desc())
        if user_id is not None:
            stmt = stmt.where((delegations.c.delegator_id == user_id)
                              | (delegations.c.deputy_id == user_id))
        return [dict(r._mapping) for r in await self._conn.execute(stmt.limit(200))]

    async def reassign_open(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                            now: datetime) -> list[dict[str, Any]]:
        closed = (CRState.CLOSED, CRState.REJECTED, CRState.CANCELLED)
        rows = (await self._conn.execute(
            select(change_requests.c.id, change_requests.c.requester_id)
            .where(change_requests.c.customer_id == customer_id,
                   change_requests.c.state.not_in(closed)))).all()
        if rows:
            ids = [r.id for r in rows]
            await self._conn.execute(update(change_requests)
                                     .where(change_requests.c.id.in_(ids))
                                     .values(owner_id=to_id, updated_at=now,
                                             version=change_requests.c.version + 1))
            await self._conn.execute(update(change_requests)
                                     .where(change_requests.c.id.in_(ids),
                                            change_requests.c.requester_id == from_id)
                                     .values(requester_id=to_id))
        return [{"id": str(r.id), "requester_moved": r.requester_id == from_id} for r in rows]

    async def reassign_open_tasks(self, customer_id: UUID, from_id: UUID, to_id: UUID,
                                  now: datetime) -> list[dict[str, Any]]:
        of_customer = select(change_requests.c.id).where(
            change_requests.c.customer_id == customer_id)
        moved = (await self._conn.execute(
            update(cr_tasks).where(cr_tasks.c.change_request_id.in_(of_customer),
                                   cr_tasks.c.assignee_id == from_id,
                                   cr_tasks.c.status.in_((TaskStatus.OPEN,
                                                          TaskStatus.IN_PROGRESS)))
            .values(assignee_id=to_id, updated_at=now, version=cr_tasks.c.version + 1)
            .returning(cr_tasks.c.id, cr_tasks.c.change_request_id))).all()
        return [{"id": str(r.id), "change_request_id": str(r.change_request_id)} for r in moved]
