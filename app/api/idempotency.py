"""``Idempotency-Key`` on POSTs that create or move something.

The dependency claims (caller, key) before the handler runs; ``finishing_claims``, around
every handler of the app's route class, stores the response once it exists, or replays the
stored one for a repeat. Same key with another request (another body as parsed, or another
If-Match) → 422; same key still running → 409. Failures that are not the request's fault
(5xx, 429, a request that failed validation) are not stored, so the client may retry them
with the key.

The answer of a request whose use case committed is stored in the same transaction as
its effect: the unit of work parks that transaction on the request's ``PendingAnswer``
and ``_finish`` commits it with the answer. So a retry after any failure either replays
the committed answer or runs for the first time, never twice; and the client hears of
success only once it is committed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from app.api.container import services
from app.api.denials import keep_denial
from app.api.etag import IF_MATCH
from app.api.problems import ApiProblem, domain_error_response, problem_response
from app.api.retries import run_retrying
from app.api.security import current_principal
from app.domain.access.principal import Principal
from app.domain.common.errors import DomainError, IdempotencyKeyInFlight
from app.services.ports.idempotency import PendingAnswer, StoredResponse, pending_answer

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"
_KEPT_HEADERS = ("content-type", "etag", "location")


class _Replay(Exception):
    def __init__(self, stored: StoredResponse) -> None:
        self.stored = stored


async def idempotency_key(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    key: Annotated[str | None, Header(
        alias=HEADER, json_schema_extra={"minLength": 1, "maxLength": MAX_KEY_LENGTH},
        description="Makes a retry safe: the same key and request replay the first answer")]
    = None,
) -> None:
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        # a malformed header, not an invalid body: 400
        raise ApiProblem(400, "malformed_header", header=HEADER, max_length=MAX_KEY_LENGTH)
    pending = pending_answer.get()
    if key is None or pending is None or pending.claim is not None:
        return  # no key, or claimed by an earlier attempt of this request
    fingerprint = _fingerprint(request, await request.body())
    svc = services(request)
    reservation = await svc.idempotency.reserve(f"{principal.kind}:{principal.id}", key,
                                                fingerprint, svc.clock.now())
    if reservation.replay is not None:
        raise _Replay(reservation.replay)
    pending.claim = reservation.claim


Idempotent = Depends(idempotency_key)


def _fingerprint(request: Request, body: bytes) -> str:
    """What makes two requests the same one: method, path, query, the If-Match they were
    sent on (a retry on another version is another request) and the body as parsed, so
    a client that writes its JSON members in another order retries the same request, as
    Stripe compares parameters rather than bytes. A body that is not JSON counts as its
    bytes."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, ensure_ascii=False,
                               separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(b"\n".join([
        request.method.encode(), request.url.path.encode(), request.url.query.encode(),
        request.headers.get(IF_MATCH, "").strip().encode(), canonical,
    ])).hexdigest()


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def finishing_claims(handler: Handler) -> Handler:
    """``handler`` (run again after a transient storage error, ``app.api.retries``)
    finishing the request's claim: the stored answer for a repeat, the answer stored once
    it exists (a domain error's problem included), the claim released when the handler
    fails otherwise. A transaction still parked at the end is rolled back."""

    async def run(request: Request) -> Response:
        pending = PendingAnswer()
        token = pending_answer.set(pending)
        try:
            return await _answer(request, handler, pending)
        finally:
            await pending.finish(None)
            pending_answer.reset(token)

    return run


async def _answer(request: Request, handler: Handler, pending: PendingAnswer) -> Response:
    try:
        response = await run_retrying(handler, request, pending)
    except _Replay as replay:
        stored = replay.stored
        return Response(stored.body, status_code=stored.status,
                        headers={**stored.headers, REPLAYED_HEADER: "true"})
    except (DomainError, ApiProblem) as exc:
        if pending.claim is None:
            raise
        if isinstance(exc, DomainError):
            await keep_denial(request, exc)
            response = domain_error_response(request, exc)
        else:
            response = problem_response(request, exc.status, exc.code, exc.params)
    except BaseException:
        await _release(request, pending)
        raise
    try:
        await _finish(request, pending, response)
    except DomainError as exc:  # the commit failed: nothing happened, or someone else did it
        if not isinstance(exc, IdempotencyKeyInFlight):
            await _release(request, pending)
        return domain_error_response(request, exc)
    return response


async def _release(request: Request, pending: PendingAnswer) -> None:
    await pending.finish(None)
    if pending.claim is not None:
        await services(request).idempotency.release(pending.claim)


async def _finish(request: Request, pending: PendingAnswer, response: Response) -> None:
    claim = pending.claim
    if claim is None:
        return
    if response.status_code >= 500 or response.status_code == 429:
        await _release(request, pending)
        return
    headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    answer = StoredResponse(response.status_code, headers, bytes(response.body))
    if not await pending.finish(answer):
        await services(request).idempotency.complete(claim, answer)
