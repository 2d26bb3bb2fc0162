"""A claim of an ``Idempotency-Key`` is fenced by its lease: once a later attempt took an
abandoned key over, the earlier attempt can neither store its answer (so neither commit
its effect, which commits with the answer) nor release the key; on both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import pytest_asyncio

from app.domain.common.errors import IdempotencyKeyInFlight
from app.repositories.database import Engines, create_engines
from app.repositories.idempotency import SqlIdempotencyStore
from app.services.ports.idempotency import StoredResponse
from tests.conftest import Database

LOCK = timedelta(seconds=60)
T0 = datetime(2026, 10, 1, 8, 30, tzinfo=UTC)


@pytest_asyncio.fixture(loop_scope="session")
async def store(database: Database) -> AsyncIterator[SqlIdempotencyStore]:
    engines: Engines = create_engines(database.url)
    yield SqlIdempotencyStore(engines, ttl=timedelta(hours=24), lock=LOCK)
    await engines.dispose()


async def test_a_taken_over_claim_cannot_store_its_answer_nor_release_the_key(
        store: SqlIdempotencyStore) -> None:
    caller, key = "user:fenced", str(uuid4())
    first = (await store.reserve(caller, key, "f", T0)).claim
    assert first is not None
    with pytest.raises(IdempotencyKeyInFlight):
        await store.reserve(caller, key, "f", T0 + LOCK / 2)
    second = (await store.reserve(caller, key, "f", T0 + LOCK * 2)).claim
    assert second is not None and second.lease > first.lease
    with pytest.raises(IdempotencyKeyInFlight):
        await store.complete(first, StoredResponse(201, {}, b"first"))
    await store.release(first)  # not its key any more: nothing happens
    await store.complete(second, StoredResponse(201, {}, b"second"))
    replay = (await store.reserve(caller, key, "f", T0 + LOCK * 3)).replay
    assert replay == StoredResponse(201, {}, b"second")
