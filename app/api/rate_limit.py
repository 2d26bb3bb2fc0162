"""The general rate limit at the HTTP edge: each request is counted once, against the
signed-in caller (user or API key) or, without one, the client address; the decision
travels on the request's state, and ``RequestContextMiddleware`` announces it on the
answer, whatever the answer is (``RateLimit-Limit`` / ``-Remaining`` / ``-Reset``, the
IETF draft's fields; a 429 adds ``Retry-After``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request

from app.api.container import services
from app.domain.access.principal import Principal
from app.domain.access.rate_limit import RateDecision, RateLimited

STATE_KEY = "rate_limit"


async def count_request(request: Request, principal: Principal | None) -> None:
    limiter = services(request).rate_limits
    if not limiter.enabled or getattr(request.state, STATE_KEY, None) is not None:
        return  # off, or counted already (a request run again after a deadlock)
    try:
        decision = await limiter.check(principal, request.client.host if request.client
                                       else None)
    except RateLimited as refused:
        setattr(request.state, STATE_KEY, refused.decision)
        raise
    setattr(request.state, STATE_KEY, decision)


def rate_limit_headers(state: Mapping[str, Any]) -> list[tuple[bytes, bytes]]:
    decision: RateDecision | None = state.get(STATE_KEY)
    if decision is None:
        return []
    return [(b"ratelimit-limit", str(decision.limit).encode()),
            (b"ratelimit-remaining", str(decision.remaining).encode()),
            (b"ratelimit-reset", str(decision.reset_s).encode())]
