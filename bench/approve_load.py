"""The two sides of an approve round, each with the CPU it cost per approval: the app
driven by wrk (bench/approve.lua) and bench.raw_approve's transaction over asyncpg. The
app's side is loaded from C, as the reads are, because a Python client on the same two
cores took CPU from the server it was measuring."""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import cpu, raw_approve
from bench.databases import dsn
from bench.load import bench_result
from bench.servers import Server
from bench.workflow_client import Pending, local_only, percentile

LUA = Path(__file__).with_name("approve.lua")
THREADS = 2


@dataclass
class Side:
    """What the report shows of one side of a round; CPU in ms per completed approval."""

    prepared: int
    completed: int
    failed: int
    seconds: float
    p50_ms: float
    p99_ms: float
    db_cpu_ms: float  # PostgreSQL backends of the benchmark database
    client_cpu_ms: float  # wrk, or the Python process running the raw transaction
    server_cpu_ms: float = float("nan")  # the app's workers; none on the raw side
    ran_out: bool = False  # the prepared changes ran out before the time did
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.completed else 0.0


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (wrk, once it has been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def through_app(server: Server, url: str, items: list[Pending],
                heads: dict[str, dict[str, str]], *, seconds: float, connections: int) -> Side:
    """``wrk -t2 -c{connections}`` posts each prepared approval once, as the head of the
    change's department, with If-Match on the cloned change's version, for ``seconds``
    rounded to whole seconds (wrk's unit)."""
    database = make_url(url).database or ""
    command = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--timeout", "10s", "-s", str(LUA), local_only(server.url), "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".approvals") as approvals:
        approvals.writelines(f"{item.path}\t{heads[item.department_id]['Authorization']}\t"
                             f"{item.version}\n" for item in items)
        approvals.flush()
        env = {**os.environ, "BENCH_APPROVALS": approvals.name, "BENCH_THREADS": str(THREADS)}
        before, wrk_before = cpu.snapshot(server.pid, database), _children_cpu()
        text = subprocess.run(command, env=env, capture_output=True, text=True,  # noqa: S603
                              timeout=seconds + 60, check=True).stdout
        server_s, db_s = cpu.spent(before, server.pid, database)
    wrk_s = _children_cpu() - wrk_before
    data = bench_result(text)
    n = max(1, data["ok"])
    errors = [f"approve: HTTP {status} × {count}" for status, count in data["statuses"].items()]
    errors += [f"approve: socket {kind} × {count}" for kind, count in data["errors"].items()
               if count]
    return Side(prepared=len(items), completed=data["ok"],
                failed=data["non_2xx"] + sum(data["errors"].values()),
                seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000, db_cpu_ms=1000 * db_s / n,
                client_cpu_ms=1000 * wrk_s / n, server_cpu_ms=1000 * server_s / n,
                ran_out=data["ran_out"] > 0, errors=errors)


def raw(url: str, items: list[Pending], heads: dict[str, dict[str, Any]], *, seconds: float,
        connections: int) -> Side:
    """bench.raw_approve over ``connections`` asyncpg connections; the database's CPU is read
    before they close."""
    database = make_url(url).database or ""
    spent: list[float] = []
    before, python_before = cpu.snapshot(os.getpid(), database), time.process_time()

    def finished() -> None:
        # process_time, not the snapshot's tree of this process: the app server is a child
        spent.append(time.process_time() - python_before)
        spent.append(cpu.spent(before, os.getpid(), database)[1])

    rec = asyncio.run(raw_approve.run(dsn(url), items, heads, concurrency=connections,
                                      seconds=seconds, finished=finished))
    python_s, db_s = spent
    n = max(1, rec.completed)
    latencies = rec.latencies["approve"]
    return Side(prepared=len(items), completed=rec.completed, failed=rec.failed,
                seconds=rec.seconds, p50_ms=percentile(latencies, 50),
                p99_ms=percentile(latencies, 99), db_cpu_ms=1000 * db_s / n,
                client_cpu_ms=1000 * python_s / n,
                ran_out=rec.completed + rec.failed >= len(items), errors=rec.errors)
