"""An open-loop load generator: requests leave at a fixed rate whatever the server does,
and each latency is measured from the request's *scheduled* send time, so a slow server
cannot hide its queueing (no coordinated omission). wrk cannot hold a rate and Debian has
no wrk2, hence this small asyncio client.

It speaks just enough HTTP/1.1 (keep-alive GETs, Content-Length bodies) over
``asyncio.Protocol`` connections: on a two-core machine the generator shares the CPU with
the server it measures, and a full client library (aiohttp, httpx) would spend several
times more CPU per request than this. Its own CPU use is reported with the results.

Bounded in time and count: exactly ``rate * seconds`` requests over at most
``connections`` keep-alive connections (opened as needed, replaced when the server closes
an idle one); when all are busy a request waits in a queue of at most ``max_queue`` (its
latency still counts from its scheduled time) or is counted as ``dropped``; the run has a
deadline. Traffic goes only to 127.0.0.1. Times come from ``time.perf_counter``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HOST = "127.0.0.1"


@dataclass
class OpenLoopResult:
    rate: float
    seconds: float
    sent: int = 0
    ok: int = 0
    dropped: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    max_send_lag_ms: float = 0.0  # how late the generator itself was at its worst
    client_cpu_percent: float = 0.0  # of one core, for the whole run

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self, done: Callable[[_Connection, str], None]) -> None:
        self.done = done
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.busy = False
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, request: bytes) -> None:
        self.busy = True
        assert self.transport is not None
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        length = next((int(line.split(":", 1)[1]) for line in head[1:]
                       if line.lower().startswith("content-length:")), None)
        if length is None:  # not used by these endpoints (no chunked answers expected)
            self.buffer.clear()
            self.busy = False
            self.done(self, "no-content-length")
            return
        if len(self.buffer) < end + 4 + length:
            return
        del self.buffer[:end + 4 + length]
        self.busy = False
        self.done(self, head[0].split(" ", 2)[1])

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy:
            self.busy = False
            self.done(self, "connection-lost")
        if not self.closed.done():
            self.closed.set_result(None)


async def run(base_url: str, next_path: Callable[[], str], headers: dict[str, str], *,
              rate: float, seconds: float, connections: int = 64, max_queue: int = 10_000,
              deadline_s: float = 30.0) -> OpenLoopResult:
    parts = urlsplit(base_url)
    if parts.hostname != HOST or parts.port is None:
        raise ValueError("the benchmark only sends traffic to 127.0.0.1:PORT")
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    result = OpenLoopResult(rate, seconds)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    in_flight: dict[_Connection, float] = {}  # connection → scheduled time of its request
    queue: deque[tuple[float, bytes]] = deque()
    free: list[_Connection] = []
    finished = asyncio.Event()
    answered = 0

    def request(path: str) -> bytes:
        return (f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n{extra}\r\n").encode()

    def start(conn: _Connection, scheduled: float, payload: bytes) -> None:
        in_flight[conn] = scheduled
        conn.send(payload)

    def hand_over(conn: _Connection) -> None:
        if queue:
            start(conn, *queue.popleft())
        else:
            free.append(conn)

    def take_free() -> _Connection | None:
        while free:  # the server closes connections idle for a while: skip those
            conn = free.pop()
            if not conn.closed.done():
                return conn
        return None

    def live() -> int:
        return opening + sum(not c.closed.done() for c in pool)

    async def open_for_queue() -> None:
        """A new connection, for the request at the head of the queue."""
        nonlocal opening, answered
        opening += 1
        try:
            _, conn = await loop.create_connection(lambda: _Connection(done), HOST,
                                                   parts.port)
        except OSError:
            if queue:
                queue.popleft()
                answered += 1
                result.statuses["connect-failed"] += 1
            return
        finally:
            opening -= 1
        pool.append(conn)
        hand_over(conn)

    def spawn_connection() -> None:
        task = loop.create_task(open_for_queue())
        opening_tasks.add(task)
        task.add_done_callback(opening_tasks.discard)

    def done(conn: _Connection, status: str) -> None:
        nonlocal answered
        scheduled = in_flight.pop(conn)
        answered += 1
        result.statuses[status] += 1
        if status == "200":
            result.ok += 1
            result.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
        if not conn.closed.done():
            hand_over(conn)
        elif queue and live() < connections:
            spawn_connection()
        if answered + result.dropped >= total:
            finished.set()

    pool: list[_Connection] = []
    opening = 0
    opening_tasks: set[asyncio.Task[None]] = set()
    for _ in range(min(connections, 8)):
        _, conn = await loop.create_connection(lambda: _Connection(done), HOST, parts.port)
        pool.append(conn)
    free.extend(pool)
    cpu_started, begin = time.process_time(), time.perf_counter() + 0.1
    for i in range(total):
        scheduled = begin + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        else:
            result.max_send_lag_ms = max(result.max_send_lag_ms, -delay * 1000)
        payload = request(next_path())
        conn = take_free()
        if conn is not None:
            start(conn, scheduled, payload)
        elif len(queue) < max_queue:
            queue.append((scheduled, payload))
            if live() < connections:
                spawn_connection()
        else:
            result.dropped += 1
            continue
        result.sent += 1
    if total:
        try:
            await asyncio.wait_for(finished.wait(), timeout=deadline_s)
        except TimeoutError:
            result.statuses["deadline"] += total - answered - result.dropped
    elapsed = time.perf_counter() - begin
    result.client_cpu_percent = 100 * (time.process_time() - cpu_started) / max(elapsed, 1e-9)
    for conn in pool:
        if conn.transport is not None:
            conn.transport.close()
    return result


def run_sync(*args, **kwargs) -> OpenLoopResult:  # type: ignore[no-untyped-def]
    try:
        import uvloop

        return uvloop.run(run(*args, **kwargs))
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(run(*args, **kwargs))


if __name__ == "__main__":  # a quick manual check: python -m bench.openloop URL RATE SECONDS
    import sys

    outcome = run_sync(sys.argv[1], lambda: "/healthz", {}, rate=float(sys.argv[2]),
                       seconds=float(sys.argv[3]))
    print(f"sent {outcome.sent} ok {outcome.ok} p50 {outcome.percentile(50):.2f} ms "
          f"p99 {outcome.percentile(99):.2f} ms, generator CPU {outcome.client_cpu_percent:.0f} %"
          f", statuses {dict(outcome.statuses)}")
