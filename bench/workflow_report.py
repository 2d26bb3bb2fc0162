"""The "Change-request workflows" section: rendered from one bench.workflows run and put
into docs/performance.md between its own markers (the rest of that file is left as it
is), or into docs/performance-workflows.md when docs/performance.md does not exist."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from bench.approve_load import THREADS, Side
from bench.workflow_client import STEPS, Recorder, percentile

RATIO_TARGET = 0.4
BEGIN, END = "<!-- bench.workflows:begin -->", "<!-- bench.workflows:end -->"
MAIN, OWN = Path("docs/performance.md"), Path("docs/performance-workflows.md")


def _ms(value: float) -> str:
    return "–" if value != value else f"{value:.1f}"


def _rate(rec: Recorder) -> float:
    return rec.completed / rec.seconds if rec.completed else 0.0


def _side(side: Side) -> str:
    ran_out = ", **pool ran out**" if side.ran_out else ""
    return f"{side.rate:.0f} ({side.completed} in {side.seconds:.1f} s{ran_out})"


def _transitions(flows: Recorder) -> list[str]:
    lines = ["| call | count | p50 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|"]
    for step in STEPS:
        v = flows.latencies.get(step, [])
        lines.append(f"| {step} | {len(v)} | {_ms(percentile(v, 50))} | "
                     f"{_ms(percentile(v, 99))} | {_ms(percentile(v, 100))} |")
    return lines


def _ratio(rounds: list[dict[str, Any]]) -> list[str]:
    lines = ["| round | app approvals/s | raw asyncpg approvals/s | ratio (target ≥ 0.4) | "
             "app p50 / p99 ms | raw p50 / p99 ms | failed app / raw | "
             "app CPU ms per approval: server + database + wrk | "
             "raw CPU ms per approval: database + Python | load (1 min) |",
             "|---|---:|---:|---:|---|---|---|---|---|---:|"]
    for n, r in enumerate(rounds, 1):
        app, raw = r["app"], r["raw"]
        ratio = app.rate / raw.rate if raw.rate else 0.0
        lines.append(
            f"| {n} | {_side(app)} | {_side(raw)} | {ratio:.2f} — "
            f"{'met' if ratio >= RATIO_TARGET else '**missed**'} | "
            f"{_ms(app.p50_ms)} / {_ms(app.p99_ms)} | {_ms(raw.p50_ms)} / {_ms(raw.p99_ms)} | "
            f"{app.failed} / {raw.failed} | {app.server_cpu_ms:.2f} + {app.db_cpu_ms:.2f} + "
            f"{app.client_cpu_ms:.2f} | {raw.db_cpu_ms:.2f} + {raw.client_cpu_ms:.2f} | "
            f"{r['load'].split()[0]} |")
    if any(r["app"].ran_out or r["raw"].ran_out for r in rounds):
        lines += ["", "**A pool ran out before the time did** (marked above): that side's "
                  "connections idled at the end, so its rate is a lower bound; raise "
                  "`--approve-pool` / `--baseline-pool`."]
    return lines


def _errors(flows: Recorder, rounds: list[dict[str, Any]]) -> list[str]:
    seen = flows.errors + [e for r in rounds for e in r["app"].errors + r["raw"].errors]
    if not seen:
        return ["No call failed."]
    return ["Failures (first few, verbatim):", "", *[f"- `{e[:200]}`" for e in seen[:10]]]


def render(info: dict[str, Any], args: argparse.Namespace, command: str, server: str,
           flows: Recorder, rounds: list[dict[str, Any]]) -> str:
    pg = info["postgres"]
    server = re.sub(r"--port \d+", "--port PORT", server)
    rate = _rate(flows)
    lines = [
        BEGIN, "## Change-request workflows", "",
        *([f"**Warning: another benchmark was running during this run "
           f"(`{info['overlap'][0]}`); these figures include its load and are not "
           "representative. Re-run on a quiet machine.**", ""] if info.get("overlap") else []),
        f"{args.clients} concurrent clients (httpx, async, one keep-alive connection each) "
        "each drove complete normal changes from draft to closed: create → submit → "
        "start-assessment → assessment by a project manager and by a tech expert → "
        "conclude-assessment (cost 10,000, likelihood 1 × impact 1, so the chain is the "
        "department head only) → approve → add a task → start-implementation → task done → "
        "complete-implementation → review (with lessons, so closing writes a knowledge "
        "article) → close. Every transition sent If-Match with the version last returned; "
        + ("every POST sent an Idempotency-Key." if args.idempotency_keys else
           "no Idempotency-Key was sent (`--idempotency-keys` adds one per POST)."),
        "",
        f"**{rate:.2f} completed workflows per second** ({flows.completed} closed, "
        f"{flows.failed} failed, in {flows.seconds:.1f} s after {args.warmup} warm-up "
        f"workflows; 13 calls each, so {rate * 13:.0f} write requests per second).",
        "",
        "Latency per call, successful calls of the measured workflows (client-side, "
        "request sent to response read):", "",
        *_transitions(flows), "",
        "### One transition against raw asyncpg", "",
        "Approve (the department head's single step) on changes awaiting approval: through "
        f"the app with wrk (C, {args.clients} keep-alive connections over {THREADS} threads, "
        "bench/approve.lua, each prepared approval posted once with If-Match), as the reads "
        f"are measured, then {args.clients} asyncpg connections running "
        "bench/raw_approve.py's transaction — the same reads and writes (lock the change "
        "FOR UPDATE in the head's department, check the version, read assessments, steps, "
        "tasks and delegations in force, update step and change, insert the outbox event "
        "and timeline row, lock the audit chain head, append the hash-chained entry "
        "moving the head in the same statement, commit) without HTTP, authentication or a "
        "response body. The changes for both come from changes made through the API, "
        "cloned row for row; each round "
        f"gets fresh ones, bounded by {args.approve_seconds:.0f} s or the pool "
        f"({args.approve_pool:,} app / {args.baseline_pool:,} raw). The app is driven from "
        "C because a Python client (httpx) spent about 0.9 ms of CPU per approval on the "
        "same two cores as the server and PostgreSQL, and so held down the rate it "
        "measured. CPU per approval is read from /proc: the app's worker processes, the "
        "PostgreSQL backends of the benchmark database, and wrk, or on the raw side the "
        "Python process running the transaction.", "",
        *_ratio(rounds), "",
        "Every approval, app or raw, takes the single audit-head row lock until commit, so "
        "commits of all writers are serialised through it; the ratio therefore measures "
        "what the stack adds per request more than raw PostgreSQL capacity.", "",
        *_errors(flows, rounds), "",
        "### Machine and command", "",
        f"- Date: {info['date']}; the run took {info.get('minutes', '?')} minutes.",
        f"- CPU: {info['cpu']}, {info['cores']} cores"
        f"{' (virtual machine)' if info['virtualised'] else ''}; memory "
        f"{info['memory_gib']} GiB; {info['os']}; Python {info['python']}.",
        f"- PostgreSQL: {pg['version']} (shared_buffers {pg['shared_buffers']}, stock "
        "settings), same machine.",
        f"- Load average at the start {info['load_at_start']}, after the workflows "
        f"{info.get('load_after_workflows', '?')}, at the end {info.get('load_at_end', '?')}."
        " PostgreSQL, the server, and the client/baseline process share these cores.",
        f"- The benchmark: `{command}` (fresh database: {args.customers} customers, 3 "
        "departments, 12 account managers, a head, a project manager and a tech expert "
        "per department, made through the people use case).",
        f"- The app, as the README runs it: `ACCORD_DATABASE_URL=postgresql+asyncpg://"
        f"postgres@127.0.0.1:5432/accord_bench_… ACCORD_LOG_LEVEL=WARNING {server}`",
        END, ""]
    return "\n".join(lines)


def write(section: str, output: str = "", *, markers: tuple[str, str] = (BEGIN, END),
          own: Path = OWN, title: str = "Performance: change-request workflows") -> Path:
    """Into ``output`` if given, else docs/performance.md (replacing only this section,
    found by its ``markers``) if it exists, else ``own``."""
    begin, end = markers
    path = Path(output) if output else (MAIN if MAIN.exists() else own)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        heading = "" if path == MAIN else f"# {title}\n\n"
        path.write_text(heading + section, encoding="utf-8")
        return path
    replace_section(path, section, begin, end)
    return path


def replace_section(path: Path, section: str, begin: str, end: str) -> None:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) in place of the
    text between those markers in ``path``, or after the rest of the file."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section.rstrip("\n") + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")
