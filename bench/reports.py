"""The management-report benchmark (issue 18, item 7): a company's history on PostgreSQL,
every report for the whole company and for one department over a year, timed through
``accord serve --workers 2``, with EXPLAIN (ANALYZE, BUFFERS) of the SQL the app sends.

    .venv/bin/python -m bench.reports                          # 1M customers (~15 min)
    .venv/bin/python -m bench.reports --customers 200000       # a fifth of it
    .venv/bin/python -m bench.reports --database NAME --reports handovers  # some, again

Phases: create + migrate a database (bench.databases); people through the use cases
(bench.seed.create_people: 3 departments × 4 account managers and an administrator);
the history in bulk with INSERT … SELECT FROM generate_series, deterministic (ids are
md5 of the row number), secondary indexes dropped during the load and recreated from their
saved definitions; VACUUM ANALYZE; the app started; each report asked ``--requests`` times
per variant after a warm-up (sequential requests, latency measured by the client);
EXPLAIN of every statement a report sends; the section written between its markers in
docs/performance.md; the database dropped unless ``--keep``. ``--database NAME`` measures
a database a ``--keep`` run left (no seeding; the app's migrations must match it).

Sizes relative to ``--customers`` (issue 18 at 1,000,000): change requests 20 % (with 2–3
approval steps each past assessment), feedback 30 %, handovers 5 % (half with a finding),
risks 10 %, a health score for every customer, one timeline event per customer and one
more per churned customer, a next contact due for every live one (past due for almost
half), plans 5 % (4 milestones and 2 objectives each, as JSON on the row as the app
writes them; draft, active, completed and cancelled); the customer summaries (migration
0021_customer_summary) and the contact counts (0022_report_plans) are filled by their
triggers as the rows go in. Survey answers are not seeded (they hang off invitations and
responses), so the satisfaction figures of the account-manager and handover reports run
over empty tables here.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event

from app.settings import Settings
from bench import databases, machine
from bench.databases import dsn
from bench.explain import KEY_NODES
from bench.run import DEFAULT_ADMIN_URL
from bench.seed import ADMIN, PASSWORD, create_people
from bench.servers import start_app, token

BEGIN, END = "<!-- bench.reports:begin -->", "<!-- bench.reports:end -->"
MAIN = Path("docs/performance.md")
P50_TARGET_MS, P99_TARGET_MS = 300.0, 1000.0
REPORTS = ["change-requests", "customers", "account-managers", "risks", "handovers"]
# cr_approval_times is filled by its triggers as the steps are inserted
TABLES = ["customers", "customer_health", "customer_timeline", "change_requests",
          "cr_approval_steps", "cr_approval_times", "feedback_items", "handovers",
          "handover_findings", "risks", "contact_schedules", "plans", "customer_summary",
          "customer_health_summary", "customer_new_days", "customer_churn_days",
          "contact_due_counts"]

# One statement per table; $N the customers, $O the account managers, $D their
# departments (same order), $T the reference instant (history runs back three years).
SEED: dict[str, str] = {
    "customers": """
        INSERT INTO customers (id, name, kind, industry, region, address, owner_id,
            department_id, shared_with_department, tags, needs, preferred_time,
            custom_attributes, external_refs, currency, value_score, tier_computed, tier,
            stage, churn_reason, integrity_score, search_text, version, created_at,
            updated_at, archived_at)
        SELECT md5('c' || i)::uuid, '压测客户' || i, 'company', '制造业', '华东', '',
            $O[1 + i % 12], $D[1 + i % 12], false, '[]', '[]', '', '{}', '{}', 'CNY', 50,
            chr(65 + (i * 7) % 4), chr(65 + (i * 7) % 4),
            (ARRAY['prospect','onboarding','active','active','active','active','active',
                   'at_risk','at_risk','churned'])[1 + i % 10],
            CASE WHEN i % 10 = 9 THEN (ARRAY['price','competitor','service_quality',
                'budget_cut'])[1 + (i / 10) % 4] END,
            (i * 37) % 101, 'c' || i, 1,
            $T - make_interval(days => i % 1095, secs => (i * 13) % 86400),
            $T - make_interval(days => i % 30),
            CASE WHEN i % 50 = 0 THEN $T END
        FROM generate_series(0, $N - 1) AS i""",
    "customer_health": """
        INSERT INTO customer_health (customer_id, score, below_threshold, computed_at)
        SELECT md5('c' || i)::uuid, (i * 53) % 1001, (i * 53) % 1001 < 600, $T
        FROM generate_series(0, $N - 1) AS i""",
    "customer_timeline": """
        INSERT INTO customer_timeline (customer_id, occurred_at, type, entity_type, entity_id,
            data)
        SELECT md5('c' || i)::uuid, c.created_at + interval '1 hour', 'customer.created',
            'customer', md5('c' || i)::uuid::text, '{}'::jsonb
        FROM generate_series(0, $N - 1) AS i JOIN customers c ON c.id = md5('c' || i)::uuid
        UNION ALL
        SELECT c.id, least(c.created_at + make_interval(days => 1 + i % 300), $T),
            'customer.stage_changed', 'customer', c.id::text,
            jsonb_build_object('from', 'at_risk', 'to', 'churned', 'action', 'churn',
                               'churn_reason', c.churn_reason)
        FROM generate_series(0, $N - 1) AS i JOIN customers c ON c.id = md5('c' || i)::uuid
        WHERE i % 10 = 9""",
    "change_requests": """
        INSERT INTO change_requests (id, customer_id, department_id, owner_id, requester_id,
            title, description, reason, expected_effect, category, type, priority,
            requested_completion_date, attachments, state, round, currency, estimated_cost,
            estimated_schedule_days, likelihood, impact, risk_level, concluded_at,
            actual_cost, actual_schedule_days, implemented_at, version, created_at,
            updated_at)
        SELECT md5('r' || j)::uuid, md5('c' || k)::uuid, $D[1 + k % 12], $O[1 + k % 12],
            $O[1 + k % 12], '变更' || j, '', '', '',
            (ARRAY['scope','schedule','price_contract','product_configuration',
                   'service_level','contact_arrangements'])[1 + j % 6],
            CASE WHEN j % 20 = 0 THEN 'emergency' WHEN j % 5 = 1 THEN 'standard'
                 ELSE 'normal' END, 'medium', (created + interval '30 days')::date, '[]',
            state, 1, 'CNY', 10000 + (j % 50) * 1000, 10 + j % 20, 1 + j % 5, 1 + (j / 5) % 5,
            (ARRAY['low','medium','high',NULL])[1 + j % 4], created + interval '2 days',
            CASE WHEN state = 'closed' THEN (10000 + (j % 50) * 1000) * (0.8 + (j % 9) * 0.05)
            END,
            CASE WHEN state = 'closed' THEN 8 + j % 25 END,
            CASE WHEN state IN ('implemented', 'closed')
                 THEN created + make_interval(days => 5 + j % 40) END,
            1, created, created
        FROM (SELECT j, (j::bigint * 7919) % $N AS k,
                     (ARRAY['draft','submitted','assessing','awaiting_approval','approved',
                            'implementing','implemented','closed','closed','rejected',
                            'cancelled'])[1 + j % 11] AS state,
                     $T - make_interval(days => j % 1095, secs => (j * 7) % 86400)
                         AS created
              FROM generate_series(0, $N / 5 - 1) AS j) AS r""",
    "cr_approval_steps": """
        INSERT INTO cr_approval_steps (id, change_request_id, round, position, role, due_at,
            status, decided_at, comment, started_at)
        SELECT md5(c.id::text || p)::uuid, c.id, 1, p,
            (ARRAY['department_head','finance','executive'])[p],
            s.started + interval '16 hours', s.status,
            CASE WHEN s.status <> 'pending'
                 THEN s.started + make_interval(
                     hours => 1 + (p + c.estimated_schedule_days * 7) % 40) END,
            '', CASE WHEN s.current THEN s.started END
        FROM change_requests c
        CROSS JOIN generate_series(1, 3) AS p
        CROSS JOIN LATERAL (SELECT
            c.created_at + make_interval(days => 2 + p) AS started,
            CASE WHEN c.state IN ('approved','implementing','implemented','closed')
                      THEN 'approved'
                 WHEN c.state = 'rejected' THEN (ARRAY['approved','rejected','pending'])[p]
                 WHEN c.state = 'cancelled' THEN (ARRAY['returned','pending','pending'])[p]
                 ELSE (ARRAY['approved','pending','pending'])[p] END AS status,
            NOT (c.state IN ('rejected','cancelled','awaiting_approval') AND p = 3)
                AND NOT (c.state = 'cancelled' AND p = 2) AS current) AS s
        WHERE c.type <> 'standard' AND c.state NOT IN ('draft','submitted','assessing')
          AND p <= CASE WHEN c.type = 'emergency' THEN 1
                        WHEN c.estimated_schedule_days % 3 = 0 THEN 3 ELSE 2 END""",
    "feedback_items": """
        INSERT INTO feedback_items (id, customer_id, department_id, owner_id, channel, type,
            severity, summary, state, received_at, acknowledge_due_at, resolve_due_at,
            acknowledged_at, resolved_at, resolution, reopen_count, created_by, created_at,
            updated_at, version)
        SELECT md5('f' || f)::uuid, md5('c' || k)::uuid, $D[1 + k % 12], $O[1 + k % 12],
            'phone', (ARRAY['complaint','suggestion','question','praise'])[1 + f % 4],
            (ARRAY['low','medium','high','critical'])[1 + f % 4], '',
            CASE WHEN f % 4 <> 0 AND f % 10 <> 0 THEN 'resolved'
                 WHEN f % 10 <> 0 THEN 'acknowledged' ELSE 'received' END,
            received, received + interval '4 hours', received + interval '3 days',
            CASE WHEN f % 10 <> 0 THEN received + make_interval(hours => 1 + f % 8) END,
            CASE WHEN f % 4 <> 0 AND f % 10 <> 0 THEN received + make_interval(days => 1 + f % 5)
            END, '', 0, $O[1 + k % 12], received, received, 1
        FROM (SELECT f, (f::bigint * 104729) % $N AS k,
                     $T - make_interval(days => f % 1095, secs => (f * 11) % 86400)
                         AS received
              FROM generate_series(0, $N * 3 / 10 - 1) AS f) AS x""",
    "handovers": """
        INSERT INTO handovers (id, customer_id, customer_name, department_id, from_manager_id,
            to_manager_id, reason, note, level, level_reasons, likelihood, impact,
            risk_level, risk_factors, state, transferred_at, created_by, created_at,
            updated_at, version)
        SELECT md5('h' || h)::uuid, md5('c' || k)::uuid, '压测客户' || k, $D[1 + k % 12],
            $O[1 + k % 12], $O[1 + (k % 12) / 4 * 4 + ((k % 4) + 1) % 4], 'reassignment', '',
            'standard', '[]', 2, 2, 'medium', '[]',
            CASE WHEN h % 10 = 0 THEN 'preparing' ELSE 'transferred' END,
            CASE WHEN h % 10 <> 0 THEN created + interval '5 days' END,
            $O[1 + k % 12], created, created, 1
        FROM (SELECT h, (h * 19) % $N AS k,
                     $T - make_interval(days => 10 + h % 1000) AS created
              FROM generate_series(0, $N / 20 - 1) AS h) AS x""",
    "handover_findings": """
        INSERT INTO handover_findings (id, handover_id, item_key, raised_by, text, raised_at)
        SELECT md5('hf' || h)::uuid, md5('h' || h)::uuid,
            (ARRAY['contacts','contracts','open_items','documents'])[1 + (h / 2) % 4],
            $O[1], '缺少资料', $T - make_interval(days => 5 + h % 1000)
        FROM generate_series(0, $N / 20 - 1, 2) AS h""",
    "risks": """
        INSERT INTO risks (id, title, description, customer_id, change_request_id,
            handover_id, plan_id, likelihood, impact, level, owner_id, department_id,
            mitigation, contingency_plan, early_warning, next_review_date, status, version,
            created_at, updated_at, closed_at)
        SELECT md5('k' || r)::uuid, '风险' || r, '', NULL,
            CASE WHEN r % 7 = 0 THEN md5('r' || r)::uuid END,
            CASE WHEN r % 11 = 0 THEN md5('h' || r)::uuid END,
            CASE WHEN r % 13 = 0 THEN md5('p' || r)::uuid END,
            1 + r % 5, 1 + (r / 5) % 5, least(4, 1 + ((1 + r % 5) * (1 + (r / 5) % 5)) / 6),
            $O[1 + r % 12], $D[1 + r % 12], '', '', '',
            (created + make_interval(days => 30 + r % 60))::date,
            (ARRAY['open','mitigating','closed'])[1 + r % 3], 1, created, created,
            CASE WHEN r % 3 = 2 THEN created + interval '20 days' END
        FROM (SELECT r, $T - make_interval(days => r % 1095) AS created
              FROM generate_series(0, $N / 10 - 1) AS r) AS x""",
    "contact_schedules": """
        INSERT INTO contact_schedules (customer_id, last_contact_at, due_on, announced_due_on)
        SELECT md5('c' || i)::uuid, last, (last + make_interval(days => 20 + i % 110))::date,
            NULL
        FROM (SELECT i, $T - make_interval(days => i % 150, secs => (i * 17) % 86400) AS last
              FROM generate_series(0, $N - 1) AS i WHERE i % 50 <> 0) AS x""",
    "plans": """
        INSERT INTO plans (id, customer_id, department_id, title, scope_statement, owner_id,
            team, constraints, planned_start, planned_end, state, objectives, milestones,
            budget_lines, expectations, revision, activated_at, closed_at, cancel_reason,
            version, created_by, created_at, updated_at)
        SELECT md5('p' || p)::uuid, md5('c' || k)::uuid, $D[1 + k % 12], '方案' || p, '',
            $O[1 + k % 12], '[]', '{"time": "", "budget": "", "resources": ""}',
            start::date, (start + interval '180 days')::date, state,
            (SELECT jsonb_agg(jsonb_build_object('id', md5('po' || p || o)::uuid,
                'title', '目标' || o, 'horizon', 'short_term', 'metric', '指标',
                'target', '100', 'unit', '',
                'baseline', CASE WHEN o = 2 THEN '120' END,
                'due_date', (start + make_interval(days => 90 * o))::date,
                'actual', CASE WHEN (p + o) % 3 <> 0 THEN (90 + (p * o) % 25)::text END,
                'measured_at', NULL) ORDER BY o) FROM generate_series(1, 2) AS o),
            (SELECT jsonb_agg(jsonb_build_object('id', md5('pm' || p || m)::uuid,
                'title', '里程碑' || m,
                'planned_date', (start + make_interval(days => 45 * m))::date,
                'owner_id', NULL,
                'status', CASE WHEN state = 'completed' OR (p + m) % 3 <> 0 THEN 'done'
                               ELSE 'pending' END,
                'actual_date', CASE WHEN state = 'completed' OR (p + m) % 3 <> 0
                    THEN (start + make_interval(days => 45 * m + (p * m) % 11 - 5))::date END,
                'acceptance_note', '', 'deliverables', '[]'::jsonb) ORDER BY m)
             FROM generate_series(1, 4) AS m),
            '[]', NULL, CASE WHEN state <> 'draft' THEN 1 END,
            CASE WHEN state <> 'draft' THEN start END,
            CASE WHEN state IN ('completed', 'cancelled') THEN start + interval '200 days' END,
            '', 1, $O[1 + k % 12], start - interval '10 days', start
        FROM (SELECT p, (p::bigint * 6007) % $N AS k,
                     $T - make_interval(days => p % 1095) AS start,
                     (ARRAY['draft','active','active','active','completed','completed',
                            'cancelled'])[1 + p % 7] AS state
              FROM generate_series(0, $N / 20 - 1) AS p) AS x""",
}


@dataclass
class Timing:
    report: str
    variant: str
    samples_ms: list[float] = field(default_factory=list)
    status: int = 200

    def pct(self, p: float) -> float:
        s = sorted(self.samples_ms)
        return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


@dataclass
class Statement:
    report: str
    sql: str
    execution_ms: float
    indexes: list[str]
    nodes: list[str]


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


async def _indexes(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
        "AND i.tablename = ANY($1::text[]) AND i.indexname NOT IN (SELECT conname FROM "
        "pg_constraint WHERE contype IN ('p', 'u')) ORDER BY i.indexname", TABLES)
    return [(r["indexname"], r["indexdef"]) for r in rows]


def _bound(sql: str, customers: int, owners: list[Any], departments: list[Any],
           reference: datetime) -> str:
    """The statement with the benchmark's own values written in (numbers, ids and an
    instant it made itself): asyncpg cannot type parameters a statement does not use."""
    def ids(values: list[Any]) -> str:
        return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"
    return (sql.replace("$N", f"{int(customers)}")
            .replace("$O", f"({ids(owners)}::uuid[])")
            .replace("$D", f"({ids(departments)}::uuid[])")
            .replace("$T", f"'{reference.isoformat()}'::timestamptz"))


async def load(conn: asyncpg.Connection, statements: dict[str, str],
               indexes: list[tuple[str, str]]) -> dict[str, float]:
    """Each table's seeding statement with ``indexes`` (name, definition) dropped, then
    the indexes made again (faster than keeping them up row by row); seconds a table and
    for the indexes."""
    seconds: dict[str, float] = {}
    for name, _ in indexes:
        await conn.execute(f'DROP INDEX "{name}"')
    for table, sql in statements.items():
        started = time.perf_counter()
        await conn.execute(sql)
        seconds[table] = time.perf_counter() - started
        _log(f"  {table}: {seconds[table]:.0f} s")
    started = time.perf_counter()
    for _, definition in indexes:
        await conn.execute(definition)
    seconds["indexes"] = time.perf_counter() - started
    return seconds


async def seed(url: str, customers: int, reference: datetime) -> dict[str, Any]:
    people = await create_people(url)
    owners = [o for o, _ in people.owners]
    departments = [d for _, d in people.owners]
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute("SET work_mem = '256MB'")
        indexes = await _indexes(conn)
        seconds = await load(conn, {t: _bound(sql, customers, owners, departments, reference)
                                    for t, sql in SEED.items()}, indexes)
        # by name: PostgreSQL may print a recreated partial index's condition differently
        if [n for n, _ in await _indexes(conn)] != [n for n, _ in indexes]:
            raise RuntimeError("recreated indexes differ from the migrated ones")
        started = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) " + ", ".join(TABLES))
        seconds["analyse"] = time.perf_counter() - started
        rows, largest = await _contents(conn)
    finally:
        await conn.close()
    return {"seconds": seconds, "rows": rows, "department": largest, "people": people}


async def _contents(conn: asyncpg.Connection) -> tuple[dict[str, int], str]:
    """Rows per table, and the largest department (the one-department variant's)."""
    rows = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}  # noqa: S608
    largest = await conn.fetchval(
        "SELECT department_id FROM customers GROUP BY department_id "
        "ORDER BY count(*) DESC, department_id LIMIT 1")
    return rows, str(largest)


