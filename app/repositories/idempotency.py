"""Idempotency keys in SQL: (caller, key) → request fingerprint and the stored response."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.domain.common.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from app.repositories.database import Engines
from app.repositories.tables import idempotency_keys as keys
from app.repositories.unit_of_work import translate_storage_errors
from app.services.ports.idempotency import Reservation, StoredResponse


class SqlIdempotencyStore:
    """Each call is its own short transaction, separate from the request's unit of work:
    the claim must be visible to a concurrent duplicate before the handler runs."""

    def __init__(self, engines: Engines, *, ttl: timedelta, lock: timedelta) -> None:
        self._engines = engines
        self._ttl = ttl
        self._lock = lock

    async def reserve(self, caller: str, key: str, fingerprint: str, now: datetime) -> Reservation:
        fresh = {"fingerprint": fingerprint, "status_code": None, "response_headers": None,
                 "response_body": None, "created_at": now, "locked_until": now + self._lock,
                 "expires_at": now + self._ttl}
        async with translate_storage_errors():
            try:
                return await self._claim(caller, key, fingerprint, now, fresh)
            except IntegrityError as exc:  # a concurrent first claim won the insert
                raise IdempotencyKeyInFlight() from exc

    async def _claim(self, caller: str, key: str, fingerprint: str, now: datetime,
                     fresh: dict[str, object]) -> Reservation:
        where = (keys.c.caller == caller) & (keys.c.key == key)
        async with self._engines.write.begin() as conn:
            row = (await conn.execute(select(keys).where(where).with_for_update())
                   ).one_or_none()
            if row is None:
                await conn.execute(insert(keys).values(caller=caller, key=key, **fresh))
                return Reservation(new=True)
            if row.expires_at <= now:
                await conn.execute(update(keys).where(where).values(**fresh))
                return Reservation(new=True)
            if row.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if row.status_code is not None:
                return Reservation(new=False, replay=StoredResponse(
                    row.status_code, dict(row.response_headers or {}), row.response_body))
            if row.locked_until > now:
                raise IdempotencyKeyInFlight()
            # The first attempt died without an answer: this one may run it.
            await conn.execute(update(keys).where(where).values(
                locked_until=now + self._lock))
            return Reservation(new=True)

    async def complete(self, caller: str, key: str, response: StoredResponse) -> None:
        async with translate_storage_errors(), self._engines.write.begin() as conn:
            await conn.execute(update(keys).where(keys.c.caller == caller, keys.c.key == key)
                               .values(status_code=response.status,
                                       response_headers=response.headers,
                                       response_body=response.body))

    async def release(self, caller: str, key: str) -> None:
        async with translate_storage_errors(), self._engines.write.begin() as conn:
            await conn.execute(delete(keys).where(keys.c.caller == caller, keys.c.key == key))
