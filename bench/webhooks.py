"""Webhook delivery benchmark: outbox → ``accord worker`` processes → a local receiver, on
PostgreSQL. Two figures, written into docs/performance.md between their own markers:

1. throughput: EVENTS events wait in the outbox; two workers start; deliveries per second
   from the workers' launch to the last arrival (start-up and the relay's head start
   counted: the figure held to the target), and between the first and the last arrival;
2. lag: with the workers running, events are committed one per transaction at RATE per
   second for SECONDS; the lag of each is its arrival minus its commit.

    .venv/bin/python -m bench.webhooks            # ~2 min
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from app.domain.common.events import DomainEvent
from app.main import create_app
from app.repositories.search import TrigramSearch
from app.repositories.unit_of_work import SqlUnitOfWorkFactory
from app.services.ports import RequestContext
from app.settings import Settings
from bench import databases
from bench.machine import _cpu_model
from bench.workflow_client import percentile
from bench.workflow_report import replace_section

BEGIN, END = "<!-- bench.webhooks:begin -->", "<!-- bench.webhooks:end -->"
ROOT = Path(__file__).resolve().parents[1]
CTX = RequestContext(None, "bench")
THROUGHPUT_TARGET, LAG_TARGET_S = 500.0, 1.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},  # noqa: S603
                                stdout=out, stderr=subprocess.STDOUT)


async def _count(client: httpx.AsyncClient, url: str) -> int:
    try:
        return int((await client.get(url)).text)
    except httpx.HTTPError:
        return -1


async def _until(client: httpx.AsyncClient, url: str, n: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while await _count(client, url) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the receiver got fewer than {n} deliveries")
        await asyncio.sleep(0.05)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a running process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _event(n: int) -> DomainEvent:
    return DomainEvent("bench.happened", "bench", uuid.uuid4(), datetime.now(UTC), {"n": n})


async def _run(url: str, args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    port = _free_port()
    out = tmp / "received.json"
    receiver = _start([sys.executable, "-m", "uvicorn", "bench.webhook_receiver:app",
                       "--port", str(port), "--loop", "uvloop", "--http", "httptools",
                       "--log-level", "warning", "--no-access-log"],
                      {"BENCH_RECEIVER_OUT": str(out)}, tmp / "receiver.log")
    count_url = f"http://127.0.0.1:{port}/count"
    app = create_app(Settings(database_url=url, log_level="WARNING", worker_in_process=False))
    uow = SqlUnitOfWorkFactory(app.state.engines, app.state.services.clock, TrigramSearch())
    workers: list[subprocess.Popen[bytes]] = []
    load_before = os.getloadavg()[0]
    async with httpx.AsyncClient() as client:
        try:
            await _until(client, count_url, 0, 60)
            await app.state.services.webhooks.create(
                CTX, f"http://127.0.0.1:{port}/hooks", "benchmark receiver", ["bench.*"])
            for start in range(0, args.events, 1000):  # the backlog, 1,000 per transaction
                async with uow(CTX) as u:
                    for n in range(start, min(args.events, start + 1000)):
                        u.emit(_event(n))
                    await u.commit()
            env = {"PYTHONPATH": str(ROOT), "ACCORD_DATABASE_URL": url,
                   "ACCORD_LOG_LEVEL": "INFO"}  # one log line per delivery, as in production
            launched = time.time()
            workers = [_start([sys.executable, "-c", "from app.cli import main; main()",
                               "worker"], env, tmp / f"worker-{i}.log")
                       for i in range(args.workers)]
            await _until(client, count_url, args.events, 600)

            commits: dict[int, float] = {}
            total = int(args.rate * args.seconds)
            started = time.monotonic()
            for i in range(total):  # open loop: one event per transaction at RATE
                await asyncio.sleep(max(0.0, started + i / args.rate - time.monotonic()))
                n = args.events + i
                async with uow(CTX) as u:
                    u.emit(_event(n))
                    await u.commit()
                commits[n] = time.time()
            await _until(client, count_url, args.events + total, 120)
            worker_cpu = sum(_cpu_s(w.pid) for w in workers)
            receiver_cpu = _cpu_s(receiver.pid)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            stopped = [w.wait(timeout=60) for w in workers]
            receiver.send_signal(signal.SIGTERM)
            receiver.wait(timeout=60)
            await app.state.webhook_transport.aclose()
            await app.state.engines.dispose()
    received = json.loads(out.read_text())
    backlog = sorted(t for n, _, t in received if n < args.events)
    lags = sorted(t - commits[n] for n, _, t in received if n in commits)
    ids = [w for _, w, _ in received]
    return {"events": args.events, "workers": args.workers, "rate": args.rate,
            "worker_cpu_ms": 1000 * worker_cpu / len(received),
            "receiver_cpu_ms": 1000 * receiver_cpu / len(received),
            "load": [load_before, os.getloadavg()[0]],
            "seconds": args.seconds, "throughput": (len(backlog) - 1) / (backlog[-1] - backlog[0]),
            "from_launch": len(backlog) / (backlog[-1] - launched),
            "lag_p50_ms": percentile(lags, 50), "lag_p99_ms": percentile(lags, 99),
            "lag_max_ms": lags[-1] * 1000, "lagged": len(lags),
            "duplicates": len(ids) - len(set(ids)),
            "stopped": stopped}


def render(r: dict[str, object], when: str) -> str:
    throughput, p99 = float(r["throughput"]), float(r["lag_p99_ms"])  # type: ignore[arg-type]
    launch = float(r["from_launch"])  # type: ignore[arg-type]
    mark = lambda ok: "met" if ok else "**missed**"  # noqa: E731
    return "\n".join([
        BEGIN, "## Webhook deliveries", "",
        f"Measured {when} by `python -m bench.webhooks` on this machine ({_cpu_model()}, "
        "2 cores shared by PostgreSQL, the workers, the receiver and the load).", "",
        "| figure | result | target |", "|---|---|---|",
        f"| deliveries per second, outbox → receiver, {r['workers']} `accord worker` "
        f"processes, {r['events']:,} events waiting, from the workers' launch to the last "
        f"arrival (start-up included) | {launch:,.0f}/s | ≥ "
        f"{THROUGHPUT_TARGET:.0f}/s ({mark(launch >= THROUGHPUT_TARGET)}) |",
        f"| same, between the first and the last arrival | {throughput:,.0f}/s | – |",
        f"| lag commit → receipt at {r['rate']} events/s for {r['seconds']} s, p50 | "
        f"{float(r['lag_p50_ms']):.0f} ms | – |",  # type: ignore[arg-type]
        f"| same, p99 | {p99:.0f} ms | ≤ {LAG_TARGET_S * 1000:.0f} ms "
        f"({mark(p99 <= LAG_TARGET_S * 1000)}) |",
        f"| same, max | {float(r['lag_max_ms']):.0f} ms | – |",  # type: ignore[arg-type]
        f"| CPU per delivery: the workers / the receiver | "
        f"{float(r['worker_cpu_ms']):.2f} ms / {float(r['receiver_cpu_ms']):.2f} ms "  # type: ignore[arg-type]
        "| – |",
        "",
        f"- The machine was shared: load average (1 min) {r['load'][0]:.1f} at the start "  # type: ignore[index]
        f"and {r['load'][1]:.1f} at the end; with 2 cores, the deliveries per second move "  # type: ignore[index]
        "with the neighbours, the CPU per delivery does not.",
        f"- Each event is one delivery (one endpoint subscribed to `bench.*`), signed, "
        f"posted over HTTP/1.1 to a uvicorn receiver on 127.0.0.1 that answers 204; "
        f"duplicates seen: {r['duplicates']}; workers' exit codes after SIGTERM: "
        f"{r['stopped']}.",
        "- Workers run with the defaults (`ACCORD_WORKER_POLL_S=0.2`, relay batches of 200, "
        "2 delivery loops of 100 concurrent posts each) and log one JSON line per delivery.",
        "- The lag is bounded below by the poll interval twice over (relay, then delivery "
        "loop) when the worker is idle; under load both loops run back to back.",
        "- Finding: the first transport, httpx, spent about 3 ms of CPU per request in the "
        "worker (37 deliveries/s in this benchmark); aiohttp spends 0.2 ms, so the "
        "transport is aiohttp. Reusing a connection the receiver was closing after its "
        "keep-alive (5 s in uvicorn and Node) failed an attempt and delayed that delivery "
        "by a retry (a 16 s maximum lag): idle connections are now dropped after 4 s.",
        END, ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url",
                        default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    name = databases.new_name("webhooks")
    url = databases.create(args.admin_url, name)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = asyncio.run(_run(url, args, Path(tmp)))
    finally:
        if not args.keep:
            databases.drop(args.admin_url, name)
    print(json.dumps(result, indent=2))
    replace_section(args.output, render(result, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
                    BEGIN, END)


if __name__ == "__main__":
    main()