async def existing(url: str) -> dict[str, Any]:
    """A database kept by an earlier run (``--keep``), measured again as it is."""
    conn = await asyncpg.connect(dsn(url))
    try:
        rows, largest = await _contents(conn)
    finally:
        await conn.close()
    return {"seconds": {}, "rows": rows, "department": largest, "people": None}


def _variants(department: str, since: date, until: date) -> dict[str, dict[str, str]]:
    year = {"since": since.isoformat(), "until": until.isoformat()}
    return {"company, a year": year, "one department, a year": {**year,
                                                                "department_id": department}}


def time_reports(base: str, bearer: str, variants: dict[str, dict[str, str]],
                 requests: int, warmup: int, reports: list[str]) -> list[Timing]:
    timings = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {bearer}"},
                      timeout=60) as client:
        for name in reports:
            for variant, params in variants.items():
                t = Timing(name, variant)
                for n in range(warmup + requests):
                    started = time.perf_counter()
                    response = client.get(f"/api/v1/reports/{name}", params=params)
                    elapsed = (time.perf_counter() - started) * 1000
                    t.status = response.status_code
                    if response.status_code != 200:
                        raise RuntimeError(f"{name}: {response.status_code} {response.text}")
                    if n >= warmup:
                        t.samples_ms.append(elapsed)
                timings.append(t)
                _log(f"  {name} / {variant}: p50 {t.pct(50):.0f} ms, p99 {t.pct(99):.0f} ms")
    return timings


