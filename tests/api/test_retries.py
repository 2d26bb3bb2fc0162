"""``app.api.retries``: a request is run again after a deadlock or serialization failure
only while nothing of it committed (no database: the handler is a stand-in)."""

from __future__ import annotations

import pytest
from fastapi import Request, Response

from app.api import retries
from app.domain.common.errors import StorageContention
from app.services.ports.idempotency import PendingAnswer


def contended(pending: PendingAnswer, *, failures: int, commit_first: bool = False):
    calls: list[int] = []

    async def handler(_request: Request) -> Response:
        calls.append(1)
        if commit_first:
            pending.committed = True  # e.g. a throttle counted in a transaction of its own
        if len(calls) <= failures:
            raise StorageContention()
        return Response(status_code=201)

    return handler, calls


REQUEST = Request({"type": "http", "method": "POST", "path": "/x", "query_string": b"",
                   "headers": []})


async def test_contention_is_retried_until_success() -> None:
    pending = PendingAnswer()
    handler, calls = contended(pending, failures=retries.RETRIES)
    assert (await retries.run_retrying(handler, REQUEST, pending)).status_code == 201
    assert len(calls) == retries.RETRIES + 1


async def test_retries_are_bounded() -> None:
    pending = PendingAnswer()
    handler, calls = contended(pending, failures=retries.RETRIES + 1)
    with pytest.raises(StorageContention):
        await retries.run_retrying(handler, REQUEST, pending)
    assert len(calls) == retries.RETRIES + 1


async def test_a_request_that_committed_something_is_not_run_again() -> None:
    pending = PendingAnswer()
    handler, calls = contended(pending, failures=1, commit_first=True)
    with pytest.raises(StorageContention):
        await retries.run_retrying(handler, REQUEST, pending)
    assert len(calls) == 1
