"""The general rate limit (issue 14, item 5): each caller — a user, an API key, or the
address when nobody signed in — has a quota per window, announced on every answer with
``RateLimit-Limit`` / ``-Remaining`` / ``-Reset``; beyond it, 429 ``rate_limited`` with
``Retry-After``. On PostgreSQL the counters live in the database, so API processes sharing
it share the quota. Off unless configured in development and tests; an API key may have a
limit of its own.

The limited apps run on a clock of their own, frozen, so the window never turns mid-test;
each test counts fresh callers (the counters outlive an app on PostgreSQL)."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import Database, client_for
from tests.conftest import test_app as app_for
from tests.conftest import test_settings as settings_for
from tests.support import Actor, Actors, actor, assert_problem, unique

WINDOW_S = 3600
ME = "/api/v1/me"


class FrozenClock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def now(self) -> datetime:
        return self.at

    @property
    def reset_s(self) -> int:
        epoch = self.at.timestamp()
        return math.ceil((epoch // WINDOW_S + 1) * WINDOW_S - epoch)


@asynccontextmanager
async def limited_app(database: Database, clock: FrozenClock, limit: int,
                      **settings: object) -> AsyncIterator[FastAPI]:
    application = app_for(settings_for(database.url, rate_limit_requests=limit,
                                       rate_limit_window_s=WINDOW_S, **settings),
                          clock=clock)
    try:
        yield application
    finally:
        await application.state.engines.dispose()


def announced(response: httpx.Response) -> tuple[int, int, int]:
    return (int(response.headers["ratelimit-limit"]),
            int(response.headers["ratelimit-remaining"]),
            int(response.headers["ratelimit-reset"]))


async def _fresh_user(client: httpx.AsyncClient, actors: Actors) -> Actor:
    return await actor(client, actors.admin, actors.east, ["analyst"])


def _address() -> str:
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


async def test_every_answer_announces_the_quota_and_the_one_beyond_it_is_429(
        database: Database, client: httpx.AsyncClient, actors: Actors) -> None:
    clock = FrozenClock()
    caller, other = await _fresh_user(client, actors), await _fresh_user(client, actors)
    async with limited_app(database, clock, 3) as app, client_for(app) as limited:
        answers = [await limited.get(ME, headers=caller.headers) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [announced(a) for a in answers] == [(3, 2, clock.reset_s), (3, 1, clock.reset_s),
                                                   (3, 0, clock.reset_s)]
        refused = await limited.get(ME, headers=caller.headers)
        body = assert_problem(refused, 429, "rate_limited")
        assert refused.headers["retry-after"] == str(clock.reset_s)
        assert announced(refused) == (3, 0, clock.reset_s)
        assert body["detail"] == (f"You sent more than 3 requests in {WINDOW_S} s; retry in "
                                  f"{clock.reset_s} s.")
        assert refused.headers["content-type"] == "application/problem+json"
        # someone else's quota is their own
        assert announced(await limited.get(ME, headers=other.headers)) == (3, 2, clock.reset_s)

        # the next window starts over
        clock.at = datetime.fromtimestamp((clock.at.timestamp() // WINDOW_S + 1) * WINDOW_S + 5,
                                          UTC)
        again = await limited.get(ME, headers=caller.headers)
        assert again.status_code == 200, again.text
        assert announced(again) == (3, 2, WINDOW_S - 5)


async def test_strangers_count_by_address_and_a_key_may_have_its_own_limit(
        database: Database, client: httpx.AsyncClient, actors: Actors) -> None:
    clock = FrozenClock()
    issued = await client.post("/api/v1/api-keys", headers=actors.admin.headers, json={
        "name": unique("对账同步"), "scopes": ["users:read"], "rate_limit": 2})
    assert issued.status_code == 201, issued.text
    assert issued.json()["rate_limit"] == 2
    key = {"X-API-Key": issued.json()["key"]}
    address = _address()
    async with limited_app(database, clock, 5, rate_limit_anonymous_requests=2) as app, \
            client_for(app, address) as stranger:
        first = await stranger.get(ME)
        assert_problem(first, 401, "not_authenticated")
        assert announced(first) == (2, 1, clock.reset_s)
        assert announced(await stranger.get(ME))[:2] == (2, 0)
        assert_problem(await stranger.get(ME), 429, "rate_limited")
        async with client_for(app, _address()) as elsewhere:  # another address: its own
            assert announced(await elsewhere.get(ME))[:2] == (2, 1)

        users = [await stranger.get("/api/v1/users", headers=key) for _ in range(3)]
        assert [u.status_code for u in users] == [200, 200, 429]
        assert [announced(u)[:2] for u in users] == [(2, 1), (2, 0), (2, 0)]


async def test_the_limit_is_off_unless_configured_in_development(
        client: httpx.AsyncClient, actors: Actors) -> None:
    answer = await client.get(ME, headers=actors.analyst.headers)
    assert answer.status_code == 200
    assert not any(h.startswith("ratelimit-") for h in answer.headers)


@pytest.mark.postgres_only
async def test_two_api_processes_sharing_postgresql_share_one_quota(
        database: Database, client: httpx.AsyncClient, actors: Actors) -> None:
    """Two apps (as two processes would be: each its own pool and its own state) on one
    database: the caller's requests count once, wherever they land."""
    clock = FrozenClock()
    caller = await _fresh_user(client, actors)
    async with limited_app(database, clock, 4) as one, limited_app(database, clock, 4) as two, \
            client_for(one) as first, client_for(two) as second:
        answers = []
        for target in (first, second, first, second, second, first):
            answers.append(await target.get(ME, headers=caller.headers))
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429, 429]
    assert [announced(a)[1] for a in answers] == [3, 2, 1, 0, 0, 0]
    for refused in answers[4:]:
        assert_problem(refused, 429, "rate_limited")
        assert refused.headers["retry-after"] == str(clock.reset_s)