async def _captured(url: str, variants: dict[str, dict[str, str]], reports: list[str]
                    ) -> list[tuple[str, str, Any]]:
    """Every statement each report sends, with its parameters, as the administrator."""
    from app.main import create_app

    app = create_app(Settings(database_url=url, log_level="WARNING"))
    seen: list[tuple[str, str, Any]] = []
    label = [""]

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        if label[0] and not statement.lstrip().upper().startswith(("BEGIN", "SELECT pg_")):
            seen.append((label[0], statement, parameters))

    event.listen(app.state.engines.read.sync_engine, "before_cursor_execute", capture)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            tokens = await client.post("/api/v1/auth/token",
                                       data={"username": ADMIN, "password": PASSWORD})
            headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
            params = variants["one department, a year"]
            for name in reports:
                label[0] = name
                (await client.get(f"/api/v1/reports/{name}", params=params,
                                  headers=headers)).raise_for_status()
                label[0] = ""
    finally:
        await app.state.engines.dispose()
    return [s for s in seen if "FROM users" not in s[1] and "policies" not in s[1]]


async def explain(url: str, variants: dict[str, dict[str, str]],
                  reports: list[str]) -> list[Statement]:
    statements = await _captured(url, variants, reports)
    conn = await asyncpg.connect(dsn(url))
    found = []
    try:
        for report, sql, parameters in statements:
            args = list(parameters) if isinstance(parameters, (list, tuple)) else []
            if sql.lstrip().upper().startswith("SET LOCAL "):  # the report's settings
                await conn.execute("SET " + sql.lstrip()[len("SET LOCAL "):])
                continue
            plan_sql = "EXPLAIN (ANALYZE, BUFFERS) " + sql
            await conn.fetch(plan_sql, *args)  # warm
            lines = [r[0] for r in await conn.fetch(plan_sql, *args)]
            execution = next((float(x.split(":")[1].split()[0]) for x in lines
                              if x.startswith("Execution Time")), 0.0)
            indexes = _index_names(lines)
            nodes = [x.strip() for x in lines if KEY_NODES.search(x)][:12]
            found.append(Statement(report, " ".join(sql.split())[:160], execution,
                                   indexes, nodes))
    finally:
        await conn.close()
    return found


