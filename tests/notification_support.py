"""Until the outbox relay lands (``accord worker``), ``relay`` does its part for the
notification consumer: it reads the unpublished outbox rows into ``PublishedEvent``s, hands
them to the consumer in one write unit of work and marks them published in it. Replace it
with the real relay once that exists."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select, update

from app.main import create_app
from app.repositories.tables import outbox
from app.services.ports import RequestContext
from app.services.ports.outbox import PublishedEvent
from tests.conftest import Database, client_for, make_database, test_settings
from tests.support import Actor, Actors, TestClock, build_actors, list_all

SYSTEM = RequestContext(None, "test-relay")
NOTIFICATIONS = "/api/v1/me/notifications"
PREFERENCES = "/api/v1/me/notification-preferences"


async def relay(app: FastAPI) -> int:
    """Consume every unpublished event, oldest first; how many."""
    services = app.state.services
    uow_factory = services.notifications._uow
    async with app.state.engines.write.connect() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.published_at.is_(None))
                                   .order_by(outbox.c.occurred_at, outbox.c.id))).all()
    events = [PublishedEvent(r.id, r.type, r.entity_type, r.entity_id, r.occurred_at, r.data,
                             r.request_id) for r in rows]
    async with uow_factory(SYSTEM) as uow:
        await services.notification_consumer.consume(uow, events)
        if events:
            await uow._conn.execute(update(outbox).where(
                outbox.c.id.in_([e.id for e in events])).values(
                published_at=services.clock.now()))
        await uow.commit()
    return len(events)


async def inbox(client: httpx.AsyncClient, who: Actor, **filters: Any) -> list[dict[str, Any]]:
    """All of ``who``'s notifications, newest first."""
    return await list_all(client, NOTIFICATIONS, who.headers, **filters)


async def kinds(client: httpx.AsyncClient, who: Actor, entity_id: str) -> list[str]:
    """The kinds of ``who``'s notifications about one record, oldest first."""
    return [n["kind"] for n in reversed(await inbox(client, who))
            if n["entity_id"] == entity_id]


@dataclass
class World:
    """An app on a database of its own (who holds a role must not depend on other test
    files), a client, and every role, shared by one test module."""

    app: FastAPI
    client: httpx.AsyncClient
    actors: Actors


@pytest.fixture(scope="module")
def own_database(db_engine: str, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[Database]:
    yield from make_database(db_engine, tmp_path_factory.mktemp("notifications"))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(own_database: Database, clock: TestClock) -> AsyncIterator[World]:
    application = create_app(test_settings(own_database.url), clock=clock)
    async with client_for(application) as client:
        yield World(application, client, await build_actors(client, application))
    await application.state.engines.dispose()
