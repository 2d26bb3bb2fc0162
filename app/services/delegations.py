"""Delegation use cases: while away, an approver names a deputy holding the same role, who
then decides approval steps for them (the domain's ``Delegation``; separation of duties
still holds through it). Stored beside the change requests whose steps they cover."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.common.errors import FieldError, InvalidInput, InvalidState, NotFound, NotYourAction
from app.domain.common.ids import new_id
from app.services.ports import Clock, RequestContext
from app.services.ports.unit_of_work import UnitOfWorkFactory


class DelegationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create(self, ctx: RequestContext, delegator_id: UUID, deputy_id: UUID,
                     role: Role, starts_at: datetime, ends_at: datetime) -> dict[str, Any]:
        """The approver sets it up for themselves (admins may do it for them)."""
        assert ctx.principal is not None
        if ctx.principal.id != delegator_id and Role.ADMIN not in ctx.principal.roles:
            raise NotYourAction(action="delegate", parties="the approver, admin")
        if ends_at <= starts_at:
            raise InvalidInput([FieldError("/ends_at", "ends_before_start")])
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            delegator, deputy = await uow.users.get(delegator_id), await uow.users.get(deputy_id)
            if delegator is None or role not in delegator.roles:
                raise InvalidInput([FieldError("/delegator_id", "delegator_lacks_role")])
            if deputy is None or not deputy.active or role not in deputy.roles \
                    or deputy.id == delegator.id:
                raise InvalidInput([FieldError("/deputy_id", "deputy_lacks_role")])
            values = {"id": new_id(), "delegator_id": delegator_id, "deputy_id": deputy_id,
                      "role": role, "starts_at": starts_at, "ends_at": ends_at,
                      "created_by": ctx.principal.id, "created_at": now, "revoked_at": None}
            await uow.change_requests.add_delegation(values)
            uow.record_change("delegation.created", "delegation", values["id"], after=values,
                              event={"role": role, "deputy_id": deputy_id}, at=now)
            await uow.commit()
            return values

    async def revoke(self, ctx: RequestContext, delegation_id: UUID) -> None:
        """Ends it early; only its delegator (or an admin) sees it to end."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            found = await uow.change_requests.delegation(delegation_id)
            if found is None or (found["delegator_id"] != ctx.principal.id
                                 and Role.ADMIN not in ctx.principal.roles):
                raise NotFound(entity="delegation")
            if found["revoked_at"] is not None:
                raise InvalidState(state="revoked")
            await uow.change_requests.revoke_delegation(delegation_id, now)
            uow.record_change("delegation.revoked", "delegation", delegation_id, event={},
                              at=now)
            await uow.commit()

    async def list(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """The caller's own; an admin's are everyone's."""
        assert ctx.principal is not None
        async with self._uow(ctx, write=False) as uow:
            mine = None if Role.ADMIN in ctx.principal.roles else ctx.principal.id
            return await uow.change_requests.delegations_of(mine)
