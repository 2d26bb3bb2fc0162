"""CPU time spent serving a phase, read from /proc: the server's worker processes and the
PostgreSQL backends connected to the benchmark database. On a machine shared with other
work, requests per second move with the neighbours' load; CPU milliseconds per request
do not, so the report gives both."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 if it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def tree(pid: int) -> list[int]:
    pids, stack = [], [pid]
    while stack:
        current = stack.pop()
        pids.append(current)
        stack += _children(current)
    return pids


def backends(database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` (their title names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="ignore")
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            pids.append(int(entry.name))
    return pids


@dataclass
class CpuSnapshot:
    server: dict[int, float]
    database: dict[int, float]


def snapshot(server_pid: int, database: str) -> CpuSnapshot:
    return CpuSnapshot({p: _cpu_seconds(p) for p in tree(server_pid)},
                       {p: _cpu_seconds(p) for p in backends(database)})


def spent(before: CpuSnapshot, server_pid: int, database: str) -> tuple[float, float]:
    """CPU seconds used since ``before`` by the server and by the database backends
    (processes born in between count from zero)."""
    after = snapshot(server_pid, database)

    def delta(now: dict[int, float], then: dict[int, float]) -> float:
        return sum(max(0.0, v - then.get(p, 0.0)) for p, v in now.items())

    return delta(after.server, before.server), delta(after.database, before.database)
