"""The raw baseline of one transition: a department head approving the single step of a
change, written directly with asyncpg and doing the reads and writes the app's
transaction does — lock the change FOR UPDATE (within the head's department), check the
version, read its assessments, current-round steps, tasks and the delegations in force,
check the decider, update the step and the change, insert the outbox event and the
customer-timeline row, then lock the audit chain head, append the hash-chained entry
moving the head in the same statement — and commit. No HTTP, no authentication, no
response body: the ratio app ÷ this is what the whole stack costs on top of the database
work.

Also the cloning of prepared changes: both the app and this baseline need thousands of
changes awaiting approval, more than the API could prepare in reasonable time, so a few
made through the API are copied row for row (new ids) with COPY.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from app.domain.audit.chain import entry_hash
from bench.workflow_client import Pending, Recorder

TABLES = {"change_requests": "id", "cr_assessments": "change_request_id",
          "cr_approval_steps": "change_request_id"}


async def clone(dsn: str, templates: list[str], copies: int, seed: int = 7) -> list[Pending]:
    """``copies`` copies of each template change (row, assessments, current-round steps),
    returned shuffled."""
    conn = await asyncpg.connect(dsn)
    result: list[Pending] = []
    try:
        for template in templates:
            tid = uuid.UUID(template)
            cr = await conn.fetchrow("SELECT * FROM change_requests WHERE id = $1", tid)
            assessments = await conn.fetch(
                "SELECT * FROM cr_assessments WHERE change_request_id = $1", tid)
            steps = await conn.fetch("SELECT * FROM cr_approval_steps WHERE "
                                     "change_request_id = $1 AND round = $2", tid, cr["round"])
            rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
            for _ in range(copies):
                new = uuid.uuid4()
                rows["change_requests"].append(tuple({**cr, "id": new}.values()))
                for a in assessments:
                    rows["cr_assessments"].append(
                        tuple({**a, "id": uuid.uuid4(), "change_request_id": new}.values()))
                step_id = uuid.uuid4()
                for s in steps:
                    rows["cr_approval_steps"].append(
                        tuple({**s, "id": step_id, "change_request_id": new}.values()))
                result.append(Pending(str(new), cr["version"], str(step_id),
                                      str(cr["department_id"])))
            columns = {"change_requests": list(cr.keys()),
                       "cr_assessments": list(assessments[0].keys()),
                       "cr_approval_steps": list(steps[0].keys())}
            async with conn.transaction():
                for table in TABLES:
                    await conn.copy_records_to_table(table, records=rows[table],
                                                     columns=columns[table])
        await conn.execute("ANALYZE change_requests, cr_assessments, cr_approval_steps")
    finally:
        await conn.close()
    random.Random(seed).shuffle(result)  # noqa: S311 - an order, not a secret
    return result


class Refused(Exception):
    pass


def _snapshot(cr: asyncpg.Record, state: str) -> dict[str, Any]:
    """What the app's ``ChangeRequest.snapshot()`` holds."""
    cost = cr["estimated_cost"]
    return {"state": state, "round": cr["round"], "title": cr["title"], "type": cr["type"],
            "category": cr["category"], "priority": cr["priority"],
            "estimated_cost": None if cost is None else str(cost),
            "risk_level": cr["risk_level"]}


