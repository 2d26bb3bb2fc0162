"""Port for the request counters the general rate limit shares between API processes."""

from __future__ import annotations

from typing import Protocol


class RateCounter(Protocol):
    async def hit(self, key: str, window: int) -> int:
        """Count one request of ``key`` in window number ``window``; the window's count,
        this request included (an earlier window's count starts over)."""
        ...
