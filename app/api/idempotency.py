"""``Idempotency-Key`` on POSTs that create or move something.

The dependency claims (caller, key) before the handler runs; ``finishing_claims``, around
every handler of the app's route class, stores the response once it exists, or replays the
stored one for a repeat. Same key with another request → 422; same key still running →
409. Failures that are not the request's fault (5xx, 429, a request that failed
validation) are not stored, so the client may retry them with the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from app.api.container import services
from app.api.problems import ApiProblem, domain_error_response, problem_response
from app.api.security import current_principal
from app.domain.access.principal import Principal
from app.domain.common.errors import DomainError
from app.services.ports.idempotency import StoredResponse

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
    if key is None:
        return
    if not 1 <= len(key) <= MAX_KEY_LENGTH:  # a malformed header, not an invalid body: 400
        raise ApiProblem(400, "malformed_header", header=HEADER, max_length=MAX_KEY_LENGTH)
    body = await request.body()
    fingerprint = hashlib.sha256(b"\n".join([
        request.method.encode(), request.url.path.encode(), request.url.query.encode(), body,
    ])).hexdigest()
    caller = f"{principal.kind}:{principal.id}"
    svc = services(request)
    reservation = await svc.idempotency.reserve(caller, key, fingerprint, svc.clock.now())
    if reservation.replay is not None:
        raise _Replay(reservation.replay)
    request.state.idempotency_claim = (caller, key)


Idempotent = Depends(idempotency_key)


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def finishing_claims(handler: Handler) -> Handler:
    """``handler`` finishing the request's claim: the stored answer for a repeat, the
    answer stored once it exists (a domain error's problem included), the claim released
    when the handler fails otherwise."""

    async def run(request: Request) -> Response:
        try:
            response = await handler(request)
        except _Replay as replay:
            stored = replay.stored
            return Response(stored.body, status_code=stored.status,
                            headers={**stored.headers, REPLAYED_HEADER: "true"})
        except (DomainError, ApiProblem) as exc:
            if not hasattr(request.state, "idempotency_claim"):
                raise
            response = (domain_error_response(request, exc) if isinstance(exc, DomainError)
                        else problem_response(request, exc.status, exc.code, exc.params))
        except BaseException:
            await _release(request)
            raise
        await _finish(request, response)
        return response

    return run


async def _release(request: Request) -> None:
    claim = getattr(request.state, "idempotency_claim", None)
    if claim is not None:
        await services(request).idempotency.release(*claim)


async def _finish(request: Request, response: Response) -> None:
    claim = getattr(request.state, "idempotency_claim", None)
    if claim is None:
        return
    store = services(request).idempotency
    if response.status_code >= 500 or response.status_code == 429:
        await store.release(*claim)
        return
    headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    await store.complete(*claim, StoredResponse(response.status_code, headers,
                                                bytes(response.body)))

