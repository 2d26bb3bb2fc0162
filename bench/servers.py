"""The two servers under test, run as subprocesses on free ports of 127.0.0.1:

- the app exactly as the README runs it: ``accord serve --workers 2`` with
  ``ACCORD_DATABASE_URL`` on the benchmark database and ``ACCORD_LOG_LEVEL=WARNING``;
- the raw baseline: ``uvicorn bench.baseline:create_app --factory --workers 2``.

Each runs in its own session, so stopping it (SIGTERM, then SIGKILL after a grace period)
reaches its worker processes and nothing else.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.databases import dsn

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    command: list[str]
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def shown(self) -> str:
        return shlex.join(self.command)

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.log}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {timeout_s} s: see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # its own session: workers only
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _start(name: str, command: list[str], env: dict[str, str], port: int,
           log_dir: Path) -> Server:
    log = log_dir / f"{name}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},  # noqa: S603
                                   stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Server(name, command, port, process, log)
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


def start_app(database_url: str, log_dir: Path, workers: int = 2) -> Server:
    port = free_port()
    command = [str(VENV_BIN / "accord"), "serve", "--workers", str(workers),
               "--host", HOST, "--port", str(port)]
    env = {"ACCORD_DATABASE_URL": database_url, "ACCORD_LOG_LEVEL": "WARNING"}
    return _start("app", command, env, port, log_dir)


def start_baseline(database_url: str, log_dir: Path, workers: int = 2) -> Server:
    port = free_port()
    command = [str(VENV_BIN / "python"), "-m", "uvicorn", "bench.baseline:create_app",
               "--factory", "--workers", str(workers), "--host", HOST, "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
    return _start("baseline", command, {"BENCH_DSN": dsn(database_url)}, port, log_dir)


def token(server: Server, username: str, password: str) -> str:
    """A fresh access token (they live 15 minutes: one per phase)."""
    response = httpx.post(f"{server.url}/api/v1/auth/token",
                          data={"username": username, "password": password}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])
