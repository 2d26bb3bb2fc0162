"""Builders for feedback scenarios (反馈闭环), shared by the feedback API tests: a complete
body, feedback recorded and read through the API, one call per loop action with If-Match
from the body last read, ``drive`` which takes a fresh item to any state of the loop, times
given as Shanghai wall-clock instants, a department of its own for tests that count, and
the clock pinned to an instant while a block runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from app.repositories.tables import outbox
from tests.customer_support import if_match
from tests.db import rows
from tests.support import Actor, TestClock, actor, unique, versioned

FEEDBACK = "/api/v1/feedback"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# What each action needs in its body to succeed (acknowledge and start take none).
BODIES: dict[str, dict[str, Any]] = {
    "acknowledge": {}, "start": {}, "resolve": {"resolution": "已补发对账单并调整出账流程"},
    "confirm": {"note": "客户财务经理电话确认"}, "reopen": {"reason": "本月对账单再次延迟"}}
ACTIONS = list(BODIES)
# The loop, state by state, and the action that leaves each state along it.
PATH = ["received", "acknowledged", "in_progress", "resolved", "confirmed"]
FORWARD = dict(zip(PATH, ACTIONS[:4], strict=False))


def local(*args: int) -> datetime:
    """A Shanghai wall-clock instant (year, month, day, hour[, minute]) in UTC."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


def at(value: str | None) -> datetime | None:
    """An instant of a response body, parsed."""
    return None if value is None else datetime.fromisoformat(value)


def near(value: str | None, expected: datetime) -> bool:
    """An instant of a body is ``expected`` up to the seconds a pinned-clock block takes."""
    found = at(value)
    return found is not None and abs(found - expected) < timedelta(seconds=5)


def path_of(fb: dict[str, Any], suffix: str = "") -> str:
    return f"{FEEDBACK}/{fb['id']}{suffix}"


def body(customer: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A complete feedback body about ``customer`` (a medium complaint by phone)."""
    return {"customer_id": customer["id"], "channel": "phone", "type": "complaint",
            "severity": "medium", "summary": "月结对账单连续两个月延迟，财务部门非常不满",
            **fields}


async def record(client: httpx.AsyncClient, who: Actor, customer: dict[str, Any],
                 **fields: Any) -> dict[str, Any]:
    """Record feedback as ``who``; the 201 body, with Location and ETag checked."""
    response = await client.post(FEEDBACK, headers=who.headers, json=body(customer, **fields))
    created = versioned(response, 201)
    assert response.headers["location"] == path_of(created)
    return created


async def read(client: httpx.AsyncClient, who: Actor, fb: dict[str, Any]) -> dict[str, Any]:
    """The item as ``who`` sees it now (200 expected, ETag = version)."""
    return versioned(await client.get(path_of(fb), headers=who.headers))


async def act(client: httpx.AsyncClient, who: Actor, fb: dict[str, Any], action: str,
              payload: dict[str, Any] | None = None) -> httpx.Response:
    """POST one loop action with If-Match from ``fb`` and the body it needs by default."""
    return await client.post(path_of(fb, f"/{action}"), headers={**who.headers, **if_match(fb)},
                             json=BODIES[action] if payload is None else payload)


async def moved(client: httpx.AsyncClient, who: Actor, fb: dict[str, Any], action: str,
                payload: dict[str, Any] | None = None) -> dict[str, Any]:
    after = versioned(await act(client, who, fb, action, payload))
    assert after["version"] == fb["version"] + 1
    return after


async def drive(client: httpx.AsyncClient, who: Actor, customer: dict[str, Any], to: str,
                **fields: Any) -> dict[str, Any]:
    """Fresh feedback about ``customer`` taken by ``who`` along the loop to state ``to``."""
    fb = await record(client, who, customer, **fields)
    for state in PATH:
        if state == to:
            return fb
        fb = await moved(client, who, fb, FORWARD[state])
    raise AssertionError(f"not a state of the loop: {to}")


async def events(app: FastAPI, fb: dict[str, Any]) -> list[str]:
    """The outbox event types about the item, in the order they were written."""
    found = sorted(await rows(app, outbox, entity_id=fb["id"]),
                   key=lambda r: r.occurred_at)
    return [r.type for r in found]


async def department(client: httpx.AsyncClient, admin: Actor) -> str:
    """A department of the test's own, so that what it counts is only its own."""
    response = await client.post("/api/v1/departments", headers=admin.headers,
                                 json={"name": unique("客服质量部")})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def team(client: httpx.AsyncClient, admin: Actor, roles: list[str],
               department_id: str | None = None) -> Actor:
    """A user with ``roles`` in ``department_id`` (a new department by default)."""
    return await actor(client, admin, department_id or await department(client, admin), roles)


@contextmanager
def pinned(clock: TestClock, instant: datetime) -> Iterator[None]:
    """The app's clock reads ``instant`` (plus the few milliseconds the block takes)."""
    shift = instant - clock.now()
    clock.offset += shift
    try:
        yield
    finally:
        clock.offset -= shift
