"""Bulk import and export benchmark (issue 17 item 7), on PostgreSQL, through the
product's own path: the file is submitted to ``ImportService`` as ``POST /imports`` and
``accord import`` do, and run by ``ImportService.run_queued`` (the worker's task); then
every customer is exported with ``ExportService``.

    .venv/bin/python -m bench.bulk_import --rows 100000 [--contacts 1] [--keep]

Generated file: one customer per row with ``--contacts`` contacts (real-looking Chinese
company and person names, valid unified social credit codes, mainland mobiles, e-mails),
1 % bad rows (wrong check character, bad phone, missing name, a credit code repeated in
the file). Reported per stage: generating the file (not part of the import), a bare COPY
of the same file into an unlogged table (the physical floor), parsing only (the file read
and mapped, no database), the upload (stored, hashed), the import job, the export job;
rows per second, and the process's peak RSS after each stage. The figures go into
docs/performance.md between this benchmark's markers."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from faker import Faker
from stdnum.cn import uscc

from bench import databases, machine
from bench.workflow_report import write

BEGIN, END = "<!-- bench.bulk:begin -->", "<!-- bench.bulk:end -->"
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
HEADER = ["客户编号", "客户名称", "统一社会信用代码", "负责人", "行业", "省份", "城市",
          "详细地址"]
INDUSTRIES = ["制造业", "金融", "零售", "医疗健康", "教育", "物流", "能源", "软件服务"]


def _code(n: int) -> str:
    body = "91440300"
    digits = []
    for _ in range(9):
        n, r = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[r])
    body += "".join(reversed(digits))
    return body + uscc.calc_check_digit(body)


def generate(path: Path, rows: int, contacts: int, owner: str, seed: int = 17) -> int:
    """The CSV; returns how many rows are bad (1 %: every 100th row, four kinds)."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)  # noqa: S311 - test data
    names = [fake.company() for _ in range(2000)]
    people = [fake.name() for _ in range(2000)]
    places = [(fake.province(), fake.city(), fake.street_address()) for _ in range(500)]
    header = list(HEADER)
    for c in range(contacts):
        header += [f"联系人{c + 1}", f"手机{c + 1}", f"邮箱{c + 1}"]
    bad = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for i in range(rows):
            province, city, street = places[i % len(places)]
            row = [f"KH{i:09d}", f"{names[i % len(names)]}{i}", _code(i), owner,
                   INDUSTRIES[i % len(INDUSTRIES)], province, city, street]
            for c in range(contacts):
                row += [people[rng.randrange(len(people))], f"1{3 + c}{i:09d}",
                        f"c{i}x{c}@example.cn"]
            if i % 100 == 99:
                bad += 1
                kind = (i // 100) % 4
                if kind == 0:
                    row[2] = row[2][:-1] + ("0" if row[2][-1] != "0" else "1")
                elif kind == 1 and contacts:
                    row[9] = "12345"
                elif kind == 2:
                    row[1] = ""
                else:
                    row[2] = _code(i - 1)  # the previous row's credit code
            writer.writerow(row)
    return bad


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bare_copy(url: str, path: Path, columns: int) -> float:
    conn = await asyncpg.connect(databases.dsn(url))
    try:
        cols = ", ".join(f"c{i} text" for i in range(columns))
        await conn.execute(f"CREATE UNLOGGED TABLE bench_copy_floor ({cols})")
        started = time.perf_counter()
        await conn.copy_to_table("bench_copy_floor", source=str(path), format="csv",
                                 header=True)
        took = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_copy_floor")
        return took
    finally:
        await conn.close()


async def run(args: argparse.Namespace, url: str, folder: Path) -> dict[str, Any]:
    from app.adapters.job_files import LocalJobFiles
    from app.domain.access.roles import Role
    from app.domain.bulk.model import ExportEntity, ExportFormat, ImportMode
    from app.domain.bulk.presets import PRESETS
    from app.domain.bulk.rows import read_row
    from app.main import create_app
    from app.services.exports import ExportRequest
    from app.services.imports import ImportOptions, Upload
    from app.services.people import NewUser
    from app.services.ports import RequestContext
    from app.settings import Settings

    stages: dict[str, Any] = {}
    csv_path = folder / "customers.csv"
    started = time.perf_counter()
    bad = generate(csv_path, args.rows, args.contacts, "am.bench")
    stages["generate"] = time.perf_counter() - started
    stages["file_mb"] = csv_path.stat().st_size / 1e6
    stages["bad"] = bad
    stages["copy"] = await bare_copy(url, csv_path, len(HEADER) + 3 * args.contacts)

    mapping = {"客户编号": "external_id", "客户名称": "name", "统一社会信用代码": "credit_code",
               "负责人": "owner", "行业": "industry", "省份": "region", "城市": "region",
               "详细地址": "address"}
    for c in range(args.contacts):  # the first contact is the row's (primary) contact
        if c == 0:
            mapping |= {"联系人1": "contact_name", "手机1": "contact_phone",
                        "邮箱1": "contact_email"}
    files = LocalJobFiles(folder / "jobs")
    started = time.perf_counter()
    for line, cells in files._csv_rows(csv_path):
        read_row("customers.csv", line, cells, mapping)
    stages["parse"] = time.perf_counter() - started
    assert PRESETS  # the presets module loads with the app

    app = create_app(Settings(database_url=url, job_files_dir=str(folder / "jobs"),
                              log_level="WARNING", env="development"))
    services = app.state.services
    services.imports.chunk_size = args.chunk
    system = RequestContext(None, "bench")
    dept = await services.people.ensure_department(system, "华南大客户部")
    await services.people.create_user(system, NewUser(
        username="am.bench", display_name="基准经理", email="am.bench@example.cn",
        password="bench-password-2026", department_id=dept.id,
        roles=frozenset({Role.ACCOUNT_MANAGER})))
    ctx = await services.imports.acting_as("am.bench")
    stages["rss_before"] = peak_rss_mb()

    started = time.perf_counter()
    with csv_path.open("rb") as stream:
        job = await services.imports.submit(ctx, [Upload("customers.csv", stream)], ImportOptions(
            mode=ImportMode.UPSERT, mapping=mapping, system="fxiaoke"))
    stages["upload"] = time.perf_counter() - started
    timings = _timed_stages()
    started = time.perf_counter()
    await services.imports.run_queued(only=job.id)
    stages["import"] = time.perf_counter() - started
    stages["import_stages"] = dict(timings)
    done = await services.imports.get(ctx, job.id)
    stages["counts"] = done.counts
    stages["state"] = done.state.value
    stages["rss_import"] = peak_rss_mb()

    started = time.perf_counter()
    export = await services.exports.submit(ctx, ExportRequest(
        ExportEntity.CUSTOMERS, ExportFormat.CSV, include_contacts=True))
    await services.exports.run_queued(only=export.id)
    stages["export"] = time.perf_counter() - started
    exported = await services.exports.get(ctx, export.id)
    stages["exported"] = exported.counts.get("rows", 0)
    stages["rss_export"] = peak_rss_mb()
    await app.state.engines.dispose()
    return stages


def _timed_stages() -> dict[str, float]:
    """Where a chunk's time goes: wraps the batch's steps (reading and mapping the rows
    with the set-based look-ups, writing the chunk's rows, the commit with the job's
    position) to add up their seconds; the rest is the rules, row by row."""
    from app.services import import_batch, imports

    timings = {"read_and_lookups": 0.0, "writes": 0.0, "commit": 0.0}

    def timed(owner: Any, name: str, stage: str) -> None:
        original = getattr(owner, name)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                timings[stage] += time.perf_counter() - started
        setattr(owner, name, wrapper)

    timed(imports.ImportService, "_batch", "read_and_lookups")
    timed(import_batch.BatchedCustomers, "flush", "writes")
    timed(imports.ImportService, "_advance", "commit")
    return timings


def _stage_lines(stages: dict[str, Any]) -> list[str]:
    timed = stages.get("import_stages")
    if not timed:
        return []
    total = stages["import"]
    commit = timed["commit"] - timed["writes"]  # the commit writes the chunk's rows
    rules = total - timed["read_and_lookups"] - timed["commit"]
    rows = [("reading and mapping the rows, set-based duplicate look-ups",
             timed["read_and_lookups"]),
            ("the rules, row by row (customer use cases, in Python)", rules),
            ("writing the chunk's rows (binary COPY a table)", timed["writes"]),
            ("problems, job position and commit", commit)]
    return ["Where the import job's time goes:", "", "| stage | seconds | share |",
            "|---|---:|---:|"] + [f"| {name} | {sec:.1f} | {sec / total:.0%} |"
                                  for name, sec in rows]


def render(stages: dict[str, Any], args: argparse.Namespace, info: dict[str, Any]) -> str:
    rows = args.rows
    counts = stages["counts"]

    def rate(seconds: float, n: int = rows) -> str:
        return f"{n / seconds:,.0f}" if seconds else "–"

    def secs(seconds: float) -> str:
        return f"{seconds:.1f}" if seconds >= 10 else f"{seconds:.3f}"

    per_million = 1_000_000 / rows

    lines = [
        BEGIN, "## Bulk import and export", "",
        f"Written by `bench/bulk_import.py` on {info['date']} "
        f"(`.venv/bin/python -m bench.bulk_import --rows {rows} --contacts {args.contacts}`)"
        ". PostgreSQL, through the product's own path (`ImportService.submit` as "
        "`POST /imports` and `accord import` call it, then `run_queued`, the worker's "
        "task); then every customer exported as CSV with `ExportService`.", "",
        f"File: {rows:,} customers with {args.contacts} contact(s) each, "
        f"{stages['file_mb']:.1f} MB, {stages['bad']:,} bad rows (1 %).", "",
        "| stage | seconds | rows/s | peak RSS after (MB) |", "|---|---:|---:|---:|",
        f"| generating the file (not part of the import) | {secs(stages['generate'])} | "
        f"{rate(stages['generate'])} | |",
        f"| floor: bare COPY of the same file into an unlogged table | {secs(stages['copy'])} | "
        f"{rate(stages['copy'])} | |",
        f"| parsing and mapping only (no database) | {secs(stages['parse'])} | "
        f"{rate(stages['parse'])} | |",
        f"| upload (stored, sha256) | {secs(stages['upload'])} | {rate(stages['upload'])} | "
        f"{stages['rss_before']:.0f} |",
        f"| **import job** (upsert; state {stages['state']}) | **{stages['import']:.1f}** | "
        f"**{rate(stages['import'])}** | {stages['rss_import']:.0f} |",
        f"| **export job** ({stages['exported']:,} customers with contacts, CSV) | "
        f"**{stages['export']:.1f}** | **{rate(stages['export'], stages['exported'])}** | "
        f"{stages['rss_export']:.0f} |", "",
        "Import counts: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + ".", "",
        *_stage_lines(stages), "",
        "Targets (issue 17): a 1,000,000-row import in under 60 s — **not met**: at the "
        f"rate above a million rows would take about {stages['import'] * per_million / 60:.0f}"
        " min (measured here at the size in the command, not at a million). Export ≥ "
        "200,000 rows/s — **" + ("met" if stages["exported"] / stages["export"] >= 200_000
                               else "not met") + f"** at this size "
        f"({rate(stages['export'], stages['exported'])} rows/s including the job's claim "
        "and completion). Server memory: the file is streamed and committed per chunk and "
        "the export streamed by the server, but the peak RSS rises during the import "
        f"({stages['rss_before']:.0f} → {stages['rss_import']:.0f} MB): the job keeps the "
        "keys (reference, code, phone, e-mail) of every accepted row to find duplicates "
        "within the file, which grows with the file — not flat.", "",
        "What the figures say:", "",
        "- The export on PostgreSQL is one `COPY (SELECT …) TO STDOUT` (app/repositories/"
        "bulk_copy.py): the server writes the CSV or JSON Lines rows (contacts as a JSON "
        "aggregate) and they are streamed to the file block by block; SQLite keeps the "
        "page-by-page path. Before: 828 rows/s.",
        "- The import still runs every row through the customer use cases (the rules of "
        "`POST /customers`, the same code), but a chunk no longer pays a round trip per "
        "look-up and write (app/services/import_batch.py): the duplicate look-ups of the "
        "chunk's rows (external references, credit codes, phones, e-mails) are read in a "
        "few set-based statements, owner and policies once, and the customers, tags, "
        "references, contacts, contact points and history rows go out as one binary COPY a "
        "table at the commit. Before: 12 rows/s. A parity test "
        "(tests/api/test_import_batch.py) holds it to the per-row path (`batched=False`).",
        "- With the chunk's rows written by SQLAlchemy's multi-row inserts instead of "
        "COPY, the same 100,000-row run took 350 s (286 rows/s), 61 % of it writing. "
        "What is left (the table above): the rules in Python — mapping the row, the "
        "domain's checks (the phone parser among the largest costs), building each "
        "aggregate and its history, 25 rows a customer (a row per field) — and the "
        "writes, the server's index upkeep included. The reading-and-look-ups stage took "
        "27 s in that earlier run and 74 s in this one; why was not found in the time "
        "(the look-ups meet a growing table, and the machine's load moves). The COPY "
        "staging table with "
        "`INSERT … SELECT` the issue describes is not built; it and validation in worker "
        "processes are what the target still needs.",
        f"- The physical floor: a bare COPY of the same file takes "
        f"{secs(stages['copy'])} s ({rate(stages['copy'])} rows/s, about "
        f"{stages['copy'] * per_million:.0f} s for a million rows); reading and mapping "
        f"the file in Python {secs(stages['parse'])} s (about "
        f"{stages['parse'] * per_million:.0f} s per million on one core).",
        "- A file with three contacts per customer was not measured.",
        "- The machine is shared: other engineers run tests and benchmarks on its 2 "
        "cores at the same time, so the load average below (not this benchmark's alone) "
        "makes these figures upper bounds.", "",
        f"Machine: {info['cpu']}; {info['postgres']}; load average at the start "
        f"{info['load']}.", "",
        END, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=1)
    parser.add_argument("--admin-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/"
                                               "postgres")
    parser.add_argument("--chunk", type=int, default=2000, help="rows a committed chunk")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--output", default="")
    parser.add_argument("--report", default="", help="re-render from a saved run (JSON)")
    args = parser.parse_args()
    if args.report:
        saved = json.loads(Path(args.report).read_text(encoding="utf-8"))
        args.rows, args.contacts = saved["rows"], saved["contacts"]
        print(write(render(saved["stages"], args, saved["info"]), args.output,
                    markers=(BEGIN, END), own=Path("docs/performance-bulk.md"),
                    title="Performance: bulk import"))
        return
    load = machine.load_average()
    name = databases.new_name("bulk")
    folder = Path(tempfile.mkdtemp(prefix="accord-bulk-"))
    url = databases.create(args.admin_url, name)
    try:
        stages = asyncio.run(run(args, url, folder))
    finally:
        if not args.keep:
            databases.drop(args.admin_url, name)
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(stages, indent=2, default=str))
    info = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load": load,
            "cpu": f"{machine._cpu_model()}, {os.cpu_count()} cores",
            "postgres": asyncio.run(machine._postgres(args.admin_url))["version"].split(" on ")[0]}
    saved = Path("bench/results") / f"bulk-{args.rows}.json"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps({"rows": args.rows, "contacts": args.contacts,
                                 "stages": stages, "info": info}, default=str), encoding="utf-8")
    print(write(render(stages, args, info), args.output, markers=(BEGIN, END),
                own=Path("docs/performance-bulk.md"), title="Performance: bulk import"))


if __name__ == "__main__":
    main()
