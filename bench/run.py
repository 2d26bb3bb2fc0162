"""The benchmark of the customer read paths, end to end, in one command:

    .venv/bin/python -m bench.run            # 100k main run + 10k/1M scaling check

1. Main data set (``--customers``, 100,000): a fresh ``accord_bench_…`` database, migrated,
   seeded in bulk; EXPLAIN (ANALYZE, BUFFERS) of the app's three queries.
2. The app (``accord serve --workers 2``) and the raw baseline (bench/baseline.py) start
   side by side; their answers are checked identical; each read is then saturated with
   wrk (after a warm-up), the app is profiled with py-spy, held at half its measured
   maximum with the open-loop generator, and probed at a low fixed rate. With the servers
   stopped, bench/breakdown.py then times each step of a read in-process.
3. Scaling (``--scale``, 10,000 and 1,000,000): one database per size, the same low-rate
   probe of the page and the search, and their plans.
4. docs/performance.md is rewritten with the figures, the machine and the commands (the
   raw results stay in the run's log directory as results.pickle).

Every database is dropped at the end unless ``--keep``. Every load phase is bounded in
time, and traffic only goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import random
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from bench import databases, load, machine, report
from bench.breakdown import measure_sync
from bench.explain import Plan, explain
from bench.fake_customers import SEARCH_TERMS
from bench.openloop import OpenLoopResult
from bench.profile import profile
from bench.results import MainRun, Point
from bench.seed import People, sample_ids, seed_sync
from bench.servers import Server, start_app, start_baseline, token

DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PAGE_TIERS = ["A", "B", "C", "D"]


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _prepare(args: argparse.Namespace, point: Point) -> tuple[str, People]:
    point.database = databases.new_name(point.label)
    _log(f"{point.label}: creating and migrating {point.database}")
    url = point.url = databases.create(args.admin_url, point.database)
    _log(f"{point.label}: seeding {point.customers:,} customers")
    people, point.seed = seed_sync(url, point.customers, seed_value=args.seed, jobs=args.jobs,
                                   progress=_log)
    _log(f"{point.label}: seeded in {point.seed.seconds:.0f} s")
    return url, people


def _workload(url: str) -> load.Workload:
    return load.Workload(asyncio.run(sample_ids(url)), PAGE_TIERS, SEARCH_TERMS)


def _plans(url: str, people: People, workload: load.Workload) -> list[Plan]:
    return asyncio.run(explain(url, people.admin, UUID(workload.ids[0]), "B",
                               workload.terms[0]))


def _probe(args: argparse.Namespace, app: Server, people: People, workload: load.Workload,
           reads: list[str]) -> dict[str, OpenLoopResult]:
    """Latency without load: a low fixed rate, so p50 shows the cost of one request."""
    found = {}
    for read in reads:
        fresh = token(app, people.admin, people.password)
        found[read] = load.open_loop(app, read, workload, fresh, rate=args.probe_rate,
                                     seconds=args.probe_seconds)
        _log(f"  probe {read}: p50 {found[read].percentile(50):.1f} ms")
    return found


def _parity(app: Server, baseline: Server, fresh: str, workload: load.Workload
            ) -> dict[str, bool]:
    headers = {"Authorization": f"Bearer {fresh}"}
    rng = random.Random(1)  # noqa: S311
    same = {}
    for read in load.READS:
        path = workload.path(read, rng)
        a = httpx.get(app.url + path, headers=headers, timeout=30)
        b = httpx.get(baseline.url + path, headers=headers, timeout=30)
        same[read] = a.status_code == b.status_code == 200 and a.json() == b.json() and \
            a.headers.get("etag") == b.headers.get("etag")
    return same


def _saturate(args: argparse.Namespace, run: MainRun, server: Server, people: People,
              app: Server, workload: load.Workload, read: str) -> None:
    fresh = token(app, people.admin, people.password)
    options = {"connections": args.connections, "threads": args.threads}
    load.wrk(server, run.point.url, read, workload, fresh, seconds=args.warmup,
             **options)
    result = load.wrk(server, run.point.url, read, workload, fresh,
                      seconds=args.duration, **options)
    run.saturation[(server.name, read)] = result
    run.load_during.append(machine.load_average())
    _log(f"  {server.name} {read}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
         f"p99 {result.p99_ms:.1f} ms, errors {result.failed}")


def main_run(args: argparse.Namespace, log_dir: Path) -> MainRun:
    point = Point("main", args.customers, "")
    run = MainRun(point)
    app = baseline = None
    try:
        url, people = _prepare(args, point)
        workload = _workload(url)
        point.plans = _plans(url, people, workload)
        app = start_app(url, log_dir)
        baseline = start_baseline(url, log_dir)
        run.servers = {"app": app.shown(), "baseline": baseline.shown()}
        run.parity = _parity(app, baseline, token(app, people.admin, people.password),
                             workload)
        _log(f"main: identical answers app/baseline: {run.parity}")
        for read in load.READS:
            for server in (app, baseline):
                _saturate(args, run, server, people, app, workload, read)
        if args.profile_seconds:
            for read in load.READS:
                found = profile(app, point.url, read, workload,
                                token(app, people.admin, people.password),
                                seconds=args.profile_seconds, connections=args.connections,
                                threads=args.threads)
                if found:
                    run.profiles.append(found)
        for read in load.READS:
            rate = run.saturation[("app", read)].rps / 2
            result = load.open_loop(app, read, workload,
                                    token(app, people.admin, people.password),
                                    rate=rate, seconds=args.duration)
            run.half_max[read] = result
            _log(f"  half max {read} at {rate:.0f}/s: p99 {result.percentile(99):.1f} ms")
        point.probe = _probe(args, app, people, workload, load.READS)
        for server in (app, baseline):
            server.stop()
        _log("main: in-process cost breakdown")
        run.breakdown = measure_sync(url, people.admin, people.password, workload.ids[0], "B")
    finally:
        for server in (app, baseline):
            if server is not None:
                server.stop()
        if point.database and not args.keep:
            databases.drop(args.admin_url, point.database)
    return run


def scale_point(args: argparse.Namespace, customers: int, log_dir: Path) -> Point:
    label = f"{customers // 1000}k"
    point = Point(label, customers, "")
    app = None
    try:
        url, people = _prepare(args, point)
        workload = _workload(url)
        point.plans = [p for p in _plans(url, people, workload) if p.read != "get-one"]
        app = start_app(url, log_dir)
        point.probe = _probe(args, app, people, workload, ["page", "search"])
    except Exception as exc:  # a size that does not fit is reported, not fatal
        point.error = f"{type(exc).__name__}: {exc}"
        _log(f"{label}: failed: {point.error}")
    finally:
        if app is not None:
            app.stop()
        if point.database and not args.keep:
            databases.drop(args.admin_url, point.database)
    return point


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--scale", default="10000,1000000",
                        help="sizes for the scaling check, comma-separated ('' to skip)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--probe-rate", type=float, default=20.0)
    parser.add_argument("--probe-seconds", type=float, default=30.0)
    parser.add_argument("--profile-seconds", type=int, default=10, help="0: no profile")
    parser.add_argument("--jobs", type=int, default=2, help="seeding processes")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL,
                        help="maintenance database, used only for CREATE/DROP DATABASE")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--output", default="docs/performance.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    command = ".venv/bin/python -m bench.run" + (
        " " + shlex.join(argv if argv is not None else sys.argv[1:])
        if (argv if argv is not None else sys.argv[1:]) else "")
    started = time.monotonic()
    log_dir = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    info: dict[str, Any] = machine.describe(args.admin_url)
    _log(f"machine: {info['cpu']} x{info['cores']}, load {info['load_at_start']}")
    run = main_run(args, log_dir)
    sizes = [int(s) for s in args.scale.split(",") if s.strip()]
    points = [scale_point(args, n, log_dir) for n in sizes]
    info["load_at_end"] = machine.load_average()
    info["minutes"] = round((time.monotonic() - started) / 60, 1)
    results = log_dir / "results.pickle"  # re-render: python -m bench.report RESULTS OUT
    results.write_bytes(pickle.dumps((info, args, command, run, points)))
    path = Path(args.output)
    path.write_text(report.render(info, args, command, run, points), encoding="utf-8")
    _log(f"wrote {path} (server logs and {results.name} in {log_dir})")


if __name__ == "__main__":
    main()
