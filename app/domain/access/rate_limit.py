"""The general rate limit: each caller (user, API key, or address when nobody signed in)
may send ``limit`` requests per fixed window of ``window_s`` seconds; the answer says how
many remain and when the window ends (the IETF RateLimit header fields' figures)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from app.domain.common.errors import TooManyAttempts


@dataclass(frozen=True)
class Quota:
    limit: int
    window_s: int

    def window(self, now: datetime) -> tuple[int, int]:
        """The number of the window ``now`` falls in (the same in every process), and the
        whole seconds until it ends (at least 1)."""
        epoch = now.timestamp()
        number = int(epoch // self.window_s)
        return number, max(1, math.ceil((number + 1) * self.window_s - epoch))


@dataclass(frozen=True)
class RateDecision:
    limit: int
    remaining: int
    reset_s: int
    allowed: bool


def decide(quota: Quota, hits: int, reset_s: int) -> RateDecision:
    """``hits``: the caller's requests in this window, this one included."""
    return RateDecision(quota.limit, max(0, quota.limit - hits), reset_s, hits <= quota.limit)


class RateLimited(TooManyAttempts):
    code = "rate_limited"

    def __init__(self, decision: RateDecision, window_s: int) -> None:
        super().__init__(decision.reset_s)
        self.params.update(limit=decision.limit, window_s=window_s)
        self.decision = decision  # the answer's RateLimit fields
