"""The customer export benchmark (issue 17 item 7: ≥ 200,000 rows/s at 1,000,000
customers, server memory flat), on PostgreSQL, through the product's own path: an
administrator's export job submitted to ``ExportService`` as ``POST /exports`` does and
run by ``run_queued`` (the worker's task), claim and completion included, in CSV and in
JSON Lines.

    .venv/bin/python -m bench.bulk_export --customers 1000000 [--contacts 1] [--keep]
    .venv/bin/python -m bench.bulk_export --database accord_bench_…   # a kept database

The data set is seeded in bulk (the import path is measured by bench/bulk_import.py):
the customers of bench/reports.py and ``--contacts`` contacts each, with a phone and an
e-mail, by INSERT … SELECT FROM generate_series, secondary indexes dropped during the
load. Reported per format: seconds, rows per second, the file's size and the process's
peak RSS before and after (``ru_maxrss``; the rows go from the server's blocks to the
file, so it should not move with the size). The figures go into docs/performance.md
between this benchmark's own markers, beside the import's section."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import databases, machine
from bench.reports import SEED, _bound, _indexes, load
from bench.run import DEFAULT_ADMIN_URL
from bench.seed import ADMIN, create_people
from bench.workflow_report import write

BEGIN, END = "<!-- bench.bulk_export:begin -->", "<!-- bench.bulk_export:end -->"
TARGET = 200_000
PARTS = 2  # the export's parts (PostgresCustomerCopy's default)
CONTACTS = """
    INSERT INTO contacts (id, customer_id, name, title, phones, emails, im_handle,
        preferred_channel, is_primary, erased_at, version, created_at, updated_at)
    SELECT md5('p' || i || ':' || k)::uuid, md5('c' || i)::uuid, '联系人' || i || '-' || k,
        '采购经理', jsonb_build_array(jsonb_build_object(
            'number', '+86138' || lpad((i * $K + k)::text, 8, '0'), 'verified', false)),
        jsonb_build_array(jsonb_build_object(
            'address', 'c' || i || 'x' || k || '@example.cn', 'verified', k = 0)),
        '', CASE WHEN k = 0 THEN 'phone' END, k = 0, NULL, 1,
        $T - make_interval(days => i % 1095) + make_interval(secs => k),
        $T - make_interval(days => i % 30)
    FROM generate_series(0, $N - 1) AS i CROSS JOIN generate_series(0, $K - 1) AS k"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def seed(url: str, customers: int, contacts: int) -> dict[str, float]:
    people = await create_people(url)
    owners = [o for o, _ in people.owners]
    departments = [d for _, d in people.owners]
    reference = datetime(2026, 12, 1, tzinfo=UTC)
    conn = await asyncpg.connect(databases.dsn(url))
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = [(n, d) for n, d in await _indexes(conn)
                   if " ON public.customers " in d or " ON public.contacts " in d]
        statements = {"customers": SEED["customers"],
                      "contacts": CONTACTS.replace("$K", str(int(contacts)))}
        seconds = await load(conn, {t: _bound(sql, customers, owners, departments, reference)
                                    for t, sql in statements.items()}, indexes)
        await conn.execute("VACUUM (ANALYZE) customers, contacts")
    finally:
        await conn.close()
    return seconds


async def export(url: str, folder: Path, formats: list[str]) -> dict[str, Any]:
    """Each format's export job, as the worker runs it (claim, COPY, completion)."""
    from app.domain.bulk.model import ExportEntity, ExportFormat
    from app.main import create_app
    from app.services.exports import ExportRequest
    from app.settings import Settings

    app = create_app(Settings(database_url=url, job_files_dir=str(folder),
                              log_level="WARNING", env="development"))
    services = app.state.services
    results: dict[str, Any] = {}
    try:
        ctx = await services.imports.acting_as(ADMIN)
        for fmt in formats:
            before = peak_rss_mb()
            started = time.perf_counter()
            job = await services.exports.submit(ctx, ExportRequest(
                ExportEntity.CUSTOMERS, ExportFormat(fmt), include_contacts=True))
            await services.exports.run_queued(only=job.id)
            took = time.perf_counter() - started
            done = await services.exports.get(ctx, job.id)
            path = services.exports._files.path(done.result_key)
            results[fmt] = {"seconds": took, "rows": done.counts.get("rows", 0),
                            "mb": _file_mb(path), "rss_before": before,
                            "rss_after": peak_rss_mb(), "load": machine.load_average()}
            services.exports._files.remove(done.result_key)
            results[fmt]["server_cpu"] = await server_cpu(url, fmt)
            print(f"  {fmt}: {json.dumps(results[fmt])}", flush=True)
    finally:
        await app.state.engines.dispose()
    return results


