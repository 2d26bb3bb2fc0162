"""Open /docs and /redoc in a real headless Chromium with every other host unreachable,
and check that Swagger UI and ReDoc really render (the service ships their assets).

    python scripts/check_docs_offline.py --screenshot docs.png [--redoc-screenshot redoc.png]

Starts ``accord serve`` on a temporary SQLite file and a free port, dumps each page's DOM
after its scripts ran, checks it, and saves a screenshot of each page. Exits non-zero
with the reason when a check fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TITLE = "Accord"
# What the rendered pages must contain: Swagger UI lists operations and its Authorize
# button; ReDoc shows the API title and the operations it rendered from the document.
DOCS_MARKERS = ["/api/v1/me", "/api/v1/auth/token", "btn authorize", "opblock-tag"]
REDOC_MARKERS = [TITLE, "/api/v1/me", "Sign in with username and password",
                 "application/problem+json"]


class CheckFailed(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accord() -> str:
    beside = Path(sys.executable).with_name("accord")
    found = str(beside) if beside.exists() else shutil.which("accord")
    if not found:
        raise CheckFailed("the `accord` command is not installed (pip install -e .)")
    return found


def _wait_healthy(base: str, server: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CheckFailed(f"accord serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as reply:  # noqa: S310
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise CheckFailed(f"accord serve did not answer /healthz within {timeout_s:.0f}s")


@contextmanager
def service(workdir: Path, **settings: str) -> Iterator[str]:
    """``accord serve`` on its own SQLite file (migrated on start) and a free port, with
    ``settings`` (``ACCORD_*`` variables) on top of the development defaults."""
    port = _free_port()
    env = {**os.environ, "ACCORD_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'docs.db'}",
           "ACCORD_ENV": "development", "ACCORD_LOG_LEVEL": "WARNING", **settings}
    log = (workdir / "serve.log").open("wb")
    server = subprocess.Popen(  # noqa: S603
        [_accord(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _chromium(workdir: Path, url: str, *action: str) -> str:
    """Run headless Chromium once; only 127.0.0.1 resolves, as on a network with no
    internet (a CDN reference would leave the page empty)."""
    profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir)
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
               f"--user-data-dir={profile}", "--virtual-time-budget=10000",
               "--window-size=1280,1600", *action, url]
    result = subprocess.run(command, capture_output=True, timeout=120, check=False,  # noqa: S603
                            cwd=workdir)
    if result.returncode != 0:
        raise CheckFailed(f"chromium failed on {url} ({result.returncode}): "
                          f"{result.stderr.decode(errors='replace')[-2000:]}")
    return result.stdout.decode("utf-8", errors="replace")


def check_page(workdir: Path, url: str, markers: list[str], screenshot: Path | None) -> None:
    dom = _chromium(workdir, url, "--dump-dom")
    missing = [marker for marker in markers if marker not in dom]
    if missing:
        dump = workdir / "last-dom.html"
        dump.write_text(dom, encoding="utf-8")
        raise CheckFailed(f"{url} rendered without {missing} (DOM: {len(dom)} characters)")
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.unlink(missing_ok=True)
        _chromium(workdir, url, f"--screenshot={screenshot.resolve()}")
        if not screenshot.exists() or screenshot.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            raise CheckFailed(f"chromium wrote no PNG screenshot of {url} to {screenshot}")
    print(f"ok  {url}: {', '.join(markers)}" + (f" -> {screenshot}" if screenshot else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, required=True,
                        help="PNG to write of the rendered /docs page")
    parser.add_argument("--redoc-screenshot", type=Path, default=None,
                        help="PNG to write of the rendered /redoc page")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="accord-docs-") as tmp:
        workdir = Path(tmp)
        try:
            with service(workdir) as base:
                check_page(workdir, f"{base}/docs", DOCS_MARKERS, args.screenshot)
                check_page(workdir, f"{base}/redoc", REDOC_MARKERS, args.redoc_screenshot)
        except CheckFailed as failure:
            print(f"FAILED: {failure}", file=sys.stderr)
            log = workdir / "serve.log"
            if log.exists():
                print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