def _index_names(lines: list[str]) -> list[str]:
    """Index Scan / Index Only Scan "using X", Bitmap Index Scan "on X"."""
    names = set()
    for line in lines:
        if " using " in line and "Index" in line:
            names.add(line.split(" using ", 1)[1].split()[0])
        elif "Bitmap Index Scan on " in line:
            names.add(line.split("Bitmap Index Scan on ", 1)[1].split()[0])
    return sorted(names)


def render(info: dict[str, Any], seeded: dict[str, Any], timings: list[Timing],
           statements: list[Statement], command: str, server_command: str,
           period: tuple[date, date]) -> str:
    pg = info["postgres"]
    rows = seeded["rows"]
    lines = [BEGIN, "## Management reports", "",
             f"Data set: {rows['customers']:,} customers. Run on {info['date']}. Every "
             f"report asked for the year {period[0]} … {period[1]} (the reporting period "
             "parameters), for the whole company and for one department "
             f"(the largest, {seeded['department']}), as an administrator; sequential "
             "requests through `accord serve --workers 2`, latency measured by the client "
             "(includes HTTP, JSON and authentication).", "",
             "| report | variant | requests | p50 | p99 (target p50 ≤ 300 ms, p99 ≤ 1 s) | "
             "max | met |", "|---|---|---:|---:|---:|---:|---|"]
    for t in timings:
        ok = t.pct(50) <= P50_TARGET_MS and t.pct(99) <= P99_TARGET_MS
        lines.append(f"| {t.report} | {t.variant} | {len(t.samples_ms)} | {t.pct(50):.0f} ms | "
                     f"{t.pct(99):.0f} ms | {max(t.samples_ms):.0f} ms | "
                     f"{'met' if ok else '**missed**'} |")
    lines += ["", "### Data set", "",
              "| table | rows | seeding |", "|---|---:|---:|"]
    for table in TABLES:
        took = seeded["seconds"].get(table)
        how = "earlier run" if took is None else f"{took:.0f} s"
        if table == "cr_approval_times" and seeded["seconds"]:
            how = "with the steps (triggers)"
        lines.append(f"| {table} | {rows[table]:,} | {how} |")
    built = (f"Indexes recreated in {seeded['seconds']['indexes']:.0f} s, analysed in "
             f"{seeded['seconds']['analyse']:.0f} s." if "indexes" in seeded["seconds"] else
             "The database was seeded by an earlier run (kept with --keep, reused with "
             "--database).")
    lines += ["", f"{built} Survey answers are not seeded (see "
              "bench/reports.py): satisfaction figures run over empty tables.", "",
              "### Plans (one department, a year)", "",
              "EXPLAIN (ANALYZE, BUFFERS) of each statement the report sends, warm; the "
              "indexes its plan uses.", "",
              "| report | statement | execution | indexes used |", "|---|---|---:|---|"]
    for s in statements:
        sql = s.sql.replace("|", "\\|")
        lines.append(f"| {s.report} | `{sql[:110]}…` | {s.execution_ms:.1f} ms | "
                     f"{', '.join(s.indexes) or '– (sequential scan)'} |")
    lines += ["", "### Machine and command", "",
              f"- {info['cpu']}, {info['cores']} cores"
              f"{' (virtual machine)' if info['virtualised'] else ''}, "
              f"{info['memory_gib']} GiB; {info['os']}; Python {info['python']}.",
              f"- {pg['version'].split(' on ')[0]} — shared_buffers {pg['shared_buffers']}, "
              f"work_mem {pg['work_mem']}, jit {pg['jit']} (stock settings).",
              f"- Load average at the start {info['load_at_start']}, at the end "
              f"{machine.load_average()}: the machine is shared, so these are upper bounds.",
              f"- The benchmark: `{command}`",
              f"- The app: `{server_command}`", END, ""]
    return "\n".join(lines)


