"""docs/performance.md, rendered from one benchmark run (rewritten every run)."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from bench import findings
from bench.load import READS, wrk_command

if TYPE_CHECKING:
    from bench.explain import Plan
    from bench.results import MainRun, Point

RATIO_TARGET = 0.5
HALF_MAX_P99_TARGET_MS = 50.0
GROWTH_TARGET = 1.5


def _ms(value: float) -> str:
    return "–" if value != value else f"{value:.1f} ms"  # NaN → dash


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _verdict(run: MainRun) -> list[str]:
    lines = ["| read | app req/s | baseline req/s | ratio (target ≥ 0.5) | app p50 / p99 at "
             "saturation | baseline p50 / p99 | app p99 at half max (target ≤ 50 ms) |",
             "|---|---:|---:|---:|---|---|---|"]
    for read in READS:
        app, base = run.saturation.get(("app", read)), run.saturation.get(("baseline", read))
        half = run.half_max.get(read)
        if app is None or base is None:
            lines.append(f"| {read} | – | – | – | – | – | – |")
            continue
        ratio = app.rps / base.rps if base.rps else 0.0
        p99 = half.percentile(99) if half else float("nan")
        half_cell = f"{_ms(p99)} at {half.rate:.0f}/s — {_mark(p99 <= HALF_MAX_P99_TARGET_MS)}" \
            if half else "–"
        lines.append(
            f"| {read} | {app.rps:.0f} | {base.rps:.0f} | {ratio:.2f} — "
            f"{_mark(ratio >= RATIO_TARGET)} | {_ms(app.p50_ms)} / {_ms(app.p99_ms)} | "
            f"{_ms(base.p50_ms)} / {_ms(base.p99_ms)} | {half_cell} |")
    return lines


def _scaling(run: MainRun, points: list[Point]) -> list[str]:
    everything = sorted([*points, run.point], key=lambda p: p.customers)
    measured = [p for p in everything if p.probe]
    head = " | ".join(f"p50 at {p.customers:,}" for p in measured)
    lines = [f"| read | {head} | growth largest ÷ smallest (target ≤ 1.5×) |",
             "|---|" + "---:|" * len(measured) + "---|"]
    for read in ("page", "search"):
        cells = [_ms(p.probe[read].percentile(50)) if read in p.probe else "–"
                 for p in measured]
        growth = "–"
        ends = [p for p in measured if read in p.probe]
        if len(ends) >= 2:
            first, last = ends[0].probe[read].percentile(50), ends[-1].probe[read].percentile(50)
            factor = last / first if first else float("inf")
            growth = (f"{factor:.2f}× ({ends[0].customers:,} → {ends[-1].customers:,}) — "
                      f"{_mark(factor <= GROWTH_TARGET)}")
        lines.append(f"| {read} | {' | '.join(cells)} | {growth} |")
    missing = [p for p in points if p.error or not p.probe]
    for p in missing:
        lines.append("")
        lines.append(f"The {p.customers:,}-customer data set was **not measured**: "
                     f"{p.error or 'no result'}.")
    return lines


def _machine(info: dict[str, Any], run: MainRun) -> list[str]:
    pg = info["postgres"]
    return [
        f"- Date: {info['date']}; the whole run took {info.get('minutes', '?')} minutes.",
        f"- CPU: {info['cpu']}, {info['cores']} cores"
        f"{' (virtual machine)' if info['virtualised'] else ''}; memory "
        f"{info['memory_gib']} GiB.",
        f"- OS: {info['os']}; Python {info['python']}; {info['wrk']}.",
        f"- PostgreSQL: {pg['version']} — shared_buffers {pg['shared_buffers']}, work_mem "
        f"{pg['work_mem']}, effective_cache_size {pg['effective_cache_size']}, "
        f"random_page_cost {pg['random_page_cost']}, jit {pg['jit']} (stock settings).",
        f"- Load average (1/5/15 min) at the start {info['load_at_start']}, after each "
        f"saturation run {', '.join(x.split()[0] for x in run.load_during) or '–'}, at the "
        f"end {info.get('load_at_end', '?')}.",
        "- Everything shares these cores: PostgreSQL, the server under test, the load "
        "generator, and whatever else the machine runs at the time (the load averages above "
        "show how busy it was). Requests per second therefore move with the neighbours; "
        "the CPU milliseconds per request in the detailed table do not, and are the better "
        "basis for comparing the app with the baseline.",
    ]


def _datasets(run: MainRun, points: list[Point]) -> list[str]:
    lines = ["| data set | customers | contacts | contact points | tags | external refs | "
             "customers table (with indexes) | seeding: people / COPY / indexes / analyse |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for p in sorted([run.point, *points], key=lambda x: x.customers):
        s = p.seed
        if s is None:
            lines.append(f"| {p.label} | {p.customers:,} | – | – | – | – | – | not seeded |")
            continue
        r = s.rows
        lines.append(
            f"| {p.label} | {r['customers']:,} | {r['contacts']:,} | {r['contact_points']:,} "
            f"| {r['customer_tags']:,} | {r['customer_external_refs']:,} | "
            f"{float(s.table_mb):,.0f} MB | {s.seconds_people:.0f} s / {s.seconds_copy:.0f} s "
            f"/ {s.seconds_indexes:.0f} s / {s.seconds_analyze:.0f} s |")
    seed = run.point.seed
    if seed:
        terms = ", ".join(f"{t} ({n:,})" for t, n in seed.term_matches.items())
        tiers = ", ".join(f"{t}: {n:,}" for t, n in seed.tier_counts.items())
        lines += ["", f"Search terms of the main set and the live customers each matches: "
                  f"{terms}. Live customers per tier: {tiers}."]
    return lines


def _commands(info: dict[str, Any], args: argparse.Namespace, command: str,
              run: MainRun) -> list[str]:
    app = re.sub(r"--port \d+", "--port PORT", run.servers.get("app", "accord serve"))
    base = re.sub(r"--port \d+", "--port PORT", run.servers.get("baseline", "uvicorn …"))
    return [
        f"- The benchmark: `{command}`",
        "- The app, as the README runs it: `ACCORD_DATABASE_URL=postgresql+asyncpg://"
        f"postgres@127.0.0.1:5432/accord_bench_… ACCORD_LOG_LEVEL=WARNING {app}`",
        f"- The baseline: `BENCH_DSN=postgresql://postgres@127.0.0.1:5432/accord_bench_… "
        f"{base}`",
        f"- Saturation, per read and server, after a {args.warmup} s warm-up: "
        f"`{wrk_command(args.connections, args.threads, args.duration)}`",
        f"- Fixed rate: bench/openloop.py (asyncio, open loop, 64 keep-alive connections, "
        f"latency from the scheduled send time, which adds up to 1 ms of timer "
        f"granularity) at half the app's measured maximum for {args.duration} s; "
        f"low-rate probe for the scaling check: {args.probe_rate:.0f} req/s for "
        f"{args.probe_seconds:.0f} s.",
        "- Reads, signed in as an administrator (a fresh token per phase): get-one "
        "`GET /api/v1/customers/{id}` (random ids of live customers), page "
        "`GET /api/v1/customers?limit=50&tier={A|B|C|D}&sort=-updated_at`, search "
        "`GET /api/v1/customers?q={term}&limit=50` (terms listed under Data sets).",
    ]


def _details(run: MainRun) -> list[str]:
    lines = ["| server | read | req/s | p50 | p90 | p99 | max | failed | server CPU / req | "
             "PostgreSQL CPU / req | new connections |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for read in READS:
        for server in ("app", "baseline"):
            s = run.saturation.get((server, read))
            if s is None:
                continue
            lines.append(
                f"| {server} | {read} | {s.rps:.0f} | {_ms(s.p50_ms)} | {_ms(s.p90_ms)} | "
                f"{_ms(s.p99_ms)} | {_ms(s.max_ms)} | {s.failed} | {s.server_cpu_ms:.2f} ms | "
                f"{s.db_cpu_ms:.2f} ms | {s.new_sessions} |")
    lines += ["", "CPU per request, app ÷ baseline (server + PostgreSQL): " + ", ".join(
        f"{read} {_cpu_factor(run, read)}" for read in READS) + "."]
    same = ", ".join(f"{read}: {'identical' if ok else '**different**'}"
                     for read, ok in run.parity.items())
    lines += ["", f"Answers of the app and the baseline for the same request (body and "
              f"ETag): {same}."]
    return lines


def _cpu_factor(run: MainRun, read: str) -> str:
    app, base = run.saturation.get(("app", read)), run.saturation.get(("baseline", read))
    if not app or not base:
        return "–"
    total = lambda s: s.server_cpu_ms + s.db_cpu_ms  # noqa: E731
    return f"{total(app) / total(base):.1f}×" if total(base) else "–"


def _half_max(run: MainRun) -> list[str]:
    lines = ["| read | rate | sent | 200 OK | dropped | p50 | p99 | max | other answers | "
             "generator CPU | generator's worst lag |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for read, r in run.half_max.items():
        other = ", ".join(f"{k}: {v}" for k, v in r.statuses.items() if k != "200") or "none"
        lines.append(f"| {read} | {r.rate:.0f}/s | {r.sent} | {r.ok} | {r.dropped} | "
                     f"{_ms(r.percentile(50))} | {_ms(r.percentile(99))} | "
                     f"{_ms(r.percentile(100))} | {other} | {r.client_cpu_percent:.0f} % | "
                     f"{_ms(r.max_send_lag_ms)} |")
    return lines


def _probes(run: MainRun, points: list[Point]) -> list[str]:
    lines = ["| data set | read | p50 | p99 | SQL execution, warm (first run) | plan |",
             "|---|---|---:|---:|---:|---|"]
    for p in sorted([run.point, *points], key=lambda x: x.customers):
        for read in ("page", "search"):
            r = p.probe.get(read)
            plan = next((x for x in p.plans if x.read == read), None)
            lines.append(
                f"| {p.customers:,} | {read} | {_ms(r.percentile(50)) if r else '–'} | "
                f"{_ms(r.percentile(99)) if r else '–'} | "
                f"{f'{plan.execution_ms:.2f} ms ({plan.first_run_ms:.2f} ms)' if plan else '–'} | "
                f"{_plan_summary(plan) if plan else '–'} |")
    return lines


def _plan_summary(plan: Plan) -> str:
    nodes = [line.strip().lstrip("-> ").split("  (")[0] for line in plan.lines
             if "(cost=" in line]
    return " → ".join(nodes[:4])


def _plans(run: MainRun) -> list[str]:
    lines: list[str] = []
    for plan in run.point.plans:
        where = plan.sql.split("FROM", 1)[-1].replace("\n", " ")
        lines += [f"**{plan.read}** — `… FROM{where[:220]}`", "",
                  f"Indexes used: {', '.join(f'`{i}`' for i in plan.indexes) or 'none'}; "
                  f"execution {plan.execution_ms:.2f} ms warm, {plan.first_run_ms:.2f} ms on "
                  "its first run.", "", "```text",
                  *plan.key_lines, "```", ""]
    lines += ["<details><summary>Full plans</summary>", ""]
    for plan in run.point.plans:
        lines += [f"{plan.read}:", "", "```text", *plan.lines, "```", ""]
    lines += ["</details>"]
    return lines


def _profiles(run: MainRun) -> list[str]:
    if not run.profiles:
        return ["Not profiled in this run (`--profile-seconds 0`, or py-spy missing)."]
    lines = ["py-spy sampled one app worker at 200 Hz while wrk saturated the read; shares "
             "of the samples by the package, and by the function, on top of the stack "
             "(own time):", ""]
    for p in run.profiles:
        lines += [f"**{p.read}** ({p.samples} samples)", "", "| package | share |",
                  "|---|---:|", *[f"| {k} | {v:.0f} % |" for k, v in p.by_package[:8]], "",
                  "| function (own time) | share |", "|---|---:|",
                  *[f"| `{k[:110]}` | {v:.0f} % |" for k, v in p.by_function[:10]], ""]
    return lines


def render(info: dict[str, Any], args: argparse.Namespace, command: str, run: MainRun,
           points: list[Point]) -> str:
    sections = [
        ["# Performance of the customer read paths", "",
         "Written by `bench/run.py`, and rewritten by every run: change the benchmark, not "
         "this page. Reproduce with the command under *How it was run*; what the benchmark "
         "does is described in [bench/run.py](../bench/run.py).", "",
         f"Main data set: {run.point.customers:,} customers. Run on {info['date']}."],
        ["## Targets", "", *_verdict(run), "", "Scaling: p50 of a single request at a low "
         "fixed rate, by data-set size.", "", *_scaling(run, points)],
        ["## Machine", "", *_machine(info, run)],
        ["## Data sets", "", *_datasets(run, points)],
        ["## How it was run", "", *_commands(info, args, command, run)],
        ["## Saturation (wrk)", "", *_details(run)],
        ["## Half of the app's maximum rate (open loop)", "", *_half_max(run)],
        ["## Scaling", "", *_probes(run, points)],
        [f"## Query plans at {run.point.customers:,} customers", "",
         "The SQL the app sends for each read (captured from SQLAlchemy), explained with "
         "`EXPLAIN (ANALYZE, BUFFERS)` on its second run; key lines:", "", *_plans(run)],
        ["## Where the app's time goes", "", *_profiles(run)],
        ["## Findings", "", *findings.render(run, points)],
    ]
    return "\n".join("\n".join(s) + "\n" for s in sections)


if __name__ == "__main__":  # re-render from a run's results.pickle: RESULTS OUTPUT
    import pickle
    import sys
    from pathlib import Path

    saved = pickle.loads(Path(sys.argv[1]).read_bytes())  # noqa: S301 - our own file
    Path(sys.argv[2]).write_text(render(*saved), encoding="utf-8")