async def approve(conn: asyncpg.Connection, item: Pending, head: dict[str, Any]) -> None:
    """One approval by ``head`` (id, department_id, roles) as one transaction."""
    now = datetime.now(UTC)
    cr_id = uuid.UUID(item.cr_id)
    async with conn.transaction():
        cr = await conn.fetchrow("SELECT * FROM change_requests WHERE id = $1 AND "
                                 "department_id = $2 FOR UPDATE", cr_id, head["department_id"])
        if cr is None or cr["version"] != item.version:
            raise Refused("not found or stale version")
        await conn.fetch("SELECT * FROM cr_assessments WHERE change_request_id = $1 "
                         "ORDER BY created_at, id", cr_id)
        steps = await conn.fetch("SELECT * FROM cr_approval_steps WHERE change_request_id = $1 "
                                 "AND round = $2 ORDER BY position", cr_id, cr["round"])
        await conn.fetch("SELECT * FROM cr_tasks WHERE change_request_id = $1 "
                         "ORDER BY created_at, id", cr_id)
        await conn.fetch(
            "SELECT d.*, u.department_id FROM delegations d JOIN users u ON u.id = "
            "d.delegator_id WHERE d.role = $1 AND d.starts_at <= $2 AND d.ends_at > $2 "
            "AND d.revoked_at IS NULL", "department_head", now)
        pending = [s for s in steps if s["status"] == "pending"]
        step = pending[0] if pending else None
        if (cr["state"] != "awaiting_approval" or step is None
                or str(step["id"]) != item.step_id or step["role"] != "department_head"
                or step["department_id"] != head["department_id"]
                or cr["requester_id"] == head["id"]):
            raise Refused("not decidable")
        last = step["position"] == steps[-1]["position"]
        state = "approved" if last else "awaiting_approval"
        await conn.execute("UPDATE cr_approval_steps SET status = 'approved', decided_by = $2, "
                           "decided_at = $3, on_behalf_of = NULL, comment = $4 WHERE id = $1",
                           step["id"], head["id"], now, "同意")
        await conn.execute("UPDATE change_requests SET state = $2, version = version + 1, "
                           "updated_at = $3 WHERE id = $1", cr_id, state, now)
        event = "change_request." + ("approved" if last else "step_approved")
        data = {"action": "approve", "from": cr["state"], "to": state, "comment": "同意",
                "step": step["position"], "role": step["role"], "on_behalf_of": None}
        request_id = uuid.uuid4().hex
        await conn.execute(
            "INSERT INTO outbox (id, type, entity_type, entity_id, occurred_at, data, "
            "request_id) VALUES ($1, $2, 'change_request', $3, $4, $5::jsonb, $6)",
            uuid.uuid4(), event, item.cr_id, now,
            json.dumps({"title": cr["title"], "state": state, **data}), request_id)
        await conn.execute(
            "INSERT INTO customer_timeline (customer_id, occurred_at, type, entity_type, "
            "entity_id, actor_id, data) VALUES ($1, $2, $3, 'change_request', $4, $5, $6::jsonb)",
            cr["customer_id"], now, event, item.cr_id, str(head["id"]),
            json.dumps({"title": cr["title"], "state": state, **data}))
        head_row = await conn.fetchrow("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
        entry = {"actor_id": str(head["id"]), "actor_roles": head["roles"], "action": event,
                 "entity_type": "change_request", "entity_id": item.cr_id,
                 "before": _snapshot(cr, cr["state"]),
                 "after": {**_snapshot(cr, state), **{k: str(v) for k, v in data.items()}},
                 "request_id": request_id, "client_addr": "127.0.0.1"}
        seq = head_row["seq"] + 1
        digest = entry_hash(head_row["hash"], seq=seq, occurred_at=now, **entry)
        await conn.execute(  # the entry and the head's move in one statement, as the app does
            "WITH moved AS (UPDATE audit_head SET seq = $1, hash = $13 WHERE id = 1) "
            "INSERT INTO audit_log (seq, occurred_at, actor_id, actor_roles, action, "
            "entity_type, entity_id, before, after, request_id, client_addr, prev_hash, hash) "
            "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13)",
            seq, now, entry["actor_id"], json.dumps(entry["actor_roles"]), event,
            "change_request", item.cr_id, json.dumps(entry["before"]),
            json.dumps(entry["after"]), request_id, "127.0.0.1", head_row["hash"], digest)


async def run(dsn: str, items: list[Pending], heads: dict[str, dict[str, Any]], *,
              concurrency: int, seconds: float,
              finished: Callable[[], None]) -> Recorder:
    """``concurrency`` connections approve from one shared queue until empty or time is up.
    ``finished`` runs before the connections close, while their backends (and the CPU time
    they used) can still be read."""
    rec = Recorder()
    queue = deque(items)
    conns = [await asyncpg.connect(dsn) for _ in range(concurrency)]
    deadline = time.monotonic() + seconds

    async def worker(conn: asyncpg.Connection) -> None:
        while queue and time.monotonic() < deadline:
            item = queue.popleft()
            started = time.perf_counter()
            try:
                await approve(conn, item, heads[item.department_id])
            except (Refused, asyncpg.PostgresError) as exc:
                rec.error(f"approve: {exc}")
                continue
            rec.latencies["approve"].append(time.perf_counter() - started)
            rec.completed += 1
            rec.last_done_at = time.perf_counter()

    try:
        rec.started_at = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        finished()
    finally:
        for c in conns:
            await c.close()
    return rec
