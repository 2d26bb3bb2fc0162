"""Service accounts for integrations: API keys that are scoped, shown once, revocable."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from uuid import UUID

from app.domain.access.credentials import ApiKey
from app.domain.access.roles import Scope
from app.domain.common.errors import FieldError, InvalidInput, InvalidState, NotFound
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.versions import check_version
from app.services.auth import API_KEY_PREFIX, digest
from app.services.ports import Clock, RequestContext
from app.services.ports.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the full key, returned once and never stored


class ApiKeyService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def issue(self, ctx: RequestContext, name: str, scopes: frozenset[Scope],
                    department_id: UUID | None, rate_limit: int | None = None) -> IssuedKey:
        assert ctx.principal is not None
        now = self._clock.now()
        prefix = secrets.token_hex(4)
        secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        key = ApiKey(id=new_id(), name=name, prefix=prefix, secret_hash=digest(secret),
                     scopes=scopes, department_id=department_id, created_by=ctx.principal.id,
                     created_at=now, rate_limit=rate_limit)
        async with self._uow(ctx) as uow:
            if department_id is not None:
                department = await uow.departments.get(department_id)
                if department is None or not department.active:
                    raise InvalidInput([FieldError("/department_id", "department_unknown")])
            await uow.api_keys.add(key)
            after = {"name": name, "prefix": prefix, "scopes": sorted(scopes),
                     "rate_limit": rate_limit}
            uow.record_change("api_key.issued", "api_key", key.id, after=after, event=after,
                              at=now)
            await uow.commit()
        return IssuedKey(key, secret)

    async def list(self, ctx: RequestContext, page: PageRequest) -> Page[ApiKey]:
        async with self._uow(ctx, write=False) as uow:
            return await uow.api_keys.list(page)

    async def get(self, ctx: RequestContext, key_id: UUID) -> ApiKey:
        async with self._uow(ctx, write=False) as uow:
            key = await uow.api_keys.get(key_id)
        if key is None:
            raise NotFound(entity="api_key")
        return key

    async def revoke(self, ctx: RequestContext, key_id: UUID, expected_version: int) -> ApiKey:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            key = await uow.api_keys.get(key_id, for_update=True)
            if key is None:
                raise NotFound(entity="api_key")
            check_version(key.version, expected_version)
            if not key.active:
                raise InvalidState(state="revoked")
            key.revoked_at = now
            key.version += 1
            await uow.api_keys.save(key)
            uow.record_change("api_key.revoked", "api_key", key.id, before={"active": True},
                              after={"active": False}, event={}, at=now)
            await uow.commit()
        return key
