"""风险管理 use cases: the register, its heat map, and the risk matrix that rates it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from app.domain.access.scope import read_scope as customer_read_scope
from app.domain.common.errors import FieldError, InvalidInput, NotFound
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.partial import sent_values
from app.domain.common.versions import check_version
from app.domain.risk.matrix import RiskMatrix
from app.domain.risk.register import (
    Risk,
    RiskStatus,
    allowed_changes,
    check_status_change,
    read_scope,
    write_scope,
)
from app.services.policies import RISK_MATRIX, load_policy, store_policy
from app.services.ports import Clock, RequestContext
from app.services.ports.risks import RiskFilter
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class RiskInput:
    """Fields a person sets; on update only the names in ``fields_set`` change."""

    title: str = ""
    description: str = ""
    customer_id: UUID | None = None
    plan_id: UUID | None = None
    likelihood: int = 1
    impact: int = 1
    owner_id: UUID | None = None
    mitigation: str = ""
    contingency_plan: str = ""
    early_warning: str = ""
    next_review_date: date | None = None
    fields_set: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RiskView:
    """A risk as the caller sees it: ``allowed_statuses`` are the moves this caller may
    make now (see ``allowed_changes``)."""

    risk: Risk
    allowed_statuses: list[RiskStatus]


def _view(ctx: RequestContext, risk: Risk) -> RiskView:
    return RiskView(risk, allowed_changes(ctx.actor, risk))


STATUS_EVENTS = {RiskStatus.OPEN: "risk.reopened", RiskStatus.MITIGATING: "risk.mitigating",
                 RiskStatus.CLOSED: "risk.closed"}


class RiskService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create(self, ctx: RequestContext, new: RiskInput) -> RiskView:
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            matrix, _ = await load_policy(uow, RISK_MATRIX)
            owner_id = new.owner_id or ctx.principal.id
            department_id = await self._owner_department(uow, owner_id)
            if new.customer_id is not None:
                await self._visible_customer(uow, ctx, new.customer_id)
            await self._plan_of_customer(uow, new.plan_id, new.customer_id)
            risk = Risk(id=new_id(), title=new.title, description=new.description,
                        customer_id=new.customer_id, change_request_id=None, handover_id=None,
                        plan_id=new.plan_id, likelihood=new.likelihood, impact=new.impact,
                        level=matrix.level(new.likelihood, new.impact), owner_id=owner_id,
                        department_id=department_id, mitigation=new.mitigation,
                        contingency_plan=new.contingency_plan, early_warning=new.early_warning,
                        next_review_date=new.next_review_date, status=RiskStatus.OPEN,
                        version=1, created_at=now, updated_at=now)
            if not write_scope(ctx.principal).covers(owner_id=risk.owner_id,
                                                     department_id=risk.department_id):
                raise InvalidInput([FieldError("/owner_id", "owner_outside_scope")])
            await uow.risks.add(risk)
            self._log(uow, "risk.created", risk, None, now)
            await uow.commit()
            return _view(ctx, risk)

    async def get(self, ctx: RequestContext, risk_id: UUID) -> RiskView:
        assert ctx.principal is not None
        async with self._uow(ctx, write=False) as uow:
            risk = await uow.risks.get(risk_id, read_scope(ctx.principal))
        if risk is None:
            raise NotFound(entity="risk")
        return _view(ctx, risk)

    async def list(self, ctx: RequestContext, filters: RiskFilter,
                   page: PageRequest) -> Page[RiskView]:
        async with self._uow(ctx, write=False) as uow:
            found = await uow.risks.list(read_scope(ctx.actor), filters, page)
        return Page([_view(ctx, r) for r in found.items], found.next_after)

    async def heatmap(self, ctx: RequestContext, filters: RiskFilter
                      ) -> tuple[dict[tuple[int, int], int], RiskMatrix]:
        assert ctx.principal is not None
        async with self._uow(ctx, write=False) as uow:
            matrix, _ = await load_policy(uow, RISK_MATRIX)
            return await uow.risks.heatmap(read_scope(ctx.principal), filters), matrix

    async def update(self, ctx: RequestContext, risk_id: UUID, expected_version: int,
                     patch: RiskInput) -> RiskView:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._writable(uow, ctx, risk_id, expected_version)
            values = sent_values(patch)
            if "owner_id" in values:
                values["department_id"] = await self._owner_department(uow, values["owner_id"])
                # The same rule as on create: never hand a risk outside your write scope.
                assert ctx.principal is not None
                if not write_scope(ctx.principal).covers(
                        owner_id=values["owner_id"], department_id=values["department_id"]):
                    raise InvalidInput([FieldError("/owner_id", "owner_outside_scope")])
            if values.get("customer_id") is not None:
                await self._visible_customer(uow, ctx, values["customer_id"])
            changed = replace(current, **values)
            if {"plan_id", "customer_id"} & values.keys():
                await self._plan_of_customer(uow, changed.plan_id, changed.customer_id)
            matrix, _ = await load_policy(uow, RISK_MATRIX)
            changed.level = matrix.level(changed.likelihood, changed.impact)
            return await self._save(uow, ctx, current, changed, "risk.updated", now)

    async def change_status(self, ctx: RequestContext, risk_id: UUID, expected_version: int,
                            target: RiskStatus) -> RiskView:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._writable(uow, ctx, risk_id, expected_version)
            check_status_change(current.status, target)
            changed = replace(current, status=target,
                              closed_at=now if target is RiskStatus.CLOSED else None)
            return await self._save(uow, ctx, current, changed, STATUS_EVENTS[target], now)

    async def matrix(self, ctx: RequestContext) -> tuple[RiskMatrix, int]:
        async with self._uow(ctx, write=False) as uow:
            return await load_policy(uow, RISK_MATRIX)

    async def set_matrix(self, ctx: RequestContext, matrix: RiskMatrix,
                         expected_version: int) -> int:
        """Re-rates every register entry in the same transaction: no risk is ever shown
        with a level the current matrix would not give it."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            actor = str(ctx.principal.id) if ctx.principal else None
            version = await store_policy(uow, RISK_MATRIX, matrix, expected_version, actor, now)
            for risk_id, likelihood, impact, level in await uow.risks.ratings():
                new_level = matrix.level(likelihood, impact)
                if new_level != level:
                    await uow.risks.set_level(risk_id, new_level)
            await uow.commit()
            return version

    # helpers -------------------------------------------------------------------------

    @staticmethod
    async def _owner_department(uow: UnitOfWork, owner_id: UUID) -> UUID:
        owner = await uow.users.get(owner_id)
        if owner is None or not owner.active:
            raise InvalidInput([FieldError("/owner_id", "owner_unknown")])
        return owner.department_id

    @staticmethod
    async def _visible_customer(uow: UnitOfWork, ctx: RequestContext, customer_id: UUID) -> None:
        assert ctx.principal is not None
        if await uow.customers.get(customer_id, customer_read_scope(ctx.principal)) is None:
            raise InvalidInput([FieldError("/customer_id", "customer_unknown")])

    @staticmethod
    async def _plan_of_customer(uow: UnitOfWork, plan_id: UUID | None,
                                customer_id: UUID | None) -> None:
        """A risk about a plan is about that plan's customer."""
        if plan_id is not None and (customer_id is None
                                    or await uow.plans.customer_of(plan_id) != customer_id):
            raise InvalidInput([FieldError("/plan_id", "plan_unknown")])

    @staticmethod
    async def _writable(uow: UnitOfWork, ctx: RequestContext, risk_id: UUID,
                        expected_version: int) -> Risk:
        assert ctx.principal is not None
        risk = await uow.risks.get(risk_id, write_scope(ctx.principal), for_update=True)
        if risk is None:
            # Readable but not yours to change is still "not found" for a writer.
            raise NotFound(entity="risk")
        check_version(risk.version, expected_version)
        return risk

    async def _save(self, uow: UnitOfWork, ctx: RequestContext, before: Risk, after: Risk,
                    action: str, now: Any) -> RiskView:
        after.version = before.version + 1
        after.updated_at = now
        await uow.risks.save(after)
        self._log(uow, action, after, before, now)
        await uow.commit()
        return _view(ctx, after)

    @staticmethod
    def _log(uow: UnitOfWork, action: str, risk: Risk, before: Risk | None, now: Any) -> None:
        uow.record_change(action, "risk", risk.id,
                          before=before.snapshot() if before else None, after=risk.snapshot(),
                          event={"title": risk.title, "level": risk.level.label,
                                 "status": risk.status},
                          at=now, customer_id=risk.customer_id)