def _file_mb(path: str) -> float:
    return os.path.getsize(path) / 1e6


def _backend_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a PostgreSQL backend on this machine (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def server_cpu(url: str, fmt: str) -> float | None:
    """The CPU seconds the database spends on the export's own COPY statements (an
    administrator's, each ``created_at`` part in turn as the export splits them, written
    to /dev/null on the server): the figure the machine's load does not move. None when
    the server is not on this machine."""
    from app.domain.access.scope import Reach, RecordScope
    from app.repositories.bulk_copy import COPY_SETTINGS, copy_statement, part_bounds
    from app.services.ports.customers import CustomerFilter

    scope, filters = RecordScope(Reach.ALL), CustomerFilter()
    conn = await asyncpg.connect(databases.dsn(url))
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for setting in COPY_SETTINGS:
            await conn.execute(setting)
        bounds = await part_bounds(conn, scope, filters, PARTS)
        spent = 0.0
        for part in zip([None, *bounds], [*bounds, None], strict=True):
            sql, args, _ = copy_statement(scope, filters, fmt=fmt, with_contacts=True,
                                          part=part)
            with_ = ("FORMAT csv, HEADER true" if fmt == "csv" else
                     "FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'")
            # COPY takes no parameters: the part's bounds written as literals.
            for n, value in enumerate(args, 1):
                sql = sql.replace(f"${n}", f"'{value.isoformat()}'::timestamptz")
            try:
                before = _backend_cpu_s(pid)
            except FileNotFoundError:  # the server runs elsewhere
                return None
            await conn.execute(f"COPY ({sql}) TO '/dev/null' WITH ({with_})")
            spent += _backend_cpu_s(pid) - before
        await conn.execute("ROLLBACK")
        return spent
    finally:
        await conn.close()


def _cpu(result: dict[str, Any]) -> str:
    spent = result.get("server_cpu")
    return "–" if not spent else f"{spent:.1f} ({result['rows'] / spent:,.0f})"


def render(info: dict[str, Any], results: dict[str, Any]) -> str:
    lines = [BEGIN, "## Bulk export", "",
             f"Written by `bench/bulk_export.py` on {info['date']} "
             f"(`.venv/bin/python -m bench.bulk_export --customers {info['customers']} "
             f"--contacts {info['contacts']}`). PostgreSQL; {info['customers']:,} customers "
             f"with {info['contacts']} contact(s) each, seeded in bulk (the import is "
             "measured in the section above). Each export is an administrator's job "
             "(`ExportService.submit`, as `POST /exports`) run by `run_queued`, the "
             "worker's task: the claim, the streamed `COPY (SELECT …) TO STDOUT` into the "
             "file and the completion are all in the time.", "",
             "| export of customers with contacts | rows | seconds | rows/s (target ≥ 200,000) "
             "| file (MB) | peak RSS before → after (MB) | load average | database CPU s "
             "(rows per CPU-second) |",
             "|---|---:|---:|---:|---:|---|---|---|"]
    for fmt, r in results.items():
        rate = r["rows"] / r["seconds"]
        met = "met" if rate >= TARGET else "**missed**"
        lines.append(f"| {fmt.upper() if fmt == 'csv' else 'JSON Lines'} | {r['rows']:,} | "
                     f"{r['seconds']:.2f} | {rate:,.0f} — {met} | {r['mb']:.0f} | "
                     f"{r['rss_before']:.0f} → {r['rss_after']:.0f} | {r['load']} | "
                     f"{_cpu(r)} |")
    lines += ["", *info.get("notes", []), "",
              f"Machine: {info['cpu']}; {info['postgres']}. The machine is shared (other "
              "engineers' tests and benchmarks on the same 2 cores): with a load average "
              "above 2 the times are upper bounds.", "", END, ""]
    return "\n".join(lines)


NOTES = [
    "Where the time goes, and what changed (measured on the same 1,000,000-customer "
    "database, 980,000 of them not archived; the database's CPU seconds are those of "
    "the COPY statements' server processes, the export's two parts summed, which the "
    "machine's load does not move):",
    "",
    "- At first: 52.2 s for CSV (18,800 rows/s) and 86.1 s for JSON Lines (11,400 rows/s) "
    "at a load average of 7.8; the CSV statement cost the database 16.0 CPU-seconds "
    "with JIT off. "
    "EXPLAIN ANALYZE: the rows came through the `created_at` index (a random heap read "
    "each), and each customer's contacts were a correlated subquery — an index scan and "
    "a `json_agg(… ORDER BY …)` per customer, which sorts each customer's contacts on "
    "its own (two thirds of the query's time); JIT compiled for a second before the "
    "first row.",
    "- Then the contacts were aggregated once for all customers, from one sorted pass, "
    "and hash-joined to the customers; JIT off and `work_mem` 256 MB for the statement, "
    "so the final sort stays in memory; the file takes the server's blocks through a "
    "1 MiB buffer, and Python does no work per row: 54.7 s for CSV and 55.9 s for JSON "
    "Lines at a load average of about 9, the database's CPU 10.4 s (94,321 rows per "
    "CPU-second) and 20.7 s (47,297).",
    "- Now (the table): the statement runs in two `created_at` ranges (the time the "
    "exported rows span cut in half, from two index reads) on two connections at once, "
    "the second in a REPEATABLE READ transaction that takes the first one's snapshot "
    "(`pg_export_snapshot()`, `SET TRANSACTION SNAPSHOT`), so the file is one "
    "consistent picture; the first part streams to the file, the second waits in a "
    "temporary file and follows it; each part aggregates only its own customers' "
    "contacts. The JSON (each JSON Lines row, each contact, the contacts array) is "
    "concatenated from the values' own JSON text in the spelling of `json_build_object` "
    "and `json_agg` instead of built by them. Measured apart as one statement, the "
    "concatenation takes JSON Lines from 20.7 to 11.2 CPU-seconds (87,900 rows per "
    "CPU-second) and CSV, whose only JSON is the contacts, from 10.4 to 10.2; the split "
    "adds 1.2 to 1.6 CPU-seconds (the second part's own join, sort and contacts test) "
    "and in exchange lets both cores work: 11.4 for CSV and 12.8 for JSON Lines in the "
    "table.",
    "- The output is the same byte for byte: at 1,000,000 customers the SHA-256 of the "
    "CSV (`df7dba08…`) and of the JSON Lines (`c135b847…`) were those of the single "
    "statement before the change. Tests hold it: the parts in order equal the single "
    "statement, the concatenated rows equal `json_build_object`'s, and a customer "
    "committed while the export runs is in no part.",
    "- The wall-clock figures are what the load left (7 to 9 on 2 cores): the two parts "
    "got about a quarter of a core each. On an idle 2-core machine the parts run side by "
    "side, so the time is about half the CPU-seconds plus writing the second part after "
    "the first — an estimate, not measured: about 6 s for CSV and 7 s for JSON Lines, "
    "roughly 140,000 to 165,000 rows/s, so the target is **not met** even then.",
    "- What the database still spends: the customers' own columns (`to_char` for the two "
    "ISO 8601 times is about 1.4 CPU-seconds), the contacts' JSON and their grouping, "
    "the join, the sort and CSV quoting. A third part would not help on 2 cores.",
    "- Peak RSS does not move with the export (the rows never become Python objects; "
    "the second part waits on disk, not in memory).",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=1)
    parser.add_argument("--formats", default="csv,jsonl")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default="", help="a database a --keep run left")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--output", default="")
    args = parser.parse_args()
    name = args.database or databases.new_name("export")
    folder = Path(tempfile.mkdtemp(prefix="accord-export-"))
    url = databases.app_url(args.admin_url, name)
    try:
        if not args.database:
            databases.create(args.admin_url, name)
            print(f"seeding {name}", flush=True)
            asyncio.run(seed(url, args.customers, args.contacts))
        load = machine.load_average()
        results = asyncio.run(export(url, folder, args.formats.split(",")))
    finally:
        if not args.keep and not args.database:
            databases.drop(args.admin_url, name)
        shutil.rmtree(folder, ignore_errors=True)
    info = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load": load,
            "customers": args.customers, "contacts": args.contacts, "notes": NOTES,
            "cpu": f"{machine._cpu_model()}, {os.cpu_count()} cores",
            "postgres": asyncio.run(machine._postgres(args.admin_url))["version"]
            .split(" on ")[0]}
    if args.keep:
        print(f"kept database {name}")
    print(write(render(info, results), args.output, markers=(BEGIN, END),
                own=Path("docs/performance-bulk-export.md"), title="Performance: bulk export"))


if __name__ == "__main__":
    main()
