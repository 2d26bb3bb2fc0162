"""Where an app worker's CPU goes under load: py-spy samples one worker of the running
server while wrk saturates it, and the samples are summed by package and by function
(own time, the frame on top of the stack)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bench import cpu
from bench.load import Workload, wrk
from bench.servers import Server

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^)]*?)(?::\d+)?\)$")


@dataclass
class Profile:
    read: str
    samples: int
    by_package: list[tuple[str, float]]
    by_function: list[tuple[str, float]]


@lru_cache(maxsize=512)
def _package(path: str) -> str:
    """py-spy names files relative to their sys.path entry: ``asyncpg/connection.py``."""
    if not path:
        return "native (no Python frame)"
    if path.startswith("app/") or "/app/" in path:
        return "app (Accord)"
    top = path.split("/", 1)[0].removesuffix(".py")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    origin = (spec.origin or "") if spec else ""
    return top if "site-packages" in origin else "Python standard library"


def summarise(raw: Path, read: str, top: int = 12) -> Profile:
    packages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        match = _FRAME.match(stack.split(";")[-1])
        func, path = (match["func"], match["file"]) if match else ("", "")
        packages[_package(path)] += n
        functions[f"{func} ({path.rsplit('site-packages/', 1)[-1]})" if func
                  else "(native)"] += n
    share = lambda c: [(k, 100 * v / max(1, total)) for k, v in c.most_common(top)]  # noqa: E731
    return Profile(read, total, share(packages), share(functions))


def py_spy() -> str | None:
    found = Path(sys.executable).with_name("py-spy")
    return str(found) if found.exists() else shutil.which("py-spy")


def profile(server: Server, url: str, read: str, workload: Workload, token: str, *,
            seconds: int, connections: int, threads: int) -> Profile | None:
    tool = py_spy()
    workers = [p for p in cpu.tree(server.pid) if p != server.pid and b"resource_tracker"
               not in Path(f"/proc/{p}/cmdline").read_bytes()]
    if tool is None or not workers:
        return None
    load = threading.Thread(target=wrk, args=(server, url, read, workload, token),
                            kwargs={"seconds": seconds + 4, "connections": connections,
                                    "threads": threads})
    load.start()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "profile.raw"
        try:
            subprocess.run([tool, "record", "--pid", str(workers[-1]), "--duration",  # noqa: S603
                            str(seconds), "--rate", "200", "--format", "raw", "--nonblocking",
                            "--output", str(raw)], capture_output=True, timeout=seconds + 60,
                           check=True)
        finally:
            load.join()
        return summarise(raw, read) if raw.exists() else None
