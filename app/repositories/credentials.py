"""Refresh tokens, API keys, the login-failure counter and known sign-in addresses in SQL."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.credentials import ApiKey, RefreshToken
from app.domain.access.roles import Scope
from app.domain.common.paging import Page, PageRequest
from app.repositories.paging import keyset, to_page
from app.repositories.tables import (
    api_keys,
    known_sign_in_addresses,
    login_failures,
    refresh_tokens,
)
from app.services.ports.access import FailureCount


class SqlRefreshTokenRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, token: RefreshToken) -> None:
        await self._conn.execute(insert(refresh_tokens).values(**token.__dict__))

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        row = (await self._conn.execute(
            select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        )).one_or_none()
        return RefreshToken(**row._mapping) if row else None

    async def mark_rotated(self, token_id: UUID, now: datetime) -> bool:
        result = await self._conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.id == token_id, refresh_tokens.c.rotated_at.is_(None),
                   refresh_tokens.c.revoked_at.is_(None))
            .values(rotated_at=now))
        return result.rowcount == 1

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        await self._conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now))

    async def revoke_all_of_user(self, user_id: UUID, now: datetime) -> None:
        await self._conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now))


API_KEY_SORTS = {"created_at": api_keys.c.created_at}


def _api_key(row: object) -> ApiKey:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    values["scopes"] = frozenset(Scope(s) for s in values["scopes"])
    return ApiKey(**values)


class SqlApiKeyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _values(self, key: ApiKey) -> dict[str, object]:
        values = dict(key.__dict__)
        values["scopes"] = sorted(key.scopes)
        return values

    async def add(self, key: ApiKey) -> None:
        await self._conn.execute(insert(api_keys).values(**self._values(key)))

    async def get(self, key_id: UUID, *, for_update: bool = False) -> ApiKey | None:
        stmt = select(api_keys).where(api_keys.c.id == key_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).one_or_none()
        return _api_key(row) if row else None

    async def get_by_prefix(self, prefix: str) -> ApiKey | None:
        row = (await self._conn.execute(
            select(api_keys).where(api_keys.c.prefix == prefix))).one_or_none()
        return _api_key(row) if row else None

    async def save(self, key: ApiKey) -> None:
        values = self._values(key)
        values.pop("id")
        await self._conn.execute(update(api_keys).where(api_keys.c.id == key.id).values(**values))

    async def list(self, page: PageRequest) -> Page[ApiKey]:
        rows = (await self._conn.execute(
            keyset(select(api_keys), API_KEY_SORTS, api_keys.c.id, page))).all()
        return to_page(rows, page, _api_key, lambda r: (r.created_at, r.id))


class SqlLoginThrottle:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def failures_since(self, key: str, since: datetime) -> FailureCount:
        row = (await self._conn.execute(
            select(func.count(), func.min(login_failures.c.occurred_at),
                   func.max(login_failures.c.occurred_at))
            .where(login_failures.c.key == key, login_failures.c.occurred_at > since)
        )).one()
        return FailureCount(int(row[0]), row[1], row[2])

    async def record_failure(self, key: str, now: datetime) -> None:
        await self._conn.execute(insert(login_failures).values(key=key, occurred_at=now))

    async def clear(self, key: str) -> None:
        await self._conn.execute(delete(login_failures).where(login_failures.c.key == key))

    async def is_known_address(self, user_id: UUID, address: str) -> bool:
        known = known_sign_in_addresses.c
        row = (await self._conn.execute(select(known.user_id).where(
            known.user_id == user_id, known.address == address))).first()
        return row is not None

    async def remember_address(self, user_id: UUID, address: str, now: datetime) -> None:
        """An upsert, so two first sign-ins from one address at once both succeed."""
        upsert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        await self._conn.execute(
            upsert(known_sign_in_addresses)
            .values(user_id=user_id, address=address, last_seen_at=now)
            .on_conflict_do_update(index_elements=["user_id", "address"],
                                   set_={"last_seen_at": now}))
