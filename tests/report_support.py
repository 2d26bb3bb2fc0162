"""Seed helpers for the management-report tests: rows written straight into the app's
database with exact instants, so that every figure can be computed by hand (working hours
across a holiday, a 90-day boundary) without driving each record through its workflow.
People, departments and customers still come through the API, so scope is the real one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy import Table, insert

from app.repositories.tables_change_requests import change_requests, cr_approval_steps
from tests.feedback_support import department
from tests.support import Actor, actor

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    """A Shanghai wall-clock instant (year, month, day, hour[, minute]) in UTC."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


@dataclass
class Team:
    """A department of the test's own with its head and two account managers."""

    department_id: str
    head: Actor
    am1: Actor
    am2: Actor


async def team(client: httpx.AsyncClient, admin: Actor) -> Team:
    dept = await department(client, admin)
    return Team(dept, await actor(client, admin, dept, ["department_head"]),
                await actor(client, admin, dept, ["account_manager"]),
                await actor(client, admin, dept, ["account_manager"]))


async def insert_rows(app: FastAPI, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows may name different columns: the rest are null."""
    names = {k for r in rows for k in r}
    async with app.state.engines.write.begin() as conn:
        await conn.execute(insert(table), [{k: r.get(k) for k in names} for r in rows])


async def report(client: httpx.AsyncClient, who: Actor, path: str,
                 **params: str) -> dict[str, Any]:
    response = await client.get(path, headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def figures(body: dict[str, Any]) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    """(section, key, metric) → (value, n) of a report body."""
    return {(f["section"], f["key"], f["metric"]): (f["value"], f["n"])
            for f in body["figures"]}


def change_request(customer: dict[str, Any], created: datetime, **fields: Any) -> dict[str, Any]:
    """A change-request row of ``customer`` (its owner and department), created then."""
    return {"id": uuid.uuid4(), "customer_id": uuid.UUID(customer["id"]),
            "department_id": uuid.UUID(customer["department_id"]),
            "owner_id": uuid.UUID(customer["owner_id"]),
            "requester_id": uuid.UUID(customer["owner_id"]), "title": "报表口径调整",
            "description": "d", "reason": "r", "expected_effect": "e", "category": "scope",
            "type": "normal", "priority": "high", "requested_completion_date": None,
            "attachments": [], "state": "draft", "round": 1, "currency": "CNY",
            "version": 1, "created_at": created, "updated_at": created, **fields}


def step(cr: dict[str, Any], round_: int, position: int, role: str, status: str,
         started: datetime | None = None, decided: datetime | None = None,
         due: datetime | None = None) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "change_request_id": cr["id"], "round": round_,
            "position": position, "role": role, "department_id": None, "due_at": due,
            "status": status, "decided_by": None, "decided_at": decided,
            "on_behalf_of": None, "comment": "", "escalated_at": None, "started_at": started}


def feedback(customer: dict[str, Any], received: datetime, ack_due: datetime,
             resolve_due: datetime, acknowledged: datetime | None = None,
             resolved: datetime | None = None) -> dict[str, Any]:
    owner = uuid.UUID(customer["owner_id"])
    return {"id": uuid.uuid4(), "customer_id": uuid.UUID(customer["id"]),
            "department_id": uuid.UUID(customer["department_id"]), "owner_id": owner,
            "channel": "phone", "type": "complaint", "severity": "medium", "summary": "s",
            "state": "received", "received_at": received, "acknowledge_due_at": ack_due,
            "resolve_due_at": resolve_due, "acknowledged_at": acknowledged,
            "resolved_at": resolved, "resolution": "", "reopen_count": 0,
            "created_by": owner, "created_at": received, "updated_at": received, "version": 1}


def handover(customer: dict[str, Any], to_manager: str, created: datetime,
             transferred: datetime | None, **fields: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "customer_id": uuid.UUID(customer["id"]),
            "customer_name": customer["name"],
            "department_id": uuid.UUID(customer["department_id"]),
            "from_manager_id": uuid.UUID(customer["owner_id"]),
            "to_manager_id": uuid.UUID(to_manager), "reason": "resignation", "note": "",
            "level": "standard", "level_reasons": [], "likelihood": 1, "impact": 1,
            "risk_level": "low", "risk_factors": [],
            "state": "transferred" if transferred else "preparing",
            "transferred_at": transferred, "created_by": uuid.UUID(customer["owner_id"]),
            "created_at": created, "updated_at": created, "version": 1, **fields}


async def seed_change_requests(app: FastAPI, crs: list[dict[str, Any]],
                               steps: list[dict[str, Any]]) -> None:
    await insert_rows(app, change_requests, crs)
    if steps:
        await insert_rows(app, cr_approval_steps, steps)

