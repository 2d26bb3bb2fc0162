"""The change-request workflow as a client drives it over HTTP (httpx, async): draft →
submit → assessment → conclusion → approval → task → implementation → review → closed,
every transition with If-Match from the body last returned, timed call by call."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

API = "/api/v1/change-requests"
STEPS = ["create", "submit", "start_assessment", "assess_pm", "assess_tech",
         "conclude_assessment", "approve", "add_task", "start_implementation", "task_done",
         "complete_implementation", "review", "close"]
FORM = {"title": "二期上线时间调整（压测）", "description": "客户要求增加监管报表模块",
        "reason": "业务部门新增监管报送需求", "expected_effect": "按期满足监管报送",
        "category": "scope", "type": "normal", "priority": "high",
        "requested_completion_date": "2027-03-31"}
ASSESSMENT = {"necessity": 4, "feasibility": 4, "scope_impact": "新增报表模块",
              "schedule_days": 5, "cost": "10000.00", "resources": "一名开发", "likelihood": 1,
              "impact": 1, "recommendation": "proceed", "comment": "可行"}
# Small cost, low risk: under the default policy the chain is the department head only.
CONCLUSION = {"cost": "10000.00", "currency": "CNY", "schedule_days": 5, "likelihood": 1,
              "impact": 1, "recommendation": "proceed", "summary": "评估通过"}
REVIEW = {"goals_met": "yes", "actual_cost": "9000.00", "actual_schedule_days": 4,
          "customer_satisfaction": 5, "lessons_learned": "提前与客户确认报表口径"}


@dataclass
class Team:
    """One client's cast: the requester (an account manager who owns ``customers``), the
    assessors and the department head who approves."""

    requester: dict[str, str]
    requester_id: str
    pm: dict[str, str]
    tech: dict[str, str]
    head: dict[str, str]
    customers: list[str]
    department_id: str = ""


def percentile(values: list[float], p: float) -> float:
    """Nearest rank, in milliseconds (NaN when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    started_at: float = 0.0
    last_done_at: float = 0.0

    @property
    def seconds(self) -> float:
        return max(self.last_done_at - self.started_at, 1e-9)

    def error(self, message: str) -> None:
        self.failed += 1
        if len(self.errors) < 10:
            self.errors.append(message)


class Failed(Exception):
    pass


def local_only(base_url: str) -> str:
    if urlsplit(base_url).hostname != "127.0.0.1":
        raise ValueError(f"traffic goes to 127.0.0.1 only, not {base_url}")
    return base_url


async def _call(client: httpx.AsyncClient, rec: Recorder, step: str, path: str,
                headers: dict[str, str], body: dict[str, Any], version: int | None = None,
                idempotency: bool = False) -> dict[str, Any]:
    sent = dict(headers)
    if version is not None:
        sent["If-Match"] = f'"{version}"'
    if idempotency:
        sent["Idempotency-Key"] = uuid.uuid4().hex
    started = time.perf_counter()
    response = await client.post(path, headers=sent, json=body)
    elapsed = time.perf_counter() - started
    if response.status_code not in (200, 201):
        raise Failed(f"{step}: {response.status_code} {response.text[:300]}")
    rec.latencies[step].append(elapsed)
    result: dict[str, Any] = response.json()
    return result


async def to_awaiting_approval(client: httpx.AsyncClient, team: Team, rec: Recorder,
                               customer_id: str, idem: bool = False) -> dict[str, Any]:
    """Draft → submitted → assessing → two assessments → concluded (awaiting approval)."""
    cr = await _call(client, rec, "create", API, team.requester,
                     {"customer_id": customer_id, **FORM}, idempotency=idem)
    base = f"{API}/{cr['id']}"
    cr = await _call(client, rec, "submit", f"{base}/submit", team.requester,
                     {"comment": ""}, cr["version"], idem)
    cr = await _call(client, rec, "start_assessment", f"{base}/start-assessment", team.pm,
                     {"comment": ""}, cr["version"], idem)
    await _call(client, rec, "assess_pm", f"{base}/assessments", team.pm, ASSESSMENT,
                idempotency=idem)
    cr = await _call(client, rec, "assess_tech", f"{base}/assessments", team.tech, ASSESSMENT,
                     idempotency=idem)
    cr = await _call(client, rec, "conclude_assessment", f"{base}/conclude-assessment",
                     team.pm, CONCLUSION, cr["version"], idem)
    if [s["role"] for s in cr["approval_steps"]] != ["department_head"]:
        raise Failed(f"unexpected chain {cr['approval_steps']}")
    return cr


async def to_closed(client: httpx.AsyncClient, team: Team, rec: Recorder, cr: dict[str, Any],
                    idem: bool = False) -> dict[str, Any]:
    """Approved by the department head → task → implementing → implemented → closed."""
    base = f"{API}/{cr['id']}"
    step = cr["approval_steps"][0]
    cr = await _call(client, rec, "approve", f"{base}/approvals/{step['id']}/approve",
                     team.head, {"comment": "同意"}, cr["version"], idem)
    cr = await _call(client, rec, "add_task", f"{base}/tasks", team.requester,
                     {"title": "开发监管报表", "assignee_id": team.requester_id},
                     idempotency=idem)
    cr = await _call(client, rec, "start_implementation", f"{base}/start-implementation",
                     team.requester, {"comment": ""}, cr["version"], idem)
    task = cr["tasks"][0]
    cr = await _call(client, rec, "task_done", f"{base}/tasks/{task['id']}/status",
                     team.requester, {"status": "done"}, task["version"], idem)
    cr = await _call(client, rec, "complete_implementation", f"{base}/complete-implementation",
                     team.requester, {"comment": ""}, cr["version"], idem)
    cr = await _call(client, rec, "review", f"{base}/review", team.requester, REVIEW,
                     cr["version"], idem)
    cr = await _call(client, rec, "close", f"{base}/close", team.requester, {"comment": ""},
                     cr["version"], idem)
    if cr["state"] != "closed":
        raise Failed(f"ended in {cr['state']}")
    return cr


async def run_workflows(base_url: str, teams: list[Team], *, seconds: float, limit: int,
                        idempotency: bool = False) -> Recorder:
    """One client per team, each running complete workflows back to back until ``limit``
    workflows have started or ``seconds`` have passed (a started workflow finishes)."""
    rec = Recorder()
    started = 0
    deadline = time.monotonic() + seconds

    async def client_loop(team: Team) -> None:
        nonlocal started
        async with httpx.AsyncClient(base_url=local_only(base_url), timeout=60) as client:
            n = 0
            while started < limit and time.monotonic() < deadline:
                started += 1
                customer = team.customers[n % len(team.customers)]
                n += 1
                try:
                    cr = await to_awaiting_approval(client, team, rec, customer, idempotency)
                    await to_closed(client, team, rec, cr, idempotency)
                except (Failed, httpx.HTTPError) as exc:
                    rec.error(str(exc) or type(exc).__name__)
                    continue
                rec.completed += 1
                rec.last_done_at = time.perf_counter()

    rec.started_at = time.perf_counter()
    await asyncio.gather(*(client_loop(team) for team in teams))
    return rec


@dataclass(frozen=True)
class Pending:
    """A change awaiting its department head's approval."""

    cr_id: str
    version: int
    step_id: str
    department_id: str

    @property
    def path(self) -> str:
        return f"{API}/{self.cr_id}/approvals/{self.step_id}/approve"
