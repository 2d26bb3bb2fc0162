"""The change-request workflow benchmark (issue 4, item 10): N concurrent clients drive
changes from draft to closed against ``accord serve --workers 2`` on a fresh PostgreSQL
database, and one transition (approve) is compared with a raw asyncpg transaction doing
the same reads and writes, in the same run.

    .venv/bin/python -m bench.workflows            # ~3 min

Phases: create + migrate a database (bench.databases), seed departments, account managers
and customers (bench.seed) plus a department head, a project manager and a tech expert per
department (the people use case), start the app (bench.servers), warm up, run the
workflows (bench.workflow_client), then in alternating rounds the approve-only loop
through the app (wrk) and through bench.raw_approve on cloned changes (bench.approve_load);
write the report (bench.workflow_report) and drop the database unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from app.domain.access.roles import Role
from app.services.people import NewUser
from app.settings import Settings
from bench import approve_load, databases, machine, raw_approve, workflow_report
from bench.databases import dsn
from bench.run import DEFAULT_ADMIN_URL
from bench.seed import DEPARTMENTS, MANAGERS_PER_DEPARTMENT, PASSWORD, SYSTEM, seed
from bench.servers import Server, start_app, token
from bench.workflow_client import (
    Pending,
    Recorder,
    Team,
    run_workflows,
    to_awaiting_approval,
)

EXTRA_ROLES = {"head": Role.DEPARTMENT_HEAD, "pm": Role.PROJECT_MANAGER,
               "tech": Role.TECH_EXPERT}


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def other_benchmarks() -> list[str]:
    """Command lines of other benchmarks running now (bench.run, wrk): their load would
    be measured along with ours, and ours would spoil theirs."""
    me = os.getpid()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == me:
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if words and (Path(words[0]).name == "wrk" or "bench.run" in words):
            found.append(" ".join(words)[:120])
    return found


def wait_until_quiet(minutes: float) -> None:
    deadline = time.monotonic() + 60 * minutes
    while busy := other_benchmarks():
        if time.monotonic() > deadline:
            sys.exit(f"another benchmark is still running, not measuring: {busy[0]}")
        _log(f"another benchmark is running ({busy[0]}); waiting 30 s")
        time.sleep(30)


async def _extra_people(url: str) -> dict[str, dict[str, Any]]:
    """Per department: its id and the usernames/ids of a head, a PM and a tech expert."""
    from app.main import create_app

    app = create_app(Settings(database_url=url, log_level="WARNING"))
    people = app.state.services.people
    found: dict[str, dict[str, Any]] = {}
    try:
        for d, name in enumerate(DEPARTMENTS):
            department = await people.ensure_department(SYSTEM, name)
            found[str(department.id)] = entry = {"index": d, "id": department.id}
            for label, role in EXTRA_ROLES.items():
                username = f"bench.{label}.{d}"
                user = await people.create_user(SYSTEM, NewUser(
                    username=username, display_name=f"{label}{d}",
                    email=f"{username}@bench.accord.local", password=PASSWORD,
                    department_id=department.id, roles=frozenset({role})))
                entry[label] = (username, user.id)
    finally:
        await app.state.engines.dispose()
    return found


async def _customers_by_owner(url: str) -> dict[UUID, list[str]]:
    conn = await asyncpg.connect(dsn(url))
    try:
        rows = await conn.fetch("SELECT id, owner_id FROM customers WHERE archived_at IS NULL "
                                "ORDER BY id")
    finally:
        await conn.close()
    owned: dict[UUID, list[str]] = {}
    for r in rows:
        owned.setdefault(r["owner_id"], []).append(str(r["id"]))
    return owned


def _teams(app: Server, clients: int, owners: list[tuple[UUID, UUID]],
           departments: dict[str, dict[str, Any]], owned: dict[UUID, list[str]]) -> list[Team]:
    """Client i: an account manager of department i mod 3 and that department's cast."""
    auth: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in auth:
            auth[username] = {"Authorization": f"Bearer {token(app, username, PASSWORD)}"}
        return auth[username]

    teams = []
    for i in range(clients):
        d = i % len(DEPARTMENTS)
        m = (i // len(DEPARTMENTS)) % MANAGERS_PER_DEPARTMENT
        am_id, dept_id = owners[d * MANAGERS_PER_DEPARTMENT + m]
        cast = departments[str(dept_id)]
        teams.append(Team(requester=headers(f"bench.am.{d}.{m}"), requester_id=str(am_id),
                          pm=headers(cast["pm"][0]), tech=headers(cast["tech"][0]),
                          head=headers(cast["head"][0]), customers=owned[am_id],
                          department_id=str(dept_id)))
    return teams


async def _templates(app: Server, teams: list[Team]) -> list[str]:
    """One change awaiting approval per department, made through the API, to clone."""
    made = []
    async with httpx.AsyncClient(base_url=app.url, timeout=60) as client:
        for team in teams[:len(DEPARTMENTS)]:
            cr = await to_awaiting_approval(client, team, Recorder(), team.customers[-1])
            made.append(str(cr["id"]))
    return made


def _approve_rounds(args: argparse.Namespace, app: Server, url: str, teams: list[Team],
                    departments: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    templates = asyncio.run(_templates(app, teams))
    app_heads = {team.department_id: team.head for team in teams}
    raw_heads = {key: {"id": d["head"][1], "department_id": d["id"],
                       "roles": [Role.DEPARTMENT_HEAD.value]} for key, d in departments.items()}
    rounds = []
    per_template = -(-args.approve_pool // len(templates))
    per_template_raw = -(-args.baseline_pool // len(templates))
    for n in range(1, args.rounds + 1):
        pool: list[Pending] = asyncio.run(raw_approve.clone(dsn(url), templates, per_template))
        _log(f"round {n}: app approvals ({len(pool)} prepared, wrk, {args.clients} connections)")
        through_app = approve_load.through_app(app, url, pool, app_heads,
                                               seconds=args.approve_seconds,
                                               connections=args.clients)
        pool = asyncio.run(raw_approve.clone(dsn(url), templates, per_template_raw))
        _log(f"round {n}: raw asyncpg approvals ({len(pool)} prepared)")
        raw = approve_load.raw(url, pool, raw_heads, seconds=args.approve_seconds,
                               connections=args.clients)
        _log(f"round {n}: app {through_app.rate:.0f}/s ({through_app.failed} failed), "
             f"raw {raw.rate:.0f}/s ({raw.failed} failed)"
             + ("; a pool ran out" if through_app.ran_out or raw.ran_out else ""))
        rounds.append({"app": through_app, "raw": raw, "load": machine.load_average()})
    return rounds


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.workflows", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8,
                        help="concurrent clients; also the connections of each approve side")
    parser.add_argument("--seconds", type=float, default=60, help="workflow phase bound")
    parser.add_argument("--workflows", type=int, default=2000, help="workflow count bound")
    parser.add_argument("--warmup", type=int, default=16, help="workflows before measuring")
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--idempotency-keys", action="store_true",
                        help="send an Idempotency-Key with every POST (off: none sent)")
    parser.add_argument("--rounds", type=int, default=2, help="approve: app/raw rounds")
    parser.add_argument("--approve-seconds", type=float, default=15)
    parser.add_argument("--approve-pool", type=int, default=12000,
                        help="changes prepared for each app approve round")
    parser.add_argument("--baseline-pool", type=int, default=30000,
                        help="changes prepared for each raw approve round")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL,
                        help="maintenance database, used only for CREATE/DROP DATABASE")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--wait-minutes", type=float, default=10,
                        help="how long to wait for another benchmark to end before giving up")
    parser.add_argument("--output", default="",
                        help="default: a section of docs/performance.md if it exists, "
                        "else docs/performance-workflows.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    shown = argv if argv is not None else sys.argv[1:]
    command = ".venv/bin/python -m bench.workflows" + (" " + shlex.join(shown) if shown else "")
    wait_until_quiet(args.wait_minutes)
    started = time.monotonic()
    log_dir = Path(tempfile.mkdtemp(prefix="accord-bench-workflows-"))
    info: dict[str, Any] = machine.describe(args.admin_url)
    _log(f"machine: {info['cpu']} x{info['cores']}, load {info['load_at_start']}")
    name = databases.new_name("workflows")
    url = databases.create(args.admin_url, name)
    app: Server | None = None
    try:
        people, _ = asyncio.run(seed(url, args.customers, jobs=1, progress=_log))
        departments = asyncio.run(_extra_people(url))
        owned = asyncio.run(_customers_by_owner(url))
        app = start_app(url, log_dir)
        _log(f"app: {app.shown()}")
        teams = _teams(app, args.clients, people.owners, departments, owned)
        asyncio.run(run_workflows(app.url, teams, seconds=120, limit=args.warmup,
                                  idempotency=args.idempotency_keys))
        _log(f"workflows: {args.clients} clients, ≤ {args.seconds:.0f} s, "
             f"≤ {args.workflows} workflows")
        flows = asyncio.run(run_workflows(app.url, teams, seconds=args.seconds,
                                          limit=args.workflows,
                                          idempotency=args.idempotency_keys))
        _log(f"workflows: {flows.completed} closed, {flows.failed} failed in "
             f"{flows.seconds:.1f} s ({flows.completed / flows.seconds:.2f}/s)")
        info["load_after_workflows"] = machine.load_average()
        info["overlap"] = other_benchmarks()
        rounds = _approve_rounds(args, app, url, teams, departments)
        info["load_at_end"] = machine.load_average()
        info["overlap"] += other_benchmarks()
        info["minutes"] = round((time.monotonic() - started) / 60, 1)
        text = workflow_report.render(info, args, command, app.shown(), flows, rounds)
        path = workflow_report.write(text, args.output)
        _log(f"wrote {path} (server log in {log_dir})")
    finally:
        if app is not None:
            app.stop()
        if not args.keep:
            databases.drop(args.admin_url, name)


if __name__ == "__main__":
    main()
