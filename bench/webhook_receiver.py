"""The benchmark's webhook receiver: a bare ASGI app (uvicorn, uvloop, httptools) that
notes each delivery's event number and arrival time, answers 204, tells ``GET /count``,
and writes what it saw to ``$BENCH_RECEIVER_OUT`` when it shuts down."""

from __future__ import annotations

import json
import os
import time
from typing import Any

RECEIVED: list[tuple[int, str, float]] = []  # (event number, webhook-id, arrival)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # once, at shutdown: nothing is waiting on this loop any more
                with open(os.environ["BENCH_RECEIVER_OUT"], "w", encoding="utf-8") as out:  # noqa: ASYNC230
                    json.dump(RECEIVED, out)
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["method"] == "GET":
        body = str(len(RECEIVED)).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    arrived = time.time()
    headers = dict(scope["headers"])
    number = json.loads(b"".join(chunks))["data"]["n"]
    RECEIVED.append((number, headers.get(b"webhook-id", b"").decode(), arrived))
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
