"""Running a request's handler again after a deadlock or serialization failure.

The database undid the failed transaction, so when nothing of the request committed before
it (``PendingAnswer.committed``), running the handler again from the start is safe: the
client sees the success of a later attempt instead of an error. After ``RETRIES`` more
attempts (with jittered, growing pauses, so contenders do not collide again in step) the
error stands: 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import structlog
from fastapi import Request, Response

from app.domain.common.errors import StorageContention
from app.services.ports.idempotency import PendingAnswer

RETRIES = 3
BASE_PAUSE_S = 0.02

log = structlog.get_logger("accord.retries")


async def run_retrying(handler: Callable[[Request], Awaitable[Response]], request: Request,
                       pending: PendingAnswer) -> Response:
    retries = 0
    while True:
        try:
            return await handler(request)
        except StorageContention:
            if retries == RETRIES or pending.committed or pending.parked:
                raise
            retries += 1
            log.warning("transient_storage_error_retried", path=request.url.path,
                        retry=retries)
            await asyncio.sleep(random.uniform(0, BASE_PAUSE_S * 2 ** retries))  # noqa: S311
