"""Idempotency keys in SQL: (caller, key) → request fingerprint and the stored response."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.common.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from app.repositories.database import Engines
from app.repositories.storage_errors import translate_storage_errors
from app.repositories.tables import idempotency_keys as keys
from app.services.ports.idempotency import Claim, Reservation, StoredResponse


def _held(claim: Claim) -> ColumnElement[bool]:
    """The row as long as ``claim`` holds it: a later claim moved the lease on."""
    return ((keys.c.caller == claim.caller) & (keys.c.key == claim.key)
            & (keys.c.locked_until == claim.lease))


async def store_answer(conn: AsyncConnection, claim: Claim, response: StoredResponse) -> None:
    """Store the answer in ``conn``'s transaction, or raise IdempotencyKeyInFlight when
    another attempt took the key over (the caller then rolls back)."""
    stored = await conn.execute(update(keys).where(_held(claim), keys.c.status_code.is_(None))
                                .values(status_code=response.status,
                                        response_headers=response.headers,
                                        response_body=response.body))
    if stored.rowcount != 1:
        raise IdempotencyKeyInFlight()


class SqlIdempotencyStore:
    """Claims are their own short transactions, separate from the request's unit of
    work: a claim must be visible to a concurrent duplicate before the handler runs. The
    answer of a request that committed an effect is stored in that effect's transaction
    (``store_answer``, called by the unit of work); ``complete`` stores the others."""

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
        claim = Claim(caller, key, now + self._lock)
        async with self._engines.write.begin() as conn:
            row = (await conn.execute(select(keys).where(where).with_for_update())
                   ).one_or_none()
            if row is None:
                await conn.execute(insert(keys).values(caller=caller, key=key, **fresh))
                return Reservation(claim)
            if row.expires_at <= now:
                await conn.execute(update(keys).where(where).values(**fresh))
                return Reservation(claim)
            if row.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if row.status_code is not None:
                return Reservation(replay=StoredResponse(
                    row.status_code, dict(row.response_headers or {}), row.response_body))
            if row.locked_until > now:
                raise IdempotencyKeyInFlight()
            # The first attempt died without an answer, so without an effect (the two
            # commit together): this one may run it.
            await conn.execute(update(keys).where(where).values(locked_until=claim.lease))
            return Reservation(claim)

    async def complete(self, claim: Claim, response: StoredResponse) -> None:
        async with translate_storage_errors(), self._engines.write.begin() as conn:
            await store_answer(conn, claim, response)

    async def release(self, claim: Claim) -> None:
        async with translate_storage_errors(), self._engines.write.begin() as conn:
            await conn.execute(delete(keys).where(_held(claim), keys.c.status_code.is_(None)))
