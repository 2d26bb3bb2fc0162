"""Use-case tests run the services on the in-memory unit of work: no database, no HTTP."""

from __future__ import annotations

import pytest_asyncio

from tests.usecases.world import World, build_world


@pytest_asyncio.fixture(loop_scope="session")
async def world() -> World:
    return await build_world()
