"""For handover tests that move the clock (follow-up deadlines, reports): an app of their
own, so handovers dated in the past reach no other test, and the clock put back after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
from fastapi import FastAPI

from tests.support import Actors, TestClock, build_actors


@asynccontextmanager
async def clocked(fresh_app: FastAPI, clock: TestClock
                  ) -> AsyncIterator[tuple[httpx.AsyncClient, Actors]]:
    """A client and actors on ``fresh_app``; the clock's offset is restored on leaving."""
    before = clock.offset
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh_app),
                                 base_url="http://accord.test") as client:
        try:
            yield client, await build_actors(client, fresh_app)
        finally:
            clock.offset = before


def move_to(clock: TestClock, moment: datetime) -> None:
    clock.advance(seconds=(moment - clock.now()).total_seconds())
