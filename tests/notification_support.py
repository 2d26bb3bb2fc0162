"""Notification test helpers: ``relay`` runs the worker's outbox relay once, so a test sees
the notifications its events produce."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.services.ports import RequestContext
from tests.conftest import Database, client_for, make_database, test_settings
from tests.conftest import test_app as app_for
from tests.support import Actor, Actors, TestClock, build_actors, list_all

SYSTEM = RequestContext(None, "test-relay")
NOTIFICATIONS = "/api/v1/me/notifications"
PREFERENCES = "/api/v1/me/notification-preferences"


async def relay(app: FastAPI) -> int:
    """Relay every unpublished event through the worker's own relay (its consumers, the
    notification consumer among them); how many."""
    return await app.state.make_worker().relay.drain()


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
    application = app_for(test_settings(own_database.url), clock=clock)
    async with client_for(application) as client:
        yield World(application, client, await build_actors(client, application))
    await application.state.engines.dispose()
