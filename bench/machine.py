"""A description of the machine the figures come from (they mean little without it)."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench.databases import dsn


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _os() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except FileNotFoundError:
        pass
    return platform.platform()


def _wrk_version() -> str:
    try:
        result = subprocess.run(["wrk", "--version"], capture_output=True,  # noqa: S607
                                text=True)
    except FileNotFoundError:  # bench.reports does without it
        return "not installed"
    return (result.stdout or result.stderr).splitlines()[0].strip()


async def _postgres(admin_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(dsn(admin_url))
    try:
        info = {"version": await conn.fetchval("SELECT version()")}
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "max_connections",
                     "jit", "random_page_cost"):
            info[name] = await conn.fetchval(f"SHOW {name}")
    finally:
        await conn.close()
    return info


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def describe(admin_url: str) -> dict[str, object]:
    hypervisor = "flags" in Path("/proc/cpuinfo").read_text() and \
        " hypervisor" in Path("/proc/cpuinfo").read_text()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "virtualised": hypervisor,
        "memory_gib": round(_memory_gib(), 1),
        "os": f"{_os()} (kernel {platform.release()})",
        "python": platform.python_version(),
        "postgres": asyncio.run(_postgres(admin_url)),
        "wrk": _wrk_version(),
        "load_at_start": load_average(),
    }
