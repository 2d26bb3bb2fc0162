"""A database, app and test clock of this folder's own (the clock moves by days here), a
real local receiver, and helpers that emit events and drain the worker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.domain.common.events import DomainEvent
from app.main import create_app
from app.services.ports import RequestContext
from tests.conftest import Database, client_for, make_database, test_settings
from tests.support import Actor, TestClock, first_admin
from tests.worker.receiver import Receiver


@pytest.fixture(scope="module")
def worker_database(db_engine: str, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[Database]:
    yield from make_database(db_engine, tmp_path_factory.mktemp(f"worker-{db_engine}"))


@pytest.fixture(scope="module")
def worker_clock() -> TestClock:
    return TestClock()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def wapp(worker_database: Database, worker_clock: TestClock) -> AsyncIterator[FastAPI]:
    application = create_app(test_settings(worker_database.url), clock=worker_clock)
    yield application
    await application.state.webhook_transport.aclose()
    await application.state.engines.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def wclient(wapp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(wapp) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def wadmin(wapp: FastAPI) -> Actor:
    async with client_for(wapp) as c:
        return await first_admin(c, wapp)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def unique_type() -> str:
    """An event family of the test's own, so endpoints of other tests never match it."""
    return f"t{uuid.uuid4().hex[:10]}"


async def emit(app: FastAPI, event_type: str, **data: Any) -> uuid.UUID:
    """An event committed through a real unit of work, as a use case would."""
    uow = app.state.unit_of_work
    event = DomainEvent(event_type, "test", uuid.uuid4(), app.state.services.clock.now(),
                        dict(data))
    async with uow(RequestContext(None, "test-emit")) as u:
        u.emit(event)
        await u.commit()
    return event.id


async def drain(app: FastAPI) -> dict[str, int]:
    return await app.state.make_worker("test-worker").drain()  # type: ignore[no-any-return]


async def subscribe(client: httpx.AsyncClient, admin: Actor, url: str,
                    event_types: list[str]) -> dict[str, Any]:
    response = await client.post("/api/v1/webhook-endpoints", headers=admin.headers,
                                 json={"url": url, "event_types": event_types,
                                       "description": "测试接收端"})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