def write(section: str, output: str = "") -> Path:
    path = Path(output) if output else MAIN
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--output", default="")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--database", default="",
                        help="measure a database an earlier --keep run left, without seeding")
    parser.add_argument("--reports", default=",".join(REPORTS),
                        help="which reports to time and explain (comma-separated)")
    args = parser.parse_args(argv)
    reports = [r for r in args.reports.split(",") if r]
    if unknown := set(reports) - set(REPORTS):
        parser.error(f"unknown reports: {', '.join(sorted(unknown))}")
    command = ".venv/bin/python -m bench.reports " + " ".join(argv or sys.argv[1:])
    info = machine.describe(args.admin_url)
    reference = datetime.now(UTC).replace(microsecond=0)
    until = reference.date() + timedelta(days=1)
    since = until - timedelta(days=365)
    name = args.database or databases.new_name("reports")
    if args.database:
        url = databases.app_url(args.admin_url, name)
    else:
        _log(f"creating and migrating {name}")
        url = databases.create(args.admin_url, name)
    server = None
    try:
        if args.database:
            _log(f"reusing {name}")
            seeded = asyncio.run(existing(url))
        else:
            _log(f"seeding the history of {args.customers:,} customers")
            seeded = asyncio.run(seed(url, args.customers, reference))
        variants = _variants(seeded["department"], since, until)
        server = start_app(url, Path(tempfile.mkdtemp(prefix="accord-bench-reports-")))
        _log(f"timing the reports ({args.requests} requests each)")
        timings = time_reports(server.url, token(server, ADMIN, PASSWORD), variants,
                               args.requests, args.warmup, reports)
        server.stop()
        server = None
        _log("explaining the statements")
        statements = asyncio.run(explain(url, variants, reports))
        server_command = ("ACCORD_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/"
                          "accord_bench_… ACCORD_LOG_LEVEL=WARNING accord serve --workers 2")
        path = write(render(info, seeded, timings, statements, command, server_command,
                            (since, until)), args.output)
        _log(f"wrote {path}")
    finally:
        if server is not None:
            server.stop()
        if args.keep or args.database:
            _log(f"kept {name}")
        else:
            databases.drop(args.admin_url, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
