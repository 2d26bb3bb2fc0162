"""Load for the three reads: wrk (Debian's ``wrk`` with bench/reads.lua) for saturation,
the open-loop generator for a fixed rate, and CPU accounting around each phase."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
from sqlalchemy.engine import make_url

from bench import cpu, openloop
from bench.databases import dsn
from bench.servers import Server

LUA = Path(__file__).with_name("reads.lua")
READS = ["get-one", "page", "search"]
WRK_KIND = {"get-one": "one", "page": "page", "search": "search"}


@dataclass(frozen=True)
class Workload:
    ids: list[str]
    tiers: list[str]
    terms: list[str]

    def path(self, read: str, rng: random.Random) -> str:
        if read == "get-one":
            return f"/api/v1/customers/{rng.choice(self.ids)}"
        if read == "page":
            return f"/api/v1/customers?limit=50&tier={rng.choice(self.tiers)}&sort=-updated_at"
        return f"/api/v1/customers?q={quote(rng.choice(self.terms))}&limit=50"


@dataclass
class Saturation:
    requests: int
    seconds: float
    errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms: float  # per request
    db_cpu_ms: float  # per request, backends alive at the end of the run
    new_sessions: int  # PostgreSQL connections opened during the run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def _sessions(url: str) -> int:
    """Connections ever opened to the database (PostgreSQL ≥ 14), minus our own."""

    async def count() -> int:
        conn = await asyncpg.connect(dsn(url))
        try:
            return int(await conn.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"))
        finally:
            await conn.close()

    return asyncio.run(count()) - 1


def bench_result(stdout: str) -> dict[str, Any]:
    """The line ``BENCH_RESULT {json}`` that a bench/*.lua script's done() prints."""
    data: dict[str, Any] = json.loads(stdout.split("BENCH_RESULT ", 1)[1].splitlines()[0])
    return data


def wrk(server: Server, url: str, read: str, workload: Workload, token: str, *,
        seconds: int, connections: int, threads: int) -> Saturation:
    """Saturate one read. CPU of PostgreSQL backends that exit during the run (the pool
    closes overflow connections) is not seen, hence ``new_sessions``."""
    database = make_url(url).database or ""
    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as ids:
        ids.write("\n".join(workload.ids))
    env = {**os.environ, "BENCH_TOKEN": token, "BENCH_KIND": WRK_KIND[read],
           "BENCH_IDS": ids.name, "BENCH_TIERS": ",".join(workload.tiers),
           "BENCH_TERMS": ",".join(quote(t) for t in workload.terms)}
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(LUA), server.url]
    sessions = _sessions(url)
    before = cpu.snapshot(server.pid, database)
    try:
        out = subprocess.run(command, env=env, capture_output=True, text=True,  # noqa: S603
                             timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(ids.name)
    server_s, db_s = cpu.spent(before, server.pid, database)
    time.sleep(1.5)  # backends report their session counts within a second
    sessions = _sessions(url) - sessions
    data = bench_result(out)
    n = max(1, data["requests"])
    return Saturation(
        requests=data["requests"], seconds=data["duration_us"] / 1e6, errors=data["errors"],
        p50_ms=data["p50_us"] / 1000, p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000, max_ms=data["max_us"] / 1000,
        server_cpu_ms=1000 * server_s / n, db_cpu_ms=1000 * db_s / n, new_sessions=sessions)


def wrk_command(connections: int, threads: int, seconds: int) -> str:
    return (f"BENCH_TOKEN=… BENCH_KIND=one|page|search BENCH_IDS=ids.txt BENCH_TIERS=A,B,C,D "
            f"BENCH_TERMS=… wrk -t{threads} -c{connections} -d{seconds}s --timeout 10s "
            f"-s bench/reads.lua http://127.0.0.1:PORT")


def open_loop(server: Server, read: str, workload: Workload, token: str, *, rate: float,
              seconds: float, seed: int = 7) -> openloop.OpenLoopResult:
    rng = random.Random(seed)  # noqa: S311 - load pattern, not secrets
    return openloop.run_sync(server.url, lambda: workload.path(read, rng),
                             {"Authorization": f"Bearer {token}"}, rate=rate, seconds=seconds)
