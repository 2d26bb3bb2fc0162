"""Helpers for the training tests: the business day, courses and sessions over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.support import Actor, TestClock, unique

COURSES = "/api/v1/training/courses"


def today(clock: TestClock) -> date:
    """The business calendar's day (Asia/Shanghai by default)."""
    return clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()


async def make_course(client: httpx.AsyncClient, who: Actor, **fields: Any) -> dict[str, Any]:
    body = {"title": unique("培训"), "topic": "change_management", "validity_months": 12,
            **fields}
    response = await client.post(COURSES, headers=who.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def record(client: httpx.AsyncClient, who: Actor, course: dict[str, Any], held_on: date,
                 trainer: Actor, *attendees: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{COURSES}/{course['id']}/sessions", headers=who.headers, json={
        "held_on": held_on.isoformat(), "trainer_id": trainer.id, "attendees": list(attendees)})


def attended(who: Actor, score: str | None = None) -> dict[str, Any]:
    return {"user_id": who.id, "attended": True, **({"score": score} if score else {})}
