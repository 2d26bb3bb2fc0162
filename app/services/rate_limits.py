"""The general rate limit (api-conventions, Limits): a quota per caller per window, counted
where every API process sees the same figure."""

from __future__ import annotations

from dataclasses import replace

from app.domain.access.principal import Principal
from app.domain.access.rate_limit import Quota, RateDecision, RateLimited, decide
from app.services.ports import Clock
from app.services.ports.rate_limits import RateCounter


class RateLimitService:
    def __init__(self, counter: RateCounter, clock: Clock, quota: Quota | None,
                 anonymous_limit: int | None = None) -> None:
        self._counter = counter
        self._clock = clock
        self._quota = quota
        self._anonymous = anonymous_limit

    @property
    def enabled(self) -> bool:
        return self._quota is not None

    async def check(self, principal: Principal | None, address: str | None) -> RateDecision:
        """Count this request against its caller's quota (an API key's own limit, if it
        has one); refused with ``RateLimited`` (carrying the decision) beyond it."""
        assert self._quota is not None, "check only when enabled"
        if principal is not None:
            key, limit = f"{principal.kind}:{principal.id}", principal.rate_limit
        else:
            key, limit = f"address:{address}", self._anonymous
        quota = replace(self._quota, limit=limit) if limit else self._quota
        window, reset_s = quota.window(self._clock.now())
        decision = decide(quota, await self._counter.hit(key, window), reset_s)
        if not decision.allowed:
            raise RateLimited(decision, quota.window_s)
        return decision
