"""Two requests truly in flight together (two httpx clients on one app, each request on
its own pooled connection), and what the pair of answers must show."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI

from tests.conftest import client_for
from tests.support import assert_problem

Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def race(app: FastAPI, first: Call, second: Call) -> list[httpx.Response]:
    """Run both calls at once, each through its own client."""
    async with client_for(app) as a, client_for(app) as b:
        return list(await asyncio.gather(first(a), second(b)))


def split(responses: list[httpx.Response]) -> tuple[httpx.Response, httpx.Response]:
    """(winner, loser): exactly one of the two succeeded."""
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, [r.text for r in responses]
    [loser] = [r for r in responses if r is not winners[0]]
    return winners[0], loser


def executed_once(responses: list[httpx.Response], status: int = 200) -> httpx.Response:
    """Two sends with one Idempotency-Key: exactly one ran; the other replayed its answer
    byte for byte or was told the key is still in flight. Returns the one that ran."""
    executed = [r for r in responses if r.status_code == status
                and "idempotent-replayed" not in r.headers]
    assert len(executed) == 1, [(r.status_code, r.text) for r in responses]
    [other] = [r for r in responses if r is not executed[0]]
    if other.status_code == status:
        assert other.headers["idempotent-replayed"] == "true"
        assert other.content == executed[0].content
    else:
        assert_problem(other, 409, "idempotency_key_in_flight")
    return executed[0]
