"""Port for stored answers to requests sent with an Idempotency-Key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reservation:
    """Outcome of claiming an idempotency key: new (run the handler) or a stored reply."""

    new: bool
    replay: StoredResponse | None = None


class IdempotencyStore(Protocol):
    async def reserve(self, caller: str, key: str, fingerprint: str, now: datetime) -> Reservation:
        """Claim the key, or raise IdempotencyKeyReused / IdempotencyKeyInFlight."""
        ...
    async def complete(self, caller: str, key: str, response: StoredResponse) -> None: ...
    async def release(self, caller: str, key: str) -> None: ...
